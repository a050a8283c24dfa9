/**
 * Queue throughput, one producer thread → one consumer thread, for three
 * payloads: small ints, small objects `{ id, name }`, and 1 MiB
 * Float64Arrays. Side by side in one run, alternating rounds:
 *
 * - corepool `Queue`: a worker `put`s n items in one loop, the main thread
 *   `get`s them (blocking);
 * - baseline `MessagePort`: the same worker `postMessage`s the same n items
 *   on a port, the main thread counts its `message` events (one-way);
 * - Python's `multiprocessing.Queue` (bench/python/queue.py), when `python3`
 *   exists, in its own process afterwards.
 *
 * A round's time runs from the command to the last item received.
 * Targets: ints ≥ 2M items/s, objects ≥ 500k items/s, arrays ≥ 1 GB/s.
 *
 *     node dist/bench/queue.js [--quick] [--int N] [--object N] [--array N] [--runs N] [--warmup N] [--no-python]
 *
 * @module
 */

import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Queue } from '../src/index.js';
import { ARRAY_ELEMENTS, type QueueCommand, type QueuePayload } from '../workers/bench-queue.js';
import { benchArgs } from './lib/args.js';
import { formatMachine, machineInfo } from './lib/machine.js';
import { formatNoise, type Noise, watchNoise } from './lib/noise.js';
import { workerUrl } from './lib/paths.js';
import { findPython, runPython } from './lib/python.js';
import { writeResult } from './lib/results.js';
import { alternate, progressReporter } from './lib/rounds.js';
import { ratesPerSecond, type Summary, summarize } from './lib/stats.js';
import { type Column, fmt, formatTable, rate } from './lib/table.js';

const ARRAY_BYTES = ARRAY_ELEMENTS * Float64Array.BYTES_PER_ELEMENT;
const PAYLOADS: readonly QueuePayload[] = ['int', 'object', 'array'];
const LABEL: Record<QueuePayload, string> = {
  int: 'small ints',
  object: 'objects {id, name}',
  array: '1 MiB Float64Array',
};
/** Targets: items/s for ints and objects, bytes/s for arrays. */
const TARGET: Record<QueuePayload, number> = { int: 2e6, object: 5e5, array: 1e9 };

interface PythonQueue {
  readonly start_method: string;
  readonly cpu_s: number;
  readonly payloads: Record<QueuePayload, { n: number; times_ms: number[]; rates: number[] }>;
}

interface PeerResult {
  readonly peer: string;
  readonly payload: QueuePayload;
  readonly n: number;
  readonly timesMs: number[];
  /** Items per second. */
  readonly rate: Summary;
  /** Bytes per second (arrays). */
  readonly bytesPerSecond?: Summary;
}

const args = benchArgs('node dist/bench/queue.js', {
  int: 'small ints per round (default 2000000)',
  object: 'objects per round (default 500000)',
  array: '1 MiB arrays per round (default 1000)',
});
const quick = args.quick ? 4 : 1;
const counts: Record<QueuePayload, number> = {
  int: args.int('int', 2_000_000 / quick),
  object: args.int('object', 500_000 / quick),
  array: args.int('array', 1_000 / quick),
};
const warmup = args.warmup ?? (args.quick ? 1 : 2);
const runs = args.runs ?? (args.quick ? 3 : 7);

const machine = await machineInfo();
console.log(formatMachine(machine));
console.log(
  `\nqueue: one producer thread -> the main thread; per round ${fmt(counts.int)} ints, ${fmt(counts.object)} objects, ` +
    `${fmt(counts.array)} arrays of 1 MiB;\n${warmup} warm-up + ${runs} recorded rounds per peer and payload, alternating (AB BA …)\n`,
);

const q = new Queue<unknown>();
const { port1, port2 } = new MessageChannel();
const producer = new Worker(new URL(workerUrl('bench-queue')), {
  workerData: { q, port: port2 },
  transferList: [port2],
});

function command(c: QueueCommand): void {
  producer.postMessage(c);
}

async function queueRound(payload: QueuePayload, n: number): Promise<number> {
  const start = performance.now();
  command({ channel: 'queue', payload, n });
  let last: unknown;
  for (let i = 0; i < n; i++) last = q.get();
  const ms = performance.now() - start;
  check(payload, n, last);
  return ms;
}

function portRound(payload: QueuePayload, n: number): Promise<number> {
  return new Promise((resolve) => {
    let got = 0;
    const start = performance.now();
    const onMessage = (data: unknown): void => {
      if (++got === n) {
        const ms = performance.now() - start;
        port1.off('message', onMessage);
        check(payload, n, data);
        resolve(ms);
      }
    };
    port1.on('message', onMessage);
    command({ channel: 'port', payload, n });
  });
}

/** The last item of a round is the one expected: the peers really moved the data. */
function check(payload: QueuePayload, n: number, last: unknown): void {
  const ok =
    payload === 'int'
      ? last === n - 1
      : payload === 'object'
        ? (last as { id: number; name: string }).name === `item${n - 1}`
        : last instanceof Float64Array &&
          last.length === ARRAY_ELEMENTS &&
          last[ARRAY_ELEMENTS - 1] === ARRAY_ELEMENTS - 1;
  if (!ok) throw new Error(`wrong last ${payload}: ${String(last).slice(0, 60)}`);
}

const peers: PeerResult[] = [];
const noises: Record<string, Noise> = {};
let reruns = 0;
for (const payload of PAYLOADS) {
  const n = counts[payload];
  process.stderr.write(`${LABEL[payload]}:\n`);
  const progress = progressReporter(runs, 10);
  const stop = watchNoise();
  const times = await alternate(
    [
      { name: 'queue', run: () => queueRound(payload, n) },
      { name: 'port', run: () => portRound(payload, n) },
    ],
    { warmup, rounds: runs, ...progress },
  );
  noises[payload] = stop();
  reruns += progress.reruns();
  for (const [name, peer] of [
    ['queue', 'corepool Queue'],
    ['port', 'MessagePort (one-way)'],
  ] as const) {
    const t = times.get(name) ?? [];
    const rates = ratesPerSecond(n, t);
    peers.push({
      peer,
      payload,
      n,
      timesMs: t,
      rate: summarize(rates),
      ...(payload === 'array' ? { bytesPerSecond: summarize(rates.map((r) => r * ARRAY_BYTES)) } : {}),
    });
  }
}
await producer.terminate();
port1.close();

let pythonNoise: Noise | undefined;
let python: { skipped: string } | { startMethod: string } | undefined;
const py = args.python ? await findPython() : undefined;
if (py === undefined) {
  console.log(args.python ? 'python3: skipped (not found)' : 'python3: skipped (--no-python)');
  python = { skipped: args.python ? 'not found' : '--no-python' };
} else {
  process.stderr.write(`  running python ${py.version} …\n`);
  const stopPython = watchNoise();
  // Python moves ~10x fewer items per second: a tenth of the work per round keeps its rounds as long.
  const r = await runPython<PythonQueue>(py, 'queue.py', [
    '--int',
    String(Math.max(1000, Math.round(counts.int / 10))),
    '--object',
    String(Math.max(1000, Math.round(counts.object / 5))),
    '--array',
    String(Math.max(10, Math.round(counts.array / 5))),
    '--warmup',
    String(Math.max(1, Math.min(warmup, 2))),
    '--runs',
    String(Math.max(3, Math.ceil(runs / 2))),
  ]);
  pythonNoise = stopPython(r.cpu_s * 1000);
  python = { startMethod: r.start_method };
  for (const payload of PAYLOADS) {
    const p = r.payloads[payload];
    peers.push({
      peer: `python ${py.version} multiprocessing.Queue (${r.start_method})`,
      payload,
      n: p.n,
      timesMs: p.times_ms,
      rate: summarize(p.rates),
      ...(payload === 'array' ? { bytesPerSecond: summarize(p.rates.map((x) => x * ARRAY_BYTES)) } : {}),
    });
  }
}

const gb = (x: number): string => `${(x / 1e9).toFixed(2)} GB/s`;
const columns: Column[] = [
  { header: 'payload' },
  { header: 'peer' },
  { header: 'items/s (median)', right: true },
  { header: 'min–max', right: true },
  { header: 'spread', right: true },
  { header: 'GB/s', right: true },
  { header: 'vs MessagePort', right: true },
  { header: 'target', right: true },
];
const rows = peers.map((p) => {
  const port = peers.find((x) => x.payload === p.payload && x.peer.startsWith('MessagePort'));
  const measured = p.payload === 'array' ? (p.bytesPerSecond?.median ?? 0) : p.rate.median;
  const isCore = p.peer === 'corepool Queue';
  return [
    LABEL[p.payload],
    p.peer,
    rate(p.rate.median),
    `${rate(p.rate.min)}–${rate(p.rate.max)}`,
    `±${p.rate.spreadPct.toFixed(0)}%`,
    p.bytesPerSecond ? gb(p.bytesPerSecond.median) : '',
    port ? `${(p.rate.median / port.rate.median).toFixed(2)}x` : '',
    isCore
      ? `${p.payload === 'array' ? gb(TARGET[p.payload]) : rate(TARGET[p.payload])}: ${measured >= TARGET[p.payload] ? 'met' : 'MISSED'}`
      : '',
  ];
});
console.log(`\n${formatTable(columns, rows)}\n`);
for (const payload of PAYLOADS) console.log(`${LABEL[payload].padEnd(20)} ${formatNoise(noises[payload] as Noise)}`);
console.log(`${reruns} disturbed rounds run again`);
if (pythonNoise !== undefined) console.log(`python               ${formatNoise(pythonNoise)}`);

const path = writeResult(
  'queue',
  machine,
  {
    method: {
      counts,
      warmupRounds: warmup,
      recordedRounds: runs,
      producer: 'one worker thread, one synchronous loop of put / postMessage per round',
      consumer: 'the main thread: blocking get() (Queue), message events (MessagePort)',
      order: 'per payload, alternating queue/port rounds in one process; python afterwards in its own process',
      queue: { capacity: q.capacity, maxsize: q.maxsize },
    },
    targets: { intsPerSecond: TARGET.int, objectsPerSecond: TARGET.object, arrayBytesPerSecond: TARGET.array },
    noise: { node: noises, python: pythonNoise ?? null, disturbedRoundsRerun: reruns },
    python: python ?? null,
    peers,
  },
  { quick: args.quick, dir: args.out },
);
console.log(`wrote ${path}`);
