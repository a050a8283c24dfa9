/**
 * A Queue's buffering — Python's feeder thread — done by the hub thread
 * (oob.ts, workers/hub.ts), whose event loop always turns.
 *
 * A put never waits for room in the ring. When its record does not fit now
 * (or its thread still has records waiting at the hub, see below), the
 * producer reserves the item's slot as any put does, then *posts* the
 * record's bytes to the hub (`BroadcastChannel.postMessage` enqueues the
 * message at the hub synchronously) and returns. The hub keeps a FIFO
 * backlog per queue and writes the records into the ring as soon as readers
 * make room: it sleeps on the ring's writer wake-up word, which a reader
 * bumps once its `TAIL` reaches what the hub waits for (ring.ts), so
 * buffered bytes move at the readers' pace, never on a poll. Because the
 * hub does the writing, buffered records reach the queue whether or not the
 * producing thread ever runs again: a thread looping on synchronous `put`,
 * a Pool worker between tasks (whose event loop is blocked), a `Process`
 * that returned or was terminated.
 *
 * Per-producer order: each thread has, per queue, a *spill*: `posted`, the
 * records it handed to the hub, and `fed`, a one-word SharedArrayBuffer the
 * hub bumps after writing each of them into the ring. While `posted` differs
 * from `fed`, every put of that thread goes to the hub too, behind the
 * others; once the hub has caught up, the thread writes directly again — so
 * after any stall, flow returns to the direct path at full speed.
 *
 * | word of `fed` | written by                      | meaning                                        |
 * |---------------|---------------------------------|------------------------------------------------|
 * | 0             | the hub (`Atomics.add`, notify) | records of this thread's spill written so far  |
 *
 * Counting: the producer reserves the slot (`PUTS`) and adds one to the
 * queue's `AT_HUB` before it posts, under the queue's writer mutex; the hub
 * takes one from `AT_HUB` under that mutex once the record is published.
 * `AT_HUB` is what is lost if the hub dies (see queue.ts).
 *
 * A producer that dies between reserving and posting (a `terminate()` lands
 * anywhere): the next holder of the writer mutex finds the queue's pending
 * record (queue.ts) and asks the hub, with a *verify* message, whether the
 * dead thread's post arrived, blocking for the answer (the hub answers from
 * its event loop and needs no mutex for it). The hub reads its messages in
 * the order they were posted, and the dead thread posted before it died, so
 * by the time the hub reads the verify it has read that post if there was
 * one; if there was none, the asker undoes the reservation.
 *
 * The process stays alive while the main thread has records at the hub (as
 * Python joins its feeder threads at exit): the hub would die with the
 * process. A worker thread may exit at once: the hub holds its records.
 *
 * @module
 */

import { isMainThread } from 'node:worker_threads';
import { OWNER_CHECK_MS, threadToken } from '../sync/owners.js';
import { deadline, remaining } from '../sync/wait.js';
import { threadGlobal } from '../thread-global.js';
import type { Hub } from './oob.js';
import { runAsync, type Waiting, waitStep } from './ring.js';
import type { Stream, StreamState } from './stream.js';

/** One thread's records at the hub for one queue. */
export interface Spill {
  /** Records the hub has written for this spill (word 0). */
  readonly fed: Int32Array;
  /** Records this thread posted. */
  posted: number;
  /** The main thread's keep-alive wait runs. */
  watching: boolean;
}

const spills = threadGlobal('corepool.feeder.spills', () => new Map<string, Spill>());

/**
 * This thread's spill for the queue with identity `key`.
 *
 * @example
 * ```ts
 * const spill = spillOf(queueKey);
 * ```
 */
export function spillOf(key: string): Spill {
  let spill = spills.get(key);
  if (spill === undefined) {
    spill = { fed: new Int32Array(new SharedArrayBuffer(4)), posted: 0, watching: false };
    spills.set(key, spill);
  }
  return spill;
}

/**
 * Whether this thread still has records at the hub for this queue (its
 * next put must go behind them).
 *
 * @example
 * ```ts
 * if (behind(spill)) return false; // not the fast path
 * ```
 */
export function behind(spill: Spill): boolean {
  return spill.posted !== Atomics.load(spill.fed, 0);
}

/** A record a producer hands the hub to write into a queue. */
export interface FeedMessage {
  /** The queue's identity (creator token and sequence). */
  readonly k: string;
  /** Where the queue's memory is. */
  readonly q: StreamState;
  /** The record's bytes (codec.ts `recordImage`). */
  readonly b: Uint8Array;
  /** The producer's thread token. */
  readonly t: number;
  /** The record's number in the producer's spill (1, 2, …). */
  readonly n: number;
  /** The spill's `fed` word. */
  readonly c: SharedArrayBuffer;
}

/** Asks the hub whether a dead producer's post `n` arrived: the hub answers in `a` (word 1: 1 yes, 0 no; word 0 bumped). */
export interface VerifyMessage {
  readonly k: string;
  readonly t: number;
  readonly n: number;
  readonly a: SharedArrayBuffer;
}

/** Longest wait for the hub's answer to a verify. */
const VERIFY_TIMEOUT_MS = 30_000;

/**
 * Under the queue's writer mutex, with the slot reserved and `AT_HUB`
 * counted: hands record `image` to the hub (which must be running). Returns
 * the record's number in the spill.
 *
 * @example
 * ```ts
 * const n = feed(hub, key, state, spill, recordImage(out));
 * ```
 */
export function feed(hub: Hub, k: string, q: StreamState, spill: Spill, image: Uint8Array): number {
  const n = ++spill.posted;
  const state: StreamState = { buffer: q.buffer, byteOffset: q.byteOffset, registry: q.registry, hub: q.hub };
  hub.post({
    f: { k, q: state, b: image, t: threadToken, n, c: spill.fed.buffer as SharedArrayBuffer } satisfies FeedMessage,
  });
  if (isMainThread && !spill.watching) keepAlive(spill, hub);
  return n;
}

/**
 * Asks the hub whether the dead producer `t`'s record `n` reached it, and
 * blocks (briefly: the hub answers from its event loop, which always turns)
 * for the answer. Called under the queue's writer mutex by the thread that
 * took it over; the hub needs no mutex to answer. A dead hub answers no.
 *
 * @example
 * ```ts
 * if (!verify(hub, key, deadToken, pendingSeq)) unreserve();
 * ```
 */
export function verify(hub: Hub, k: string, t: number, n: number): boolean {
  const answer = new Int32Array(new SharedArrayBuffer(8));
  hub.post({ v: { k, t, n, a: answer.buffer as SharedArrayBuffer } satisfies VerifyMessage });
  const end = performance.now() + VERIFY_TIMEOUT_MS;
  while (Atomics.load(answer, 0) === 0) {
    if (hub.dead() || performance.now() > end) return false;
    Atomics.wait(answer, 0, 0, OWNER_CHECK_MS);
  }
  return Atomics.load(answer, 1) === 1;
}

/** Keeps the main thread's event loop alive until the hub has written all it holds for `spill`. */
function keepAlive(spill: Spill, hub: Hub): void {
  spill.watching = true;
  runAsync(untilFed(spill, spill.posted, undefined, hub))
    .catch(() => {})
    .finally(() => {
      spill.watching = false;
      if (behind(spill) && !hub.dead()) keepAlive(spill, hub);
    });
}

/**
 * Waits until the hub has written record `n` of `spill` (true), or made no
 * progress for `patienceMs` (false; undefined: wait for good), or died (false).
 *
 * @example
 * ```ts
 * runSync(untilFed(spill, spill.posted, undefined, hub)); // joinThread()
 * ```
 */
export function* untilFed(spill: Spill, n: number, patienceMs: number | undefined, hub: Hub): Waiting<boolean> {
  const fed = spill.fed;
  let last = Atomics.load(fed, 0);
  let end = deadline(patienceMs);
  for (;;) {
    const f = Atomics.load(fed, 0);
    if (((f - n) | 0) >= 0) return true;
    if (f !== last) {
      last = f;
      end = deadline(patienceMs);
    }
    const left = remaining(end);
    if (left === 0 || hub.dead()) return false;
    yield waitStep(fed, 0, f, Math.min(left, OWNER_CHECK_MS));
  }
}

// ---- the hub's side ----

/** What the hub needs of a queue to feed it (queue.ts makes it). */
export interface FeedTarget {
  readonly stream: Stream;
  /**
   * Under the writer mutex taken over from a dead holder: repairs the
   * queue's bookkeeping; `arrived` says whether a dead producer's post
   * reached this hub (the hub asks itself instead of posting a verify).
   */
  recover(arrived: (t: number, n: number) => boolean): void;
  /** On the hub's thread: one more record held for the queue (`AT_HUB` + 1). */
  received(): void;
  /** Under the writer mutex: one record the hub held is in the ring (`AT_HUB` − 1). */
  fed(): void;
}

interface Entry {
  readonly target: FeedTarget;
  backlog: FeedMessage[];
  first: number;
  /** The last record number received per producer token. */
  readonly received: Map<number, number>;
  running: boolean;
}

/**
 * The hub's feeder: a backlog per queue, written into the ring as readers
 * make room. `targetOf` opens a queue from its state.
 *
 * @example
 * ```ts
 * const feeder = new FeedServer((q) => queueFeedTarget(new Queue(q)));
 * channel.onmessage = ({ data }) => { if (data.f) feeder.feed(data.f); };
 * ```
 */
export class FeedServer {
  readonly #entries = new Map<string, Entry>();
  readonly #targetOf: (q: StreamState) => FeedTarget;
  readonly #flush: () => void;
  readonly #fedWords = new Map<string, Int32Array>();

  /**
   * @param targetOf opens a queue from its state.
   * @param flush reads the hub's messages that wait in its channel now (so
   *   that a question about what arrived sees everything posted before it).
   */
  constructor(targetOf: (q: StreamState) => FeedTarget, flush: () => void) {
    this.#targetOf = targetOf;
    this.#flush = flush;
  }

  #entry(k: string, q: StreamState): Entry {
    let e = this.#entries.get(k);
    if (e === undefined) {
      e = { target: this.#targetOf(q), backlog: [], first: 0, received: new Map(), running: false };
      this.#entries.set(k, e);
    }
    return e;
  }

  /**
   * Takes a record to write.
   *
   * @example
   * ```ts
   * feeder.feed(message.f);
   * ```
   */
  feed(m: FeedMessage): void {
    const e = this.#entry(m.k, m.q);
    e.backlog.push(m);
    e.received.set(m.t, m.n);
    e.target.received();
    this.#kick(e);
  }

  /**
   * Answers a verify request (see the module comment): whether producer
   * `m.t`'s record `m.n` was received. The caller reads messages in the
   * order they were posted, so any post the dead producer made is read.
   *
   * @example
   * ```ts
   * feeder.verify(message.v);
   * ```
   */
  verify(m: VerifyMessage): void {
    const answer = new Int32Array(m.a);
    Atomics.store(answer, 1, this.#arrived(m.k, m.t, m.n) ? 1 : 0);
    Atomics.add(answer, 0, 1);
    Atomics.notify(answer, 0);
  }

  #arrived(k: string, t: number, n: number): boolean {
    this.#flush();
    return (this.#entries.get(k)?.received.get(t) ?? 0) >= n;
  }

  /**
   * Records held for every queue (for diagnostics).
   *
   * @example
   * ```ts
   * feeder.held(); // 0 once every backlog is written
   * ```
   */
  held(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.backlog.length - e.first;
    return n;
  }

  #kick(e: Entry): void {
    if (e.running) return;
    e.running = true;
    runAsync(this.#drain(e))
      .catch((err: unknown) => {
        process.emitWarning(`the corepool hub could not feed a queue: ${(err as Error).message}`, {
          type: 'CorepoolWarning',
          code: 'ERR_COREPOOL_QUEUE_LOST',
        });
      })
      .finally(() => {
        e.running = false;
        if (e.first < e.backlog.length) this.#kick(e);
      });
  }

  #arrivedFn(e: Entry): (t: number, n: number) => boolean {
    return (t, n) => {
      this.#flush();
      return (e.received.get(t) ?? 0) >= n;
    };
  }

  #fedWord(m: FeedMessage): Int32Array {
    const key = `${m.t}:${m.k}`;
    let w = this.#fedWords.get(key);
    if (w === undefined || w.buffer !== m.c) {
      w = new Int32Array(m.c);
      this.#fedWords.set(key, w);
    }
    return w;
  }

  *#drain(e: Entry): Waiting<void> {
    const stream = e.target.stream;
    while (e.first < e.backlog.length) {
      yield* stream.enterWriter(Number.POSITIVE_INFINITY);
      try {
        if (stream.writer.recovered) e.target.recover(this.#arrivedFn(e));
        while (e.first < e.backlog.length) {
          const m = e.backlog[e.first] as FeedMessage;
          const n = stream.stageImage(m.b);
          if (n === 0) break;
          stream.publish(n);
          e.target.fed();
          e.backlog[e.first++] = undefined as never;
          const fed = this.#fedWord(m);
          Atomics.add(fed, 0, 1);
          Atomics.notify(fed, 0);
        }
      } finally {
        stream.leaveWriter();
      }
      if (e.first === e.backlog.length) {
        e.backlog = [];
        e.first = 0;
      } else if (e.first > 1024 && e.first * 2 > e.backlog.length) {
        e.backlog = e.backlog.slice(e.first);
        e.first = 0;
      }
      const next = e.backlog[e.first];
      if (next !== undefined) yield* stream.untilRoom(next.b.length, Number.POSITIVE_INFINITY, () => false);
    }
  }
}
