/**
 * Parallel speedup against core count — the bench of `npm run bench`.
 *
 * For each kernel (count primes, Mandelbrot rows, SHA-256 over buffers, dense
 * matrix multiply; `bench/lib/workloads.ts`) the same job, cut into `--tasks`
 * tasks, runs on:
 *
 * - the serial loop on the main thread, which every speedup is measured against;
 * - corepool `pool.map(kernels.compute, inputs, { chunksize: 1 })` at 1, 2, …,
 *   cpuCount() workers and one oversubscribed width;
 * - raw piscina, one `run()` per task, at the same widths;
 * - Python's `multiprocessing.Pool.map(compute, inputs, 1)` at the same widths,
 *   on a narrower job, against its own serial loop.
 *
 * Warm pools, a warm-up round, alternating recorded rounds, medians. Then the
 * model (`bench/lib/model.ts`): the main thread's cost per task and per MiB
 * are measured, the per-task overhead is measured at each task count of the
 * sweep (`--sweep`), and from them the speedup at 16, 64 and 128 cores is
 * predicted and checked against the widths measured here.
 *
 * Writes `bench/results/<date>-<host>.json` and `.svg` (`…-2`, `…-3` for the
 * next runs of the day; `-quick`, `-disturbed`, `-custom` when they are), and
 * copies the chart to `latest.svg` for a full, clean run with the default
 * options. `--chart-from <result.json>` only draws the chart of a stored
 * result again (`bench/lib/speedup-chart.ts`).
 *
 *     node dist/bench/speedup.js [--quick] [--kernel primes,sha256] [--workers 1,2] [--runs N] [--json]
 *     node dist/bench/speedup.js --chart-from bench/results/2026-12-01-vm.json [--out DIR]
 *
 * @module
 */

import { copyFileSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cpuCount } from '../src/index.js';
import { benchArgs } from './lib/args.js';
import { measureDispatch, measureTransfer } from './lib/calibrate.js';
import { formatMachine, machineInfo } from './lib/machine.js';
import { DISTURBED_PCT, formatNoise, watchNoise } from './lib/noise.js';
import { createProgress } from './lib/progress.js';
import { findPython } from './lib/python.js';
import { reserveResult, writeResult } from './lib/results.js';
import { analyseKernel, type KernelAnalysis } from './lib/speedup-analysis.js';
import { LATEST_CHART, type RunKind, redrawChart, speedupChart } from './lib/speedup-chart.js';
import { formatKernel, formatModel, peerLabel } from './lib/speedup-report.js';
import { closePools, type KernelMeasured, kernelSteps, measureKernel, openPools } from './lib/speedup-run.js';
import { KERNEL_NAMES } from './lib/workloads.js';

const DEFAULT_TASKS = 128;
const DEFAULT_SWEEP = [16, 1024];

/** 1..n on small machines; powers of two and n on wide ones; then one oversubscribed width. */
function defaultWidths(n: number): number[] {
  const widths: number[] = [];
  if (n <= 8) for (let w = 1; w <= n; w++) widths.push(w);
  else {
    for (let w = 1; w < n; w *= 2) widths.push(w);
    widths.push(n);
  }
  widths.push(n <= 8 ? 2 * n : n + 1);
  return widths;
}

const args = benchArgs('node dist/bench/speedup.js', {
  kernel: `kernels to run, comma-separated: ${KERNEL_NAMES.join(',')} (default all)`,
  workers: 'pool widths, comma-separated (default 1..cpuCount, then 2 x cpuCount)',
  tasks: `tasks each job is cut into (default ${DEFAULT_TASKS})`,
  sweep: `other task counts measured for the model (default ${DEFAULT_SWEEP.join(',')})`,
  'chart-from': 'draw the chart of a result JSON again (into --out DIR, or beside it) and exit',
});
const chartFrom = args.string('chart-from');
if (chartFrom !== undefined) {
  let written: string[] = [];
  try {
    written = redrawChart(chartFrom, args.out);
  } catch (err) {
    args.fail(`--chart-from: ${(err as Error).message}`);
  }
  for (const path of written) console.log(`wrote ${path}`);
  process.exit(0);
}
const cores = cpuCount();
const kernelNames = [...new Set(args.names('kernel', KERNEL_NAMES, KERNEL_NAMES))];
const widths = [...new Set(args.ints('workers', defaultWidths(cores)))].sort((a, b) => a - b);
const full = Math.max(...widths.filter((w) => w <= cores), widths[0] ?? 1);
const tasks = args.int('tasks', DEFAULT_TASKS);
const sweepTasks = [...new Set(args.ints('sweep', DEFAULT_SWEEP))].filter((n) => n !== tasks);
const warmup = args.warmup ?? 1;
const runs = args.runs ?? (args.quick ? 2 : 4);
const sweepRuns = args.runs ?? (args.quick ? 1 : 2);
const pythonRuns = args.runs ?? (args.quick ? 2 : 3);
const custom =
  kernelNames.length !== KERNEL_NAMES.length ||
  widths.join() !== defaultWidths(cores).join() ||
  tasks !== DEFAULT_TASKS ||
  sweepTasks.join() !== DEFAULT_SWEEP.join();

const say = (text: string): void => {
  if (!args.json) console.log(text);
};

const machine = await machineInfo();
say(formatMachine(machine));
say(
  `\nspeedup: ${kernelNames.join(', ')}; each job cut into ${tasks} tasks; widths ${widths.join(', ')} (cpuCount ${cores});` +
    ` ${warmup} warm-up + ${runs} recorded rounds per peer, alternating within a width; task-count sweep ${sweepTasks.join(', ') || 'none'} at 1 and ${full} workers`,
);

const py = args.python ? await findPython() : undefined;
const python = py ?? { skipped: args.python ? 'python3 not found' : '--no-python' };
say(
  `peers: raw piscina ${machine.piscina}; ${py === undefined ? `python: skipped (${'skipped' in python ? python.skipped : ''})` : `python ${py.version} multiprocessing.Pool`}\n`,
);

const calib = {
  dispatchRounds: args.quick ? 2 : 3,
  dispatchTasks: args.quick ? 3_000 : 20_000,
  sizesMiB: [0, 0.25, 1, 4],
};
const kernelOptions = {
  size: args.quick ? 'quick' : 'default',
  tasks,
  widths,
  full,
  sweepTasks,
  warmup,
  runs,
  sweepRuns,
} as const;
const progress = createProgress(
  calib.dispatchRounds * (1 + calib.sizesMiB.length) + kernelNames.length * kernelSteps(kernelOptions),
);
const stopWatch = watchNoise();

const dispatch = await measureDispatch({
  tasks: calib.dispatchTasks,
  rounds: calib.dispatchRounds,
  onRound: () => progress.step('model: main-thread cost per task'),
});
const transfer = await measureTransfer({
  sizesMiB: calib.sizesMiB,
  totalMiB: args.quick ? 16 : 64,
  rounds: calib.dispatchRounds,
  onRound: () => progress.step('model: transfer cost per MiB'),
});
const costs = { dispatchMs: dispatch.mainMsPerTask, mainMsPerMiB: transfer.mainMsPerMiB };

const measuredKernels: KernelMeasured[] = [];
const analyses: KernelAnalysis[] = [];
const pools = openPools([...new Set([1, ...widths])]);
try {
  for (const name of kernelNames) {
    const k = await measureKernel(name, { ...kernelOptions, python, pythonRuns, progress, pools });
    const a = analyseKernel(k, costs, cores);
    measuredKernels.push(k);
    analyses.push(a);
    progress.done();
    say(`${formatKernel(k, a, cores)}\n`);
  }
} finally {
  progress.done();
  await closePools(pools);
}
const noise = stopWatch(measuredKernels.reduce((s, k) => s + ('skipped' in k.python ? 0 : k.python.cpuS * 1000), 0));
const reruns = measuredKernels.reduce((s, k) => s + k.reruns, 0);
say(formatModel(dispatch, transfer, measuredKernels, analyses, cores));
say(`\n${formatNoise(noise)}; ${reruns} disturbed rounds run again`);

const disturbed = noise.othersPct > DISTURBED_PCT;
const writeOptions = {
  quick: args.quick,
  disturbed,
  dir: args.out,
  baseName: `${machine.date.slice(0, 10)}-${machine.hostname.replace(/[^A-Za-z0-9._-]/g, '_')}`,
  tags: custom ? ['custom'] : [],
};
// The run's own pair of files: a rerun the same day gets the next free name.
const jsonPath = reserveResult('speedup', machine, writeOptions, ['svg']);
const svgPath = jsonPath.replace(/\.json$/, '.svg');
const kind: RunKind = { quick: args.quick, disturbed, custom, othersPct: noise.othersPct, runs };
try {
  const kernels = measuredKernels.map((measured, i) => ({ measured, analysis: analyses[i] as KernelAnalysis }));
  writeFileSync(svgPath, speedupChart({ machine, kernels, kind, resultFile: basename(jsonPath) }));
} catch (err) {
  unlinkSync(jsonPath);
  throw err;
}

writeResult(
  'speedup',
  machine,
  {
    method: {
      speedup: "a peer's serial median time / its median time; efficiency = speedup / workers",
      dispatch:
        'corepool pool.map(compute, inputs, { chunksize: 1 }); piscina run() per input; python Pool.map(compute, inputs, 1)',
      order:
        'per width a fresh warm pool; the peers of a width alternate rounds; the serial loop runs with the first width',
      amdahl: 'least squares on 1/S over widths 2..cores: 1/S - 1/p = f (1 - 1/p)',
      model: 'T(p) = max(ceil(N/p) (c + o) max(1, (p + u)/C), N d); S = N c / T; o fitted at 1 worker per task count',
    },
    options: {
      kernels: kernelNames,
      widths,
      tasks,
      sweepTasks,
      warmup,
      runs,
      sweepRuns,
      pythonRuns,
      quick: args.quick,
      custom,
    },
    peers: {
      piscina: machine.piscina,
      python: py === undefined ? python : { version: py.version, label: peerLabel('python', py.version) },
    },
    calibration: { dispatch, transfer },
    kernels: measuredKernels.map((k, i) => ({ ...k, analysis: analyses[i] })),
    noise: { ...noise, disturbedRoundsRerun: reruns },
    files: { svg: basename(svgPath) },
  },
  { ...writeOptions, path: jsonPath },
);
let latest = '';
if (!args.quick && !disturbed && !custom) {
  latest = join(dirname(svgPath), LATEST_CHART);
  copyFileSync(svgPath, latest);
}
if (args.json) {
  process.stdout.write(
    `${JSON.stringify({ ...JSON.parse(readFileSync(jsonPath, 'utf8')), files: { json: jsonPath, svg: svgPath } })}\n`,
  );
} else {
  say(`wrote ${jsonPath}\nwrote ${svgPath}${latest === '' ? '' : `\nwrote ${latest}`}`);
}
