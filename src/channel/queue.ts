/**
 * `Queue`, `SimpleQueue`, `JoinableQueue`: Python's `multiprocessing`
 * queues over one SharedArrayBuffer — a message stream (stream.ts: a ring of
 * whole records, a writer and a reader mutex) and the counters below. The
 * buffering that Python's feeder thread does is the hub's (feeder.ts).
 *
 * Layout (Int32 words at the object's byteOffset; each group on its own
 * 64-byte line so that producers and consumers do not share written lines):
 *
 * | word               | line | written by                                  | meaning                                         |
 * |--------------------|------|---------------------------------------------|-------------------------------------------------|
 * | `TAG_WORD`         | 0    | creator, once                               | {@link QUEUE_TAG}                               |
 * | `MAXSIZE`          | 0    | creator, once                               | most items at once; 0 = unbounded               |
 * | `CAPACITY`         | 0    | creator, once                               | ring bytes (a power of two)                     |
 * | `JOINABLE`         | 0    | creator, once                               | 1: a JoinableQueue                              |
 * | `ID_THREAD`, `ID_SEQ` | 0 | creator, once                               | the queue's identity (creator token, counter)   |
 * | `PUTTERS_SLEEPING` | 0    | putters waiting for a free slot             | how many may sleep on `PUT_WAKE`                |
 * | `PUT_WAKE`         | 0    | getters (when putters sleep), `close()`     | bumped to wake them                             |
 * | `JOINERS_SLEEPING` | 0    | `join()` callers                            | how many may sleep on `DONE`                    |
 * | `AT_HUB`           | 0    | under the writer mutex: producers (+1 per record into overflow), the hub (−1 per record moved), a thread that finds the hub dead (→ 0) | records in the overflow chain (feeder.ts) |
 * | `PUTS`             | 1    | producers (CAS) under the writer mutex; `close()` sets bit 31 | items ever reserved, mod 2^31; bit 31 `CLOSED` |
 * | `PENDING_BY`       | 1    | a producer under the writer mutex           | its token while it is between staging and publishing a record, else 0 |
 * | `PENDING_PUTS`, `PENDING_AT_HUB`, `PENDING_END`, `PENDING_MODE`, `PENDING_SEG_*` | 1 | that producer | `PUTS` and `AT_HUB` before its reservation; the `HEAD` after its record; `DIRECT` (the queue's ring) or `OVERFLOW` (in segment `PENDING_SEG_*`) |
 * | `OVERFLOW_*`       | 1    | producers under the writer mutex; a thread that finds the hub dead (→ 0) | id of the overflow segment being appended to (the chain's tail; 0: none yet) |
 * | `OVERFLOW_HEAD_*`  | 1    | the producer that starts the chain, then the hub as it drains (under the writer mutex) | id of the segment the hub drains |
 * | `GETS`             | 2    | consumers, under the reader mutex           | items ever taken (and lost ones), mod 2^31       |
 * | `READ_PENDING_BY`, `_TAIL`, `_GETS` | 2 | a consumer under the reader mutex | its token while it takes a record, with `TAIL` and `GETS` before it |
 * | `DONE`             | 3    | `taskDone()` (CAS)                          | JoinableQueue: items marked done, mod 2^31       |
 * | stream             | 4–9  | stream.ts                                   | mutexes, ring header, slab count                |
 * | data               | 10…  | stream.ts                                   | `CAPACITY` bytes                                |
 *
 * Invariants: `qsize() = PUTS − GETS` (mod 2^31, the `CLOSED` bit aside).
 * A put reserves its slot by one compare-and-swap of `PUTS` that fails when
 * `CLOSED` is set or a bounded queue is full — so the closed check and the
 * reservation are one step, and a put that returns normally was reserved
 * before `close()` and is delivered. It reserves under the writer mutex,
 * after staging its record (in the ring, or in the overflow chain), and publishes it before
 * letting go. A get takes a record and counts `GETS += 1` under the reader
 * mutex, so `GETS <= PUTS` always, and "closed and drained" (`CLOSED` and
 * `qsize() == 0`) is exact. Unfinished tasks of a JoinableQueue are
 * `PUTS − DONE`.
 *
 * Blocking, as in Python: `put` waits only while a bounded queue is full
 * (`block`/`timeout` apply to that), `get` only while no item is there
 * (`block`/`timeout` apply to that, and to the reader mutex, as Python's
 * read lock). A put never waits for room in the ring: a record that does not
 * fit now goes to the overflow chain, which the hub moves into the ring as
 * readers make room (feeder.ts),
 * so an unbounded `put` never blocks and never throws `QueueFull`, and one
 * thread can put more than the ring holds and then get it all back. A
 * message larger than a quarter of the ring travels in a slab (slab.ts).
 *
 * Threads that die (stream.ts: no record is ever half-written or half-read):
 * - A producer that dies between staging and publishing leaves
 *   `PENDING_BY` set and the writer mutex held. The next thread to take the
 *   mutex over (a producer, the hub, or a consumer or `qsize()` that finds
 *   its holder dead) repairs: when the ring (or segment) `HEAD` is not the
 *   pending end, the record was not published, and whichever of `PUTS` and
 *   `AT_HUB` differ from their snapshots are taken back (that put never
 *   returned). Only the writer mutex's holder changes either, so the
 *   snapshots tell exactly. Everything the dead producer put before is in
 *   the ring or in overflow, and is delivered: nothing acknowledged is lost.
 * - A consumer that dies mid-get: the record was either not consumed yet
 *   (the next consumer gets it) or consumed (lost with the consumer, as an
 *   item it had taken). The next holder of the reader mutex sees its
 *   pending marks: a consumed record that `GETS` does not count yet is
 *   counted, so `qsize()` stops counting it.
 * - The hub drains the overflow chain, and holds its segments. It lives as
 *   long as the thread that started it: the main thread starts it when it
 *   makes a queue, so it lives as long as the process. Started by a worker
 *   (a queue made and used only among workers) it dies with that worker; the
 *   records in overflow are then lost: the first thread to notice counts
 *   them as taken (so `qsize()` does not count what can no longer arrive),
 *   starts a new chain, and warns with `ERR_COREPOOL_QUEUE_LOST`, saying
 *   how many.
 *
 * @module
 */

import { isMainThread } from 'node:worker_threads';
import { checkBoolean, checkOptions, describe, noOptions, positionalForm } from '../check.js';
import { QueueClosedError, QueueEmpty, QueueFull } from '../errors.js';
import { allocate, attach, SharedObject, type SharedState } from '../shared-object.js';
import { adoptRegistry, OWNER_CHECK_MS, threadToken } from '../sync/owners.js';
import { checkTimeout, deadline, remaining } from '../sync/wait.js';
import { threadGlobal } from '../thread-global.js';
import { registerShareable } from '../transfer.js';
import { Deferred, encode, type Outgoing, plainJson, wantsJson, writeOut, writeSmall } from './codec.js';
import {
  type FeedTarget,
  keepAlive,
  link,
  newSegment,
  nextOf,
  openSegment,
  type Segment,
  sealed,
  untilMoved,
} from './feeder.js';
import { adoptHubBlock, currentHubBlock, type Hub, knownDead, slabId } from './oob.js';
import {
  checkCapacity,
  DEFAULT_CAPACITY,
  type Ring,
  type RingHooks,
  runAsync,
  runSync,
  type Waiting,
  waitStep,
} from './ring.js';
import { initStream, NONE, RECEIVE_VALUE, STREAM_WORDS, Stream } from './stream.js';

const LINE = 16;
const MAXSIZE = 1;
const CAPACITY = 2;
const JOINABLE = 3;
const ID_THREAD = 4;
const ID_SEQ = 5;
/** @internal Putters asleep on a full queue (see the layout table). */
export const PUTTERS_SLEEPING = 6;
const PUT_WAKE = 7;
const JOINERS_SLEEPING = 8;
/** @internal Records the hub holds for the queue (see the layout table). */
export const AT_HUB = 9;
const PUTS = LINE;
const PENDING_BY = LINE + 1;
const PENDING_PUTS = LINE + 2;
const PENDING_END = LINE + 3;
const PENDING_MODE = LINE + 4;
const PENDING_AT_HUB = LINE + 5;
const PENDING_SEG_THREAD = LINE + 6;
const PENDING_SEG_SEQ = LINE + 7;
/** The overflow chain's tail (the segment producers append to) and head (the one the hub drains). */
const OVERFLOW_THREAD = LINE + 8;
const OVERFLOW_SEQ = LINE + 9;
const OVERFLOW_HEAD_THREAD = LINE + 10;
const OVERFLOW_HEAD_SEQ = LINE + 11;
const GETS = 2 * LINE;
const READ_PENDING_BY = 2 * LINE + 1;
const READ_PENDING_TAIL = 2 * LINE + 2;
const READ_PENDING_GETS = 2 * LINE + 3;
const DONE = 3 * LINE;
const STREAM = 4 * LINE;
const HEADER_WORDS = STREAM + STREAM_WORDS;
const DATA_BYTES = HEADER_WORDS * Int32Array.BYTES_PER_ELEMENT;

/** Bit 31 of `PUTS`. */
const CLOSED = 0x80000000 | 0;
/** The count bits of `PUTS`, `GETS` and `DONE`. */
const COUNT = 0x7fffffff;
/** `PENDING_MODE` of a record written into the ring, and of one into the overflow chain. */
const DIRECT = 1;
const OVERFLOW = 2;

/** Type tag of a queue's memory. */
export const QUEUE_TAG = 0x43505175; // 'CPQu'
/** Largest `maxsize`. */
const MAX_MAXSIZE = 0x3fffffff;
/**
 * How long a `putAsync` whose item went to overflow waits for the hub to
 * move it while the readers make no progress, before it resolves with the
 * item buffered (backpressure while someone reads; never a deadlock).
 */
export const SPILL_AFTER_MS = 50;

/** Set by Queue's static block: reads the private stream (see {@link queueRing}). */
let streamOf: (q: Queue) => Stream;
let wordsOf: (q: Queue) => Int32Array;
let targetOf: (q: Queue, lookup: (id: string) => SharedArrayBuffer | undefined) => FeedTarget;
let haltPut: (q: Queue, item: unknown, at: Halt, viaHub: boolean) => void;
let haltGet: (q: Queue, consumed: boolean) => void;

/** Where {@link haltMidPut} stops a put. */
type Halt = 'before-reserve' | 'reserved' | 'published';

const ids = threadGlobal('corepool.queue.ids', () => ({ next: 0 }));

/** Options of {@link Queue}. */
export interface QueueOptions {
  /** Most items the queue holds at once; 0 (default) or Infinity = unbounded. */
  maxsize?: number;
  /** Bytes of the ring the messages stream through: a power of two, default 256 KiB. */
  capacity?: number;
}

/** Options of `put` and `putAsync`. */
export interface PutOptions {
  /** Wait for a free slot (default true); `false` throws `QueueFull` at once when full (timeout ignored, as in Python). */
  block?: boolean | undefined;
  /** Most ms to wait for a free slot (default or undefined: forever). */
  timeout?: number | undefined;
}

/** Options of `get` and `getAsync`. */
export interface GetOptions {
  /** Wait for an item (default true); `false` throws `QueueEmpty` at once when none is there (timeout ignored). */
  block?: boolean | undefined;
  /** Most ms to wait for an item to begin (default or undefined: forever). */
  timeout?: number | undefined;
}

/** Where a queue's memory is and which hub carries shared objects in its messages. */
export interface QueueState extends SharedState {
  /** The hub block (oob.ts). */
  readonly hub: SharedArrayBuffer;
}

interface Wait {
  readonly block: boolean;
  readonly timeout: number | undefined;
}
const BLOCK: Wait = { block: true, timeout: undefined };
const DONT_BLOCK: Wait = { block: false, timeout: undefined };

/** The keys of {@link PutOptions} and {@link GetOptions}. */
const waitKeys = ['block', 'timeout'] as const;

/**
 * Checks the options of a put or get (`name`: `Queue.put`). `extra` holds
 * the arguments after them: Python's `put(x, True, 5)` is refused with the
 * object to write instead, as is any further argument.
 */
/** The further arguments of a hot method given none: one array, not one per call. */
const noExtra: readonly unknown[] = [];

function waitOptions(options: unknown, extra: readonly unknown[], name: string): Wait {
  // The common call, put(x) or get(): nothing to check, no names to build.
  if (options === undefined && extra.length === 0) return BLOCK;
  const what = `${name}()`;
  if (typeof options === 'boolean' || typeof options === 'number') {
    const timeout = typeof options === 'number' ? options : extra[0];
    const instead =
      typeof options === 'number'
        ? `{ timeout: ${describe(options)} }`
        : typeof timeout === 'number'
          ? `{ block: ${options}, timeout: ${describe(timeout)} }`
          : `{ block: ${options} }`;
    throw positionalForm(what, options, instead, typeof timeout === 'number' ? '; timeouts are in milliseconds' : '');
  }
  for (const further of extra) {
    if (further !== undefined) {
      throw new TypeError(`${what} takes no argument after options: received ${describe(further)}`);
    }
  }
  if (options === undefined) return BLOCK;
  const { block = true, timeout } = checkOptions(options, waitKeys, what);
  checkBoolean(block, `${name}(options.block)`);
  checkTimeout(timeout, `${name}(options.timeout)`);
  if (block === false) return DONT_BLOCK;
  return timeout === undefined || timeout === Number.POSITIVE_INFINITY ? BLOCK : { block: true, timeout };
}

function isState(arg: unknown): arg is QueueState {
  return typeof arg === 'object' && arg !== null && (arg as Partial<QueueState>).buffer instanceof SharedArrayBuffer;
}

function newState(maxsize: number, capacity: number, joinable: boolean): QueueState {
  const base = allocate(QUEUE_TAG, (DATA_BYTES + capacity) / Int32Array.BYTES_PER_ELEMENT);
  const words = new Int32Array(base.buffer, 0, HEADER_WORDS);
  words[MAXSIZE] = maxsize;
  words[CAPACITY] = capacity;
  words[JOINABLE] = joinable ? 1 : 0;
  words[ID_THREAD] = threadToken;
  words[ID_SEQ] = ++ids.next;
  initStream(words, STREAM);
  // The header is published to other threads by whatever carries the queue there (postMessage orders it).
  Atomics.store(words, PUTS, 0);
  return { ...base, hub: currentHubBlock() };
}

/** `PUTS` (or `GETS`, `DONE`) plus one, keeping the `CLOSED` bit. */
function plusOne(word: number): number {
  return (word & CLOSED) | ((word + 1) & COUNT);
}

/** Items between two counts (mod 2^31); a "negative" difference (a race of a lost-count repair) reads 0. */
function between(later: number, earlier: number): number {
  const d = ((later & COUNT) - (earlier & COUNT)) & COUNT;
  return d > 0x3fffffff ? 0 : d;
}

/** What a put's critical section found. */
const WROTE = 0;
const AGAIN = 1;
const FULL = 2;
const CLOSED_NOW = 3;
const NEED_HUB = 4;

/**
 * A multi-producer, multi-consumer FIFO queue in shared memory usable from
 * any thread — Python's `multiprocessing.Queue`. Items are any
 * structured-cloneable value of any size, with fast paths for numbers,
 * strings, typed arrays and small plain objects; shared objects inside items
 * (a `Lock`, another `Queue`, a `SharedArray`…) arrive working.
 *
 * `put`/`get` block the calling thread (`Atomics.wait`; for workers and
 * scripts), `putAsync`/`getAsync` never block the event loop. A put that
 * returns is delivered, whatever the putting thread does next (see the
 * module comment for what happens when threads die).
 *
 * @example
 * ```ts
 * const jobs = new Queue<number>({ maxsize: 100 });
 * const results = new Queue<string>();
 * const done = pool.apply(worker, [jobs, results]); // the task: for (;;) { const n = jobs.get(); results.put(…); }
 * for (let i = 0; i < 1000; i++) await jobs.putAsync(i);
 * jobs.close();                                      // the task's get() throws QueueClosedError once drained
 * await done;
 * results.close();
 * for await (const r of results) console.log(r);    // ends once closed and drained
 * ```
 */
export class Queue<T = unknown> extends SharedObject<QueueState> {
  readonly #words: Int32Array;
  readonly #stream: Stream;
  readonly #ring: Ring;
  readonly #registry: Int32Array;
  readonly #maxsize: number;
  readonly #key: string;
  /** Overflow segments this thread knows, by id. */
  readonly #segments = new Map<string, Segment>();
  /** How this thread finds a segment it does not know (the hub: in what it holds; others: by asking it). */
  #lookup: ((id: string) => SharedArrayBuffer | undefined) | undefined;
  /** This thread's last record into overflow (for `joinThread`), and the main thread's keep-alive. */
  readonly #last: { seg?: Segment; end: number; running: boolean } = { end: 0, running: false };
  /** The overflow segment this thread appended to last (the fast path's, while the header still names it). */
  #current: { thread: number; seq: number; id: [number, number]; seg: Segment } | undefined;
  /** Waiting for an item: stop when closed and drained; wake now and then while items may be stranded. */
  readonly #getHooks: RingHooks;

  /**
   * A new empty queue in fresh shared memory, or (with `state`) the queue
   * another thread made, bound to the same memory.
   *
   * @example
   * ```ts
   * const q = new Queue();                                  // unbounded, 256 KiB ring
   * const small = new Queue({ maxsize: 8, capacity: 4096 }); // at most 8 items
   * ```
   * @throws {TypeError} on an unknown option (`options.maxsiz is not a Queue option …; did you mean
   *   maxsize?`), options that are not an object (Python's `Queue(8)` included: write `{ maxsize: 8 }`),
   *   a non-number `maxsize` or `capacity`, or "invalid handle" when `state` does not locate a Queue.
   * @throws {RangeError} when `maxsize` is not a non-negative integer (or Infinity), or `capacity`
   *   not a power of two from 64 bytes to 1 GiB.
   */
  constructor(options?: QueueOptions);
  constructor(state: QueueState);
  constructor(optionsOrState?: QueueOptions | QueueState) {
    super(kindOf(new.target), queueState(optionsOrState, false, kindOf(new.target)));
    const state = this.state;
    const words = attach(state, QUEUE_TAG, HEADER_WORDS, 'Queue');
    const capacity = Atomics.load(words, CAPACITY);
    checkCapacity(capacity, 'the queue capacity');
    if (state.byteOffset + DATA_BYTES + capacity > state.buffer.byteLength) {
      throw new TypeError(`invalid handle: a Queue of ${capacity} bytes does not fit its buffer`);
    }
    adoptHubBlock(state.hub);
    this.#words = words;
    this.#registry = adoptRegistry(state.registry);
    this.#stream = new Stream(state, STREAM, DATA_BYTES, capacity, undefined, 'a Queue');
    this.#ring = this.#stream.ring;
    this.#maxsize = Atomics.load(words, MAXSIZE);
    this.#key = `${Atomics.load(words, ID_THREAD)}.${Atomics.load(words, ID_SEQ)}`;
    const self = this;
    this.#getHooks = {
      stop: () => this.#drainedAndClosed(),
      check: () => this.#settleDead(),
      get sliceMs() {
        return self.#itemsOutside() ? OWNER_CHECK_MS : undefined;
      },
    };
    // The hub should live as long as the process: the main thread starts it (in the background).
    if (isMainThread) this.#stream.hub().startSoon();
  }

  /**
   * `maxsize` as given (0 = unbounded).
   *
   * @example
   * ```ts
   * new Queue({ maxsize: 3 }).maxsize; // 3
   * ```
   */
  get maxsize(): number {
    return this.#maxsize;
  }

  /**
   * Bytes of the ring the messages stream through.
   *
   * @example
   * ```ts
   * new Queue().capacity; // 262144
   * ```
   */
  get capacity(): number {
    return this.#ring.capacity;
  }

  /**
   * Whether `close()` was called (on any thread).
   *
   * @example
   * ```ts
   * q.close(); q.closed; // true
   * ```
   */
  get closed(): boolean {
    return (Atomics.load(this.#words, PUTS) & CLOSED) !== 0;
  }

  /**
   * Puts `item` at the end of the queue. Blocks this thread while a bounded
   * queue is full (`block: false` throws at once, `timeout` bounds the
   * wait); never blocks on an unbounded queue. Once it returns, the item is
   * delivered, whatever this thread does next.
   *
   * @example
   * ```ts
   * q.put({ id: 1, name: 'a' });
   * q.put(bytes, { timeout: 100 }); // QueueFull after 100 ms if still full
   * ```
   * @throws {QueueFull} when a bounded queue stays full.
   * @throws {QueueClosedError} after `close()`.
   * @throws {DataCloneError} naming the part of `item` that cannot cross threads.
   * @throws {TypeError} before any waiting, on an unknown option (`options.blok is not a Queue.put()
   *   option`), options that are not an object (Python's `put(item, false)` included: write
   *   `{ block: false }`), a non-boolean `block`, a non-number `timeout` or a further argument.
   * @throws {RangeError} when `timeout` is negative or NaN.
   */
  put(item: T, options?: PutOptions, none?: never): void {
    const wait = waitOptions(options, none === undefined ? noExtra : [none], 'Queue.put');
    if (this.#putFast(item)) return;
    runSync(this.#put(item, wait));
  }

  /**
   * `put` without blocking the event loop: waits for a free slot with
   * `Atomics.waitAsync`, keeping the process alive meanwhile. When the
   * item had to go to the overflow (the ring was full), it resolves once the hub
   * has written it — or once the readers have made no progress for
   * {@link SPILL_AFTER_MS}, with the item buffered: backpressure while
   * someone reads, never a deadlock for a thread that reads later.
   *
   * @example
   * ```ts
   * await q.putAsync(item);
   * await q.putAsync(item, { timeout: 100 }).catch((e) => e instanceof QueueFull);
   * ```
   * @throws {QueueFull} (as a rejection) when a bounded queue stays full; the other errors of `put`,
   *   `TypeError` for an unknown option included, as rejections.
   */
  async putAsync(item: T, options?: PutOptions, none?: never): Promise<void> {
    const wait = waitOptions(options, none === undefined ? noExtra : [none], 'Queue.putAsync');
    if (this.#putFast(item)) return;
    if (await runAsync(this.#put(item, wait))) {
      await runAsync(untilMoved(this.#last.seg as Segment, this.#last.end, SPILL_AFTER_MS, this.#hub()));
    }
  }

  /**
   * `put(item, { block: false })`.
   *
   * @example
   * ```ts
   * try { q.putNowait(1); } catch (e) { if (e instanceof QueueFull) dropped++; }
   * ```
   * @throws {QueueFull} when a bounded queue is full; the other errors of `put`.
   * @throws {TypeError} when given a further argument (it takes no options; `put` does).
   */
  putNowait(item: T, none?: never): void {
    if (none !== undefined) noOptions([none], 'Queue.putNowait()');
    if (this.#putFast(item)) return;
    runSync(this.#put(item, DONT_BLOCK));
  }

  /**
   * Removes and returns the first item. Blocks this thread until one is
   * there (`block: false` throws at once, `timeout` bounds the wait); after
   * `close()`, returns what is left, then throws `QueueClosedError`.
   *
   * @example
   * ```ts
   * const job = q.get();
   * const maybe = q.get({ timeout: 50 }); // QueueEmpty after 50 ms
   * ```
   * @throws {QueueEmpty} when no item came in time.
   * @throws {QueueClosedError} when the queue is closed and drained.
   * @throws {TypeError} before any waiting, on an unknown option (`options.blok is not a Queue.get()
   *   option`), options that are not an object (Python's `get(false)` included: write
   *   `{ block: false }`), a non-boolean `block`, a non-number `timeout` or a further argument.
   * @throws {RangeError} when `timeout` is negative or NaN.
   */
  get(options?: GetOptions, none?: never): T {
    const wait = waitOptions(options, none === undefined ? noExtra : [none], 'Queue.get');
    const v = this.#getFast();
    if (v === NONE) return runSync(this.#get(wait)) as T;
    if (v instanceof Deferred) return this.#stream.finishValue(v, false) as T;
    return v as T;
  }

  /**
   * `get` without blocking the event loop (`Atomics.waitAsync`), keeping the
   * process alive while it waits.
   *
   * @example
   * ```ts
   * const item = await q.getAsync({ timeout: 1000 });
   * ```
   * @throws {QueueEmpty|QueueClosedError|TypeError|RangeError} (as rejections), as `get`: `TypeError`
   *   for an unknown option.
   */
  async getAsync(options?: GetOptions, none?: never): Promise<T> {
    const wait = waitOptions(options, none === undefined ? noExtra : [none], 'Queue.getAsync');
    const v = this.#getFast();
    if (v === NONE) return (await runAsync(this.#get(wait))) as T;
    if (v instanceof Deferred) return (await this.#stream.finishValue(v, true)) as T;
    return v as T;
  }

  /**
   * `get({ block: false })`.
   *
   * @example
   * ```ts
   * try { handle(q.getNowait()); } catch (e) { if (!(e instanceof QueueEmpty)) throw e; }
   * ```
   * @throws {QueueEmpty} when no item is there; {@link QueueClosedError} when closed and drained.
   * @throws {TypeError} when given an argument (it takes no options; `get` does).
   */
  getNowait(none?: never): T {
    if (none !== undefined) noOptions([none], 'Queue.getNowait()');
    const v = this.#getFast();
    if (v === NONE) return runSync(this.#get(DONT_BLOCK)) as T;
    if (v instanceof Deferred) return this.#stream.finishValue(v, false) as T;
    return v as T;
  }

  /**
   * Items put and not yet taken, including items in the overflow chain
   * (as Python counts its feeder's buffer). Never counts an item
   * that can no longer arrive: a put whose thread died before it returned,
   * or items lost with a dead hub (see the module comment).
   *
   * @example
   * ```ts
   * q.put(1); q.put(2); q.qsize(); // 2
   * ```
   */
  qsize(): number {
    if (this.#itemsOutside()) this.#settleDead();
    return this.#count();
  }

  /**
   * Whether `qsize()` is 0.
   *
   * @example
   * ```ts
   * new Queue().empty(); // true
   * ```
   */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /**
   * Whether a bounded queue holds `maxsize` items (never for an unbounded one).
   *
   * @example
   * ```ts
   * const q = new Queue({ maxsize: 1 }); q.put(1); q.full(); // true
   * ```
   */
  full(): boolean {
    return this.#maxsize > 0 && this.qsize() >= this.#maxsize;
  }

  /**
   * Closes the queue for every thread: later puts throw
   * `QueueClosedError`; gets return what is left, then throw it; waiting
   * getters and putters wake up. Every put that returned before (or that
   * was reserving at that instant and then returns) is delivered.
   * Idempotent.
   *
   * @example
   * ```ts
   * q.close();
   * for await (const x of q) use(x); // drains, then ends
   * ```
   * @throws {TypeError} when given an argument (it takes no options).
   */
  close(...none: never[]): void {
    noOptions(none, 'Queue.close()');
    Atomics.or(this.#words, PUTS, CLOSED);
    this.#wakeEveryone();
  }

  /**
   * Blocks until every item this thread put on this queue is in the ring,
   * none left at the hub (Python's `join_thread()`). Never needed for
   * delivery (the hub delivers what it holds); useful to know the items are
   * in the queue's memory. Blocks for good when nobody reads and the ring
   * cannot take them all.
   *
   * @example
   * ```ts
   * for (const r of results) q.put(r);
   * q.joinThread(); // every result is in the queue's memory now
   * ```
   * @throws {TypeError} when given an argument (it takes no options).
   */
  joinThread(...none: never[]): void {
    noOptions(none, 'Queue.joinThread()');
    if (this.#last.seg !== undefined) runSync(untilMoved(this.#last.seg, this.#last.end, undefined, this.#hub()));
    this.#settleDead();
  }

  /**
   * `joinThread()` without blocking the event loop.
   *
   * @example
   * ```ts
   * await q.joinThreadAsync();
   * ```
   * @throws {TypeError} (as a rejection) when given an argument (it takes no options).
   */
  async joinThreadAsync(...none: never[]): Promise<void> {
    noOptions(none, 'Queue.joinThreadAsync()');
    if (this.#last.seg !== undefined) {
      await runAsync(untilMoved(this.#last.seg, this.#last.end, undefined, this.#hub()));
    }
    this.#settleDead();
  }

  /**
   * Iterates the items with `getAsync()` until the queue is closed and
   * drained.
   *
   * @example
   * ```ts
   * for await (const job of q) await handle(job);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let item: T;
      try {
        item = await this.getAsync();
      } catch (err) {
        if (err instanceof QueueClosedError) return;
        throw err;
      }
      yield item;
    }
  }

  protected override describe(): Record<string, unknown> {
    return { qsize: this.qsize(), maxsize: this.#maxsize, closed: this.closed };
  }

  // ---- for JoinableQueue ----

  /** @internal */
  protected taskDoneImpl(): void {
    const words = this.#words;
    for (;;) {
      const done = Atomics.load(words, DONE);
      const left = between(Atomics.load(words, PUTS), done);
      if (left <= 0) throw new RangeError('task_done() called too many times');
      if (Atomics.compareExchange(words, DONE, done, plusOne(done)) === done) {
        if (left === 1 && Atomics.load(words, JOINERS_SLEEPING) !== 0) Atomics.notify(words, DONE);
        return;
      }
    }
  }

  /** @internal */
  protected *joinImpl(): Waiting<void> {
    const words = this.#words;
    for (;;) {
      this.#settleDead();
      const done = Atomics.load(words, DONE);
      if (between(Atomics.load(words, PUTS), done) === 0) return;
      Atomics.add(words, JOINERS_SLEEPING, 1);
      try {
        if (between(Atomics.load(words, PUTS), done) === 0) return;
        yield waitStep(words, DONE, done, this.#itemsOutside() ? OWNER_CHECK_MS : Number.POSITIVE_INFINITY);
      } finally {
        Atomics.sub(words, JOINERS_SLEEPING, 1);
      }
    }
  }

  // ---- internals ----

  #count(): number {
    return between(Atomics.load(this.#words, PUTS), Atomics.load(this.#words, GETS));
  }

  #drainedAndClosed(): boolean {
    return this.closed && this.qsize() === 0;
  }

  /** Items may be counted that are not in the ring: a put in progress (maybe of a dead thread), or in the overflow chain. */
  #itemsOutside(): boolean {
    const words = this.#words;
    return (
      Atomics.load(words, PENDING_BY) !== 0 ||
      Atomics.load(words, AT_HUB) > 0 ||
      Atomics.load(words, READ_PENDING_BY) !== 0
    );
  }

  #wakeEveryone(): void {
    Atomics.add(this.#words, PUT_WAKE, 1);
    Atomics.notify(this.#words, PUT_WAKE);
    if (Atomics.load(this.#words, JOINERS_SLEEPING) !== 0) Atomics.notify(this.#words, DONE);
    this.#stream.wakeAll();
  }

  /**
   * Repairs what dead threads left: a producer that died holding the writer
   * mutex mid-put, and records lost with a dead hub (see the module comment).
   */
  #settleDead(): void {
    const stream = this.#stream;
    const reader = stream.readerOwner();
    if (reader !== 0 && reader !== threadToken && knownDead(this.#registry, reader) && stream.tryReader()) {
      try {
        if (stream.reader.recovered) this.#recoverRead();
      } finally {
        stream.leaveReader();
      }
    }
    const owner = stream.writerOwner();
    if (owner !== 0 && owner !== threadToken && knownDead(this.#registry, owner) && stream.tryWriter()) {
      try {
        if (stream.writer.recovered) this.#recover();
      } finally {
        stream.leaveWriter();
      }
    }
    const words = this.#words;
    if (Atomics.load(words, AT_HUB) > 0 && this.#hub().dead() && stream.tryWriter()) {
      let lost = 0;
      try {
        if (stream.writer.recovered) this.#recover();
        lost = Atomics.exchange(words, AT_HUB, 0);
        // The segments died with the hub: the next overflow starts a new chain.
        for (const w of [OVERFLOW_THREAD, OVERFLOW_SEQ, OVERFLOW_HEAD_THREAD, OVERFLOW_HEAD_SEQ])
          Atomics.store(words, w, 0);
        if (lost > 0) Atomics.add(words, GETS, lost);
      } finally {
        stream.leaveWriter();
      }
      if (lost > 0) {
        this.#wakeEveryone();
        process.emitWarning(
          `a Queue lost ${lost} buffered item(s): the hub thread that held them exited (it dies with the thread ` +
            'that started it; make the first queue on the main thread to keep it alive)',
          { type: 'CorepoolWarning', code: 'ERR_COREPOOL_QUEUE_LOST' },
        );
      }
    }
  }

  /**
   * Under the writer mutex, taken over from a dead holder: takes back what
   * its pending put counted, unless the record was published (see the
   * module comment).
   */
  #recover(): void {
    const words = this.#words;
    this.#repairChain();
    if (Atomics.load(words, PENDING_BY) === 0) return;
    const ring =
      words[PENDING_MODE] === DIRECT
        ? this.#ring
        : this.#segment(words[PENDING_SEG_THREAD] as number, words[PENDING_SEG_SEQ] as number)?.ring;
    // A segment gone with a dead hub: its records are lost and counted so; this one was never delivered.
    if (ring === undefined || ring.head() !== words[PENDING_END]) {
      if ((Atomics.load(words, PUTS) & COUNT) !== words[PENDING_PUTS]) this.#unreserve();
      if (Atomics.load(words, AT_HUB) !== words[PENDING_AT_HUB]) Atomics.sub(words, AT_HUB, 1);
    }
    Atomics.store(words, PENDING_BY, 0);
  }

  /** The overflow segment with id `thread.seq`, or undefined when it cannot be had (a dead hub). */
  #segment(thread: number, seq: number): Segment | undefined {
    if (thread === 0) return undefined;
    const id = `${thread}.${seq}`;
    let seg = this.#segments.get(id);
    if (seg === undefined) {
      let sab: SharedArrayBuffer | undefined;
      try {
        sab = this.#lookup === undefined ? runSync(this.#hub().fetchOne(id)) : this.#lookup(id);
      } catch {
        sab = undefined;
      }
      if (sab === undefined) return undefined;
      seg = openSegment(sab);
      this.#segments.set(id, seg);
    }
    return seg;
  }

  /** Under the writer mutex: undoes a reservation whose item will never be in the queue. */
  #unreserve(): void {
    const words = this.#words;
    for (;;) {
      const puts = Atomics.load(words, PUTS);
      const less = (puts & CLOSED) | ((puts - 1) & COUNT);
      if (Atomics.compareExchange(words, PUTS, puts, less) === puts) break;
    }
    this.#wakeEveryone();
  }

  #hub(): Hub {
    return this.#stream.hub();
  }

  /**
   * Under the reader mutex: takes the next record, marking the take as
   * pending until `GETS` counts it (see the module comment).
   */
  #take(): unknown {
    const words = this.#words;
    const stream = this.#stream;
    if (stream.reader.recovered) this.#recoverRead();
    words[READ_PENDING_TAIL] = this.#ring.tail();
    words[READ_PENDING_GETS] = Atomics.load(words, GETS);
    Atomics.store(words, READ_PENDING_BY, threadToken);
    const v = stream.take(RECEIVE_VALUE);
    if (v !== NONE) this.#tookOne();
    Atomics.store(words, READ_PENDING_BY, 0);
    return v;
  }

  /** Under the reader mutex taken over from a dead consumer: counts a record it consumed and did not count. */
  #recoverRead(): void {
    const words = this.#words;
    if (Atomics.load(words, READ_PENDING_BY) === 0) return;
    if (this.#ring.tail() !== words[READ_PENDING_TAIL] && Atomics.load(words, GETS) === words[READ_PENDING_GETS]) {
      this.#tookOne();
    }
    Atomics.store(words, READ_PENDING_BY, 0);
  }

  /** After a get: count it and wake putters waiting for a slot. Called inside the reader mutex. */
  #tookOne(): void {
    Atomics.add(this.#words, GETS, 1);
    if (this.#maxsize !== 0 && Atomics.load(this.#words, PUTTERS_SLEEPING) !== 0) {
      Atomics.add(this.#words, PUT_WAKE, 1);
      Atomics.notify(this.#words, PUT_WAKE);
    }
  }

  /**
   * Under the writer mutex, with a record of `n` bytes staged at `head` of
   * `ring` (the queue's, or overflow segment `seg`): reserves the slot (one
   * CAS that fails when closed or full), counts it in `AT_HUB` when in
   * overflow, publishes it, and clears the pending marks. `halt` stops on
   * the way, for fault tests ({@link haltMidPut}).
   */
  #commit(ring: Ring, head: number, n: number, seg: [number, number] | undefined, halt?: Halt): number {
    const words = this.#words;
    const puts = Atomics.load(words, PUTS);
    if ((puts & CLOSED) !== 0) return CLOSED_NOW;
    if (this.#maxsize !== 0 && between(puts, Atomics.load(words, GETS)) >= this.#maxsize) return FULL;
    words[PENDING_PUTS] = puts & COUNT;
    words[PENDING_AT_HUB] = Atomics.load(words, AT_HUB);
    words[PENDING_MODE] = seg === undefined ? DIRECT : OVERFLOW;
    words[PENDING_END] = (head + n) | 0;
    words[PENDING_SEG_THREAD] = seg === undefined ? 0 : seg[0];
    words[PENDING_SEG_SEQ] = seg === undefined ? 0 : seg[1];
    Atomics.store(words, PENDING_BY, threadToken);
    if (halt === 'before-reserve') return WROTE;
    if (Atomics.compareExchange(words, PUTS, puts, plusOne(puts)) !== puts) {
      Atomics.store(words, PENDING_BY, 0);
      return AGAIN;
    }
    if (halt === 'reserved') return WROTE;
    if (seg !== undefined) Atomics.add(words, AT_HUB, 1);
    ring.publish(head + n);
    if (halt === 'published') return WROTE;
    Atomics.store(words, PENDING_BY, 0);
    return WROTE;
  }

  /**
   * Under the writer mutex: appends `record` to the overflow chain and
   * commits it there. When the tail segment is full, a new one is posted to
   * the hub, linked from the tail (`NEXT`, then `SEALED`) and named in the
   * header; see feeder.ts. A tail found sealed was left so by a producer that
   * died in the middle of that: its successor is taken as the tail.
   */
  #overflow(record: Outgoing, halt?: Halt): number {
    const words = this.#words;
    const puts = Atomics.load(words, PUTS);
    if ((puts & CLOSED) !== 0) return CLOSED_NOW;
    if (this.#maxsize !== 0 && between(puts, Atomics.load(words, GETS)) >= this.#maxsize) return FULL;
    this.#repairChain();
    let thread = Atomics.load(words, OVERFLOW_THREAD);
    let seq = Atomics.load(words, OVERFLOW_SEQ);
    let seg = this.#segment(thread, seq);
    let head = seg === undefined ? 0 : seg.ring.head();
    let n = seg === undefined ? 0 : writeOut(seg.ring, head, record);
    if (n === 0) {
      const next = newSegment(record.total, seg);
      const id = slabId(next.sab);
      this.#hub().post({ o: { k: this.#key, q: this.#wireState(), id, s: next.sab } });
      const old = `${thread}.${seq}`;
      [thread, seq] = id.split('.').map(Number) as [number, number];
      this.#segments.set(id, next);
      if (seg !== undefined) {
        link(seg, thread, seq);
        this.#segments.delete(old);
      }
      Atomics.store(words, OVERFLOW_THREAD, thread);
      Atomics.store(words, OVERFLOW_SEQ, seq);
      if (Atomics.load(words, OVERFLOW_HEAD_THREAD) === 0) {
        Atomics.store(words, OVERFLOW_HEAD_THREAD, thread);
        Atomics.store(words, OVERFLOW_HEAD_SEQ, seq);
      }
      seg = next;
      head = seg.ring.head();
      n = writeOut(seg.ring, head, record);
    }
    const target = seg as Segment;
    const id: [number, number] = [thread, seq];
    this.#current = { thread, seq, id, seg: target };
    const r = this.#commit(target.ring, head, n, id, halt);
    if (r === WROTE && halt === undefined) this.#wroteOverflow(target, (head + n) | 0);
    return r;
  }

  /**
   * Under the writer mutex: what a producer that died while extending the
   * chain can leave — a tail sealed but still named (its successor is the
   * tail), or a tail named with no head — made whole.
   */
  #repairChain(): void {
    const words = this.#words;
    for (;;) {
      const seg = this.#segment(Atomics.load(words, OVERFLOW_THREAD), Atomics.load(words, OVERFLOW_SEQ));
      if (seg === undefined || !sealed(seg)) break;
      const [t, q] = nextOf(seg);
      Atomics.store(words, OVERFLOW_THREAD, t);
      Atomics.store(words, OVERFLOW_SEQ, q);
    }
    if (Atomics.load(words, OVERFLOW_HEAD_THREAD) === 0 && Atomics.load(words, OVERFLOW_THREAD) !== 0) {
      Atomics.store(words, OVERFLOW_HEAD_THREAD, Atomics.load(words, OVERFLOW_THREAD));
      Atomics.store(words, OVERFLOW_HEAD_SEQ, Atomics.load(words, OVERFLOW_SEQ));
    }
  }

  /** The queue's state as it travels to the hub. */
  #wireState(): QueueState {
    const { buffer, byteOffset, registry, hub } = this.state;
    return { buffer, byteOffset, registry, hub };
  }

  /** The whole put when nothing has to wait and the record is small; false when the slow path must run. */
  #putFast(item: unknown): boolean {
    // Plain data is stringified before the mutex is taken: it keeps the critical section short, and
    // a throwing getter cannot leave the mutex held.
    let json: string | undefined;
    if (wantsJson(item)) {
      json = plainJson(item);
      if (json === undefined) return false;
    }
    const stream = this.#stream;
    if (!stream.grabWriter()) return false;
    let r = AGAIN;
    try {
      if (Atomics.load(this.#words, AT_HUB) === 0) {
        const head = this.#ring.head();
        const n = stream.stageSmall(item, json);
        if (n > 0) r = this.#commit(this.#ring, head, n, undefined);
      } else {
        // Behind records in overflow: this one goes there too, into the segment this thread knows.
        const words = this.#words;
        const cur = this.#current;
        if (
          cur !== undefined &&
          cur.thread === Atomics.load(words, OVERFLOW_THREAD) &&
          cur.seq === Atomics.load(words, OVERFLOW_SEQ)
        ) {
          const ring = cur.seg.ring;
          const head = ring.head();
          const n = writeSmall(ring, head, item, json);
          // A record the hub could not move into the ring whole goes to a slab (the slow path).
          if (n > 0 && n <= stream.inlineMax) {
            r = this.#commit(ring, head, n, cur.id);
            if (r === WROTE) this.#wroteOverflow(cur.seg, (head + n) | 0);
          }
        }
      }
    } finally {
      stream.leaveWriter();
    }
    return r === WROTE;
  }

  /** After a record went into overflow segment `seg`, ending at `end`: for joinThread, putAsync and keep-alive. */
  #wroteOverflow(seg: Segment, end: number): void {
    this.#last.end = end;
    this.#last.seg = seg;
    if (isMainThread) keepAlive(this.#last, seg, end, this.#hub());
  }

  /**
   * The put: encodes, registers shared buffers with the hub, frames a large
   * message into a slab, then waits for a slot (bounded queues) and commits
   * under the writer mutex. Returns whether the record went to overflow.
   */
  *#put(item: unknown, wait: Wait): Waiting<boolean> {
    if (this.closed) throw new QueueClosedError('put() on a closed queue');
    const stream = this.#stream;
    const out = encode(item, 'item');
    if (out.shared !== undefined) yield* this.#hub().register(out.shared);
    try {
      const end = wait.block ? deadline(wait.timeout) : 0;
      // Wait for a slot before taking a slab, so that a bounded queue's waiting put holds none.
      if (this.#maxsize !== 0 && this.#count() >= this.#maxsize) yield* this.#untilSlot(end);
      const record = yield* stream.frame(out);
      for (;;) {
        if (this.#maxsize !== 0 && this.#count() >= this.#maxsize) yield* this.#untilSlot(end);
        yield* stream.enterWriter(Number.POSITIVE_INFINITY);
        let r: number;
        let overflowed = false;
        try {
          if (stream.writer.recovered) this.#recover();
          const head = this.#ring.head();
          const n = Atomics.load(this.#words, AT_HUB) !== 0 ? 0 : stream.stage(record);
          if (n > 0) {
            r = this.#commit(this.#ring, head, n, undefined);
          } else if (!this.#hub().running() || this.#hub().dead()) {
            r = NEED_HUB;
          } else {
            r = this.#overflow(record);
            overflowed = true;
          }
        } finally {
          stream.leaveWriter();
        }
        if (r === WROTE) return overflowed;
        if (r === CLOSED_NOW) throw new QueueClosedError('put() on a closed queue');
        if (r === NEED_HUB) yield* this.#hub().ensure();
      }
    } catch (err) {
      // The hub holds the message's shared buffers for a reader that will never come.
      if (out.shared !== undefined && this.#hub().running()) this.#hub().post({ d: out.shared.ids });
      throw err;
    }
  }

  /** Waits until a bounded queue has a free slot, `end` passes (QueueFull) or it is closed (QueueClosedError). */
  *#untilSlot(end: number): Waiting<void> {
    const words = this.#words;
    for (;;) {
      if (this.closed) throw new QueueClosedError('put() on a closed queue');
      if (this.#count() < this.#maxsize) return;
      const left = remaining(end);
      if (left === 0) throw new QueueFull(`the queue is full (maxsize ${this.#maxsize})`);
      Atomics.add(words, PUTTERS_SLEEPING, 1);
      try {
        const seen = Atomics.load(words, PUT_WAKE);
        if (this.#count() < this.#maxsize || this.closed) continue;
        yield waitStep(words, PUT_WAKE, seen, Math.min(left, OWNER_CHECK_MS));
      } finally {
        Atomics.sub(words, PUTTERS_SLEEPING, 1);
      }
      this.#settleDead();
    }
  }

  /** The whole get when an item is there and the reader mutex is free; NONE otherwise. */
  #getFast(): unknown {
    const stream = this.#stream;
    if (!stream.grabReader()) return NONE;
    let v: unknown;
    try {
      v = this.#take();
    } finally {
      stream.leaveReader();
    }
    return v;
  }

  *#get(wait: Wait): Waiting<unknown> {
    const end = wait.block ? deadline(wait.timeout) : 0;
    const stream = this.#stream;
    for (;;) {
      if (yield* stream.enterReader(end)) {
        let v: unknown;
        try {
          v = this.#take();
        } finally {
          stream.leaveReader();
        }
        if (v !== NONE) return yield* stream.finish(v, RECEIVE_VALUE);
      }
      // No item is there.
      this.#settleDead();
      if (this.#drainedAndClosed()) throw new QueueClosedError('get() on a closed queue with nothing left');
      if (!wait.block || remaining(end) === 0) throw new QueueEmpty('the queue is empty');
      yield* stream.untilRecord(end, this.#getHooks);
    }
  }

  static {
    registerShareable('Queue', (state) => new Queue(state as QueueState));
    streamOf = (q) => q.#stream;
    wordsOf = (q) => q.#words;
    haltGet = (q, consumed) => {
      runSync(q.#stream.enterReader(Number.POSITIVE_INFINITY));
      if (!consumed) return;
      const words = q.#words;
      words[READ_PENDING_TAIL] = q.#ring.tail();
      words[READ_PENDING_GETS] = Atomics.load(words, GETS);
      Atomics.store(words, READ_PENDING_BY, threadToken);
      if (q.#stream.take(RECEIVE_VALUE) === NONE) throw new Error('haltMidGet: no record to consume');
    };
    haltPut = (q, item, at, viaHub) => {
      const stream = q.#stream;
      const out = encode(item, 'item');
      runSync(q.#hub().ensure());
      runSync(stream.enterWriter(Number.POSITIVE_INFINITY));
      if (viaHub) {
        q.#overflow(out, at);
        return;
      }
      const head = q.#ring.head();
      const n = stream.stage(out);
      if (n === 0) throw new Error('haltMidPut: the record does not fit the ring now');
      q.#commit(q.#ring, head, n, undefined, at);
    };
    targetOf = (q, lookup) => {
      q.#lookup = lookup;
      const words = q.#words;
      return {
        stream: q.#stream,
        recover: () => q.#recover(),
        moved: (n) => Atomics.sub(words, AT_HUB, n),
        head: () => {
          const t = Atomics.load(words, OVERFLOW_HEAD_THREAD);
          return t === 0 ? undefined : `${t}.${Atomics.load(words, OVERFLOW_HEAD_SEQ)}`;
        },
        advance: (t, n) => {
          Atomics.store(words, OVERFLOW_HEAD_THREAD, t);
          Atomics.store(words, OVERFLOW_HEAD_SEQ, n);
        },
      };
    };
  }
}

/**
 * @internal For tests and diagnostics: the ring under a queue, to observe
 * its words (`READERS_SLEEPING`, `WRITERS_SLEEPING`…) from shared memory.
 *
 * @example
 * ```ts
 * Atomics.load(queueRing(q).words, READERS_SLEEPING); // getters asleep right now
 * ```
 */
export function queueRing(q: Queue): Ring {
  return streamOf(q).ring;
}

/**
 * @internal For tests and diagnostics: the queue's header words (layout table above).
 *
 * @example
 * ```ts
 * Atomics.load(queueWords(q), AT_HUB); // records the hub holds for it
 * ```
 */
export function queueWords(q: Queue): Int32Array {
  return wordsOf(q);
}

/**
 * @internal For fault tests: does what a put of `item` does, holding the
 * writer mutex, up to `at` — its pending marks set (`before-reserve`), its
 * slot reserved (`reserved`), its record published into the ring or, with
 * `viaHub`, into the overflow chain (`published`) — and returns still
 * holding the mutex: what a thread terminated at that instant leaves behind.
 *
 * @example
 * ```ts
 * haltMidPut(q, 'x', 'reserved', false); // then block until terminated
 * ```
 */
export function haltMidPut(q: Queue, item: unknown, at: Halt, viaHub: boolean): void {
  haltPut(q, item, at, viaHub);
}

/**
 * @internal For fault tests: takes the queue's reader mutex and returns
 * holding it, as a consumer terminated in the middle of a get leaves it —
 * with `consumed`, after it consumed the next record but before `GETS`
 * counts it.
 *
 * @example
 * ```ts
 * haltMidGet(q); // then block until terminated
 * ```
 */
export function haltMidGet(q: Queue, consumed = false): void {
  haltGet(q, consumed);
}

/**
 * @internal What the hub's feeder needs of a queue (feeder.ts).
 *
 * @example
 * ```ts
 * const feeder = new FeedServer((state) => queueFeedTarget(new Queue(state as QueueState), (id) => held.get(id)), unpin);
 * ```
 */
export function queueFeedTarget(q: Queue, lookup: (id: string) => SharedArrayBuffer | undefined): FeedTarget {
  return targetOf(q, lookup);
}

function kindOf(cls: abstract new (...args: never[]) => unknown): string {
  if (cls === JoinableQueue || Object.prototype.isPrototypeOf.call(JoinableQueue, cls)) return 'JoinableQueue';
  if (cls === SimpleQueue || Object.prototype.isPrototypeOf.call(SimpleQueue, cls)) return 'SimpleQueue';
  return 'Queue';
}

/** The keys of {@link QueueOptions}; a SimpleQueue has no `maxsize`. */
const queueKeys = ['maxsize', 'capacity'] as const;
const simpleQueueKeys = ['capacity'] as const;

/** The state of a new queue from a constructor's argument (`what`: the class), or the `state` given. */
function queueState(arg: unknown, joinable: boolean, what: string): QueueState {
  if (isState(arg)) return arg;
  const simple = what === 'SimpleQueue';
  if (typeof arg === 'number' && !simple) throw positionalForm(what, arg, `{ maxsize: ${describe(arg)} }`);
  const o = checkOptions(arg, simple ? simpleQueueKeys : queueKeys, what) as { maxsize?: unknown; capacity?: unknown };
  let maxsize = o.maxsize ?? 0;
  if (maxsize === Number.POSITIVE_INFINITY) maxsize = 0;
  if (typeof maxsize !== 'number' || !Number.isInteger(maxsize) || maxsize < 0 || maxsize > MAX_MAXSIZE) {
    throw new (typeof maxsize === 'number' ? RangeError : TypeError)(
      `options.maxsize must be an integer from 0 (unbounded) to ${MAX_MAXSIZE}, or Infinity: received ${describe(maxsize)}`,
    );
  }
  const capacity = o.capacity ?? DEFAULT_CAPACITY;
  checkCapacity(capacity, 'options.capacity');
  return newState(maxsize, capacity, joinable);
}

/**
 * An unbounded queue with only `put`, `get`, `empty` and `close` in
 * Python's API — here the same engine as {@link Queue} (every Queue method
 * works).
 *
 * @example
 * ```ts
 * const q = new SimpleQueue<string>();
 * q.put('hello');
 * q.get(); // 'hello'
 * ```
 */
export class SimpleQueue<T = unknown> extends Queue<T> {
  /**
   * A new unbounded queue, or (with `state`) the one another thread made.
   *
   * @example
   * ```ts
   * new SimpleQueue({ capacity: 4096 });
   * ```
   * @throws {TypeError} on an unknown option (`maxsize` included: a SimpleQueue is unbounded), options
   *   that are not an object, a non-number `capacity`, or "invalid handle" for a foreign `state`.
   * @throws {RangeError} when `capacity` is not a power of two from 64 bytes to 1 GiB.
   */
  constructor(options?: { capacity?: number });
  constructor(state: QueueState);
  constructor(optionsOrState?: { capacity?: number } | QueueState) {
    super(optionsOrState as QueueOptions);
  }

  static {
    registerShareable('SimpleQueue', (state) => new SimpleQueue(state as QueueState));
  }
}

/**
 * A {@link Queue} that counts unfinished tasks: every put adds one, every
 * `taskDone()` removes one, and `join()` waits until none is left — Python's
 * `multiprocessing.JoinableQueue`.
 *
 * @example
 * ```ts
 * const q = new JoinableQueue<Job>();
 * for (const job of jobs) q.put(job);
 * // workers: for (;;) { const job = q.get(); run(job); q.taskDone(); }
 * await q.joinAsync(); // every job done
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /**
   * A new joinable queue, or (with `state`) the one another thread made.
   *
   * @example
   * ```ts
   * new JoinableQueue({ maxsize: 10 });
   * ```
   * @throws {TypeError|RangeError} as {@link Queue}'s constructor.
   */
  constructor(options?: QueueOptions);
  constructor(state: QueueState);
  constructor(optionsOrState?: QueueOptions | QueueState) {
    super(isState(optionsOrState) ? optionsOrState : queueState(optionsOrState, true, 'JoinableQueue'));
  }

  /**
   * Says that an item taken with `get` is processed; when every item put so
   * far is, `join()` returns.
   *
   * @example
   * ```ts
   * const job = q.get(); try { run(job); } finally { q.taskDone(); }
   * ```
   * @throws {RangeError} "task_done() called too many times" when no task is unfinished.
   * @throws {TypeError} when given an argument (it takes no options).
   */
  taskDone(...none: never[]): void {
    noOptions(none, 'JoinableQueue.taskDone()');
    this.taskDoneImpl();
  }

  /**
   * Blocks this thread until every item put has been marked done.
   *
   * @example
   * ```ts
   * q.join();
   * ```
   * @throws {TypeError} when given an argument (it takes no options: there is no timeout, as in Python).
   */
  join(...none: never[]): void {
    noOptions(none, 'JoinableQueue.join()');
    runSync(this.joinImpl());
  }

  /**
   * `join()` without blocking the event loop; keeps the process alive while it waits.
   *
   * @example
   * ```ts
   * await q.joinAsync();
   * ```
   * @throws {TypeError} (as a rejection) when given an argument (it takes no options).
   */
  async joinAsync(...none: never[]): Promise<void> {
    noOptions(none, 'JoinableQueue.joinAsync()');
    await runAsync(this.joinImpl());
  }

  static {
    registerShareable('JoinableQueue', (state) => new JoinableQueue(state as QueueState));
  }
}
