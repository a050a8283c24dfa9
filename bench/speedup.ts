/**
 * Speed-up of a CPU-bound job over pool width — the bench of `npm run bench`.
 *
 * The job: count the primes in [lo, hi) by trial division, cut into `--tasks`
 * equal ranges, one task per range. Every peer runs the same algorithm on the
 * same ranges (Python on a narrower window, as it is ~25x slower; compare its
 * speed-up, not its time):
 *
 * - serial: the loop on the main thread, no pool — what speed-up is measured against;
 * - corepool `pool.map(countPrimes, ranges, { chunksize: 1 })` at 1, 2, …, cpuCount() workers;
 * - raw piscina, one `run()` per range, at full width;
 * - Python `multiprocessing.Pool.map(count_primes, ranges, 1)` at the same widths, against its own serial loop.
 *
 * Warm pools, warm-up rounds, several alternating rounds, median.
 * Target: speed-up at full width ≥ 0.9 × cores.
 *
 *     node dist/bench/speedup.js [--quick] [--workers 1,2] [--tasks N] [--runs N] [--warmup N] [--no-python]
 *
 * @module
 */

import { Piscina } from 'piscina';
import { cpuCount, Pool } from '../src/index.js';
import { countPrimesIn } from '../workers/bench-algorithms.js';
import { kernels } from '../workers/bench-kernels.js';
import type { BenchPayload } from '../workers/bench-piscina.js';
import { benchArgs } from './lib/args.js';
import { formatMachine, machineInfo } from './lib/machine.js';
import { DISTURBED_PCT, formatNoise, type Noise, watchNoise } from './lib/noise.js';
import { workerUrl } from './lib/paths.js';
import { findPython, runPython } from './lib/python.js';
import { splitRange } from './lib/ranges.js';
import { writeResult } from './lib/results.js';
import { alternate, type Contender, progressReporter, timed } from './lib/rounds.js';
import { type Summary, summarize } from './lib/stats.js';
import { type Column, fmt, formatTable, ms } from './lib/table.js';

const TARGET_EFFICIENCY = 0.9;
const LO = 10_000_000;

interface PythonSpeedup {
  readonly lo: number;
  readonly hi: number;
  readonly tasks: number;
  readonly primes: number;
  readonly start_method: string;
  /** CPU seconds of the script and its pools' workers. */
  readonly cpu_s: number;
  readonly serial_ms: number[];
  readonly pool_ms: Record<string, number[]>;
}

interface Row {
  readonly peer: string;
  /** 0 for the serial loop. */
  readonly workers: number;
  readonly timesMs: number[];
  readonly time: Summary;
  /** Serial median time / this median time. */
  readonly speedup: number;
  /** speedup / workers. */
  readonly efficiency: number;
  /** This peer's 1-worker median time / this median time, when it ran at 1 worker. */
  readonly vsOneWorker: number | null;
}

function defaultWidths(n: number): number[] {
  if (n <= 8) return Array.from({ length: n }, (_, i) => i + 1);
  const widths: number[] = [];
  for (let w = 1; w < n; w *= 2) widths.push(w);
  return [...widths, n];
}

const args = benchArgs('node dist/bench/speedup.js', {
  workers: 'comma-separated pool widths (default 1..cpuCount())',
  tasks: 'ranges the job is cut into (default 128)',
});
const cores = cpuCount();
const widths = [...new Set(args.ints('workers', defaultWidths(cores)))].sort((a, b) => a - b);
const full = widths[widths.length - 1] ?? cores;
const tasks = args.int('tasks', 128);
const warmup = args.warmup ?? 1;
const runs = args.runs ?? (args.quick ? 3 : 5);
const hi = LO + (args.quick ? 1_000_000 : 4_000_000);
const pyHi = LO + (args.quick ? 40_000 : 160_000);
const ranges = splitRange(LO, hi, tasks);

const machine = await machineInfo();
console.log(formatMachine(machine));
console.log(
  `\nspeedup: primes in [${fmt(LO)}, ${fmt(hi)}) by trial division, ${tasks} equal ranges, one task each;` +
    `\nwidths ${widths.join(', ')} (cpuCount ${cores}); ${warmup} warm-up + ${runs} recorded rounds per peer, alternating within a width\n`,
);

const serialJob = (): number => ranges.reduce((sum, [a, b]) => sum + countPrimesIn(a, b), 0);
const expected = serialJob();
function check(primes: number, who: string): void {
  if (primes !== expected) throw new Error(`${who} counted ${primes} primes, serial ${expected}`);
}
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

const times = new Map<string, { workers: number; ms: number[] }>();
const progress = progressReporter(runs, 12);
const stopWatch = watchNoise();
for (const w of widths) {
  const pool = new Pool({ processes: w });
  const piscina =
    w === full
      ? new Piscina<BenchPayload, number>({
          filename: workerUrl('bench-piscina'),
          minThreads: w,
          maxThreads: w,
          idleTimeout: Number.POSITIVE_INFINITY,
          concurrentTasksPerWorker: 1,
          recordTiming: false,
        })
      : undefined;
  const contenders: Contender[] = [
    {
      name: `corepool@${w}`,
      run: () =>
        timed(async () => check(sum(await pool.map(kernels.countPrimes, ranges, { chunksize: 1 })), 'corepool')),
    },
  ];
  if (w === 1) contenders.unshift({ name: 'serial', run: () => timed(() => check(serialJob(), 'serial')) });
  if (piscina !== undefined) {
    contenders.push({
      name: `piscina@${w}`,
      run: () =>
        timed(async () => {
          const counts = await Promise.all(ranges.map(([a, b]) => piscina.run({ kind: 'primes', lo: a, hi: b })));
          check(sum(counts), 'piscina');
        }),
    });
  }
  const measured = await alternate(contenders, {
    warmup,
    rounds: runs,
    ...progress,
  });
  for (const [name, t] of measured) times.set(name, { workers: name === 'serial' ? 0 : w, ms: t });
  await pool.terminate();
  await piscina?.destroy();
}
if (!times.has('serial')) {
  // No width 1 asked for: the serial baseline still runs, alone.
  const t = await alternate([{ name: 'serial', run: () => timed(() => check(serialJob(), 'serial')) }], {
    warmup,
    rounds: runs,
  });
  times.set('serial', { workers: 0, ms: t.get('serial') ?? [] });
}

const nodeNoise = stopWatch();

function rows(label: (name: string) => string, measured: Map<string, { workers: number; ms: number[] }>): Row[] {
  const serial = summarize(measured.get('serial')?.ms ?? []).median;
  const oneWorker = new Map<string, number>();
  for (const [name, m] of measured) {
    if (m.workers === 1) oneWorker.set(name.replace(/@\d+$/, ''), summarize(m.ms).median);
  }
  return [...measured].map(([name, m]) => {
    const time = summarize(m.ms);
    const speedup = serial / time.median;
    const one = oneWorker.get(name.replace(/@\d+$/, ''));
    return {
      peer: label(name),
      workers: m.workers,
      timesMs: m.ms,
      time,
      speedup,
      efficiency: speedup / Math.max(1, m.workers),
      vsOneWorker: one === undefined || m.workers === 0 ? null : one / time.median,
    };
  });
}

const nodeRows = rows((name) => {
  if (name === 'serial') return 'serial (main thread)';
  return name.startsWith('corepool') ? 'corepool Pool.map' : 'raw piscina run()';
}, times);

let pythonNoise: Noise | undefined;
let pythonRows: Row[] = [];
let pythonInfo: Record<string, unknown> = {};
const py = args.python ? await findPython() : undefined;
if (py === undefined) {
  console.log(args.python ? 'python3: skipped (not found)' : 'python3: skipped (--no-python)');
  pythonInfo = { skipped: args.python ? 'not found' : '--no-python' };
} else {
  process.stderr.write(`  running python ${py.version} on [${fmt(LO)}, ${fmt(pyHi)}) …\n`);
  const stopPython = watchNoise();
  const r = await runPython<PythonSpeedup>(py, 'speedup.py', [
    '--lo',
    String(LO),
    '--hi',
    String(pyHi),
    '--tasks',
    String(tasks),
    '--workers',
    widths.join(','),
    '--warmup',
    String(warmup),
    '--runs',
    String(args.quick ? 2 : 3),
  ]);
  pythonNoise = stopPython(r.cpu_s * 1000);
  const jsCount = splitRange(LO, pyHi, tasks).reduce((s, [a, b]) => s + countPrimesIn(a, b), 0);
  if (r.primes !== jsCount) throw new Error(`python counted ${r.primes} primes in its window, node ${jsCount}`);
  const measured = new Map<string, { workers: number; ms: number[] }>([['serial', { workers: 0, ms: r.serial_ms }]]);
  for (const [w, t] of Object.entries(r.pool_ms)) measured.set(`python@${w}`, { workers: Number(w), ms: t });
  pythonRows = rows(
    (name) =>
      name === 'serial'
        ? `python ${py.version} serial (one process)`
        : `python ${py.version} Pool.map (${r.start_method})`,
    measured,
  );
  pythonInfo = { lo: r.lo, hi: r.hi, tasks: r.tasks, primes: r.primes, startMethod: r.start_method };
}

const columns: Column[] = [
  { header: 'peer' },
  { header: 'workers', right: true },
  { header: 'time (median)', right: true },
  { header: 'min–max', right: true },
  { header: 'speedup', right: true },
  { header: 'efficiency', right: true },
  { header: 'ideal', right: true },
  { header: 'vs 1 worker', right: true },
];
const show = (r: Row): string[] => [
  r.peer,
  r.workers === 0 ? '—' : String(r.workers),
  ms(r.time.median),
  `${ms(r.time.min)}–${ms(r.time.max)}`,
  `${r.speedup.toFixed(2)}x`,
  r.workers === 0 ? '—' : `${(r.efficiency * 100).toFixed(0)}%`,
  `${Math.max(1, r.workers)}x`,
  r.vsOneWorker === null ? '—' : `${r.vsOneWorker.toFixed(2)}x`,
];
const sortRows = (rs: Row[]): Row[] => [...rs].sort((a, b) => a.workers - b.workers);
console.log(`\nnode: [${fmt(LO)}, ${fmt(hi)}), ${fmt(expected)} primes; speedup = serial time / time`);
console.log(formatTable(columns, sortRows(nodeRows).map(show)));
if (pythonRows.length > 0) {
  console.log(
    `\npython: [${fmt(LO)}, ${fmt(pyHi)}) (narrower: compare speed-ups, not times); speedup = python serial time / time`,
  );
  console.log(formatTable(columns, sortRows(pythonRows).map(show)));
}

const atFull = nodeRows.find((r) => r.peer.startsWith('corepool') && r.workers === full);
const piscinaFull = nodeRows.find((r) => r.peer.startsWith('raw piscina'));
const target = TARGET_EFFICIENCY * full;
if (atFull !== undefined) {
  console.log(
    `\ncorepool at ${full} workers: ${atFull.speedup.toFixed(2)}x serial` +
      (piscinaFull ? ` (raw piscina ${piscinaFull.speedup.toFixed(2)}x)` : '') +
      `; target >= ${target.toFixed(2)}x (${TARGET_EFFICIENCY} x ${full}): ${atFull.speedup >= target ? 'met' : 'MISSED'}`,
  );
}

console.log(`node rounds ${formatNoise(nodeNoise)}; ${progress.reruns()} disturbed rounds run again`);
if (pythonNoise !== undefined) console.log(`python    ${formatNoise(pythonNoise)}`);

const path = writeResult(
  'speedup',
  machine,
  {
    method: {
      kernel: 'count primes by trial division by 2 and odd d with d*d <= n',
      node: { lo: LO, hi, tasks, primes: expected },
      python: pythonInfo,
      dispatch:
        'one task per range: corepool pool.map(chunksize 1), piscina run() per range, python Pool.map(chunksize=1)',
      widths,
      warmupRounds: warmup,
      recordedRounds: runs,
      order: 'per width, a fresh warm pool; peers of a width alternate (serial with 1 worker, piscina at full width)',
      speedup: 'serial median time / median time; efficiency = speedup / workers',
    },
    noise: { node: nodeNoise, python: pythonNoise ?? null, disturbedRoundsRerun: progress.reruns() },
    rows: [...nodeRows, ...pythonRows],
    target: {
      workers: full,
      speedup: target,
      measured: atFull?.speedup ?? null,
      met: atFull === undefined ? null : atFull.speedup >= target,
    },
  },
  {
    quick: args.quick,
    disturbed: [nodeNoise, pythonNoise].some((n) => n !== undefined && n.othersPct > DISTURBED_PCT),
  },
);
console.log(`wrote ${path}`);
