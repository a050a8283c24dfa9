/**
 * The speedup bench's statistics on fixed inputs: quantiles, efficiency, the
 * Amdahl fit, the cost model and the analysis that feeds the tables and chart.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  amdahlSpeedup,
  efficiency,
  fitAmdahl,
  fitLine,
  minTaskMs,
  overheadPerTask,
  predictSpeedup,
  predictTime,
} from '../bench/lib/model.js';
import { analyseKernel, modelEntry, PREDICT_WIDTHS } from '../bench/lib/speedup-analysis.js';
import type { KernelMeasured, Measured, SweepMeasured } from '../bench/lib/speedup-run.js';
import { median, quantile, summarize } from '../bench/lib/stats.js';

const T = { timeout: 10_000 };
const close = (actual: number, expected: number, tolerance = 1e-9): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

describe('stats', () => {
  test('median and quantiles interpolate between ranks', T, () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(quantile([1, 2, 3, 4], 0.25), 1.75);
    assert.equal(quantile([7], 0.9), 7);
  });

  test('summarize reports the spread around the median', T, () => {
    const s = summarize([10, 12, 11, 30]);
    assert.equal(s.median, 11.5);
    assert.equal(s.min, 10);
    assert.equal(s.max, 30);
    assert.equal(s.mean, 15.75);
    close(s.spreadPct, ((30 - 10) / 2 / 11.5) * 100);
  });

  test('no samples or a quantile outside [0, 1] is refused', T, () => {
    assert.throws(() => median([]), /no samples/);
    assert.throws(() => quantile([1], 1.5), /q must be within \[0, 1\]: received 1.5/);
  });
});

describe('efficiency and Amdahl', () => {
  test('efficiency is speedup per worker', T, () => {
    assert.equal(efficiency(1.8, 2), 0.9);
    assert.equal(efficiency(3, 4), 0.75);
    assert.throws(() => efficiency(2, 0), /workers must be a positive integer: received 0/);
    assert.throws(() => efficiency(Number.NaN, 2), /speedup must be finite/);
  });

  test("Amdahl's law at its edges", T, () => {
    assert.equal(amdahlSpeedup(0, 8), 8);
    assert.equal(amdahlSpeedup(1, 8), 1);
    close(amdahlSpeedup(0.1, 8), 1 / (0.1 + 0.9 / 8));
    close(amdahlSpeedup(0.1, Number.POSITIVE_INFINITY), 10);
    assert.throws(() => amdahlSpeedup(-0.1, 2), /serialFraction must be within \[0, 1\]/);
    assert.throws(() => amdahlSpeedup(0.1, 0.5), /workers must be >= 1/);
  });

  test('the fit recovers the serial fraction of exact Amdahl points', T, () => {
    for (const f of [0, 0.02, 0.25, 0.9]) {
      const points = [1, 2, 4, 8, 16].map((w) => ({ workers: w, speedup: amdahlSpeedup(f, w) }));
      const fit = fitAmdahl(points);
      close(fit.serialFraction, f, 1e-12);
      close(fit.rmsError, 0, 1e-12);
      assert.equal(fit.points, 4);
      if (f === 0) assert.equal(fit.limit, Number.POSITIVE_INFINITY);
      else close(fit.limit, 1 / f, 1e-9);
    }
  });

  test('the fit of noisy points is the least-squares answer on 1/S', T, () => {
    // x = 1 - 1/p, y = 1/S - 1/p: (0.5, 0.125) and (0.75, 1/2.29 - 0.25); f = Σxy / Σx².
    const fit = fitAmdahl([
      { workers: 1, speedup: 0.97 },
      { workers: 2, speedup: 1.6 },
      { workers: 4, speedup: 2.29 },
    ]);
    const y4 = 1 / 2.29 - 0.25;
    close(fit.serialFraction, (0.5 * 0.125 + 0.75 * y4) / (0.25 + 0.5625), 1e-12);
    assert.equal(fit.points, 2);
  });

  test('a superlinear speedup clamps the fraction at 0; a slowdown at 1', T, () => {
    assert.equal(fitAmdahl([{ workers: 2, speedup: 2.2 }]).serialFraction, 0);
    assert.equal(fitAmdahl([{ workers: 2, speedup: 0.8 }]).serialFraction, 1);
  });

  test('the fit needs a width above 1 and sane points', T, () => {
    assert.throws(() => fitAmdahl([{ workers: 1, speedup: 1 }]), /needs a speedup measured at more than one worker/);
    assert.throws(() => fitAmdahl([]), /more than one worker/);
    assert.throws(() => fitAmdahl([{ workers: 2, speedup: 0 }]), /speedup at 2 workers must be a positive number/);
  });
});

describe('the cost model', () => {
  test('compute-bound: rounds of task + overhead', T, () => {
    assert.equal(predictTime({ tasks: 128, taskMs: 4, overheadMs: 0, dispatchMs: 0 }, 16, 16), 32);
    // 128 tasks on 96 workers take two rounds.
    assert.equal(predictTime({ tasks: 128, taskMs: 4, overheadMs: 1, dispatchMs: 0 }, 96, 96), 10);
    assert.equal(predictSpeedup({ tasks: 128, taskMs: 4, overheadMs: 0, dispatchMs: 0 }, 128, 128), 128);
  });

  test('dispatch-bound: the main thread sets the pace', T, () => {
    const job = { tasks: 1024, taskMs: 0.5, overheadMs: 0, dispatchMs: 0.02 };
    // 8 rounds of 0.5 ms would take 4 ms; the main thread needs 1024 x 0.02 ms.
    close(predictTime(job, 128, 128), 20.48);
    close(predictSpeedup(job, 128, 128), 25);
  });

  test('oversubscribed: workers share the cores', T, () => {
    const job = { tasks: 128, taskMs: 4, overheadMs: 0, dispatchMs: 0 };
    assert.equal(predictTime(job, 4, 2), 32 * 4 * 2);
    assert.equal(predictSpeedup(job, 4, 2), 2);
    assert.equal(predictSpeedup(job, 2, 2), 2);
  });

  test("the main thread's busy share counts against the cores", T, () => {
    // 64 tasks of 1 ms, main 0.5 ms each: u = 32/32 = 1, so 2 workers + main share 2 cores.
    const job = { tasks: 64, taskMs: 1, overheadMs: 0, dispatchMs: 0.5 };
    assert.equal(predictTime(job, 2, 2), 32 * 1.5);
    assert.equal(predictTime(job, 2, 3), 32);
  });

  test('serial time outside the tasks adds on', T, () => {
    assert.equal(predictTime({ tasks: 8, taskMs: 1, overheadMs: 0, dispatchMs: 0, serialMs: 5 }, 8, 8), 6);
  });

  test('more workers never predict a slower job when cores grow with them', T, () => {
    const job = { tasks: 1000, taskMs: 2, overheadMs: 0.05, dispatchMs: 0.01 };
    let last = 0;
    for (const w of PREDICT_WIDTHS) {
      const s = predictSpeedup(job, w, w);
      assert.ok(s >= last, `speedup at ${w} (${s}) below the previous width (${last})`);
      assert.ok(s <= w);
      last = s;
    }
  });

  test('the smallest task for 90% efficiency', T, () => {
    close(minTaskMs(0.03, 0.01, 128), (128 * 0.01) / 0.9);
    close(minTaskMs(0.03, 0.01, 2), 0.27);
    close(minTaskMs(0.1, 0, 64, 0.5), 0.1);
    // At that size the model (with many tasks) gives the target efficiency or better.
    for (const w of [16, 64, 128]) {
      const c = minTaskMs(0.03, 0.01, w);
      const job = { tasks: w * 1000, taskMs: c, overheadMs: 0.03, dispatchMs: 0.01 };
      assert.ok(predictSpeedup(job, w, 1_000_000) / w >= 0.9 - 1e-9);
    }
    assert.throws(() => minTaskMs(0.03, 0.01, 2, 1), /target must be within \(0, 1\)/);
    assert.throws(() => minTaskMs(-1, 0.01, 2), /overheadMs must be a finite number >= 0/);
  });

  test('a malformed job is refused with the field named', T, () => {
    const job = { tasks: 8, taskMs: 1, overheadMs: 0, dispatchMs: 0 };
    assert.throws(() => predictTime({ ...job, tasks: 0 }, 1, 1), /job.tasks must be a positive integer: received 0/);
    assert.throws(() => predictTime({ ...job, taskMs: 0 }, 1, 1), /job.taskMs must be a positive number/);
    assert.throws(() => predictTime({ ...job, dispatchMs: -1 }, 1, 1), /job.dispatchMs must be a finite number >= 0/);
    assert.throws(() => predictTime(job, 1.5, 1), /workers must be a positive integer: received 1.5/);
    assert.throws(() => predictTime(job, 1, 0), /cores must be a positive integer: received 0/);
  });

  test('per-task overhead from one worker or more', T, () => {
    assert.equal(overheadPerTask(512, 500, 128), 0.09375);
    close(overheadPerTask(258, 500, 128, 2), 258 / 64 - 500 / 128);
    assert.equal(overheadPerTask(490, 500, 128), 0);
    assert.throws(() => overheadPerTask(0, 500, 128), /timeMs must be a positive number/);
    assert.throws(() => overheadPerTask(1, 500, 0), /tasks must be a positive integer/);
  });

  test('a straight-line fit', T, () => {
    const { intercept, slope } = fitLine([
      { x: 0, y: 0.02 },
      { x: 1, y: 0.32 },
      { x: 4, y: 1.22 },
    ]);
    close(intercept, 0.02, 1e-12);
    close(slope, 0.3, 1e-12);
    assert.throws(() => fitLine([{ x: 1, y: 1 }]), /at least two points with different x/);
  });
});

function sample(peer: Measured['peer'], workers: number, ms: number): Measured {
  const timesMs = [ms * 0.99, ms, ms * 1.02];
  return { peer, workers, timesMs, time: summarize(timesMs) };
}

describe('the analysis', () => {
  // A job that follows the model exactly: 128 tasks of 4 ms, 0.1 ms overhead, 0.01 ms main time.
  const costs = { dispatchMs: 0.01, mainMsPerMiB: 0.2 };
  const job = { tasks: 128, taskMs: 4, overheadMs: 0.1, dispatchMs: 0.01 };
  const at = (w: number): number => predictTime(job, w, 2);
  const sweep: SweepMeasured = {
    tasks: 128,
    bytesPerTask: 0,
    serial: sample('serial', 0, 512),
    corepool: [sample('corepool', 1, at(1)), sample('corepool', 2, at(2)), sample('corepool', 4, at(4))],
  };

  test('the model fitted at one worker predicts the other widths of a model-made job', T, () => {
    const e = modelEntry(sweep, costs, 2);
    close(e.taskMs, 4);
    close(e.overheadMs, 0.1, 1e-12);
    assert.equal(e.fittedAt, 1);
    assert.deepEqual(
      e.check.map((c) => c.workers),
      [2, 4],
    );
    for (const c of e.check) close(c.errorPct, 0, 1e-9);
    assert.deepEqual(
      e.predicted.map((p) => p.workers),
      [...PREDICT_WIDTHS],
    );
    close(e.predicted.find((p) => p.workers === 128)?.speedup ?? 0, predictSpeedup(job, 128, 128));
  });

  test('shipped bytes add to the main thread cost per task', T, () => {
    const e = modelEntry({ ...sweep, bytesPerTask: 2 * 1024 * 1024 }, costs, 2);
    close(e.dispatchMs, 0.01 + 2 * 0.2);
  });

  test('only oversubscribed widths: o is fitted at the narrowest, its time scaled by the cores it shared', T, () => {
    const e = modelEntry({ ...sweep, corepool: [sample('corepool', 4, at(4))] }, costs, 2);
    assert.equal(e.fittedAt, 4);
    close(e.overheadMs, at(4) / 2 / 32 - 4, 1e-9);
    assert.deepEqual(e.check, []);
    assert.throws(() => modelEntry({ ...sweep, corepool: [] }, costs, 2), /no pool width was measured for 128 tasks/);
  });

  const kernelOf = (rows: Measured[]): KernelMeasured => ({
    kernel: 'primes',
    title: 'test job',
    params: { tasks: 128 },
    tasks: 128,
    bytesPerTask: 0,
    checksum: 1,
    rows,
    sweep: [sweep],
    python: {
      version: '3.11.7',
      startMethod: 'fork',
      params: { tasks: 128 },
      tasks: 128,
      checksum: 1,
      cpuS: 1,
      serial: sample('python', 0, 300),
      pool: [sample('python', 1, 310), sample('python', 2, 160)],
    },
    reruns: 0,
  });

  test('without width 1 there is no scaling fit, only the textbook one', T, () => {
    const k = kernelOf([sweep.serial, sample('corepool', 2, at(2)), sample('piscina', 2, 262)]);
    const fit = analyseKernel(k, costs, 2).amdahl.corepool;
    assert.equal(fit?.scaling, null);
    assert.equal(fit?.oneWorker, null);
    close(fit?.overSerial.serialFraction ?? -1, fitAmdahl([{ workers: 2, speedup: 512 / at(2) }]).serialFraction);
  });

  test('speedups, efficiencies and fits per peer', T, () => {
    const k = kernelOf([sweep.serial, ...sweep.corepool, sample('piscina', 1, 520), sample('piscina', 2, 262)]);
    const a = analyseKernel(k, costs, 2);
    const corepool2 = a.rows.find((r) => r.peer === 'corepool' && r.workers === 2);
    close(corepool2?.speedup ?? 0, 512 / at(2));
    close(corepool2?.efficiency ?? 0, 512 / at(2) / 2);
    assert.equal(a.rows.find((r) => r.peer === 'serial')?.efficiency, null);
    close(a.pythonRows.find((r) => r.workers === 2)?.speedup ?? 0, 300 / 160);
    // The fits use widths 2..cores only: the oversubscribed 4 is left out.
    const corepool = a.amdahl.corepool;
    close(corepool?.overSerial.serialFraction ?? -1, fitAmdahl([{ workers: 2, speedup: 512 / at(2) }]).serialFraction);
    // Its own scaling: T(1)/T(2); the loss at one worker is reported apart.
    close(corepool?.scaling?.serialFraction ?? -1, fitAmdahl([{ workers: 2, speedup: at(1) / at(2) }]).serialFraction);
    close(corepool?.oneWorker ?? -1, 512 / at(1));
    close(
      a.amdahl.piscina?.scaling?.serialFraction ?? -1,
      fitAmdahl([{ workers: 2, speedup: 520 / 262 }]).serialFraction,
    );
    close(a.amdahl.python?.oneWorker ?? -1, 300 / 310);
    assert.deepEqual(
      a.minTaskMs.map((m) => m.workers),
      [2, 16, 64, 128],
    );
    close(a.minTaskMs.at(-1)?.ms ?? 0, minTaskMs(0.1, 0.01, 128));
  });
});
