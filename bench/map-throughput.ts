/**
 * Map throughput: `pool.map` over 1,000,000 small numbers (`x * x`) with
 * automatic chunking, in items/s, against raw piscina doing the same chunks
 * by hand (same process, alternating rounds) and Python's `Pool.map` on the
 * same input with `chunksize=1000` and with its default.
 *
 * Each round's time covers the whole call: cutting the input, posting,
 * computing, and the results back in one array in input order.
 *
 * Target: ahead of Python.
 *
 *     node dist/bench/map-throughput.js [--quick] [--items N] [--runs N] [--warmup N] [--no-python]
 *
 * @module
 */

import { Piscina } from 'piscina';
import { cpuCount, Pool } from '../src/index.js';
import { defaultChunksize } from '../src/pool-map.js';
import { kernels } from '../workers/bench-kernels.js';
import type { BenchPayload } from '../workers/bench-piscina.js';
import { benchArgs } from './lib/args.js';
import { formatMachine, machineInfo } from './lib/machine.js';
import { DISTURBED_PCT, formatNoise, type Noise, watchNoise } from './lib/noise.js';
import { workerUrl } from './lib/paths.js';
import { findPython, runPython } from './lib/python.js';
import { writeResult } from './lib/results.js';
import { alternate, type Contender, progressReporter, timed } from './lib/rounds.js';
import { ratesPerSecond, type Summary, summarize } from './lib/stats.js';
import { type Column, fmt, formatTable, ms, rate } from './lib/table.js';

interface PythonMap {
  readonly processes: number;
  readonly items: number;
  readonly start_method: string;
  /** CPU seconds of the script and its pool's workers. */
  readonly cpu_s: number;
  readonly modes: Record<string, { chunksize: number; times_ms: number[]; rates: number[] }>;
}

interface PeerResult {
  readonly peer: string;
  readonly chunksize: number;
  readonly timesMs: number[];
  readonly rate: Summary;
}

const args = benchArgs('node dist/bench/map-throughput.js', { items: 'items per map (default 1000000)' });
const items = args.int('items', 1_000_000);
const warmup = args.warmup ?? (args.quick ? 1 : 3);
const runs = args.runs ?? (args.quick ? 3 : 10);
const threads = cpuCount();
// What corepool picks without a chunksize (Python's rule); the hand-made baseline uses the same chunks.
const autoChunk = defaultChunksize(items, threads);

const machine = await machineInfo();
console.log(formatMachine(machine));
console.log(
  `\nmap-throughput: square over ${fmt(items)} numbers (0..${fmt(items - 1)}), ${threads} threads per pool;` +
    `\n${warmup} warm-up + ${runs} recorded rounds per peer, alternating; a round times the whole call, results in order\n`,
);

const input = Array.from({ length: items }, (_, i) => i);
function check(out: readonly unknown[]): void {
  const last = items - 1;
  if (out.length !== items || out[last] !== last * last || out[items >> 1] !== (items >> 1) ** 2) {
    throw new Error(`wrong map result: length ${out.length}, last ${String(out[last])}`);
  }
}

const pool = new Pool({ processes: threads });
const piscina = new Piscina<BenchPayload, number[]>({
  filename: workerUrl('bench-piscina'),
  minThreads: threads,
  maxThreads: threads,
  idleTimeout: Number.POSITIVE_INFINITY,
  concurrentTasksPerWorker: 1,
  recordTiming: false,
});

/** The baseline: the chunks cut, posted all at once, and joined, by hand. */
async function piscinaMap(chunksize: number): Promise<number[]> {
  const parts: Promise<number[]>[] = [];
  for (let offset = 0; offset < items; offset += chunksize) {
    parts.push(piscina.run({ kind: 'square', items: input.slice(offset, offset + chunksize) }));
  }
  const [first = [], ...rest] = await Promise.all(parts);
  return first.concat(...rest);
}

const contenders: Contender[] = [
  {
    name: 'corepool auto',
    run: () => timed(async () => check(await pool.map(kernels.square, input))),
  },
  {
    name: 'piscina by hand',
    run: () => timed(async () => check(await piscinaMap(autoChunk))),
  },
  {
    name: 'corepool 1000',
    run: () => timed(async () => check(await pool.map(kernels.square, input, { chunksize: 1000 }))),
  },
];
const progress = progressReporter(runs, 16);
const stopWatch = watchNoise();
const times = await alternate(contenders, {
  warmup,
  rounds: runs,
  ...progress,
});
const nodeNoise = stopWatch();
await pool.terminate();
await piscina.destroy();

const labels: Record<string, [string, number]> = {
  'corepool auto': ['corepool pool.map, automatic chunksize', autoChunk],
  'piscina by hand': ['raw piscina run(), same chunks by hand', autoChunk],
  'corepool 1000': ['corepool pool.map, chunksize 1000', 1000],
};
const peers: PeerResult[] = contenders.map(({ name }) => {
  const t = times.get(name) ?? [];
  const [peer, chunksize] = labels[name] ?? [name, 0];
  return { peer, chunksize, timesMs: t, rate: summarize(ratesPerSecond(items, t)) };
});

let pythonNoise: Noise | undefined;
const skipped: { peer: string; skipped: string }[] = [];
const py = args.python ? await findPython() : undefined;
if (py === undefined) {
  console.log(args.python ? 'python3: skipped (not found)' : 'python3: skipped (--no-python)');
  skipped.push({ peer: 'python multiprocessing.Pool.map', skipped: args.python ? 'not found' : '--no-python' });
} else {
  process.stderr.write(`  running python ${py.version} …\n`);
  const stopPython = watchNoise();
  const r = await runPython<PythonMap>(py, 'map_throughput.py', [
    '--items',
    String(items),
    '--processes',
    String(threads),
    '--warmup',
    String(Math.max(1, Math.min(warmup, 2))),
    '--runs',
    String(Math.max(3, Math.ceil(runs / 2))),
  ]);
  pythonNoise = stopPython(r.cpu_s * 1000);
  for (const [mode, m] of Object.entries(r.modes)) {
    peers.push({
      peer: `python ${py.version} Pool.map, ${mode} (${r.start_method})`,
      chunksize: m.chunksize,
      timesMs: m.times_ms,
      rate: summarize(m.rates),
    });
  }
}

const [auto, hand] = peers as [PeerResult, PeerResult];
const pythonBest = Math.max(0, ...peers.filter((p) => p.peer.startsWith('python')).map((p) => p.rate.median));
const columns: Column[] = [
  { header: 'peer' },
  { header: 'chunksize', right: true },
  { header: 'items/s (median)', right: true },
  { header: 'min–max', right: true },
  { header: 'time (median)', right: true },
  { header: 'vs corepool auto', right: true },
];
const rows = peers.map((p) => [
  p.peer,
  fmt(p.chunksize),
  rate(p.rate.median),
  `${rate(p.rate.min)}–${rate(p.rate.max)}`,
  ms(summarize(p.timesMs).median),
  `${(p.rate.median / auto.rate.median).toFixed(2)}x`,
]);
for (const s of skipped) rows.push([s.peer, '—', `skipped (${s.skipped})`, '', '', '']);
console.log(`\n${formatTable(columns, rows)}`);
const ahead = pythonBest === 0 ? undefined : auto.rate.median / pythonBest;
console.log(
  `\ncorepool auto / raw piscina by hand: ${(auto.rate.median / hand.rate.median).toFixed(3)}x` +
    (ahead === undefined
      ? '; python: skipped'
      : `; corepool auto / best python: ${ahead.toFixed(3)}x; target ahead of python: ${ahead > 1 ? 'met' : 'MISSED'}`),
);

console.log(`node rounds ${formatNoise(nodeNoise)}; ${progress.reruns()} disturbed rounds run again`);
if (pythonNoise !== undefined) console.log(`python    ${formatNoise(pythonNoise)}`);

const path = writeResult(
  'map-throughput',
  machine,
  {
    method: {
      items,
      input: 'Array of 0..items-1 (python: list(range(items))); function x * x',
      threads,
      warmupRounds: warmup,
      recordedRounds: runs,
      timed: 'the whole map call: cutting, posting, computing, results back in one array in input order',
      order:
        'node peers alternating (ABC CBA …) in one process; python after, in its own process, alternating its modes',
      piscinaBaseline: `input.slice() into chunks of ${autoChunk}, all posted at once, Promise.all, then concat`,
    },
    noise: { node: nodeNoise, python: pythonNoise ?? null, disturbedRoundsRerun: progress.reruns() },
    peers: [...peers, ...skipped],
    ratios: {
      corepoolVsPiscina: auto.rate.median / hand.rate.median,
      corepoolVsBestPython: ahead ?? null,
      targetAheadOfPythonMet: ahead === undefined ? null : ahead > 1,
    },
  },
  {
    quick: args.quick,
    disturbed: [nodeNoise, pythonNoise].some((n) => n !== undefined && n.othersPct > DISTURBED_PCT),
    dir: args.out,
  },
);
console.log(`wrote ${path}`);
