/**
 * The threads of bench/queue.ts. Each is a producer or the consumer (its
 * `workerData.role`), and all of a round's threads meet at a start gate in
 * shared memory:
 *
 * - a producer, told to `produce`, counts itself ready, waits for the gate
 *   to open, then puts `n` items of one payload on a corepool `Queue`, or
 *   posts them on its `MessagePort` (the baseline), in one synchronous loop —
 *   the same loop body for both, so the difference is the channel. After a
 *   queue loop it calls `q.joinThread()`, which the round does not wait for:
 *   the consumer getting every item is what ends a round;
 * - the consumer, told to `consume`, waits until every producer of the round
 *   is ready, starts its clock, opens the gate, and takes every item — a
 *   blocking `get()` loop on the queue, or `message` events on its ports —
 *   checking each one (per-producer order for ints and objects), optionally
 *   stalling once (`Atomics.wait` on a private word), and answers with its
 *   own time and, when asked, the time of every item. A round of arrays with
 *   a stall can be cut short some time after the consumer resumes (`capMs`):
 *   the consumer raises a stop word that the producer reads before each
 *   array, and the producer sends {@link END} instead of the rest — so a
 *   queue whose throughput collapses after a stall costs seconds, not
 *   minutes, and still gives its after-stall rate.
 *
 * Nothing here waits without a bound that the main thread does not hold:
 * the gate waits time out and report, and a `get()` or `put()` that never
 * returns is ended by the main thread terminating the worker after the
 * round's timeout.
 *
 * @module
 */

import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { Queue } from '../src/index.js';
import '../src/index.js';

/**
 * A payload of the queue bench.
 *
 * @example
 * ```ts
 * const p: QueuePayload = 'object'; // { id: i, name: `item${i}` }
 * ```
 */
export type QueuePayload = 'int' | 'object' | 'array';

/** Elements of the `array` payload: 1 MiB of Float64. */
export const ARRAY_ELEMENTS = 131_072;

/**
 * What a producer of arrays sends last when told to stop early
 * ({@link Ctrl.STOP}); per-producer order brings it after its last array.
 *
 * @example
 * ```ts
 * if (item === END) ends++;
 * ```
 */
export const END = 'end';

/**
 * Int32 words of the shared control array (`workerData.ctrl`): the gate's
 * sequence, the ready count, the stall's private word, and the consumer's
 * progress on a cache line of its own.
 *
 * @example
 * ```ts
 * const ctrl = new Int32Array(new SharedArrayBuffer(Ctrl.WORDS * 4));
 * Atomics.load(ctrl, Ctrl.GOT); // items the consumer has taken this round
 * ```
 */
export const Ctrl = {
  /** The gate: the last round whose producers may start. */
  GO: 0,
  /** Producers at the gate for the coming round. */
  READY: 1,
  /** Never written: the consumer's stall waits on it until its timeout. */
  STALL: 2,
  /** Set by the consumer to cut a round short: producers of arrays stop and send {@link END}. */
  STOP: 3,
  /** Items the consumer has taken in this round (written by the consumer alone). */
  GOT: 16,
  /** Length of the array. */
  WORDS: 32,
} as const;

/**
 * What every thread of the bench is started with.
 *
 * @example
 * ```ts
 * const data: QueueWorkerData = { role: 'producer', index: 0, queues: { plain: q }, ports: [port2], ctrl };
 * new Worker(url, { workerData: data, transferList: [port2] });
 * ```
 */
export interface QueueWorkerData {
  readonly role: 'producer' | 'consumer';
  /** The producer's index (0 for the consumer). */
  readonly index: number;
  /** The queues of the bench, by name. */
  readonly queues: Readonly<Record<string, Queue>>;
  /** A producer's one port, or the consumer's ends of every producer's port, in producer order. */
  readonly ports: readonly MessagePort[];
  /** The control words ({@link Ctrl}). */
  readonly ctrl: Int32Array;
}

/**
 * Told to a producer: after gate `go` opens, put (or post) `n` items, with
 * ids `base` … `base + n - 1`.
 *
 * @example
 * ```ts
 * producer.postMessage({ kind: 'produce', channel: 'queue', queue: 'plain', payload: 'int', n: 1000, base: 0, go: 1, timeoutMs: 30_000 } satisfies ProduceCommand);
 * ```
 */
export interface ProduceCommand {
  readonly kind: 'produce';
  readonly channel: 'queue' | 'port';
  /** A key of `workerData.queues` (queue rounds). */
  readonly queue: string;
  readonly payload: QueuePayload;
  readonly n: number;
  /** The first item's id: producer `w` of a round starts at `w * n`. */
  readonly base: number;
  /** The round: the gate value to wait for. */
  readonly go: number;
  /** Longest wait at the gate before reporting a failure. */
  readonly timeoutMs: number;
}

/**
 * Told to the consumer: wait until `producers` producers are ready, open
 * gate `go`, and take `producers * n` items.
 *
 * @example
 * ```ts
 * consumer.postMessage({ kind: 'consume', channel: 'queue', queue: 'plain', payload: 'int', producers: 1, n: 1000, go: 1, timeoutMs: 30_000 } satisfies ConsumeCommand);
 * ```
 */
export interface ConsumeCommand {
  readonly kind: 'consume';
  readonly channel: 'queue' | 'port';
  readonly queue: string;
  readonly payload: QueuePayload;
  readonly producers: number;
  /** Items per producer. */
  readonly n: number;
  readonly go: number;
  /** Longest wait for the producers to be ready before reporting a failure. */
  readonly timeoutMs: number;
  /** Pause once, `ms` long, after taking the `after`-th item. */
  readonly stall?: { readonly after: number; readonly ms: number };
  /** Answer with the time of every item. */
  readonly stamps?: boolean;
  /**
   * Arrays from one producer only: cut the round short this long after the
   * stall's resumption — the producer stops, sends {@link END}, and the
   * round ends there.
   */
  readonly capMs?: number;
}

/**
 * A command to a bench thread.
 *
 * @example
 * ```ts
 * const c: QueueCommand = { kind: 'produce', channel: 'port', queue: 'plain', payload: 'array', n: 10, base: 0, go: 2, timeoutMs: 5000 };
 * ```
 */
export type QueueCommand = ProduceCommand | ConsumeCommand;

/**
 * What a bench thread answers: the consumer's `consumed` at the end of a
 * round, or a `failed` from any thread.
 *
 * @example
 * ```ts
 * worker.on('message', (r: QueueReply) => (r.kind === 'consumed' ? done(r.ms) : fail(r.message)));
 * ```
 */
export type QueueReply =
  | {
      readonly kind: 'consumed';
      /** From the gate opening to the last item, on the consumer's clock. */
      readonly ms: number;
      /** Items taken (fewer than asked for when the round was cut short). */
      readonly got: number;
      /** When asked: each item's time since the gate opened, ms (`got` of them). */
      readonly stamps?: Float64Array;
      /** The stall as it was (0 without one). */
      readonly stalledMs: number;
      /** When the consumer resumed after its stall, ms since the gate opened (0 without one). */
      readonly resumedMs: number;
    }
  | { readonly kind: 'failed'; readonly who: string; readonly message: string };

const data = (workerData ?? {}) as QueueWorkerData;
const { ctrl } = data;
const array = new Float64Array(ARRAY_ELEMENTS).map((_, i) => i);
const who = data.role === 'producer' ? `producer ${data.index}` : 'consumer';

function reply(r: QueueReply): void {
  parentPort?.postMessage(r);
}

function fail(err: unknown): void {
  reply({ kind: 'failed', who, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
}

function queueOf(name: string): Queue {
  const q = data.queues[name];
  if (q === undefined) throw new Error(`no queue named ${name}`);
  return q;
}

/** Waits until `ctrl[index]` reaches `target` (it only grows); false after `timeoutMs`. */
function waitFor(index: number, target: number, timeoutMs: number): boolean {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = Atomics.load(ctrl, index);
    if (v >= target) return true;
    const left = end - performance.now();
    if (left <= 0) return false;
    Atomics.wait(ctrl, index, v, left);
  }
}

function produce(c: ProduceCommand): void {
  Atomics.add(ctrl, Ctrl.READY, 1);
  Atomics.notify(ctrl, Ctrl.READY);
  if (!waitFor(Ctrl.GO, c.go, c.timeoutMs)) {
    throw new Error(`round ${c.go}: the gate did not open within ${c.timeoutMs} ms`);
  }
  const { payload, n, base } = c;
  if (c.channel === 'queue') {
    const q = queueOf(c.queue);
    if (payload === 'int') for (let i = 0; i < n; i++) q.put(base + i);
    else if (payload === 'object') for (let i = 0; i < n; i++) q.put({ id: base + i, name: `item${i}` });
    else {
      let i = 0;
      for (; i < n && Atomics.load(ctrl, Ctrl.STOP) === 0; i++) q.put(array);
      if (i < n) q.put(END);
    }
    // Not needed for the consumer to get everything: it measures "all in shared memory" for this thread.
    q.joinThread();
  } else {
    const port = data.ports[0] as MessagePort;
    if (payload === 'int') for (let i = 0; i < n; i++) port.postMessage(base + i);
    else if (payload === 'object') for (let i = 0; i < n; i++) port.postMessage({ id: base + i, name: `item${i}` });
    else {
      let i = 0;
      for (; i < n && Atomics.load(ctrl, Ctrl.STOP) === 0; i++) port.postMessage(array);
      if (i < n) port.postMessage(END);
    }
  }
}

/**
 * The check of each item: ints and objects carry ids `w * n + i` and must
 * arrive in order per producer `w`; arrays must be whole.
 */
function checker(payload: QueuePayload, producers: number, n: number): (v: unknown) => void {
  const next = Array.from({ length: producers }, (_, w) => w * n);
  const inOrder = (id: number): void => {
    const w = Math.floor(id / n);
    if (!(w >= 0 && w < producers && next[w] === id)) {
      throw new Error(`item ${id} out of order (producer ${w} was due to send ${next[w]})`);
    }
    next[w] = id + 1;
  };
  if (payload === 'int') return (v) => inOrder(v as number);
  if (payload === 'object') {
    return (v) => {
      const { id, name } = v as { id: number; name: string };
      if (typeof name !== 'string') throw new Error(`object ${id} has no name`);
      inOrder(id);
    };
  }
  return (v) => {
    if (!(v instanceof Float64Array && v.length === ARRAY_ELEMENTS && v[ARRAY_ELEMENTS - 1] === ARRAY_ELEMENTS - 1)) {
      throw new Error(`not the 1 MiB array: ${String(v).slice(0, 60)}`);
    }
  };
}

/** One round of the consumer: counts, checks, stamps and stalls for either channel. */
class Take {
  readonly total: number;
  readonly check: (v: unknown) => void;
  readonly stamps: Float64Array | undefined;
  readonly stallAfter: number;
  readonly stallMs: number;
  readonly capMs: number;
  readonly producers: number;
  /** Whether items need the clock (stamps, a stall, a cut). */
  readonly timed: boolean;
  got = 0;
  ends = 0;
  /** When to cut the round short (after the resumption), or Infinity. */
  cutAt = Number.POSITIVE_INFINITY;
  cut = false;
  start = 0;
  stalledMs = 0;
  resumedMs = 0;

  constructor(c: ConsumeCommand) {
    this.total = c.producers * c.n;
    this.check = checker(c.payload, c.producers, c.n);
    this.stamps = c.stamps === true ? new Float64Array(this.total) : undefined;
    this.stallAfter = c.stall?.after ?? -1;
    this.stallMs = c.stall?.ms ?? 0;
    // A cut round ends at the END marker, which only a lone producer's count makes exact.
    const cuttable = c.payload === 'array' && c.producers === 1 && c.capMs !== undefined;
    this.capMs = cuttable ? (c.capMs as number) : Number.POSITIVE_INFINITY;
    this.producers = c.producers;
    this.timed = this.stamps !== undefined || this.stallAfter > 0;
  }

  /** Takes one item; true when it was the last. */
  take(v: unknown): boolean {
    if (v === END) return ++this.ends === this.producers;
    this.check(v);
    const got = ++this.got;
    ctrl[Ctrl.GOT] = got;
    // Clock reads only in rounds that need them: the payload rounds stay a bare loop.
    if (this.timed) this.#time(got);
    return got === this.total;
  }

  /** Stamps item `got`, stalls after the stall's item, and cuts the round once its time has come. */
  #time(got: number): void {
    const now = performance.now();
    if (this.stamps !== undefined) this.stamps[got - 1] = now - this.start;
    if (now >= this.cutAt && !this.cut) {
      this.cut = true;
      Atomics.store(ctrl, Ctrl.STOP, 1);
    }
    if (got === this.stallAfter) {
      Atomics.wait(ctrl, Ctrl.STALL, 0, this.stallMs);
      const resumed = performance.now();
      this.resumedMs = resumed - this.start;
      this.stalledMs = resumed - now;
      this.cutAt = resumed + this.capMs;
    }
  }

  done(): void {
    const ms = performance.now() - this.start;
    const { got, stalledMs, resumedMs } = this;
    const stamps = this.stamps === undefined ? {} : { stamps: this.stamps.slice(0, got) };
    reply({ kind: 'consumed', ms, got, ...stamps, stalledMs, resumedMs });
  }
}

let portRound: Take | undefined;
/** After a failed port round, its remaining items are dropped without a word: the failure was reported once. */
let portFailed = false;

function consume(c: ConsumeCommand): void {
  const t = new Take(c);
  if (!waitFor(Ctrl.READY, c.producers, c.timeoutMs)) {
    throw new Error(
      `round ${c.go}: ${Atomics.load(ctrl, Ctrl.READY)} of ${c.producers} producers ready after ${c.timeoutMs} ms`,
    );
  }
  Atomics.store(ctrl, Ctrl.READY, 0);
  Atomics.store(ctrl, Ctrl.STOP, 0);
  ctrl[Ctrl.GOT] = 0;
  if (c.channel === 'port') {
    portRound = t;
    portFailed = false;
  }
  t.start = performance.now();
  Atomics.store(ctrl, Ctrl.GO, c.go);
  Atomics.notify(ctrl, Ctrl.GO);
  if (c.channel === 'port') return; // the ports' message events take the items
  const q = queueOf(c.queue);
  while (!t.take(q.get()));
  t.done();
}

if (data.role === 'consumer') {
  data.ports.forEach((port) => {
    port.on('message', (v: unknown) => {
      const t = portRound;
      if (t === undefined) {
        if (!portFailed) fail(new Error('an item arrived outside a round'));
        portFailed = true;
        return;
      }
      try {
        if (t.take(v)) {
          portRound = undefined;
          t.done();
        }
      } catch (err) {
        portRound = undefined;
        portFailed = true;
        fail(err);
      }
    });
  });
}

parentPort?.on('message', (c: QueueCommand) => {
  try {
    if (c.kind === 'produce') produce(c);
    else consume(c);
  } catch (err) {
    fail(err);
  }
});
