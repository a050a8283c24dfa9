/**
 * Turns what the speedup bench measured into speedups, efficiencies, Amdahl
 * fits and the cost model's predictions (see `model.ts` for the model).
 *
 * @module
 */

import {
  type AmdahlFit,
  efficiency,
  fitAmdahl,
  type JobModel,
  minTaskMs,
  overheadPerTask,
  predictSpeedup,
} from './model.js';
import type { KernelMeasured, Measured, Peer, SweepMeasured } from './speedup-run.js';
import type { Summary } from './stats.js';

/** Widths the model predicts, one worker per core. */
export const PREDICT_WIDTHS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128];
/** Widths whose predictions the tables show. */
export const MODEL_WIDTHS: readonly number[] = [16, 64, 128];
/** Efficiency the minimum task size is computed for. */
export const TARGET_EFFICIENCY = 0.9;
const MIB = 1024 * 1024;

/**
 * One row of a kernel's table.
 *
 * @example
 * ```ts
 * const row: Row = { peer: 'corepool', workers: 2, time, timesMs, speedup: 1.93, efficiency: 0.965 };
 * ```
 */
export interface Row {
  readonly peer: Peer;
  readonly workers: number;
  readonly timesMs: number[];
  readonly time: Summary;
  /** This peer's serial median time / this median time. */
  readonly speedup: number;
  /** speedup / workers; `null` for a serial loop. */
  readonly efficiency: number | null;
}

/**
 * The model at one task count of one kernel.
 *
 * @example
 * ```ts
 * entry.predicted.find((p) => p.workers === 128)?.speedup;
 * ```
 */
export interface ModelEntry {
  readonly tasks: number;
  /** `c`: serial median / tasks, ms. */
  readonly taskMs: number;
  /** `o`, fitted at {@link ModelEntry.fittedAt} workers (the narrowest measured), ms. */
  readonly overheadMs: number;
  /** The width `o` was fitted at (1 when measured): it matches there by construction. */
  readonly fittedAt: number;
  /** `d = d₀ + b·τₘ`, ms. */
  readonly dispatchMs: number;
  readonly bytesPerTask: number;
  /** The model against every other width measured on this machine. */
  readonly check: { workers: number; measured: number; predicted: number; errorPct: number }[];
  /** Predictions on machines with one core per worker. */
  readonly predicted: { workers: number; speedup: number; efficiency: number }[];
}

/**
 * Amdahl's law fitted to one peer's speedups, two ways.
 *
 * @example
 * ```ts
 * const fit: PeerAmdahl = analysis.amdahl.corepool!;
 * fit.overSerial.serialFraction; // 0.13: every loss counted as serial
 * fit.scaling?.serialFraction;   // 0.00: what is lost beyond the 1-worker cost
 * ```
 */
export interface PeerAmdahl {
  /** The textbook fit of speedups over the serial loop: every loss, per-task overhead too, counts as serial. */
  readonly overSerial: AmdahlFit;
  /** The peer's speedup at one worker (below 1 by its per-task overhead); `null` when 1 was not measured. */
  readonly oneWorker: number | null;
  /**
   * The fit of the peer's own scaling, `T(1)/T(p)`: the serial fraction of
   * what is lost beyond the one-worker cost. With {@link PeerAmdahl.oneWorker}
   * it gives the curve `S(p) = S(1) / (f + (1 − f)/p)`. `null` without width 1.
   */
  readonly scaling: AmdahlFit | null;
}

/**
 * Everything the report and the chart show of one kernel.
 *
 * @example
 * ```ts
 * const a = analyseKernel(measured, { dispatchMs: 0.012, mainMsPerMiB: 0.2 }, 2);
 * a.amdahl.corepool?.scaling?.serialFraction;
 * ```
 */
export interface KernelAnalysis {
  readonly rows: Row[];
  /** Python's rows, against its own serial loop; empty when skipped. */
  readonly pythonRows: Row[];
  /** Amdahl fits per peer over widths 2..cores; `null` when no such width was measured. */
  readonly amdahl: Readonly<Record<'corepool' | 'piscina' | 'python', PeerAmdahl | null>>;
  /** One entry per task count, the default count first. */
  readonly model: ModelEntry[];
  /** Smallest task (ms) for 90 % efficiency at this machine's width and at 16, 64, 128 (default task count's `o` and `d`). */
  readonly minTaskMs: { workers: number; ms: number }[];
}

/**
 * The main thread's measured costs the model needs.
 *
 * @example
 * ```ts
 * const costs: MainCosts = { dispatchMs: dispatch.mainMsPerTask, mainMsPerMiB: transfer.mainMsPerMiB };
 * ```
 */
export interface MainCosts {
  /** `d₀`: main-thread ms per task of an empty task. */
  readonly dispatchMs: number;
  /** `τₘ`: main-thread ms per MiB shipped. */
  readonly mainMsPerMiB: number;
}

function rowsOf(serial: Measured, pool: readonly Measured[]): Row[] {
  const base = serial.time.median;
  return [serial, ...pool].map((m) => {
    const speedup = base / m.time.median;
    return {
      peer: m.peer,
      workers: m.workers,
      timesMs: m.timesMs,
      time: m.time,
      speedup,
      efficiency: m.workers === 0 ? null : efficiency(speedup, m.workers),
    };
  });
}

function fit(rows: readonly Row[], peer: Peer, cores: number): PeerAmdahl | null {
  const mine = rows.filter((r) => r.peer === peer && r.workers >= 1 && r.workers <= cores);
  if (!mine.some((r) => r.workers > 1)) return null;
  const one = mine.find((r) => r.workers === 1);
  return {
    overSerial: fitAmdahl(mine.map((r) => ({ workers: r.workers, speedup: r.speedup }))),
    oneWorker: one === undefined ? null : one.speedup,
    scaling:
      one === undefined
        ? null
        : fitAmdahl(mine.map((r) => ({ workers: r.workers, speedup: one.time.median / r.time.median }))),
  };
}

/**
 * The model of one task count: `c` and `o` from its measurements, checked
 * against its other widths and extrapolated to {@link PREDICT_WIDTHS}.
 *
 * @example
 * ```ts
 * const entry = modelEntry(kernel.sweep[0], costs, 2);
 * ```
 * @throws {RangeError} when no pool width was measured.
 */
export function modelEntry(s: SweepMeasured, costs: MainCosts, cores: number): ModelEntry {
  const serialMs = s.serial.time.median;
  // o is fitted at the narrowest width; above the core count its time is
  // first scaled back by the workers' share of the cores.
  const base = [...s.corepool].sort((a, b) => a.workers - b.workers)[0];
  if (base === undefined) throw new RangeError(`no pool width was measured for ${s.tasks} tasks`);
  const taskMs = serialMs / s.tasks;
  const share = Math.max(1, base.workers / cores);
  const overheadMs = overheadPerTask(base.time.median / share, serialMs, s.tasks, base.workers);
  const dispatchMs = costs.dispatchMs + (s.bytesPerTask / MIB) * costs.mainMsPerMiB;
  const job: JobModel = { tasks: s.tasks, taskMs, overheadMs, dispatchMs };
  const check = s.corepool
    .filter((m) => m !== base)
    .map((m) => {
      const measured = serialMs / m.time.median;
      const predicted = predictSpeedup(job, m.workers, cores);
      return { workers: m.workers, measured, predicted, errorPct: ((predicted - measured) / measured) * 100 };
    });
  const predicted = PREDICT_WIDTHS.map((w) => {
    const speedup = predictSpeedup(job, w, w);
    return { workers: w, speedup, efficiency: speedup / w };
  });
  return {
    tasks: s.tasks,
    taskMs,
    overheadMs,
    fittedAt: base.workers,
    dispatchMs,
    bytesPerTask: s.bytesPerTask,
    check,
    predicted,
  };
}

/**
 * Speedups, fits and the model of one measured kernel.
 *
 * @example
 * ```ts
 * const analysis = analyseKernel(await measureKernel('primes', options), costs, cpuCount());
 * ```
 */
export function analyseKernel(k: KernelMeasured, costs: MainCosts, cores: number): KernelAnalysis {
  const serial = k.rows.find((r) => r.peer === 'serial');
  if (serial === undefined) throw new Error(`${k.kernel}: the serial loop was not measured`);
  const rows = rowsOf(
    serial,
    k.rows.filter((r) => r.peer !== 'serial'),
  );
  const pythonRows = 'skipped' in k.python ? [] : rowsOf(k.python.serial, k.python.pool);
  const model = k.sweep.map((s) => modelEntry(s, costs, cores));
  const first = model[0];
  const widths = [...new Set([cores, ...MODEL_WIDTHS])].sort((a, b) => a - b);
  return {
    rows,
    pythonRows,
    amdahl: {
      corepool: fit(rows, 'corepool', cores),
      piscina: fit(rows, 'piscina', cores),
      python: fit(pythonRows, 'python', cores),
    },
    model,
    minTaskMs:
      first === undefined
        ? []
        : widths.map((w) => ({ workers: w, ms: minTaskMs(first.overheadMs, first.dispatchMs, w, TARGET_EFFICIENCY) })),
  };
}
