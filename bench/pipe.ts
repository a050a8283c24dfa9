/**
 * Pipe latency and throughput between the main thread and one worker:
 *
 * - round trip (µs): the main thread sends an int on a duplex `Pipe` and
 *   receives the worker's echo, `--rtt` times per round. Peers, alternating
 *   rounds in one process: corepool with a blocking `recv()`; corepool with
 *   `await recvAsync()` (the event-loop form); the baseline `MessagePort`
 *   (post, await the echo's `message` event). Python's
 *   `multiprocessing.Pipe` (bench/python/pipe.py) when `python3` exists.
 * - one-way throughput (items/s): the worker sends `--oneway` small ints on
 *   a `Pipe({ duplex: false })` in one loop; the main thread receives them
 *   all (blocking `recv()`); against Python's one-way `Pipe`.
 *
 * The worker answers the corepool round trips with a blocking `recv()` loop.
 * Target: a round trip of at most 15 µs.
 *
 *     node dist/bench/pipe.js [--quick] [--rtt N] [--oneway N] [--runs N] [--warmup N] [--no-python]
 *
 * @module
 */

import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Pipe } from '../src/index.js';
import type { PipeCommand } from '../workers/bench-pipe.js';
import { benchArgs } from './lib/args.js';
import { formatMachine, machineInfo } from './lib/machine.js';
import { DISTURBED_PCT, formatNoise, type Noise, watchNoise } from './lib/noise.js';
import { workerUrl } from './lib/paths.js';
import { findPython, runPython } from './lib/python.js';
import { writeResult } from './lib/results.js';
import { alternate, progressReporter } from './lib/rounds.js';
import { ratesPerSecond, type Summary, summarize } from './lib/stats.js';
import { type Column, fmt, formatTable, rate } from './lib/table.js';

/** Target: a Pipe round trip of at most this many µs. */
const TARGET_RTT_US = 15;

interface PythonPipe {
  readonly start_method: string;
  readonly cpu_s: number;
  readonly rtt: { n: number; times_ms: number[]; us: number[] };
  readonly oneway: { n: number; times_ms: number[]; rates: number[] };
}

interface RttResult {
  readonly peer: string;
  readonly n: number;
  readonly timesMs: number[];
  /** µs per round trip. */
  readonly us: Summary;
}

interface OnewayResult {
  readonly peer: string;
  readonly n: number;
  readonly timesMs: number[];
  /** Items per second. */
  readonly rate: Summary;
}

const args = benchArgs('node dist/bench/pipe.js', {
  rtt: 'round trips per round (default 20000)',
  oneway: 'one-way ints per round (default 1000000)',
});
const quick = args.quick ? 4 : 1;
const nRtt = args.int('rtt', 20_000 / quick);
const nOneway = args.int('oneway', 1_000_000 / quick);
const warmup = args.warmup ?? (args.quick ? 1 : 2);
const runs = args.runs ?? (args.quick ? 3 : 8);

const machine = await machineInfo();
console.log(formatMachine(machine));
console.log(
  `\npipe: main thread <-> one worker; per round ${fmt(nRtt)} round trips, or ${fmt(nOneway)} one-way ints;\n` +
    `${warmup} warm-up + ${runs} recorded rounds per peer, alternating (AB BA …)\n`,
);

const [a, b] = Pipe<number>();
const [r, w] = Pipe<number>({ duplex: false });
const { port1, port2 } = new MessageChannel();
const peer = new Worker(new URL(workerUrl('bench-pipe')), {
  workerData: { conn: b, w, port: port2 },
  transferList: [port2],
});
b.close();
w.close();

function command(c: PipeCommand): void {
  peer.postMessage(c);
}

function pipeRtt(n: number): number {
  command({ kind: 'pipe-rtt', n });
  const start = performance.now();
  let last = -1;
  for (let i = 0; i < n; i++) {
    a.send(i);
    last = a.recv();
  }
  const ms = performance.now() - start;
  if (last !== n - 1) throw new Error(`wrong echo ${last}`);
  return ms;
}

async function pipeRttAsync(n: number): Promise<number> {
  command({ kind: 'pipe-rtt', n });
  const start = performance.now();
  let last = -1;
  for (let i = 0; i < n; i++) {
    a.send(i);
    last = await a.recvAsync();
  }
  const ms = performance.now() - start;
  if (last !== n - 1) throw new Error(`wrong echo ${last}`);
  return ms;
}

async function portRtt(n: number): Promise<number> {
  const start = performance.now();
  let last: unknown;
  for (let i = 0; i < n; i++) {
    port1.postMessage(i);
    [last] = await once(port1, 'message');
  }
  const ms = performance.now() - start;
  if (last !== n - 1) throw new Error(`wrong echo ${String(last)}`);
  return ms;
}

function oneway(n: number): number {
  const start = performance.now();
  command({ kind: 'pipe-oneway', n });
  let last = -1;
  for (let i = 0; i < n; i++) last = r.recv();
  const ms = performance.now() - start;
  if (last !== n - 1) throw new Error(`wrong last ${last}`);
  return ms;
}

const usPer = (n: number, times: readonly number[]): number[] => times.map((ms) => (ms * 1000) / n);

process.stderr.write('round trip:\n');
const stopRtt = watchNoise();
const progressRtt = progressReporter(runs, 22);
const rttTimes = await alternate(
  [
    { name: 'pipe recv', run: async () => pipeRtt(nRtt) },
    { name: 'pipe recvAsync', run: () => pipeRttAsync(nRtt) },
    { name: 'port', run: () => portRtt(nRtt) },
  ],
  { warmup, rounds: runs, ...progressRtt },
);
const rttNoise = stopRtt();

process.stderr.write('one-way small ints:\n');
const stopOneway = watchNoise();
const progressOneway = progressReporter(runs, 22);
const onewayTimes = await alternate([{ name: 'pipe one-way', run: async () => oneway(nOneway) }], {
  warmup,
  rounds: runs,
  ...progressOneway,
});
const onewayNoise = stopOneway();
a.close();
r.close();
await peer.terminate();
port1.close();

const rtt: RttResult[] = (
  [
    ['pipe recv', 'corepool Pipe, blocking recv()'],
    ['pipe recvAsync', 'corepool Pipe, await recvAsync()'],
    ['port', 'MessagePort, awaited echo'],
  ] as const
).map(([name, label]) => {
  const t = rttTimes.get(name) ?? [];
  return { peer: label, n: nRtt, timesMs: t, us: summarize(usPer(nRtt, t)) };
});
const ow: OnewayResult[] = [
  {
    peer: 'corepool Pipe (one-way), blocking recv()',
    n: nOneway,
    timesMs: onewayTimes.get('pipe one-way') ?? [],
    rate: summarize(ratesPerSecond(nOneway, onewayTimes.get('pipe one-way') ?? [])),
  },
];

let pythonNoise: Noise | undefined;
let python: { skipped: string } | { startMethod: string; version: string } | undefined;
const py = args.python ? await findPython() : undefined;
if (py === undefined) {
  console.log(args.python ? 'python3: skipped (not found)' : 'python3: skipped (--no-python)');
  python = { skipped: args.python ? 'not found' : '--no-python' };
} else {
  process.stderr.write(`  running python ${py.version} …\n`);
  const stopPython = watchNoise();
  // Python is several times slower per message: fewer per round keep its rounds as long.
  const p = await runPython<PythonPipe>(py, 'pipe.py', [
    '--rtt',
    String(Math.max(1000, Math.round(nRtt / 2))),
    '--oneway',
    String(Math.max(10_000, Math.round(nOneway / 5))),
    '--warmup',
    String(Math.max(1, Math.min(warmup, 2))),
    '--runs',
    String(Math.max(3, Math.ceil(runs / 2))),
  ]);
  pythonNoise = stopPython(p.cpu_s * 1000);
  python = { startMethod: p.start_method, version: py.version };
  rtt.push({
    peer: `python ${py.version} multiprocessing.Pipe (${p.start_method})`,
    n: p.rtt.n,
    timesMs: p.rtt.times_ms,
    us: summarize(p.rtt.us),
  });
  ow.push({
    peer: `python ${py.version} multiprocessing.Pipe(duplex=False)`,
    n: p.oneway.n,
    timesMs: p.oneway.times_ms,
    rate: summarize(p.oneway.rates),
  });
}

const port = rtt.find((x) => x.peer.startsWith('MessagePort'));
const pyRtt = rtt.find((x) => x.peer.startsWith('python'));
const rttColumns: Column[] = [
  { header: 'round trip' },
  { header: 'µs (median)', right: true },
  { header: 'min–max', right: true },
  { header: 'spread', right: true },
  { header: 'vs MessagePort', right: true },
  { header: 'vs Python', right: true },
  { header: 'target', right: true },
];
const rttRows = rtt.map((x) => [
  x.peer,
  x.us.median.toFixed(2),
  `${x.us.min.toFixed(2)}–${x.us.max.toFixed(2)}`,
  `±${x.us.spreadPct.toFixed(0)}%`,
  port ? `${(port.us.median / x.us.median).toFixed(2)}x faster` : '',
  pyRtt ? `${(pyRtt.us.median / x.us.median).toFixed(2)}x faster` : '',
  x.peer.startsWith('corepool') ? `≤ ${TARGET_RTT_US} µs: ${x.us.median <= TARGET_RTT_US ? 'met' : 'MISSED'}` : '',
]);
const pyOneway = ow.find((x) => x.peer.startsWith('python'));
const owColumns: Column[] = [
  { header: 'one-way small ints' },
  { header: 'items/s (median)', right: true },
  { header: 'min–max', right: true },
  { header: 'spread', right: true },
  { header: 'vs Python', right: true },
];
const owRows = ow.map((x) => [
  x.peer,
  rate(x.rate.median),
  `${rate(x.rate.min)}–${rate(x.rate.max)}`,
  `±${x.rate.spreadPct.toFixed(0)}%`,
  pyOneway ? `${(x.rate.median / pyOneway.rate.median).toFixed(2)}x` : '',
]);
console.log(`\n${formatTable(rttColumns, rttRows)}\n\n${formatTable(owColumns, owRows)}\n`);
console.log(`round trip           ${formatNoise(rttNoise)}`);
console.log(`one-way              ${formatNoise(onewayNoise)}`);
console.log(`${progressRtt.reruns() + progressOneway.reruns()} disturbed rounds run again`);
if (pythonNoise !== undefined) console.log(`python               ${formatNoise(pythonNoise)}`);

const path = writeResult(
  'pipe',
  machine,
  {
    method: {
      roundTrips: nRtt,
      onewayItems: nOneway,
      warmupRounds: warmup,
      recordedRounds: runs,
      roundTrip:
        'main thread sends an int and receives the echo; the worker echoes with a blocking recv() loop (Pipe) or from its message event (MessagePort)',
      oneway:
        'the worker sends the ints 0..n-1 in one loop on a one-way Pipe; the main thread receives them with recv()',
      order: 'alternating round-trip peers in one process; one-way rounds after; python afterwards in its own process',
      capacity: 'default (64 KiB per direction)',
    },
    targets: { roundTripMicroseconds: TARGET_RTT_US },
    noise: { roundTrip: rttNoise, oneway: onewayNoise, python: pythonNoise ?? null },
    python: python ?? null,
    roundTrip: rtt,
    onewayThroughput: ow,
  },
  {
    quick: args.quick,
    disturbed: rttNoise.othersPct > DISTURBED_PCT || onewayNoise.othersPct > DISTURBED_PCT,
    dir: args.out,
  },
);
console.log(`wrote ${path}`);
