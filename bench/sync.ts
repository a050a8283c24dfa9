/**
 * Synchronisation primitives, side by side with their floors and with
 * Python's `multiprocessing`, in one run:
 *
 * 1. uncontended: `acquire()` + `release()` pairs in one loop on the main
 *    thread, ns per pair, for `Lock` (and `RLock`, `Semaphore(1)` for
 *    information), against the raw compare-and-swap floor (the same loop
 *    with `Atomics.compareExchange` + `Atomics.store` on an Int32Array);
 * 2. contended: two worker threads each increment a plain Int32Array slot
 *    `--increments` times, non-atomically, inside the lock's critical section;
 *    increments/s (2n over the longer of the two threads' own loop times),
 *    against a raw CAS spinlock; a wrong final count fails the run;
 * 3. ping-pong: two worker threads hand a turn back and forth through two
 *    `Event`s (ping sets e1 and waits for e2, pong waits for e1, clears it and
 *    sets e2, ping clears e2, …), µs per round trip, against the same ping-pong
 *    on one word with raw `Atomics.wait`/`Atomics.notify`.
 *
 * Threads are plain `Worker`s (workers/bench-sync.ts), started through a
 * shared-memory gate and timed inside. Peers alternate rounds (AB BA …) after
 * a warm-up; Python (bench/python/sync.py, standard library only) runs the
 * same three measurements afterwards in its own processes.
 *
 * Targets: Lock ≤ 50 ns per pair; contended Lock ≥ 3M increments/s; Event
 * round trip ≤ 1.5× the raw one.
 *
 *     node dist/bench/sync.js [--quick] [--pairs N] [--increments N] [--trips N] [--runs N] [--warmup N] [--no-python]
 *
 * @module
 */

import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Event, Lock, RLock, Semaphore } from '../src/index.js';
import {
  type LockKind,
  type PingKind,
  SLOTS_BYTES,
  type SyncCommand,
  SyncSlot,
  type SyncWorkerData,
} from '../workers/bench-sync.js';
import { benchArgs } from './lib/args.js';
import { formatMachine, machineInfo } from './lib/machine.js';
import { formatNoise, type Noise, watchNoise } from './lib/noise.js';
import { workerUrl } from './lib/paths.js';
import { findPython, runPython } from './lib/python.js';
import { writeResult } from './lib/results.js';
import { alternate, type Contender, progressReporter } from './lib/rounds.js';
import { ratesPerSecond, type Summary, summarize } from './lib/stats.js';
import { type Column, fmt, formatTable, rate } from './lib/table.js';

/** The targets of this bench. */
const SYNC_TARGETS = {
  /** Uncontended Lock acquire+release, ns per pair, at most. */
  lockNsPerPair: 50,
  /** Two threads contending on a Lock, increments per second, at least. */
  contendedPerSecond: 3e6,
  /** Event ping-pong round trip over the raw Atomics ping-pong's, at most. */
  eventOverRaw: 1.5,
} as const;

interface PythonSync {
  readonly start_method: string;
  readonly cpu_s: number;
  readonly uncontended: Record<string, { pairs: number; times_ms: number[]; ns_per_pair: number[] }>;
  readonly contended: {
    increments_per_process: number;
    times_ms: number[];
    per_process_ms: number[][];
    rates: number[];
  };
  readonly pingpong: { trips: number; times_ms: number[]; us_per_round_trip: number[] };
}

/** One peer of one measurement; `value` is in the measurement's unit. */
interface PeerResult {
  readonly peer: string;
  readonly timesMs: number[];
  readonly value: Summary;
  /** Contended: each thread's own loop time per round (the round's time is the larger). */
  readonly threadMs?: number[][];
}

interface Skipped {
  readonly peer: string;
  readonly skipped: string;
}

const args = benchArgs('node dist/bench/sync.js', {
  pairs: 'uncontended acquire+release pairs per round (default 5000000)',
  increments: 'contended increments per thread per round (default 1000000)',
  trips: 'ping-pong round trips per round (default 20000)',
});
const pairs = args.int('pairs', args.quick ? 1_000_000 : 5_000_000);
const increments = args.int('increments', args.quick ? 200_000 : 1_000_000);
const trips = args.int('trips', args.quick ? 5_000 : 20_000);
const warmup = args.warmup ?? (args.quick ? 1 : 2);
const runs = args.runs ?? (args.quick ? 3 : 7);

const machine = await machineInfo();
console.log(formatMachine(machine));
console.log(
  `\nsync: uncontended ${fmt(pairs)} acquire+release pairs per round (main thread); contended ${fmt(increments)} ` +
    `increments per thread per round (2 worker threads); ping-pong ${fmt(trips)} round trips per round (2 worker threads);` +
    `\n${warmup} warm-up + ${runs} recorded rounds per peer, alternating (AB BA …)\n`,
);

const lock = new Lock();
const rlock = new RLock();
const sem = new Semaphore(1);
const e1 = new Event();
const e2 = new Event();
const words = new Int32Array(new SharedArrayBuffer(SLOTS_BYTES));
const { GATE, COUNTER, SPIN, TURN } = SyncSlot;

// ---- 1. uncontended: one loop per primitive, so that each call site stays monomorphic.

function timeLoop(loop: () => void): Promise<number> {
  const start = performance.now();
  loop();
  return Promise.resolve(performance.now() - start);
}

const uncontendedPeers: readonly (Contender & { readonly label: string })[] = [
  {
    name: 'raw',
    label: 'raw CAS floor (compareExchange + store)',
    run: () =>
      timeLoop(() => {
        for (let i = 0; i < pairs; i++) {
          if (Atomics.compareExchange(words, SPIN, 0, 1) !== 0) throw new Error('raw floor: the word was not free');
          Atomics.store(words, SPIN, 0);
        }
      }),
  },
  {
    name: 'Lock',
    label: 'corepool Lock',
    run: () =>
      timeLoop(() => {
        for (let i = 0; i < pairs; i++) {
          lock.acquire();
          lock.release();
        }
      }),
  },
  {
    name: 'RLock',
    label: 'corepool RLock',
    run: () =>
      timeLoop(() => {
        for (let i = 0; i < pairs; i++) {
          rlock.acquire();
          rlock.release();
        }
      }),
  },
  {
    name: 'Semaphore',
    label: 'corepool Semaphore(1)',
    run: () =>
      timeLoop(() => {
        for (let i = 0; i < pairs; i++) {
          sem.acquire();
          sem.release();
        }
      }),
  },
];

/**
 * Two threads on two cores measure cache-line transfers and cross-core wake-ups; another process that
 * makes them share a core turns both into same-core switches, several times faster. So a round during
 * which others took more than a small share of the CPUs is run again, more readily than in other benches.
 */
const roundOptions = { warmup, rounds: runs, disturbedPct: 10, maxReruns: 5 };

process.stderr.write('uncontended:\n');
const noises: Record<string, Noise> = {};
let reruns = 0;
let progress = progressReporter(runs, 10);
let stop = watchNoise();
const uncontendedTimes = await alternate(uncontendedPeers, { ...roundOptions, ...progress });
noises.uncontended = stop();
reruns += progress.reruns();
const nsPerPair = (ms: readonly number[]): number[] => ms.map((t) => (t * 1e6) / pairs);
const uncontended: (PeerResult | Skipped)[] = uncontendedPeers.map(({ name, label }) => {
  const t = uncontendedTimes.get(name) ?? [];
  return { peer: label, timesMs: t, value: summarize(nsPerPair(t)) };
});

// ---- 2 and 3: two plain workers.

const data: SyncWorkerData = { words, lock, rlock, sem, e1, e2 };
const threads = [0, 1].map(() => new Worker(new URL(workerUrl('bench-sync')), { workerData: data }));
for (const w of threads) w.on('error', (err) => fail(`a bench thread failed: ${err.stack ?? err}`));

function fail(message: string): never {
  console.error(`\nFAILED: ${message}`);
  process.exit(1);
}

function command(worker: Worker, c: SyncCommand): Promise<number> {
  return new Promise((resolve) => {
    worker.once('message', (ms: number) => resolve(ms));
    worker.postMessage(c);
  });
}

function stillHeld(kind: LockKind): boolean {
  if (kind === 'Lock') return lock.locked();
  if (kind === 'RLock') return rlock.locked();
  if (kind === 'Semaphore') return sem.getValue() !== 1;
  return Atomics.load(words, SPIN) !== 0;
}

/** Each thread's loop time in the latest round of each lock, and in its recorded rounds. */
const lastThreadMs = new Map<string, number[]>();
const threadMs = new Map<string, number[][]>();
async function contendRound(kind: LockKind): Promise<number> {
  Atomics.store(words, COUNTER, 0);
  Atomics.store(words, SPIN, 0);
  Atomics.store(words, GATE, 0);
  const ms = await Promise.all(threads.map((w) => command(w, { op: 'contend', kind, n: increments })));
  const count = Atomics.load(words, COUNTER);
  if (count !== 2 * increments) {
    fail(
      `${kind}: the counter reads ${fmt(count)} after 2 × ${fmt(increments)} locked increments: mutual exclusion broke`,
    );
  }
  if (stillHeld(kind)) fail(`${kind}: still held after the round`);
  lastThreadMs.set(kind, ms);
  return Math.max(...ms);
}

const contendedPeer = (
  kind: LockKind,
  label: string,
): Contender & { readonly kind: LockKind; readonly label: string } => ({
  kind,
  label,
  name: kind,
  run: () => contendRound(kind),
});
const contendedPeers = [
  contendedPeer('spin', 'raw CAS spinlock'),
  contendedPeer('Lock', 'corepool Lock'),
  contendedPeer('RLock', 'corepool RLock'),
  contendedPeer('Semaphore', 'corepool Semaphore(1)'),
];

process.stderr.write('contended (2 threads):\n');
progress = progressReporter(runs, 10);
stop = watchNoise();
const contendedTimes = await alternate(contendedPeers, {
  ...roundOptions,
  ...progress,
  // A disturbed round is run again and only the last run is recorded: keep that run's thread times.
  onRound: (name, ms, round) => {
    threadMs.set(name, [...(threadMs.get(name) ?? []), lastThreadMs.get(name) ?? []]);
    progress.onRound(name, ms, round);
  },
});
noises.contended = stop();
reruns += progress.reruns();
const contended: (PeerResult | Skipped)[] = contendedPeers.map(({ kind, label }) => {
  const t = contendedTimes.get(kind) ?? [];
  return {
    peer: label,
    timesMs: t,
    value: summarize(ratesPerSecond(2 * increments, t)),
    threadMs: threadMs.get(kind) ?? [],
  };
});

async function pingRound(kind: PingKind): Promise<number> {
  if (e1.isSet() || e2.isSet()) fail('an Event was left set by the previous round');
  Atomics.store(words, TURN, 0);
  Atomics.store(words, GATE, 0);
  const [ping] = await Promise.all([
    command(threads[0] as Worker, { op: 'pingpong', kind, role: 'ping', n: trips }),
    command(threads[1] as Worker, { op: 'pingpong', kind, role: 'pong', n: trips }),
  ]);
  return ping;
}

const pingPeers: readonly (Contender & { readonly label: string })[] = [
  { name: 'raw', label: 'raw Atomics.wait/notify, one word', run: () => pingRound('raw') },
  { name: 'Event', label: 'corepool Event × 2', run: () => pingRound('Event') },
];

process.stderr.write('ping-pong (2 threads):\n');
progress = progressReporter(runs, 10);
stop = watchNoise();
const pingTimes = await alternate(pingPeers, { ...roundOptions, ...progress });
noises.pingpong = stop();
reruns += progress.reruns();
const usPerTrip = (ms: readonly number[]): number[] => ms.map((t) => (t * 1e3) / trips);
const pingpong: (PeerResult | Skipped)[] = pingPeers.map(({ name, label }) => {
  const t = pingTimes.get(name) ?? [];
  return { peer: label, timesMs: t, value: summarize(usPerTrip(t)) };
});

await Promise.all(threads.map((w) => w.terminate()));

// ---- Python

let pythonNoise: Noise | undefined;
let startMethod: string | undefined;
const py = args.python ? await findPython() : undefined;
if (py === undefined) {
  const why = args.python ? 'not found' : '--no-python';
  console.log(`python3: skipped (${why})`);
  uncontended.push({ peer: 'python multiprocessing.Lock', skipped: why });
  contended.push({ peer: 'python multiprocessing.Lock + Value, 2 processes', skipped: why });
  pingpong.push({ peer: 'python multiprocessing.Event × 2, 2 processes', skipped: why });
} else {
  process.stderr.write(`  running python ${py.version} …\n`);
  const stopPython = watchNoise();
  const r = await runPython<PythonSync>(
    py,
    'sync.py',
    [
      '--pairs',
      String(pairs),
      '--increments',
      String(increments),
      '--trips',
      String(trips),
      '--warmup',
      String(Math.max(1, warmup)),
      '--runs',
      String(runs),
    ],
    900_000,
  );
  pythonNoise = stopPython(r.cpu_s * 1000);
  startMethod = r.start_method;
  const v = py.version;
  for (const [kind, u] of Object.entries(r.uncontended)) {
    uncontended.push({
      peer: `python ${v} multiprocessing.${kind}`,
      timesMs: u.times_ms,
      value: summarize(u.ns_per_pair),
    });
  }
  contended.push({
    peer: `python ${v} multiprocessing.Lock + Value, 2 processes (${r.start_method})`,
    timesMs: r.contended.times_ms,
    value: summarize(r.contended.rates),
    threadMs: r.contended.per_process_ms,
  });
  pingpong.push({
    peer: `python ${v} multiprocessing.Event × 2, 2 processes (${r.start_method})`,
    timesMs: r.pingpong.times_ms,
    value: summarize(r.pingpong.us_per_round_trip),
  });
}

// ---- Ratios per alternating pair (drift cancels within a pair) and targets.

function measured(peers: readonly (PeerResult | Skipped)[], index: number): PeerResult {
  return peers[index] as PeerResult;
}
function pairRatio(a: PeerResult, b: PeerResult): Summary {
  return summarize(a.timesMs.map((t, i) => t / (b.timesMs[i] ?? Number.NaN)));
}

const rawPairs = measured(uncontended, 0);
const lockPairs = measured(uncontended, 1);
const lockOverRaw = pairRatio(lockPairs, rawPairs);
const lockMet = lockPairs.value.median <= SYNC_TARGETS.lockNsPerPair;

const spinRates = measured(contended, 0);
const lockRates = measured(contended, 1);
// Time ratio spin/Lock = rate ratio Lock/spin.
const lockOverSpin = pairRatio(spinRates, lockRates);
const contendedMet = lockRates.value.median >= SYNC_TARGETS.contendedPerSecond;

const rawTrip = measured(pingpong, 0);
const eventTrip = measured(pingpong, 1);
const eventOverRaw = pairRatio(eventTrip, rawTrip);
const eventMet = eventOverRaw.median <= SYNC_TARGETS.eventOverRaw;

const spreadCell = (s: Summary, f: (x: number) => string): string =>
  `${f(s.min)}–${f(s.max)} (±${s.spreadPct.toFixed(0)}%)`;

function table(
  title: string,
  unit: string,
  peers: readonly (PeerResult | Skipped)[],
  f: (x: number) => string,
  versus: { readonly header: string; readonly of: (p: PeerResult) => string },
): string {
  const columns: Column[] = [
    { header: 'peer' },
    { header: `${unit} (median)`, right: true },
    { header: 'min–max (spread)', right: true },
    { header: versus.header, right: true },
  ];
  const rows = peers.map((p) =>
    'skipped' in p
      ? [p.peer, `skipped (${p.skipped})`, '', '']
      : [p.peer, f(p.value.median), spreadCell(p.value, f), versus.of(p)],
  );
  return `${title}\n${formatTable(columns, rows)}`;
}

const ns = (x: number): string => fmt(x, 1);
const us = (x: number): string => fmt(x, 2);
console.log(
  `\n${table('1. uncontended acquire+release (main thread)', 'ns/pair', uncontended, ns, {
    header: 'vs raw floor',
    of: (p) => `${(p.value.median / rawPairs.value.median).toFixed(2)}x`,
  })}`,
);
console.log(
  `Lock: ${ns(lockPairs.value.median)} ns/pair, ${lockOverRaw.median.toFixed(2)}x the raw floor per alternating pair ` +
    `(min ${lockOverRaw.min.toFixed(2)}, max ${lockOverRaw.max.toFixed(2)}); target <= ${SYNC_TARGETS.lockNsPerPair} ns: ${lockMet ? 'met' : 'MISSED'}`,
);
console.log(
  `\n${table(
    `2. two threads contending, ${fmt(increments)} locked non-atomic increments each`,
    'increments/s',
    contended,
    rate,
    {
      header: 'vs raw spinlock',
      of: (p) => `${(p.value.median / spinRates.value.median).toFixed(2)}x`,
    },
  )}`,
);
console.log(
  `Lock: ${rate(lockRates.value.median)} increments/s, ${lockOverSpin.median.toFixed(2)}x the raw spinlock per alternating pair; ` +
    `target >= ${rate(SYNC_TARGETS.contendedPerSecond)}/s: ${contendedMet ? 'met' : 'MISSED'}; every final count exact`,
);
console.log(
  `\n${table('3. ping-pong between two threads', 'µs/round trip', pingpong, us, {
    header: 'vs raw',
    of: (p) => `${(p.value.median / rawTrip.value.median).toFixed(2)}x`,
  })}`,
);
console.log(
  `Event: ${us(eventTrip.value.median)} µs per round trip, ${eventOverRaw.median.toFixed(2)}x the raw ping-pong per alternating pair ` +
    `(min ${eventOverRaw.min.toFixed(2)}, max ${eventOverRaw.max.toFixed(2)}); target <= ${SYNC_TARGETS.eventOverRaw}x: ${eventMet ? 'met' : 'MISSED'}`,
);

const loadAfter = Math.round((loadavg()[0] ?? 0) * 100) / 100;
console.log('');
for (const [name, n] of Object.entries(noises)) console.log(`${name.padEnd(12)} ${formatNoise(n)}`);
if (pythonNoise !== undefined) console.log(`${'python'.padEnd(12)} ${formatNoise(pythonNoise)}`);
console.log(
  `${reruns} disturbed rounds run again; load average (1 min) ${machine.loadAverage1m} at start, ${loadAfter} at end`,
);

const path = writeResult(
  'sync',
  machine,
  {
    method: {
      pairsPerRound: pairs,
      incrementsPerThreadPerRound: increments,
      roundTripsPerRound: trips,
      warmupRounds: warmup,
      recordedRounds: runs,
      uncontended:
        'acquire() + release() in one loop on the main thread; raw floor: Atomics.compareExchange + Atomics.store',
      contended:
        '2 plain Workers, shared-memory start gate, each increments a plain Int32Array slot non-atomically inside the lock; ' +
        'round time = max of the two threads’ own loop times; final count checked',
      pingpong:
        'ping: e1.set(); e2.wait(); e2.clear() — pong: e1.wait(); e1.clear(); e2.set(); raw: one word, store + notify, wait while unchanged; round trip = ping’s loop time / trips',
      order: 'per measurement, alternating rounds in one process; python afterwards in its own processes',
      pythonStartMethod: startMethod ?? null,
    },
    targets: SYNC_TARGETS,
    noise: {
      ...noises,
      python: pythonNoise ?? null,
      disturbedRoundsRerun: reruns,
      loadAverage1mAtStart: machine.loadAverage1m,
      loadAverage1mAtEnd: loadAfter,
    },
    uncontended: {
      unit: 'ns per acquire+release pair',
      peers: uncontended,
      lockOverRawPerPair: lockOverRaw,
      met: lockMet,
    },
    contended: {
      unit: 'increments per second, both threads together',
      peers: contended,
      lockOverSpinPerPair: lockOverSpin,
      met: contendedMet,
    },
    pingpong: { unit: 'µs per round trip', peers: pingpong, eventOverRawPerPair: eventOverRaw, met: eventMet },
  },
  { quick: args.quick, dir: args.out },
);
console.log(`wrote ${path}`);
