/**
 * Per-task overhead: how many no-op tasks a second `pool.applyAsync` runs,
 * against raw piscina `run()` on a no-op handler with the same thread count in
 * the same process (alternating rounds), and Python's `Pool.apply_async`.
 *
 * Each round submits `--tasks` tasks synchronously in one loop — all of them
 * in flight at once — then awaits them all; the round's time covers both.
 *
 * Target: corepool ≥ 0.9× raw piscina.
 *
 *     node dist/bench/overhead.js [--quick] [--tasks N] [--runs N] [--warmup N] [--no-python]
 *
 * @module
 */

import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { cpuCount, Pool } from '../src/index.js';
import { kernels } from '../workers/bench-kernels.js';
import type { BenchPayload } from '../workers/bench-piscina.js';
import { benchArgs } from './lib/args.js';
import { formatMachine, machineInfo } from './lib/machine.js';
import { DISTURBED_PCT, formatNoise, type Noise, watchNoise } from './lib/noise.js';
import { workerUrl } from './lib/paths.js';
import { findPython, runPython } from './lib/python.js';
import { writeResult } from './lib/results.js';
import { alternate, progressReporter } from './lib/rounds.js';
import { ratesPerSecond, type Summary, summarize } from './lib/stats.js';
import { type Column, fmt, formatTable, ms } from './lib/table.js';

const TARGET_RATIO = 0.9;

interface PythonOverhead {
  readonly processes: number;
  readonly tasks: number;
  readonly start_method: string;
  /** CPU seconds of the script and its pool's workers. */
  readonly cpu_s: number;
  readonly times_ms: number[];
  readonly rates: number[];
}

interface PeerResult {
  readonly peer: string;
  readonly threads: number;
  readonly timesMs: number[];
  /** Time spent in the submitting loop alone (Node peers). */
  readonly submitMs?: number[];
  readonly rate: Summary;
}

const args = benchArgs('node dist/bench/overhead.js', { tasks: 'tasks in flight per round (default 20000)' });
const tasks = args.int('tasks', args.quick ? 5_000 : 20_000);
const warmup = args.warmup ?? (args.quick ? 1 : 2);
const runs = args.runs ?? (args.quick ? 3 : 8);
const threads = cpuCount();

const machine = await machineInfo();
console.log(formatMachine(machine));
console.log(
  `\noverhead: no-op tasks, ${fmt(tasks)} per round submitted synchronously in one loop (all in flight), then all awaited;` +
    `\n${threads} threads per pool; ${warmup} warm-up + ${runs} recorded rounds per peer, alternating (AB BA AB …)\n`,
);

const pool = new Pool({ processes: threads });
// Mirrors what corepool asks of piscina (src/pool.ts) so the ratio isolates corepool's own layer.
const piscina = new Piscina<BenchPayload, unknown>({
  filename: workerUrl('bench-piscina'),
  minThreads: threads,
  maxThreads: threads,
  idleTimeout: Number.POSITIVE_INFINITY,
  concurrentTasksPerWorker: 1,
  recordTiming: false,
});

/** Time of the submitting loop alone, of each peer's last round. */
const lastSubmitMs = new Map<string, number>();
async function round(name: string, submit: () => PromiseLike<unknown>): Promise<number> {
  const start = performance.now();
  const pending = new Array<PromiseLike<unknown>>(tasks);
  for (let i = 0; i < tasks; i++) pending[i] = submit();
  const submitted = performance.now();
  await Promise.all(pending);
  const end = performance.now();
  lastSubmitMs.set(name, submitted - start);
  return end - start;
}

const noop: BenchPayload = { kind: 'noop' };
const contenders = [
  { name: 'corepool', run: () => round('corepool', () => pool.applyAsync(kernels.noop, [])) },
  { name: 'piscina', run: () => round('piscina', () => piscina.run(noop)) },
];
const progress = progressReporter(runs, 8);
// Submit times of the recorded rounds only (not warm-up, not disturbed runs done again).
const submitMs = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
const stopWatch = watchNoise();
const times = await alternate(contenders, {
  warmup,
  rounds: runs,
  ...progress,
  onRound: (name, t, r) => {
    submitMs.get(name)?.push(lastSubmitMs.get(name) ?? Number.NaN);
    progress.onRound(name, t, r);
  },
});
const nodeNoise = stopWatch();
await pool.terminate();
await piscina.destroy();

const peers: PeerResult[] = contenders.map(({ name }) => {
  const t = times.get(name) ?? [];
  const s = submitMs.get(name) ?? [];
  return {
    peer: name === 'corepool' ? 'corepool Pool.applyAsync' : 'raw piscina run()',
    threads,
    timesMs: t,
    submitMs: s,
    rate: summarize(ratesPerSecond(tasks, t)),
  };
});

let pythonNoise: Noise | undefined;
let python: PeerResult | { peer: string; skipped: string } | undefined;
const py = args.python ? await findPython() : undefined;
if (py === undefined) {
  console.log(args.python ? 'python3: skipped (not found)' : 'python3: skipped (--no-python)');
  python = { peer: 'python multiprocessing.Pool.apply_async', skipped: args.python ? 'not found' : '--no-python' };
} else {
  process.stderr.write(`  running python ${py.version} …\n`);
  const stopPython = watchNoise();
  const r = await runPython<PythonOverhead>(py, 'overhead.py', [
    '--tasks',
    String(tasks),
    '--processes',
    String(threads),
    '--warmup',
    String(Math.max(1, Math.min(warmup, 2))),
    '--runs',
    String(Math.max(3, Math.ceil(runs / 2))),
  ]);
  pythonNoise = stopPython(r.cpu_s * 1000);
  python = {
    peer: `python ${py.version} Pool.apply_async (${r.start_method})`,
    threads: r.processes,
    timesMs: r.times_ms,
    rate: summarize(r.rates),
  };
}

const [core, raw] = peers as [PeerResult, PeerResult];
const ratio = core.rate.median / raw.rate.median;
// Ratio per alternating pair: drift cancels within a pair.
const pairRatios = core.timesMs.map((t, i) => (raw.timesMs[i] ?? Number.NaN) / t);
const pairRatio = summarize(pairRatios);

const columns: Column[] = [
  { header: 'peer' },
  { header: 'threads', right: true },
  { header: 'tasks/s (median)', right: true },
  { header: 'min–max', right: true },
  { header: 'µs/task', right: true },
  { header: 'submit loop', right: true },
  { header: 'vs piscina', right: true },
];
const row = (p: PeerResult): string[] => [
  p.peer,
  String(p.threads),
  fmt(p.rate.median),
  `${fmt(p.rate.min)}–${fmt(p.rate.max)}`,
  (1e6 / p.rate.median).toFixed(1),
  p.submitMs && p.submitMs.length > 0 ? ms(summarize(p.submitMs).median) : '—',
  `${(p.rate.median / raw.rate.median).toFixed(2)}x`,
];
const rows = [row(core), row(raw)];
if (python !== undefined && 'rate' in python) rows.push(row(python));
else if (python !== undefined) rows.push([python.peer, '—', `skipped (${python.skipped})`, '', '', '', '']);
console.log(`\n${formatTable(columns, rows)}`);
console.log(
  `\ncorepool / raw piscina: ${ratio.toFixed(3)}x of medians; per alternating pair median ${pairRatio.median.toFixed(3)}x ` +
    `(min ${pairRatio.min.toFixed(3)}, max ${pairRatio.max.toFixed(3)}); target >= ${TARGET_RATIO}x: ` +
    `${pairRatio.median >= TARGET_RATIO ? 'met' : 'MISSED'}`,
);

console.log(`node rounds ${formatNoise(nodeNoise)}; ${progress.reruns()} disturbed rounds run again`);
if (pythonNoise !== undefined) console.log(`python    ${formatNoise(pythonNoise)}`);

const path = writeResult(
  'overhead',
  machine,
  {
    method: {
      tasksPerRound: tasks,
      submission: 'all tasks submitted synchronously in one loop (all in flight), then Promise.all; time covers both',
      warmupRounds: warmup,
      recordedRounds: runs,
      order: 'alternating AB BA AB … in one process; python after, in its own process',
      piscinaOptions: {
        minThreads: threads,
        maxThreads: threads,
        idleTimeout: 'Infinity',
        concurrentTasksPerWorker: 1,
        recordTiming: false,
      },
    },
    noise: { node: nodeNoise, python: pythonNoise ?? null, disturbedRoundsRerun: progress.reruns() },
    peers: python === undefined ? peers : [...peers, python],
    ratio: { ofMedians: ratio, perPair: pairRatio, target: TARGET_RATIO, met: pairRatio.median >= TARGET_RATIO },
  },
  {
    quick: args.quick,
    disturbed: [nodeNoise, pythonNoise].some((n) => n !== undefined && n.othersPct > DISTURBED_PCT),
    dir: args.out,
  },
);
console.log(`wrote ${path}`);
