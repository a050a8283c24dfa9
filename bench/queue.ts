/**
 * Queue throughput: three figures, each printed beside its baseline measured
 * in the same run — rounds alternate (AB BA …) after a warm-up, figures are
 * medians, and ratios are between peers of the same run.
 *
 * 1. **payloads** — one producer thread → one consumer thread, for three
 *    payloads: small ints, small objects `{ id, name }`, 1 MiB
 *    Float64Arrays; corepool `Queue()` (unbounded, default ring) against
 *    `MessagePort` (one-way) and Python's `multiprocessing.Queue`. Targets:
 *    ints ≥ 2M items/s, objects ≥ 500k items/s, arrays ≥ 1 GB/s and
 *    ≥ 1.0x MessagePort.
 * 2. **stall** — throughput after a consumer stall: one producer puts 400
 *    arrays of 1 MiB on `Queue({ maxsize: 4 })`, with the default 256 KiB
 *    ring and with `capacity: 64 KiB`; the consumer pauses once for 100 ms
 *    (`Atomics.wait` on a private word) after the 50th. The after-stall rate
 *    (MiB/s of messages 61–400, timed from the 60th's arrival, past what
 *    piled up during the pause) is set against the same window of a round of
 *    the same configuration without the pause. Target: ≥ 0.90 of unstalled.
 *    Baseline: the same on a MessagePort — whose producer never waits, so
 *    after a stall its consumer just drains the backlog. A paused round still
 *    running `--stall-cap` ms after the resumption is cut there (the producer
 *    stops; the rate is over the messages taken), so an engine whose rate
 *    collapses after a stall costs seconds per round, not minutes; the table
 *    says how many rounds were cut.
 * 3. **multi** — 8 producer threads × 1 consumer: each producer puts n small
 *    objects (then n small ints) on one unbounded `Queue`, the consumer gets
 *    them all; items/s, against 8 producers posting on a MessagePort each to
 *    the consumer. With 9 threads on a 2-core machine the producers
 *    oversubscribe the CPUs — on purpose: producers are preempted, some in
 *    the middle of a put, and the others must get past them.
 *
 * Threads: producers and the consumer are workers (workers/bench-queue.ts,
 * started by bench/lib/queue-rig.ts); the MessagePort baseline's consumer is
 * the same consumer thread, counting its ports' `message` events. A round
 * runs from the consumer opening a start gate (every producer waiting at it)
 * to the last item taken, on the consumer's clock. The main thread only
 * commands: a round that does not finish within `--timeout` ms is reported
 * with how far it got, the figure's threads are terminated, and the bench goes
 * on. A producer calls `q.joinThread()` after its loop (everything in shared
 * memory), which the round does not wait for. Python (bench/python/queue.py)
 * runs the same three figures afterwards in its own processes, when
 * `python3` exists.
 *
 *     node dist/bench/queue.js [--quick] [--int N] [--object N] [--array N] [--multi N] [--multi-int N]
 *                              [--only payloads,stall,multi] [--timeout MS] [--stall-cap MS] [--runs N] [--warmup N] [--no-python]
 *
 * @module
 */

import { Queue } from '../src/index.js';
import { ARRAY_ELEMENTS, type QueuePayload } from '../workers/bench-queue.js';
import { benchArgs } from './lib/args.js';
import { formatMachine, machineInfo } from './lib/machine.js';
import { DISTURBED_PCT, formatNoise, type Noise, watchNoise } from './lib/noise.js';
import { findPython, runPython } from './lib/python.js';
import {
  pairedRatios,
  ratioOfMedians,
  ratioText,
  STALL_PLAN,
  type StallRates,
  stallRates,
  verdict,
} from './lib/queue-figures.js';
import { type Consumed, QueueRig } from './lib/queue-rig.js';
import { writeResult } from './lib/results.js';
import { alternate, type Contender, progressReporter } from './lib/rounds.js';
import { ratesPerSecond, type Summary, summarize } from './lib/stats.js';
import { type Column, fmt, formatTable, rate } from './lib/table.js';

const ARRAY_BYTES = ARRAY_ELEMENTS * Float64Array.BYTES_PER_ELEMENT;
const PAYLOADS: readonly QueuePayload[] = ['int', 'object', 'array'];
const MULTI_PAYLOADS = ['object', 'int'] as const;
type MultiPayload = (typeof MULTI_PAYLOADS)[number];
const MULTI_PRODUCERS = 8;
const FIGURES = ['payloads', 'stall', 'multi'] as const;
type Figure = (typeof FIGURES)[number];
const LABEL: Record<QueuePayload, string> = {
  int: 'small ints',
  object: 'objects {id, name}',
  array: '1 MiB Float64Array',
};
/** Targets: items/s for ints and objects, bytes/s for arrays. */
const TARGET: Record<QueuePayload, number> = { int: 2e6, object: 5e5, array: 1e9 };
/** Target: corepool's 1 MiB arrays against MessagePort's, at least. */
const TARGET_ARRAY_VS_PORT = 1.0;
/** Target: the after-stall rate against the unstalled one, at least. */
const TARGET_STALL_RATIO = 0.9;
const QUEUE_PEER = 'corepool Queue';
const PORT_PEER = 'MessagePort (one-way)';

interface PythonRun {
  readonly n: number;
  readonly times_ms: number[];
  readonly rates: number[];
}

interface PythonStallRound {
  readonly ms: number;
  readonly stamps_ms: number[];
  readonly resumed_ms?: number;
  readonly stalled_ms?: number;
}

interface PythonQueue {
  readonly start_method: string;
  readonly cpu_s: number;
  readonly payloads?: Partial<Record<QueuePayload, PythonRun>>;
  readonly multi?: { readonly producers: number; readonly payloads: Record<MultiPayload, PythonRun> };
  readonly stall?: {
    readonly maxsize: number;
    readonly stalled: PythonStallRound[];
    readonly unstalled: PythonStallRound[];
  };
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

/** One round of the stall figure, as kept. */
interface StallRound {
  readonly ms: number;
  readonly stalledMs: number;
  readonly rates: StallRates;
}

/** How many of `rounds` were cut short, and the most items one of them took. */
function cutRounds(rounds: readonly StallRound[]): { readonly cut: number; readonly mostItems: number } {
  const cut = rounds.filter((r) => r.rates.items < STALL_PLAN.n);
  return { cut: cut.length, mostItems: Math.max(0, ...cut.map((r) => r.rates.items)) };
}

interface StallResult {
  readonly peer: string;
  /** MiB/s of messages 61–400 in rounds without the pause. */
  readonly unstalled: Summary;
  /** MiB/s of messages 11–50 in rounds with the pause. */
  readonly beforeStall: Summary;
  /** MiB/s of messages 61–400 in rounds with the pause. */
  readonly afterStall: Summary;
  /** MiB/s of messages 51–400 from the resumption (backlog included), and the same window unstalled. */
  readonly fromResume: { readonly stalled: Summary; readonly unstalled: Summary };
  /** median(afterStall) / median(unstalled). */
  readonly ratio: number;
  /** Round i stalled over round i unstalled (the two ran side by side). */
  readonly pairedRatios: number[];
  readonly stalledMs: Summary;
  readonly roundMs: { readonly stalled: number[]; readonly unstalled: number[] };
  /** Items each paused round took (fewer than the plan's when it was cut short). */
  readonly items: number[];
  /** Paused rounds cut short, of all paused rounds. */
  readonly cut: { readonly rounds: number; readonly of: number; readonly mostItems: number };
}

interface MultiResult {
  readonly peer: string;
  readonly payload: MultiPayload;
  readonly producers: number;
  /** Items per producer per round. */
  readonly n: number;
  readonly timesMs: number[];
  /** Items per second, all producers together. */
  readonly rate: Summary;
}

const args = benchArgs('node dist/bench/queue.js', {
  int: 'small ints per round (default 2000000)',
  object: 'objects per round (default 500000)',
  array: '1 MiB arrays per round (default 1000)',
  multi: `objects per producer per round, ${MULTI_PRODUCERS} producers (default 50000)`,
  'multi-int': `ints per producer per round, ${MULTI_PRODUCERS} producers (default 200000)`,
  only: `figures to run, of ${FIGURES.join(',')} (default all)`,
  timeout: 'ms a round may take before it is reported and its figure dropped (default 60000; 20000 with --quick)',
  'stall-cap': 'ms after the resumption at which a stall round is cut short (default 2000; 1000 with --quick)',
});
const quick = args.quick ? 4 : 1;
const counts: Record<QueuePayload, number> = {
  int: args.int('int', 2_000_000 / quick),
  object: args.int('object', 500_000 / quick),
  array: args.int('array', 1_000 / quick),
};
const multiCounts: Record<MultiPayload, number> = {
  object: args.int('multi', 50_000 / quick),
  int: args.int('multi-int', 200_000 / quick),
};
const figures = args.names('only', FIGURES, FIGURES);
const timeoutMs = args.int('timeout', args.quick ? 20_000 : 60_000);
const stallCapMs = args.int('stall-cap', args.quick ? 1_000 : 2_000);
const warmup = args.warmup ?? (args.quick ? 1 : 2);
const runs = args.runs ?? (args.quick ? 3 : 7);

const machine = await machineInfo();
console.log(formatMachine(machine));
console.log(
  `\nqueue: ${figures.join(', ')}; ${warmup} warm-up + ${runs} recorded rounds per peer, alternating (AB BA …); round timeout ${fmt(timeoutMs)} ms\n`,
);

const peers: PeerResult[] = [];
const stallResults: StallResult[] = [];
const multiResults: MultiResult[] = [];
const noises: Record<string, Noise> = {};
const failures: { figure: Figure; message: string }[] = [];
/** The queues each figure ran on, as created. */
const queueShapes: Record<string, { maxsize: number; capacity: number }> = {};
const shape = (q: Queue<unknown>): { maxsize: number; capacity: number } => ({
  maxsize: q.maxsize,
  capacity: q.capacity,
});
let reruns = 0;

/** Runs one figure on its rig; a failure is reported and recorded, and the rig is closed whatever happened. */
async function onRig(figure: Figure, rig: QueueRig, body: (rig: QueueRig) => Promise<void>): Promise<void> {
  try {
    await body(rig);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    failures.push({ figure, message });
    process.stderr.write(`  ${figure}: FAILED — ${message}\n`);
  } finally {
    await rig.close();
  }
}

/** Alternating rounds of `contenders`, with progress on stderr, noise kept under `noiseKey`. */
async function rounds(
  noiseKey: string,
  contenders: readonly Contender[],
  onKept?: (name: string) => void,
): Promise<Map<string, number[]>> {
  const progress = progressReporter(runs, 18);
  const stop = watchNoise();
  try {
    return await alternate(contenders, {
      warmup,
      rounds: runs,
      onDisturbed: progress.onDisturbed,
      onRound: (name, ms, round) => {
        progress.onRound(name, ms, round);
        onKept?.(name);
      },
    });
  } finally {
    noises[noiseKey] = stop();
    reruns += progress.reruns();
  }
}

// 1. payloads: one producer -> one consumer.
if (figures.includes('payloads')) {
  const q = new Queue<unknown>();
  queueShapes.payloads = shape(q);
  process.stderr.write(
    `payloads: ${fmt(counts.int)} ints, ${fmt(counts.object)} objects, ${fmt(counts.array)} arrays of 1 MiB per round\n`,
  );
  await onRig('payloads', new QueueRig(1, { plain: q }, timeoutMs), async (rig) => {
    for (const payload of PAYLOADS) {
      const n = counts[payload];
      process.stderr.write(`${LABEL[payload]}:\n`);
      const run = (channel: 'queue' | 'port') => async () =>
        (await rig.round({ channel, queue: 'plain', payload, n })).ms;
      const times = await rounds(payload, [
        { name: 'queue', run: run('queue') },
        { name: 'port', run: run('port') },
      ]);
      for (const [name, peer] of [
        ['queue', QUEUE_PEER],
        ['port', PORT_PEER],
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
  });
}

/** The stall figure's numbers from its kept rounds. */
function stallResult(peer: string, stalled: readonly StallRound[], unstalled: readonly StallRound[]): StallResult {
  const after = stalled.map((r) => r.rates.after);
  const plain = unstalled.map((r) => r.rates.after);
  return {
    peer,
    unstalled: summarize(plain),
    beforeStall: summarize(stalled.map((r) => r.rates.before)),
    afterStall: summarize(after),
    fromResume: {
      stalled: summarize(stalled.map((r) => r.rates.fromResume)),
      unstalled: summarize(unstalled.map((r) => r.rates.fromResume)),
    },
    ratio: ratioOfMedians(after, plain),
    pairedRatios: pairedRatios(after, plain),
    stalledMs: summarize(stalled.map((r) => r.stalledMs)),
    roundMs: { stalled: stalled.map((r) => r.ms), unstalled: unstalled.map((r) => r.ms) },
    items: stalled.map((r) => r.rates.items),
    cut: { rounds: cutRounds(stalled).cut, of: stalled.length, mostItems: cutRounds(stalled).mostItems },
  };
}

// 2. stall: one producer -> one consumer that pauses once.
const stallQueues = {
  ring256: new Queue<unknown>({ maxsize: 4 }),
  ring64: new Queue<unknown>({ maxsize: 4, capacity: 64 * 1024 }),
};
const kib = (bytes: number): string => `${bytes / 1024} KiB`;
const STALL_CONFIGS = [
  { key: 'ring256', channel: 'queue', peer: `${QUEUE_PEER} (maxsize 4, ${kib(stallQueues.ring256.capacity)} ring)` },
  { key: 'ring64', channel: 'queue', peer: `${QUEUE_PEER} (maxsize 4, ${kib(stallQueues.ring64.capacity)} ring)` },
  { key: 'port', channel: 'port', peer: PORT_PEER },
] as const;
if (figures.includes('stall')) {
  const p = STALL_PLAN;
  queueShapes['stall ring256'] = shape(stallQueues.ring256);
  queueShapes['stall ring64'] = shape(stallQueues.ring64);
  process.stderr.write(
    `stall: ${p.n} arrays of 1 MiB per round; the consumer pauses ${p.ms} ms after the ${p.after}th in every other round,\n` +
      `cut short ${fmt(stallCapMs)} ms after it resumes\n`,
  );
  await onRig('stall', new QueueRig(1, stallQueues, timeoutMs), async (rig) => {
    const last = new Map<string, StallRound>();
    const kept = new Map<string, StallRound[]>();
    const contenders: Contender[] = STALL_CONFIGS.flatMap(({ key, channel }) =>
      [true, false].map((stalled) => {
        const name = `${key} ${stalled ? 'stalled' : 'unstalled'}`;
        kept.set(name, []);
        return {
          name,
          run: async () => {
            const r: Consumed = await rig.round({
              channel,
              queue: key,
              payload: 'array',
              n: p.n,
              stamps: true,
              ...(stalled ? { stall: { after: p.after, ms: p.ms }, capMs: stallCapMs } : {}),
            });
            if (r.stamps === undefined) throw new Error('the consumer sent no stamps');
            last.set(name, {
              ms: r.ms,
              stalledMs: r.stalledMs,
              rates: stallRates(r.stamps, p, stalled ? r.resumedMs : undefined),
            });
            return r.ms;
          },
        };
      }),
    );
    await rounds('stall', contenders, (name) => {
      const r = last.get(name);
      if (r !== undefined) kept.get(name)?.push(r);
    });
    for (const { key, peer } of STALL_CONFIGS) {
      stallResults.push(stallResult(peer, kept.get(`${key} stalled`) ?? [], kept.get(`${key} unstalled`) ?? []));
    }
  });
}

// 3. multi: 8 producers -> one consumer.
if (figures.includes('multi')) {
  const q = new Queue<unknown>();
  queueShapes.multi = shape(q);
  process.stderr.write(
    `multi: ${MULTI_PRODUCERS} producers × ${fmt(multiCounts.object)} objects, or × ${fmt(multiCounts.int)} ints, per round\n`,
  );
  await onRig('multi', new QueueRig(MULTI_PRODUCERS, { multi: q }, timeoutMs), async (rig) => {
    for (const payload of MULTI_PAYLOADS) {
      const n = multiCounts[payload];
      process.stderr.write(`${MULTI_PRODUCERS} × ${LABEL[payload]}:\n`);
      const run = (channel: 'queue' | 'port') => async () =>
        (await rig.round({ channel, queue: 'multi', payload, n })).ms;
      const times = await rounds(`multi ${payload}`, [
        { name: 'queue', run: run('queue') },
        { name: 'port', run: run('port') },
      ]);
      for (const [name, peer] of [
        ['queue', QUEUE_PEER],
        ['port', `${PORT_PEER}, one per producer`],
      ] as const) {
        const t = times.get(name) ?? [];
        multiResults.push({
          peer,
          payload,
          producers: MULTI_PRODUCERS,
          n,
          timesMs: t,
          rate: summarize(ratesPerSecond(MULTI_PRODUCERS * n, t)),
        });
      }
    }
  });
}

let pythonNoise: Noise | undefined;
let python: { skipped: string } | { startMethod: string } | { failed: string } | undefined;
const py = args.python ? await findPython() : undefined;
if (py === undefined) {
  console.log(args.python ? 'python3: skipped (not found)' : 'python3: skipped (--no-python)');
  python = { skipped: args.python ? 'not found' : '--no-python' };
} else {
  process.stderr.write(`  running python ${py.version} …\n`);
  const stopPython = watchNoise();
  // Python moves ~10x fewer items per second: less work per round keeps its rounds as long.
  const pyArgs = [
    '--figures',
    figures.join(','),
    '--int',
    String(Math.max(1000, Math.round(counts.int / 10))),
    '--object',
    String(Math.max(1000, Math.round(counts.object / 5))),
    '--array',
    String(Math.max(10, Math.round(counts.array / 5))),
    '--producers',
    String(MULTI_PRODUCERS),
    '--multi-object',
    String(Math.max(500, Math.round(multiCounts.object / 5))),
    '--multi-int',
    String(Math.max(1000, Math.round(multiCounts.int / 10))),
    '--stall-n',
    String(STALL_PLAN.n),
    '--stall-after',
    String(STALL_PLAN.after),
    '--stall-ms',
    String(STALL_PLAN.ms),
    '--warmup',
    String(Math.max(1, Math.min(warmup, 2))),
    '--runs',
    String(Math.max(3, Math.ceil(runs / 2))),
  ];
  try {
    const r = await runPython<PythonQueue>(py, 'queue.py', pyArgs);
    pythonNoise = stopPython(r.cpu_s * 1000);
    python = { startMethod: r.start_method };
    const pyPeer = `python ${py.version} multiprocessing.Queue (${r.start_method})`;
    for (const payload of PAYLOADS) {
      const p = r.payloads?.[payload];
      if (p === undefined) continue;
      peers.push({
        peer: pyPeer,
        payload,
        n: p.n,
        timesMs: p.times_ms,
        rate: summarize(p.rates),
        ...(payload === 'array' ? { bytesPerSecond: summarize(p.rates.map((x) => x * ARRAY_BYTES)) } : {}),
      });
    }
    if (r.stall !== undefined) {
      const toRound = (x: PythonStallRound, stalled: boolean): StallRound => ({
        ms: x.ms,
        stalledMs: x.stalled_ms ?? 0,
        rates: stallRates(x.stamps_ms, STALL_PLAN, stalled ? x.resumed_ms : undefined),
      });
      stallResults.push(
        stallResult(
          `python ${py.version} multiprocessing.Queue(maxsize=${r.stall.maxsize}) (${r.start_method})`,
          r.stall.stalled.map((x) => toRound(x, true)),
          r.stall.unstalled.map((x) => toRound(x, false)),
        ),
      );
    }
    for (const payload of MULTI_PAYLOADS) {
      const p = r.multi?.payloads[payload];
      if (p === undefined || r.multi === undefined) continue;
      multiResults.push({
        peer: `python ${py.version} multiprocessing.Queue, ${r.multi.producers} Processes (${r.start_method})`,
        payload,
        producers: r.multi.producers,
        n: p.n,
        timesMs: p.times_ms,
        rate: summarize(p.rates),
      });
    }
  } catch (err) {
    pythonNoise = stopPython();
    const message = err instanceof Error ? err.message : String(err);
    python = { failed: message };
    console.log(`python3: FAILED — ${message}`);
  }
}

const gb = (x: number): string => `${(x / 1e9).toFixed(2)} GB/s`;
const isPort = (peer: string): boolean => peer.startsWith('MessagePort');

if (peers.length > 0) {
  console.log('\n1. one producer -> one consumer (unbounded Queue, default ring)\n');
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
    const port = peers.find((x) => x.payload === p.payload && isPort(x.peer));
    const measured = p.payload === 'array' ? (p.bytesPerSecond?.median ?? 0) : p.rate.median;
    return [
      LABEL[p.payload],
      p.peer,
      rate(p.rate.median),
      `${rate(p.rate.min)}–${rate(p.rate.max)}`,
      `±${p.rate.spreadPct.toFixed(0)}%`,
      p.bytesPerSecond ? gb(p.bytesPerSecond.median) : '',
      port ? ratioText(p.rate.median / port.rate.median) : '',
      p.peer === QUEUE_PEER
        ? `${p.payload === 'array' ? gb(TARGET[p.payload]) : rate(TARGET[p.payload])}: ${verdict(measured, TARGET[p.payload])}`
        : '',
    ];
  });
  console.log(formatTable(columns, rows));
}
const arrayQueue = peers.find((p) => p.payload === 'array' && p.peer === QUEUE_PEER);
const arrayPort = peers.find((p) => p.payload === 'array' && p.peer === PORT_PEER);
const arrayVsPort = arrayQueue && arrayPort ? arrayQueue.rate.median / arrayPort.rate.median : undefined;
if (arrayQueue && arrayPort && arrayVsPort !== undefined) {
  const paired = pairedRatios(arrayPort.timesMs, arrayQueue.timesMs);
  console.log(
    `\n1 MiB arrays: corepool Queue / MessagePort = ${ratioText(arrayVsPort)} ` +
      `(${gb(arrayQueue.bytesPerSecond?.median ?? 0)} / ${gb(arrayPort.bytesPerSecond?.median ?? 0)}; ` +
      `paired rounds ${ratioText(Math.min(...paired))}–${ratioText(Math.max(...paired))}); ` +
      `target ≥ ${ratioText(TARGET_ARRAY_VS_PORT)}: ${verdict(arrayVsPort, TARGET_ARRAY_VS_PORT)}`,
  );
}

if (stallResults.length > 0) {
  const p = STALL_PLAN;
  console.log(
    `\n2. after a consumer stall: ${p.n} × 1 MiB, one producer -> one consumer; the consumer pauses ${p.ms} ms after message ${p.after}\n` +
      `   MiB/s of messages ${p.from + 1}–${p.n} (timed from the ${p.from}th's arrival), rounds with and without the pause alternating;\n` +
      `   before = messages ${p.warm + 1}–${p.after} of the paused rounds; from resume = messages ${p.after + 1}–${p.n} from the resumption (backlog included);\n` +
      `   a paused round still running ${fmt(stallCapMs)} ms after the resumption is cut there (column "cut": rounds cut, most messages a cut round took)\n`,
  );
  const columns: Column[] = [
    { header: 'peer' },
    { header: 'unstalled MiB/s', right: true },
    { header: 'before stall', right: true },
    { header: 'after stall', right: true },
    { header: 'after/unstalled', right: true },
    { header: 'paired min–max', right: true },
    { header: 'from resume', right: true },
    { header: 'pause ms', right: true },
    { header: 'cut', right: true },
    { header: 'target', right: true },
  ];
  const rows = stallResults.map((s) => [
    s.peer,
    fmt(s.unstalled.median),
    fmt(s.beforeStall.median),
    fmt(s.afterStall.median),
    ratioText(s.ratio),
    s.pairedRatios.length > 0
      ? `${ratioText(Math.min(...s.pairedRatios))}–${ratioText(Math.max(...s.pairedRatios))}`
      : '',
    fmt(s.fromResume.stalled.median),
    s.stalledMs.median.toFixed(1),
    s.cut.rounds === 0 ? `0/${s.cut.of}` : `${s.cut.rounds}/${s.cut.of} at ≤ ${s.cut.mostItems}`,
    s.peer.startsWith(QUEUE_PEER)
      ? `≥ ${TARGET_STALL_RATIO.toFixed(2)}: ${verdict(s.ratio, TARGET_STALL_RATIO)}`
      : isPort(s.peer)
        ? 'baseline: backlog'
        : '',
  ]);
  console.log(formatTable(columns, rows));
}

const oversubscribed = MULTI_PRODUCERS + 1 > machine.availableParallelism;
if (multiResults.length > 0) {
  console.log(
    `\n3. ${MULTI_PRODUCERS} producers × 1 consumer (unbounded Queue): ${MULTI_PRODUCERS + 1} busy threads on ${machine.availableParallelism} usable CPUs` +
      `${oversubscribed ? ' — oversubscribed on purpose: producers are preempted, some in the middle of a put' : ''}\n`,
  );
  const columns: Column[] = [
    { header: 'payload' },
    { header: 'peer' },
    { header: 'items/s (median)', right: true },
    { header: 'min–max', right: true },
    { header: 'spread', right: true },
    { header: 'vs MessagePort', right: true },
  ];
  const rows = multiResults.map((m) => {
    const port = multiResults.find((x) => x.payload === m.payload && isPort(x.peer));
    return [
      `${m.producers} × ${LABEL[m.payload]}`,
      m.peer,
      rate(m.rate.median),
      `${rate(m.rate.min)}–${rate(m.rate.max)}`,
      `±${m.rate.spreadPct.toFixed(0)}%`,
      port ? ratioText(m.rate.median / port.rate.median) : '',
    ];
  });
  console.log(formatTable(columns, rows));
}

console.log('');
for (const [key, noise] of Object.entries(noises)) console.log(`${key.padEnd(20)} ${formatNoise(noise)}`);
console.log(`${reruns} disturbed rounds run again`);
if (pythonNoise !== undefined) console.log(`${'python'.padEnd(20)} ${formatNoise(pythonNoise)}`);
for (const f of failures) console.log(`${f.figure}: FAILED — ${f.message}`);

const path = writeResult(
  'queue',
  machine,
  {
    method: {
      figures,
      counts,
      multiCounts,
      multiProducers: MULTI_PRODUCERS,
      stallPlan: STALL_PLAN,
      stallCapMs,
      warmupRounds: warmup,
      recordedRounds: runs,
      roundTimeoutMs: timeoutMs,
      threads:
        'producers and the consumer are worker threads; the main thread only commands and keeps the timeouts; ' +
        'the MessagePort consumer is the same consumer thread (message events on one port per producer)',
      producer: 'one synchronous loop of put / postMessage per round, then q.joinThread() (not waited for)',
      consumer: 'blocking get() (Queue), message events (MessagePort); every item checked (per-producer order)',
      round: 'from the consumer opening the start gate (all producers waiting at it) to the last item, consumer clock',
      order: 'per figure, alternating peers in one process; python afterwards in its own processes',
      queues: queueShapes,
      oversubscribed,
    },
    targets: {
      intsPerSecond: TARGET.int,
      objectsPerSecond: TARGET.object,
      arrayBytesPerSecond: TARGET.array,
      arrayVsMessagePort: TARGET_ARRAY_VS_PORT,
      afterStallVsUnstalled: TARGET_STALL_RATIO,
    },
    noise: { node: noises, python: pythonNoise ?? null, disturbedRoundsRerun: reruns },
    python: python ?? null,
    failures,
    peers,
    arrayVsMessagePort: arrayVsPort ?? null,
    stall: stallResults,
    multi: multiResults,
  },
  {
    quick: args.quick,
    disturbed: [...Object.values(noises), pythonNoise].some((n) => n !== undefined && n.othersPct > DISTURBED_PCT),
    // A run of some figures only, or with a failed one, never takes the name of a full result.
    tags: [
      ...(figures.length < FIGURES.length ? [`only-${figures.join('-')}`] : []),
      ...(failures.length > 0 ? ['failed'] : []),
    ],
    dir: args.out,
  },
);
console.log(`wrote ${path}`);
