/**
 * `Queue`, `SimpleQueue`, `JoinableQueue`: Python's `multiprocessing`
 * queues over one SharedArrayBuffer — a byte ring (ring.ts) carrying
 * records (codec.ts), a producer mutex and a consumer mutex, and counters.
 *
 * Layout (Int32 words at the object's byteOffset; each group on its own
 * 64-byte line so that producers and consumers do not share written lines):
 *
 * | word                  | line | written by                         | meaning                                         |
 * |-----------------------|------|------------------------------------|-------------------------------------------------|
 * | `TAG_WORD`            | 0    | creator, once                      | {@link QUEUE_TAG}                               |
 * | `MAXSIZE`             | 0    | creator, once                      | most items at once; 0 = unbounded               |
 * | `CAPACITY`            | 0    | creator, once                      | ring bytes (a power of two)                     |
 * | `JOINABLE`            | 0    | creator, once                      | 1: puts count unfinished tasks                  |
 * | `FLAGS`               | 0    | `close()`, a thread that finds the stream broken | `CLOSED`, `BROKEN` bits             |
 * | `BROKEN_BY`           | 0    | that thread                        | token of the thread whose death broke the stream |
 * | `PUTTERS_SLEEPING`    | 0    | putters waiting for a free slot    | how many may sleep on `PUT_WAKE`                |
 * | `PUT_WAKE`            | 0    | getters (when putters sleep), `close()` | bumped to wake them                        |
 * | `JOINERS_SLEEPING`    | 0    | `join()` callers                   | how many may sleep on `UNFINISHED`              |
 * | `PUTS`                | 1    | producers                          | items ever put (wrapping)                       |
 * | `GETS`                | 2    | consumers, inside the consumer mutex | items ever taken (wrapping)                   |
 * | `UNFINISHED`          | 3    | put (+1), `taskDone()` (−1)        | JoinableQueue: items put and not yet done        |
 * | producer mutex        | 4    | a `Lock` (sync/lock.ts)            | held while one message is written               |
 * | consumer mutex        | 5    | a `Lock`                           | held while one message is read                  |
 * | ring header           | 6–8  | ring.ts                            | `HEAD`, `TAIL`, sleepers                        |
 * | data                  | 9…   | ring.ts                            | `CAPACITY` bytes                                |
 *
 * Invariants: `0 <= PUTS - GETS` is `qsize()`. A put reserves its slot
 * (`PUTS += 1`, by compare-and-swap against `MAXSIZE` when bounded) before
 * its record becomes visible, and a get counts `GETS += 1` after consuming a
 * record and *before* releasing the consumer mutex, so `GETS <= PUTS` at
 * every instant and a consumer that holds (or just held) the mutex sees
 * every earlier get — which is what makes "closed and drained" exact.
 * Messages are whole in the ring: a producer holds the producer mutex from
 * the first byte of a message to the last, a consumer holds the consumer
 * mutex likewise (the Lock algorithm, including recovery from a dead
 * holder). Hence MPMC: nothing lost, duplicated or reordered per producer.
 *
 * Blocking, as in Python: `put` waits only while a bounded queue is full
 * (`block`/`timeout` apply to that), `get` only while no message has begun
 * (`block`/`timeout` apply to that, and to the consumer mutex, as Python's
 * read lock). A message that has begun is always completed; a message larger
 * than the ring streams through it in pieces while the reader reassembles it.
 *
 * Buffering (Python's feeder thread): a put never waits for *bytes* for
 * long. A sync `put` streams its message into the ring, waiting for room
 * while the readers make progress; when the ring stays full for
 * {@link SPILL_AFTER_MS} without progress (or the producer mutex stays busy
 * that long), the rest of the message goes to a per-thread FIFO — the
 * *spill* — and put returns. A later put from that thread appends to the
 * spill while it is not empty (per-producer order). A `putAsync` that
 * cannot write at once joins the spill too and resolves when its message is
 * in the ring — or at once, with the message buffered, when the spill has
 * made no progress for {@link SPILL_AFTER_MS} — which gives backpressure
 * while someone reads, and never deadlocks a lone producer. The spill is
 * flushed on every put and get of this queue in that thread, by an async
 * flusher that waits on the ring and keeps the process alive until the spill
 * is empty (as Python keeps a process alive until its feeder has flushed),
 * and by `joinThread()` (Python's `join_thread()`), which blocks until it
 * is. So an unbounded `put` never blocks for long and never throws
 * `QueueFull`, and one thread can put more than the ring holds and then get
 * it all back. Caveat: a thread that blocks on something else forever with
 * data in its spill never flushes it (Python's feeder thread would) — and a
 * Pool worker's event loop is blocked between tasks (piscina's `atomics:
 * 'sync'`), so a task that may have buffered calls `joinThread()` before it
 * returns.
 *
 * A thread that dies holding a mutex: the Lock gives the mutex to another
 * thread. If the dead thread was between messages, nothing is lost. If it
 * died half-way through *reading* a message (`READER`, `READ_END` in the
 * ring), the next consumer discards the rest of that message and counts it
 * as taken (a warning reports the loss). If it died half-way through
 * *writing* one (`WRITER`, `WRITE_END`), the stream cannot be
 * resynchronised: the queue is marked broken, and every later call throws
 * `QueueClosedError` saying so. Messages still in a dead thread's spill are
 * lost, and `qsize()` keeps counting them.
 *
 * @module
 */

import { checkBoolean, checkOptions, describe, noOptions, positionalForm } from '../check.js';
import { QueueClosedError, QueueEmpty, QueueFull } from '../errors.js';
import { allocate, attach, SharedObject, type SharedState } from '../shared-object.js';
import { LOCK_TAG, Lock } from '../sync/lock.js';
import { adoptRegistry, OWNER_CHECK_MS, threadToken } from '../sync/owners.js';
import { checkTimeout, deadline, remaining } from '../sync/wait.js';
import { threadGlobal } from '../thread-global.js';
import { registerShareable } from '../transfer.js';
import {
  DEFERRED,
  decodePayload,
  encode,
  KIND_SHARED,
  type Outgoing,
  own,
  PARTIAL,
  plainJson,
  readHead,
  readRecord,
  readSmall,
  takeDeferred,
  wantsJson,
  writeRecord,
  writeSmall,
  writeSome,
} from './codec.js';
import { adoptHubBlock, currentHubBlock, Hub, knownDead, unpackShared } from './oob.js';
import {
  checkCapacity,
  DEFAULT_CAPACITY,
  HEAD,
  READ_END,
  READER,
  RING_HEADER_WORDS,
  Ring,
  type RingHooks,
  runAsync,
  runSync,
  type Waiting,
  WRITE_END,
  WRITER,
  waitStep,
} from './ring.js';

const LINE = 16;
const MAXSIZE = 1;
const CAPACITY = 2;
const JOINABLE = 3;
const FLAGS = 4;
const BROKEN_BY = 5;
/** @internal Putters asleep on a full queue (see the layout table). */
export const PUTTERS_SLEEPING = 6;
const PUT_WAKE = 7;
const JOINERS_SLEEPING = 8;
const PUTS = LINE;
const GETS = 2 * LINE;
const UNFINISHED = 3 * LINE;
const PRODUCER_LOCK = 4 * LINE;
const CONSUMER_LOCK = 5 * LINE;
const RING = 6 * LINE;
const HEADER_WORDS = RING + RING_HEADER_WORDS;
const DATA_BYTES = HEADER_WORDS * Int32Array.BYTES_PER_ELEMENT;

const CLOSED = 1;
const BROKEN = 2;

/** Type tag of a queue's memory. */
export const QUEUE_TAG = 0x43505175; // 'CPQu'
/** Largest `maxsize`. */
const MAX_MAXSIZE = 0x7fffffff;
/**
 * How long a put waits for room in the ring (or for the producer mutex)
 * without progress before it buffers the rest of its message in the spill.
 */
export const SPILL_AFTER_MS = 50;

const NO_WAIT = { blocking: false } as const;
/** Set by Queue's static block: reads the private ring (see {@link queueRing}). */
let ringOf: (q: Queue) => Ring;
let wordsOf: (q: Queue) => Int32Array;
const NONE: unique symbol = Symbol('none');

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

/** A message in a spill. */
interface Pending {
  readonly out: Outgoing;
  /** `putAsync`'s caller: settled when the message is in the ring, or buffered for good. */
  settle: ((err?: unknown) => void) | undefined;
}

/** Messages a thread could not write yet, oldest first (see the module comment). */
interface Spill {
  items: Pending[];
  /** Index of the oldest item in `items`. */
  first: number;
  /** Bytes of the oldest item already in the ring. */
  written: number;
  /** This thread holds the producer mutex, half-way through the oldest item (iff `written > 0`). */
  holding: boolean;
  /** The async flusher, while it runs. */
  flushing: Promise<void> | undefined;
  /** When the spill last moved bytes into the ring, or last became non-empty (`performance.now()`). */
  progress: number;
}

const spills = threadGlobal('corepool.queue.spills', () => new WeakMap<SharedArrayBuffer, Map<number, Spill>>());

/**
 * This thread's spills that hold messages, with how to pump each. A thread
 * blocked in any queue operation keeps flushing them all, polling every
 * {@link SPILL_POLL_MS} — so that `put` on one queue then a blocking `get`
 * on another (or `join()`) does not strand what the put buffered.
 */
const active = threadGlobal('corepool.queue.activeSpills', () => new Map<Spill, () => boolean>());

/** How often a blocked thread with buffered messages looks at the rings again. */
const SPILL_POLL_MS = 5;

/** Pumps every spill of this thread; true when any moved bytes. */
function pumpAll(): boolean {
  let progress = false;
  for (const pump of [...active.values()]) if (pump()) progress = true;
  return progress;
}

/** The longest sleep of a blocked thread: short while it has buffered messages to flush. */
function sleepSlice(ms: number): number {
  return active.size === 0 ? ms : Math.min(ms, SPILL_POLL_MS);
}

function spillOf(state: SharedState): Spill {
  let byOffset = spills.get(state.buffer);
  if (byOffset === undefined) {
    byOffset = new Map();
    spills.set(state.buffer, byOffset);
  }
  let spill = byOffset.get(state.byteOffset);
  if (spill === undefined) {
    spill = { items: [], first: 0, written: 0, holding: false, flushing: undefined, progress: 0 };
    byOffset.set(state.byteOffset, spill);
  }
  return spill;
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
  words[PRODUCER_LOCK] = LOCK_TAG;
  words[CONSUMER_LOCK] = LOCK_TAG;
  // The header is published to other threads by whatever carries the queue there (postMessage orders it).
  Atomics.store(words, FLAGS, 0);
  return { ...base, hub: currentHubBlock() };
}

/**
 * A multi-producer, multi-consumer FIFO queue in shared memory usable from
 * any thread — Python's `multiprocessing.Queue`. Items are any
 * structured-cloneable value of any size (a message larger than the ring
 * streams through it), with fast paths for numbers, strings, typed arrays
 * and small plain objects; shared objects inside items (a `Lock`, another
 * `Queue`, a `SharedArray`…) arrive working.
 *
 * `put`/`get` block the calling thread (`Atomics.wait`; for workers and
 * scripts), `putAsync`/`getAsync` never block the event loop. See the module
 * comment for buffering and for what happens when a thread dies mid-message.
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
  readonly #ring: Ring;
  readonly #producer: Lock;
  readonly #consumer: Lock;
  readonly #registry: Int32Array;
  readonly #maxsize: number;
  readonly #joinable: boolean;
  readonly #spill: Spill;
  #hubHandle: Hub | undefined;
  readonly #size = { n: 0 };
  /** Waiting for a message to begin: stop when closed and drained, flush our spill before sleeping. */
  readonly #startHooks: RingHooks;
  /** Waiting inside a message: detect a dead writer. */
  readonly #midHooks: RingHooks;
  /** A put waiting for room. */
  readonly #writeHooks: RingHooks;
  /** `#pump` bound to this instance, for {@link active}. */
  readonly #pumpBound: () => boolean;

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
    const lockState = (word: number): SharedState => ({
      buffer: state.buffer,
      byteOffset: state.byteOffset + word * Int32Array.BYTES_PER_ELEMENT,
      registry: state.registry,
    });
    this.#producer = new Lock(lockState(PRODUCER_LOCK));
    this.#consumer = new Lock(lockState(CONSUMER_LOCK));
    this.#ring = new Ring(
      state.buffer,
      state.byteOffset + RING * Int32Array.BYTES_PER_ELEMENT,
      state.byteOffset + DATA_BYTES,
      capacity,
    );
    this.#maxsize = Atomics.load(words, MAXSIZE);
    this.#joinable = Atomics.load(words, JOINABLE) === 1;
    this.#spill = spillOf(state);
    this.#startHooks = {
      stop: () => (Atomics.load(this.#words, FLAGS) & BROKEN) !== 0 || this.#drainedAndClosed(),
      beforeSleep: pumpAll,
      get sliceMs() {
        return active.size === 0 ? undefined : SPILL_POLL_MS;
      },
    };
    this.#midHooks = {
      beforeSleep: pumpAll,
      check: () => this.#checkWriter(),
      get sliceMs() {
        return sleepSlice(OWNER_CHECK_MS);
      },
    };
    this.#pumpBound = () => this.#pump();
    this.#writeHooks = {
      stop: () => (Atomics.load(this.#words, FLAGS) & BROKEN) !== 0,
    };
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
    return (Atomics.load(this.#words, FLAGS) & CLOSED) !== 0;
  }

  /**
   * Puts `item` at the end of the queue. Blocks this thread while a bounded
   * queue is full (`block: false` throws at once, `timeout` bounds the
   * wait); never blocks on an unbounded queue.
   *
   * @example
   * ```ts
   * q.put({ id: 1, name: 'a' });
   * q.put(bytes, { timeout: 100 }); // QueueFull after 100 ms if still full
   * ```
   * @throws {QueueFull} when a bounded queue stays full.
   * @throws {QueueClosedError} after `close()`, or when the queue is broken.
   * @throws {DataCloneError} naming the part of `item` that cannot cross threads.
   * @throws {TypeError} before any waiting, on an unknown option (`options.blok is not a Queue.put()
   *   option`), options that are not an object (Python's `put(item, false)` included: write
   *   `{ block: false }`), a non-boolean `block`, a non-number `timeout` or a further argument.
   * @throws {RangeError} when `timeout` is negative or NaN.
   */
  put(item: T, options?: PutOptions, none?: never): void {
    const wait = waitOptions(options, none === undefined ? noExtra : [none], 'Queue.put');
    if (this.#putFast(item)) return;
    runSync(this.#commit(runSync(this.#reserve(item, wait))));
  }

  /**
   * `put` without blocking the event loop: waits for a free slot with
   * `Atomics.waitAsync`, keeping the process alive meanwhile.
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
    await this.#commitAsync(await runAsync(this.#reserve(item, wait)));
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
    runSync(this.#commit(runSync(this.#reserve(item, DONT_BLOCK))));
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
   * @throws {QueueClosedError} when the queue is closed and drained, or broken.
   * @throws {TypeError} before any waiting, on an unknown option (`options.blok is not a Queue.get()
   *   option`), options that are not an object (Python's `get(false)` included: write
   *   `{ block: false }`), a non-boolean `block`, a non-number `timeout` or a further argument.
   * @throws {RangeError} when `timeout` is negative or NaN.
   */
  get(options?: GetOptions, none?: never): T {
    const wait = waitOptions(options, none === undefined ? noExtra : [none], 'Queue.get');
    const v = this.#getFast();
    if (v === NONE) return runSync(this.#get(wait)) as T;
    if (v === DEFERRED) return this.#finishDeferred(false) as T;
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
    if (v === DEFERRED) return (await this.#finishDeferred(true)) as T;
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
    if (v === DEFERRED) return this.#finishDeferred(false) as T;
    return v as T;
  }

  /**
   * Items put and not yet taken (including items still buffered by a
   * producer thread, as Python counts them).
   *
   * @example
   * ```ts
   * q.put(1); q.put(2); q.qsize(); // 2
   * ```
   */
  qsize(): number {
    return Math.max(0, (Atomics.load(this.#words, PUTS) - Atomics.load(this.#words, GETS)) | 0);
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
   * getters and putters wake up. Items already put (even still buffered) are
   * delivered. Idempotent.
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
    Atomics.or(this.#words, FLAGS, CLOSED);
    this.#wakeEveryone();
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
        if (err instanceof QueueClosedError && (Atomics.load(this.#words, FLAGS) & BROKEN) === 0) return;
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
      const u = Atomics.load(words, UNFINISHED);
      if (u <= 0) throw new RangeError('task_done() called too many times');
      if (Atomics.compareExchange(words, UNFINISHED, u, u - 1) === u) {
        if (u === 1 && Atomics.load(words, JOINERS_SLEEPING) !== 0) Atomics.notify(words, UNFINISHED);
        return;
      }
    }
  }

  /** @internal */
  protected *joinImpl(): Waiting<void> {
    const words = this.#words;
    for (;;) {
      if (Atomics.load(words, UNFINISHED) === 0) return;
      if (pumpAll()) continue;
      Atomics.add(words, JOINERS_SLEEPING, 1);
      try {
        const u = Atomics.load(words, UNFINISHED);
        if (u === 0) return;
        yield waitStep(words, UNFINISHED, u, sleepSlice(Number.POSITIVE_INFINITY));
      } finally {
        Atomics.sub(words, JOINERS_SLEEPING, 1);
      }
    }
  }

  // ---- internals ----

  #hub(): Hub {
    this.#hubHandle ??= Hub.of(this.state.hub, this.#registry);
    return this.#hubHandle;
  }

  #drainedAndClosed(): boolean {
    return (Atomics.load(this.#words, FLAGS) & CLOSED) !== 0 && this.qsize() === 0;
  }

  #wakeEveryone(): void {
    Atomics.add(this.#words, PUT_WAKE, 1);
    Atomics.notify(this.#words, PUT_WAKE);
    this.#ring.wakeAll();
  }

  #brokenError(): QueueClosedError {
    const by = Atomics.load(this.#words, BROKEN_BY) - 1;
    return new QueueClosedError(
      `the queue is broken: thread ${by} died in the middle of writing a message, which cannot be recovered; create a new queue`,
    );
  }

  #markBroken(deadToken: number): never {
    if ((Atomics.or(this.#words, FLAGS, BROKEN) & BROKEN) === 0) Atomics.store(this.#words, BROKEN_BY, deadToken);
    this.#wakeEveryone();
    throw this.#brokenError();
  }

  /** Throws when the queue is closed (for puts) or broken. */
  #checkOpen(): void {
    const flags = Atomics.load(this.#words, FLAGS);
    if (flags === 0) return;
    if ((flags & BROKEN) !== 0) throw this.#brokenError();
    throw new QueueClosedError('put() on a closed queue');
  }

  /** Mid-message check: the writer of the message being read is dead, or the queue broke. */
  #checkWriter(): void {
    if ((Atomics.load(this.#words, FLAGS) & BROKEN) !== 0) throw this.#brokenError();
    const writer = Atomics.load(this.#ring.words, WRITER);
    if (writer !== 0 && writer !== threadToken && knownDead(this.#registry, writer)) this.#markBroken(writer);
  }

  /** After taking the producer mutex: a previous holder that died mid-message broke the stream. */
  #tookProducer(): void {
    const rw = this.#ring.words;
    const writer = Atomics.load(rw, WRITER);
    if (writer !== 0) {
      if (Atomics.load(rw, HEAD) !== Atomics.load(rw, WRITE_END)) {
        this.#producer.release();
        this.#markBroken(writer);
      }
      Atomics.store(rw, WRITER, 0); // its writer finished the message, then died before clearing this
    }
    if ((Atomics.load(this.#words, FLAGS) & BROKEN) !== 0) {
      this.#producer.release();
      throw this.#brokenError();
    }
  }

  #reserveSlot(): boolean {
    const words = this.#words;
    if (this.#maxsize === 0) {
      Atomics.add(words, PUTS, 1);
      return true;
    }
    for (;;) {
      const puts = Atomics.load(words, PUTS);
      const gets = Atomics.load(words, GETS);
      if (((puts - gets) | 0) >= this.#maxsize) return false;
      if (Atomics.compareExchange(words, PUTS, puts, (puts + 1) | 0) === puts) return true;
    }
  }

  /** Undoes a reservation whose message could not be sent. */
  #unreserve(): void {
    Atomics.sub(this.#words, PUTS, 1);
    if (this.#joinable) Atomics.sub(this.#words, UNFINISHED, 1);
    this.#wakeEveryone();
  }

  /** The whole put when nothing has to wait; false when the slow path must run. */
  #putFast(item: unknown): boolean {
    if (Atomics.load(this.#words, FLAGS) !== 0 || this.#spill.items.length !== 0) return false;
    // Plain data is stringified before the mutex is taken: it keeps the critical section short, and
    // a throwing getter cannot leave the mutex held.
    let json: string | undefined;
    if (wantsJson(item)) {
      json = plainJson(item);
      if (json === undefined) return false;
    }
    if (!this.#producer.acquire(NO_WAIT)) return false;
    const ring = this.#ring;
    if (Atomics.load(ring.words, WRITER) !== 0) {
      this.#producer.release();
      return false;
    }
    const head = ring.head();
    const n = writeSmall(ring, head, item, json);
    if (n === 0 || !this.#reserveSlot()) {
      this.#producer.release();
      return false;
    }
    if (this.#joinable) Atomics.add(this.#words, UNFINISHED, 1);
    ring.publish(head + n);
    this.#producer.release();
    return true;
  }

  /** Checks, encodes, reserves a slot (waiting as `wait` says) and registers shared buffers: all but the writing. */
  *#reserve(item: unknown, wait: Wait): Waiting<Outgoing> {
    this.#checkOpen();
    const out = encode(item, 'item');
    const words = this.#words;
    if (!this.#reserveSlot()) {
      const end = wait.block ? deadline(wait.timeout) : 0;
      for (;;) {
        this.#checkOpen();
        if (this.#reserveSlot()) break;
        const left = remaining(end);
        if (left === 0) throw new QueueFull(`the queue is full (maxsize ${this.#maxsize})`);
        if (pumpAll()) continue;
        Atomics.add(words, PUTTERS_SLEEPING, 1);
        try {
          const seen = Atomics.load(words, PUT_WAKE);
          if (this.qsize() < this.#maxsize || Atomics.load(words, FLAGS) !== 0) continue;
          yield waitStep(words, PUT_WAKE, seen, sleepSlice(left));
        } finally {
          Atomics.sub(words, PUTTERS_SLEEPING, 1);
        }
      }
    }
    if (this.#joinable) Atomics.add(words, UNFINISHED, 1);
    if (out.shared !== undefined) {
      try {
        yield* this.#hub().register(out.shared);
      } catch (err) {
        this.#unreserve();
        throw err;
      }
    }
    return out;
  }

  /**
   * Sync put: writes a reserved message now (streaming it, waiting for room
   * while the readers make progress), or buffers (the rest of) it in this
   * thread's spill.
   */
  *#commit(out: Outgoing): Waiting<void> {
    const spill = this.#spill;
    if (spill.first < spill.items.length) this.#pump();
    if (spill.first === spill.items.length) {
      let have = this.#producer.acquire(NO_WAIT);
      if (!have) have = (yield { lock: this.#producer, timeout: SPILL_AFTER_MS }) as boolean;
      if (have) {
        this.#tookProducer();
        let written: number;
        try {
          written = yield* writeRecord(this.#ring, out, 0, threadToken, SPILL_AFTER_MS, this.#writeHooks);
        } catch (err) {
          this.#producer.release();
          throw err;
        }
        if (written === out.total) {
          this.#producer.release();
          return;
        }
        if (written === 0) {
          this.#producer.release();
        } else {
          spill.written = written;
          spill.holding = true;
        }
      }
    }
    if (spill.first === spill.items.length) spill.progress = performance.now();
    spill.items.push({ out: own(out), settle: undefined });
    active.set(spill, this.#pumpBound);
    this.#flushLater();
  }

  /**
   * Async put: the message joins this thread's spill (so that it keeps its
   * place among this thread's messages) and the promise settles once it is
   * in the ring — or, when the readers make no progress for
   * {@link SPILL_AFTER_MS}, once it is buffered for good.
   */
  #commitAsync(out: Outgoing): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: unknown): void => (err === undefined ? resolve() : reject(err));
      const spill = this.#spill;
      if (spill.first === spill.items.length) spill.progress = performance.now();
      spill.items.push({ out, settle });
      active.set(spill, this.#pumpBound);
      this.#pump();
      // A spill that has been stuck for a while takes this message at once, as a sync put would.
      this.#settleStale();
      this.#flushLater();
    });
  }

  /**
   * Flushes this thread's spill as far as the ring allows, without waiting.
   * True when it wrote something.
   */
  #pump(): boolean {
    const spill = this.#spill;
    let progress = false;
    try {
      while (spill.first < spill.items.length) {
        if ((Atomics.load(this.#words, FLAGS) & BROKEN) !== 0) throw this.#brokenError();
        if (!spill.holding) {
          if (!this.#producer.acquire(NO_WAIT)) break;
          this.#tookProducer();
          spill.holding = true;
        }
        const pending = spill.items[spill.first] as Pending;
        const before = spill.written;
        spill.written = writeSome(this.#ring, pending.out, before, threadToken);
        if (spill.written > before) progress = true;
        if (spill.written === pending.out.total) {
          spill.items[spill.first++] = undefined as never;
          spill.written = 0;
          spill.holding = false;
          this.#producer.release();
          pending.settle?.();
          continue;
        }
        if (spill.written === 0) {
          spill.holding = false;
          this.#producer.release();
        }
        break;
      }
    } catch (err) {
      this.#dropSpill(err);
      return false;
    }
    if (progress) spill.progress = performance.now();
    if (spill.first === spill.items.length) {
      spill.items = [];
      spill.first = 0;
      active.delete(spill);
    } else if (spill.first > 1024 && spill.first * 2 > spill.items.length) {
      spill.items = spill.items.slice(spill.first);
      spill.first = 0;
    }
    return progress;
  }

  /** Forgets this thread's spill (the queue broke): its async putters are rejected with `err`. */
  #dropSpill(err: unknown): void {
    const spill = this.#spill;
    if (spill.holding) this.#producer.release();
    const items = spill.items.slice(spill.first);
    spill.items = [];
    spill.first = 0;
    active.delete(spill);
    spill.written = 0;
    spill.holding = false;
    const silent = items.filter((p) => p.settle === undefined).length;
    for (const p of items) p.settle?.(err);
    if (silent > 0) {
      process.emitWarning(`a Queue lost ${silent} buffered message(s): ${(err as Error).message}`, {
        type: 'CorepoolWarning',
        code: 'ERR_COREPOOL_QUEUE_LOST',
      });
    }
  }

  /**
   * Lets go of the async putters once the spill made no progress for
   * {@link SPILL_AFTER_MS}: their messages stay buffered (owned now).
   */
  #settleStale(): void {
    const spill = this.#spill;
    const now = performance.now();
    for (let i = spill.first; i < spill.items.length; i++) {
      const p = spill.items[i] as Pending;
      if (p.settle !== undefined && now - spill.progress >= SPILL_AFTER_MS) {
        own(p.out);
        const settle = p.settle;
        p.settle = undefined;
        settle();
      }
    }
  }

  /** Flushes this thread's spill completely, waiting for room or for the producer mutex. */
  *#flushAll(): Waiting<void> {
    const spill = this.#spill;
    const ring = this.#ring;
    while (spill.first < spill.items.length) {
      if (this.#pump()) continue;
      this.#settleStale();
      if (spill.first >= spill.items.length) break;
      if (spill.holding) {
        const out = (spill.items[spill.first] as Pending).out;
        const want = Math.max(8, Math.min(out.total - spill.written, ring.capacity >>> 2));
        yield* ring.untilWritable(want, deadline(OWNER_CHECK_MS), this.#writeHooks);
      } else if ((yield { lock: this.#producer, timeout: OWNER_CHECK_MS }) as boolean) {
        if (spill.first < spill.items.length && !spill.holding) {
          this.#tookProducer();
          spill.holding = true;
        } else {
          this.#producer.release(); // a put or get of this thread flushed it meanwhile
        }
      }
    }
  }

  /** Starts the async flusher of this thread's spill unless it runs. */
  #flushLater(): void {
    const spill = this.#spill;
    if (spill.flushing !== undefined || spill.first === spill.items.length) return;
    spill.flushing = runAsync(this.#flushAll())
      .catch((err: unknown) => this.#dropSpill(err))
      .finally(() => {
        spill.flushing = undefined;
        this.#flushLater();
      });
  }

  /**
   * Blocks until everything this thread put on this queue is in the ring
   * (Python's `join_thread()`): what a worker calls before it hands control
   * to something that blocks its event loop. Blocks for good when nobody
   * reads and the ring cannot take it all.
   *
   * @example
   * ```ts
   * for (const r of results) q.put(r);
   * q.joinThread(); // every result is in the queue's memory now
   * ```
   * @throws {QueueClosedError} when the queue is broken.
   * @throws {TypeError} when given an argument (it takes no options).
   */
  joinThread(...none: never[]): void {
    noOptions(none, 'Queue.joinThread()');
    runSync(this.#flushAll());
    if (this.#spill.first < this.#spill.items.length) throw this.#brokenError();
  }

  /**
   * `joinThread()` without blocking the event loop.
   *
   * @example
   * ```ts
   * await q.joinThreadAsync();
   * ```
   * @throws {QueueClosedError} (as a rejection) when the queue is broken.
   * @throws {TypeError} (as a rejection) when given an argument (it takes no options).
   */
  async joinThreadAsync(...none: never[]): Promise<void> {
    noOptions(none, 'Queue.joinThreadAsync()');
    await runAsync(this.#flushAll());
    if (this.#spill.first < this.#spill.items.length) throw this.#brokenError();
  }

  /** After a get: count it and wake putters waiting for a slot. Called inside the consumer mutex. */
  #tookOne(): void {
    Atomics.add(this.#words, GETS, 1);
    if (this.#maxsize !== 0 && Atomics.load(this.#words, PUTTERS_SLEEPING) !== 0) {
      Atomics.add(this.#words, PUT_WAKE, 1);
      Atomics.notify(this.#words, PUT_WAKE);
    }
  }

  /** The whole get when a complete record is there and nothing has to wait; NONE otherwise. */
  #getFast(): unknown {
    if (active.size !== 0) pumpAll();
    const consumer = this.#consumer;
    if (!consumer.acquire(NO_WAIT)) return NONE;
    const ring = this.#ring;
    const tail = ring.tail();
    const avail = ring.readable(tail, 8);
    if (avail < 8 || Atomics.load(ring.words, READER) !== 0) {
      consumer.release();
      return NONE;
    }
    let v: unknown;
    try {
      v = readSmall(ring, tail, avail, this.#size);
    } catch (err) {
      consumer.release();
      throw err;
    }
    if (v === PARTIAL) {
      consumer.release();
      return NONE;
    }
    ring.consume(tail + this.#size.n);
    this.#tookOne();
    consumer.release();
    return v;
  }

  *#get(wait: Wait): Waiting<unknown> {
    const end = wait.block ? deadline(wait.timeout) : 0;
    const ring = this.#ring;
    const consumer = this.#consumer;
    for (;;) {
      if ((Atomics.load(this.#words, FLAGS) & BROKEN) !== 0) throw this.#brokenError();
      if (active.size !== 0) pumpAll();
      let have = consumer.acquire(NO_WAIT);
      while (!have) {
        // The holder may be reading a message whose rest is in one of this thread's spills: keep pumping.
        const left = remaining(end);
        if (left === 0) break;
        if (pumpAll()) {
          have = consumer.acquire(NO_WAIT);
          continue;
        }
        const slice = sleepSlice(left);
        have = (yield { lock: consumer, timeout: slice === Number.POSITIVE_INFINITY ? undefined : slice }) as boolean;
      }
      if (have) {
        let kind = 0;
        let sub = 0;
        let word0 = 0;
        let payload: Buffer | undefined;
        let value: unknown = NONE;
        try {
          if (Atomics.load(ring.words, READER) !== 0 && ring.tail() !== Atomics.load(ring.words, READ_END)) {
            yield* this.#discard();
          }
          const tail = ring.tail();
          const avail = ring.readable(tail, 8);
          if (avail >= 8) {
            value = readSmall(ring, tail, avail, this.#size);
            if (value !== PARTIAL) {
              ring.consume(tail + this.#size.n);
            } else {
              const head = readHead(ring, tail);
              ({ kind, sub, word0 } = head);
              payload = yield* readRecord(ring, tail, head, threadToken, this.#midHooks);
            }
            this.#tookOne();
          }
        } finally {
          consumer.release();
        }
        if (value === DEFERRED) return yield* this.#finish(KIND_DEFERRED, 0, 0, undefined);
        if (value === PARTIAL) return yield* this.#finish(kind, sub, word0, payload);
        if (value !== NONE) return value;
      }
      // No message has begun.
      if ((Atomics.load(this.#words, FLAGS) & BROKEN) !== 0) throw this.#brokenError();
      if (this.#drainedAndClosed()) throw new QueueClosedError('get() on a closed queue with nothing left');
      if (!wait.block || remaining(end) === 0) throw new QueueEmpty('the queue is empty');
      yield* ring.untilReadable(8, end, this.#startHooks);
    }
  }

  /** The value of the record {@link readSmall} deferred, decoded without a generator unless it holds shared objects. */
  #finishDeferred(async: boolean): unknown {
    const [kind, data] = takeDeferred();
    if (kind !== KIND_SHARED) return decodePayload(kind, 0, 0, data);
    const g = unpackShared(data as Uint8Array, this.#hub());
    return async ? runAsync(g) : runSync(g);
  }

  /** The value of a record whose payload was taken out of the ring (deferred, or streamed). */
  *#finish(kind: number, sub: number, word0: number, payload: Buffer | undefined): Waiting<unknown> {
    let data: Uint8Array | string;
    if (kind === KIND_DEFERRED) {
      [kind, data] = takeDeferred();
    } else {
      data = payload as Buffer;
    }
    if (kind === KIND_SHARED) return yield* unpackShared(data as Uint8Array, this.#hub());
    return decodePayload(kind, sub, word0, data);
  }

  /** Discards the rest of a message whose reader died half-way, and counts it as taken. */
  *#discard(): Waiting<void> {
    const ring = this.#ring;
    const dead = Atomics.load(ring.words, READER);
    const end = Atomics.load(ring.words, READ_END);
    for (;;) {
      const tail = ring.tail();
      const left = (end - tail) >>> 0;
      if (left === 0) break;
      let avail = ring.readable(tail, 1);
      if (avail === 0) avail = yield* ring.untilReadable(1, Number.POSITIVE_INFINITY, this.#midHooks);
      ring.consume(tail + Math.min(avail, left));
    }
    Atomics.store(ring.words, READER, 0);
    Atomics.add(this.#words, GETS, 1);
    process.emitWarning(
      `a Queue message was lost: thread ${dead - 1} died in the middle of reading it; thread ${threadToken - 1} discarded the rest`,
      { type: 'CorepoolWarning', code: 'ERR_COREPOOL_QUEUE_LOST' },
    );
  }

  static {
    registerShareable('Queue', (state) => new Queue(state as QueueState));
    ringOf = (q) => q.#ring;
    wordsOf = (q) => q.#words;
  }
}

/**
 * @internal For tests and diagnostics: the ring under a queue, to observe
 * its words (`READERS_SLEEPING`, `READER`…) from shared memory.
 *
 * @example
 * ```ts
 * Atomics.load(queueRing(q).words, READERS_SLEEPING); // getters asleep right now
 * ```
 */
export function queueRing(q: Queue): Ring {
  return ringOf(q);
}

/**
 * @internal For tests and diagnostics: the queue's header words (layout table above).
 *
 * @example
 * ```ts
 * Atomics.load(queueWords(q), PUTTERS_SLEEPING); // putters asleep right now
 * ```
 */
export function queueWords(q: Queue): Int32Array {
  return wordsOf(q);
}

/** `#finish` kind for "the payload readSmall deferred". */
const KIND_DEFERRED = -1;

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
