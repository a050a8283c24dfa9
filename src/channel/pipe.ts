/**
 * `Pipe()` and `Connection`: Python's `multiprocessing.Pipe` over one
 * SharedArrayBuffer — per direction a byte ring (ring.ts) carrying records
 * (codec.ts), a writer mutex and a reader mutex — plus, per end, a count of
 * the open handles on that end and a table of the threads holding them.
 *
 * Ends and directions: end 0 is `a`, end 1 is `b`. End `e` writes into
 * direction `e` and reads direction `1 - e`. A one-way pipe (`duplex: false`)
 * has only direction 1: `a` receives, `b` sends, as in Python.
 *
 * Layout (Int32 words; each group on its own 64-byte line):
 *
 * | word                 | line  | written by                         | meaning                                        |
 * |----------------------|-------|------------------------------------|------------------------------------------------|
 * | `TAG_WORD`           | 0     | creator, once                      | {@link PIPE_TAG}                               |
 * | `DUPLEX`             | 0     | creator, once                      | 1: both directions; 0: direction 1 only        |
 * | `CAPACITY`           | 0     | creator, once                      | ring bytes per direction (a power of two)      |
 * | `FLAGS`              | 0     | a thread that finds a stream broken | per direction d: bit `2d` no more writes, bit `2d+1` no more reads |
 * | `BROKEN_BY + d`      | 0     | that thread                        | token of the writer whose death broke direction d |
 * | `TICKETS`            | 0     | lenders                            | counter numbering lent handles                 |
 * | `ID_THREAD`, `ID_SEQ`| 0     | creator, once                      | the pipe's identity (creator token, counter)   |
 * | `OPEN` of end e      | 1+4e  | openers (+1), closers and reapers (−1) | open handles on end e                     |
 * | `SLOT0 + i` of end e | 1+4e… | holders (CAS)                      | 0 free; else a holder word (below)             |
 * | writer mutex of d    | 9+5d  | a `Lock` (sync/lock.ts)            | held while one message is written              |
 * | reader mutex of d    | 10+5d | a `Lock`                           | held while one message is read                 |
 * | ring header of d     | 11+5d…| ring.ts                            | `HEAD`, `TAIL`, sleepers                       |
 * | data of d            | after | ring.ts                            | `CAPACITY` bytes per existing direction        |
 *
 * Handles (Python's file descriptors): every thread that holds an end holds
 * one *handle* on it — made by `Pipe()` in the creating thread, or when the
 * end is revived in another thread (a second copy arriving in a thread that
 * has the end open is the same object). `close()` closes this thread's
 * handle. A holder word is `token | seq << 22`: the holder's thread token
 * (sync/owners.ts) in the low 22 bits, and, for a handle *lent* to a message
 * in flight, a nonzero sequence number above. Invariant: `OPEN` = holder
 * words in the table + handles that found no room there (untracked). It is
 * kept by always adding to `OPEN` *before* a holder word appears, and taking
 * from it only after the one compare-and-swap that removes a word (or by the
 * owner of an untracked handle): a handle is released exactly once.
 *
 * EOF: a reader of direction d throws `EOFError` when `OPEN` of the writing
 * end is 0 and the ring holds no byte. It loads `OPEN` *before* `HEAD`; a
 * writer publishes `HEAD` before it closes — so the last messages are always
 * read before EOF. The close that brings `OPEN` to 0 wakes every sleeper of
 * both rings (`Ring.wakeAll`).
 *
 * Dead threads close their handles: any thread that finds a holder word whose
 * token is dead (`isDead`) removes it by compare-and-swap and releases the
 * handle. Waiting readers and writers wake every `OWNER_CHECK_MS` to look
 * (the `sliceMs` of their ring waits). Same limit as locks: the news of a
 * worker's death reaches the thread that created it through its event loop,
 * so that thread should wait with the async forms for its own workers.
 *
 * Lent handles (why sending an end counts a handle at once): in Python's
 * idiom `p.start(); b.close(); a.recv()` the child's copy of `b` must already
 * count when the parent closes its own, or `a.recv()` would see EOF before
 * the child has even started. So each time an end is serialized — `prepare()`
 * calls `[kShare]()` (task and Process arguments, messages), and plain
 * structured clone (`workerData`, `postMessage`) reads the enumerable
 * `ticket` getter of its state — the sending thread adds a handle *lent* to
 * the message: a holder word with the sender's token and a sequence number,
 * whose `ticket` travels in the state. The receiving thread's revive claims
 * it by compare-and-swapping that word to its own token (no count changes),
 * or gives it back when it already holds the end. A ticket that is never
 * claimed (a copy never revived) stays counted until the sending thread
 * exits — as Python's resource sharer keeps an unpickled handle. `prepare()`
 * calls `[kShare]()` twice per object (a look, then the copy it sends): the
 * second call takes the ticket the first lent (a first call left alone means
 * the prepare threw, and its ticket is given back at the next microtask).
 *
 * A dropped handle is closed when its `Connection` is garbage-collected
 * (`FinalizationRegistry`), as Python closes a collected connection: close
 * explicitly for a prompt EOF.
 *
 * Messages are whole: a writer holds the writer mutex from the first byte of
 * a message to the last, a reader holds the reader mutex likewise (the Lock
 * algorithm, including recovery from a dead holder), so several threads may
 * share an end. `send` blocks while the ring is full (as a full OS pipe
 * does); a message larger than the ring streams through it — so a thread
 * that sends more than the ring holds to an end that only it reads waits for
 * good, as in Python. A writer dying
 * half-way breaks the direction: its readers get `EOFError` once they reach
 * that message, its writers `ConnectionStateError`. A reader dying half-way:
 * the next reader discards the rest of that message (a warning reports it).
 *
 * @module
 */

import { checkBoolean, checkOptions, describe, noOptions, positionalForm } from '../check.js';
import { BufferTooShort, ConnectionStateError, EOFError } from '../errors.js';
import { allocate, attach, SharedObject, type SharedState } from '../shared-object.js';
import { LOCK_TAG, Lock } from '../sync/lock.js';
import { adoptRegistry, isDead, OWNER_CHECK_MS, threadToken } from '../sync/owners.js';
import { checkTimeout, deadline, remaining } from '../sync/wait.js';
import { threadGlobal } from '../thread-global.js';
import { kShare, registerShareable, type ShareDescriptor } from '../transfer.js';
import {
  DEFERRED,
  decodePayload,
  encode,
  encodeRaw,
  HEADER_BYTES,
  KIND_BYTES,
  KIND_RAW,
  KIND_SHARED,
  type Outgoing,
  own,
  PARTIAL,
  plainJson,
  type RecordHead,
  readHead,
  readRecord,
  readSmall,
  takeDeferred,
  wantsJson,
  writeRecord,
  writeSmall,
} from './codec.js';
import { adoptHubBlock, currentHubBlock, Hub, unpackShared } from './oob.js';
import {
  checkCapacity,
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
} from './ring.js';

const LINE = 16;
const DUPLEX = 1;
const CAPACITY = 2;
const FLAGS = 3;
const BROKEN_BY = 4; // + direction
const TICKETS = 6;
const ID_THREAD = 7;
const ID_SEQ = 8;
/** Holder slots per end (with `OPEN`, 4 lines). */
const SLOTS = 63;
const END_WORDS = 4 * LINE;
const ENDS = LINE;
const DIRS = ENDS + 2 * END_WORDS;
const DIR_WORDS = 2 * LINE + RING_HEADER_WORDS; // 5 lines
const WRITE_LOCK = 0;
const READ_LOCK = LINE;
const RING = 2 * LINE;
const HEADER_WORDS = DIRS + 2 * DIR_WORDS;
const DATA_BYTES = HEADER_WORDS * Int32Array.BYTES_PER_ELEMENT;

/** `OPEN` of end `e`. */
const openWord = (e: number): number => ENDS + e * END_WORDS;
/** Holder slot `i` of end `e`. */
const slotWord = (e: number, i: number): number => ENDS + e * END_WORDS + 1 + i;
/** First word of direction `d`. */
const dirWord = (d: number): number => DIRS + d * DIR_WORDS;
/** Direction `d` may take no more writes / reads. */
const WRITE_BROKEN = (d: number): number => 1 << (2 * d);
const READ_BROKEN = (d: number): number => 1 << (2 * d + 1);

const TOKEN_BITS = 22;
const TOKEN_MASK = (1 << TOKEN_BITS) - 1;
/** Lent-handle sequence numbers run 1..LENT_SEQS. */
const LENT_SEQS = 511;
/** This thread's token as a holder word, or 0 when it does not fit (its handles are untracked). */
const MY_WORD = threadToken <= TOKEN_MASK ? threadToken : 0;

/** Type tag of a pipe's memory. */
export const PIPE_TAG = 0x43505069; // 'CPPi'
/** Default ring per direction: 64 KiB, a Linux pipe's buffer. */
export const DEFAULT_PIPE_CAPACITY = 64 * 1024;

const NO_WAIT = { blocking: false } as const;
const NONE: unique symbol = Symbol('none');

/** Options of {@link Pipe}. */
export interface PipeOptions {
  /** Both ends send and receive (default true); false: `a` only receives, `b` only sends. */
  duplex?: boolean;
  /** Bytes of each direction's ring: a power of two from 64 bytes to 1 GiB, default 64 KiB. */
  capacity?: number;
}

/** Where a pipe's memory is, which end a connection is, and the handle it carries. */
export interface PipeState extends SharedState {
  /** The hub block (oob.ts) for shared objects inside messages. */
  readonly hub: SharedArrayBuffer;
  /** 0: the first end returned by `Pipe()`; 1: the second. */
  readonly end: number;
  /** A handle lent to this copy in flight (0: none); see the module comment. */
  readonly ticket: number;
}

// ---- handles ----

const ids = threadGlobal('corepool.pipe.ids', () => ({ next: 0 }));

interface Entry {
  conns: [WeakRef<Connection> | undefined, WeakRef<Connection> | undefined];
}
/** This thread's open connections, by pipe identity: one object (one handle) per end and thread. */
const handles = threadGlobal('corepool.pipe.handles', () => new Map<string, Entry>());

function keyOf(words: Int32Array): string {
  return `${Atomics.load(words, ID_THREAD)}.${Atomics.load(words, ID_SEQ)}`;
}

/** Takes one from `OPEN` of end `e`; the last one wakes every sleeper of the pipe. */
function dropOpen(words: Int32Array, e: number, rings: readonly Ring[]): void {
  if (Atomics.sub(words, openWord(e), 1) === 1) for (const ring of rings) ring.wakeAll();
}

/** Releases the handles of end `e` whose holder (or lender) thread is dead. */
function reap(words: Int32Array, e: number, registry: Int32Array, rings: readonly Ring[]): void {
  for (let i = 0; i < SLOTS; i++) {
    const w = Atomics.load(words, slotWord(e, i));
    if (w !== 0 && isDead(registry, w & TOKEN_MASK) && Atomics.compareExchange(words, slotWord(e, i), w, 0) === w) {
      dropOpen(words, e, rings);
    }
  }
}

/** Puts holder word `w` in a free slot of end `e`: its index, or -1 when the table is full. */
function takeSlot(words: Int32Array, e: number, w: number, registry: Int32Array, rings: readonly Ring[]): number {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < SLOTS; i++) {
      if (Atomics.compareExchange(words, slotWord(e, i), 0, w) === 0) return i;
    }
    reap(words, e, registry, rings);
  }
  return -1;
}

/** One thread's handle on one end: what closing (or collecting) the connection releases. */
class Handle {
  released = false;
  constructor(
    readonly words: Int32Array,
    readonly end: number,
    /** Holder slot, or -1 (untracked). */
    readonly slot: number,
    readonly word: number,
    readonly rings: readonly Ring[],
    readonly key: string,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    if (
      this.slot < 0 ||
      Atomics.compareExchange(this.words, slotWord(this.end, this.slot), this.word, 0) === this.word
    ) {
      dropOpen(this.words, this.end, this.rings);
    }
    const entry = handles.get(this.key);
    const gone = (ref: WeakRef<Connection> | undefined): boolean => ref?.deref()?.closed ?? true;
    if (entry?.conns.every(gone)) {
      handles.delete(this.key);
    }
  }
}

const collected = new FinalizationRegistry<Handle>((h) => h.release());

/** Opens a new handle on end `e` in this thread. */
function openHandle(words: Int32Array, e: number, registry: Int32Array, rings: readonly Ring[]): Handle {
  Atomics.add(words, openWord(e), 1);
  const slot = MY_WORD === 0 ? -1 : takeSlot(words, e, MY_WORD, registry, rings);
  return new Handle(words, e, slot, MY_WORD, rings, keyOf(words));
}

/** Claims the handle lent as `ticket`; undefined when it is gone (claimed, or its lender died). */
function claim(words: Int32Array, e: number, ticket: number, rings: readonly Ring[]): Handle | undefined {
  if (!Number.isSafeInteger(ticket) || ticket <= 0) return undefined;
  const slot = (ticket - 1) % 64;
  const w = Math.floor((ticket - 1) / 64);
  if (slot >= SLOTS || w <= 0 || w > 0x7fffffff) return undefined;
  if (Atomics.compareExchange(words, slotWord(e, slot), w, MY_WORD) !== w) return undefined;
  return MY_WORD === 0
    ? new Handle(words, e, -1, 0, rings, keyOf(words))
    : new Handle(words, e, slot, MY_WORD, rings, keyOf(words));
}

/** Gives back the handle lent as `ticket` (this thread already holds the end). */
function giveBack(words: Int32Array, e: number, ticket: number, rings: readonly Ring[]): void {
  if (!Number.isSafeInteger(ticket) || ticket <= 0) return;
  const slot = (ticket - 1) % 64;
  const w = Math.floor((ticket - 1) / 64);
  if (slot < SLOTS && w > 0 && Atomics.compareExchange(words, slotWord(e, slot), w, 0) === w) {
    dropOpen(words, e, rings);
  }
}

/** Lends a handle on end `e` to a copy in flight: its ticket, or 0 when none could be recorded. */
function lend(words: Int32Array, e: number, registry: Int32Array, rings: readonly Ring[]): number {
  if (MY_WORD === 0) return 0;
  Atomics.add(words, openWord(e), 1);
  const seq = ((Atomics.add(words, TICKETS, 1) >>> 0) % LENT_SEQS) + 1;
  const w = MY_WORD | (seq << TOKEN_BITS);
  const slot = takeSlot(words, e, w, registry, rings);
  if (slot < 0) {
    Atomics.sub(words, openWord(e), 1); // this thread's own handle keeps OPEN above 0
    return 0;
  }
  return w * 64 + slot + 1;
}

// ---- options ----

function checkBuffer(buf: unknown, what: string): Uint8Array {
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer) return new Uint8Array(buf);
  throw new TypeError(
    `${what} must be an ArrayBuffer, a SharedArrayBuffer, a typed array, a DataView or a Buffer: received ${describe(buf)}`,
  );
}

/** A byte offset or count from 0 to `max`: a `TypeError` when it is not a number, else a `RangeError`. */
function checkByteCount(n: unknown, what: string, max: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw new (typeof n === 'number' ? RangeError : TypeError)(
      `${what} must be an integer from 0 to ${max}: received ${describe(n)}`,
    );
  }
  return n;
}

/** The keys of {@link PipeOptions}. */
const pipeKeys = ['duplex', 'capacity'] as const;

function pipeOptions(options: unknown): { duplex: boolean; capacity: number } {
  if (typeof options === 'boolean') throw positionalForm('Pipe', options, `{ duplex: ${options} }`);
  const { duplex = true, capacity = DEFAULT_PIPE_CAPACITY } = checkOptions(options, pipeKeys, 'Pipe');
  checkBoolean(duplex, 'options.duplex');
  checkCapacity(capacity, 'options.capacity');
  return { duplex: duplex as boolean, capacity };
}

// ---- the connection ----

/** How a received message is returned. */
const AS_VALUE = 0;
const AS_BYTES = 1;
const INTO = 2;

interface Receive {
  readonly as: number;
  /** AS_BYTES: longest accepted message. */
  readonly maxlength: number;
  /** INTO: the destination, from the offset on. */
  readonly into: Uint8Array;
}
const RECEIVE_VALUE: Receive = { as: AS_VALUE, maxlength: 0, into: new Uint8Array(0) };

/** Lets a state's `ticket` getter reach its connection, which exists only after the state. */
interface Lender {
  lend(): number;
}

let make: (state: PipeState, handle: Handle, lender: Lender) => Connection;
let ringsOf: (c: Connection) => { in: Ring | undefined; out: Ring | undefined };

/**
 * One end of a {@link Pipe} — Python's `multiprocessing.connection.Connection`.
 * Hand it to another thread (a task or `Process` argument, `workerData`, a
 * `Queue` or `Pipe` message) and it arrives there working; each thread that
 * holds an end holds a handle on it, closed by `close()` in that thread or by
 * the thread's exit, and the other end sees `EOFError` once every handle is
 * closed and everything sent was received.
 *
 * `send`/`recv` block the calling thread (`Atomics.wait`; for workers and
 * scripts); `sendAsync`/`recvAsync`/`pollAsync` never block the event loop
 * and keep the process alive while they wait. In one thread, do not mix a
 * blocking call with a pending async one of the same kind on the same
 * connection (it throws `ConnectionStateError` rather than deadlock).
 *
 * @example
 * ```ts
 * const [parentEnd, childEnd] = Pipe();
 * const p = new Process({ target: produce, args: [childEnd] }); // produce: send(…)s, then childEnd.close()
 * p.start();
 * childEnd.close();                        // the child holds its own handle
 * for (;;) {
 *   try { console.log(await parentEnd.recvAsync()); }
 *   catch (err) { if (err instanceof EOFError) break; throw err; }
 * }
 * ```
 */
export class Connection<T = unknown> extends SharedObject<PipeState> {
  readonly #words: Int32Array;
  readonly #end: number;
  readonly #registry: Int32Array;
  /** The ring this end reads (direction 1 - end), its reader mutex. */
  readonly #in: Ring | undefined;
  readonly #reader: Lock | undefined;
  /** The ring this end writes (direction end), its writer mutex. */
  readonly #out: Ring | undefined;
  readonly #writer: Lock | undefined;
  readonly #rings: readonly Ring[];
  readonly #handle: Handle;
  #closed = false;
  #hubHandle: Hub | undefined;
  /** A ticket lent by the first `[kShare]()` call of a `prepare()`, for its second (see `#lendToPrepare`). */
  #lent = 0;
  readonly #size = { n: 0 };
  /** Pending async receives and sends of this thread, run one after another. */
  readonly #pending = [0, 0];
  readonly #tails: [Promise<unknown> | undefined, Promise<unknown> | undefined] = [undefined, undefined];
  readonly #recvHooks: RingHooks;
  readonly #midHooks: RingHooks;
  readonly #writeHooks: RingHooks;
  readonly #asyncWriteHooks: { out: Outgoing | undefined } & RingHooks;

  private constructor(state: PipeState, handle: Handle, lender: Lender) {
    super('Connection', state);
    const words = attach(state, PIPE_TAG, HEADER_WORDS, 'Connection');
    this.#words = words;
    this.#end = state.end;
    this.#registry = adoptRegistry(state.registry);
    this.#handle = handle;
    this.#rings = handle.rings;
    const duplex = Atomics.load(words, DUPLEX) === 1;
    const capacity = Atomics.load(words, CAPACITY);
    const lock = (word: number): Lock =>
      new Lock({ buffer: state.buffer, byteOffset: word * Int32Array.BYTES_PER_ELEMENT, registry: state.registry });
    const ringOf = (d: number): Ring | undefined => findRing(handle.rings, words, d, duplex, capacity);
    const inDir = 1 - this.#end;
    this.#in = ringOf(inDir);
    this.#reader = this.#in === undefined ? undefined : lock(dirWord(inDir) + READ_LOCK);
    this.#out = ringOf(this.#end);
    this.#writer = this.#out === undefined ? undefined : lock(dirWord(this.#end) + WRITE_LOCK);
    lender.lend = () => this.#lend();
    this.#recvHooks = { stop: () => this.#closed || this.#peerGone(), sliceMs: OWNER_CHECK_MS };
    this.#midHooks = { check: () => this.#checkWriterAlive(), sliceMs: OWNER_CHECK_MS };
    this.#writeHooks = { stop: () => this.#peerGone(), sliceMs: OWNER_CHECK_MS };
    const asyncHooks: { out: Outgoing | undefined } & RingHooks = {
      out: undefined,
      stop: () => this.#peerGone(),
      // About to wait: the message must not view the caller's memory any longer.
      beforeSleep: () => {
        if (asyncHooks.out !== undefined) own(asyncHooks.out);
        return false;
      },
      sliceMs: OWNER_CHECK_MS,
    };
    this.#asyncWriteHooks = asyncHooks;
    collected.register(this, handle, this);
  }

  /**
   * Whether this thread's handle is closed.
   *
   * @example
   * ```ts
   * a.close(); a.closed; // true
   * ```
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Whether this end receives (false for the sending end of a one-way pipe).
   *
   * @example
   * ```ts
   * const [r, w] = Pipe({ duplex: false }); r.readable; // true
   * ```
   */
  get readable(): boolean {
    return this.#in !== undefined;
  }

  /**
   * Whether this end sends (false for the receiving end of a one-way pipe).
   *
   * @example
   * ```ts
   * const [r, w] = Pipe({ duplex: false }); w.writable; // true
   * ```
   */
  get writable(): boolean {
    return this.#out !== undefined;
  }

  // ---- sending ----

  /**
   * Sends `obj` (any structured-cloneable value, shared objects included) to
   * the other end. Blocks while the pipe is full.
   *
   * @example
   * ```ts
   * a.send({ id: 1, tags: ['x'] });
   * a.send(new Float64Array(1 << 20)); // streams through the ring
   * ```
   * @throws {ConnectionStateError} on a closed connection, the receiving end of a one-way pipe,
   *   when every handle on the other end is closed (broken pipe), or when the pipe is broken.
   * @throws {DataCloneError} naming the part of `obj` that cannot cross threads.
   * @throws {TypeError} when given a further argument (it takes no options).
   */
  send(obj: T, none?: never): void {
    if (none !== undefined) noOptions([none], 'Connection.send()');
    this.#checkSend(false);
    if (this.#sendFast(obj)) return;
    runSync(this.#sendSlow(encode(obj, 'obj'), false));
  }

  /**
   * `send` without blocking the event loop: waits for room with
   * `Atomics.waitAsync`, keeping the process alive. Sends of one thread on
   * one connection keep their order.
   *
   * @example
   * ```ts
   * await a.sendAsync(hugeArray);
   * ```
   * @throws {ConnectionStateError|DataCloneError|TypeError} (as rejections), as `send`.
   */
  async sendAsync(obj: T, none?: never): Promise<void> {
    if (none !== undefined) noOptions([none], 'Connection.sendAsync()');
    this.#checkSend(true);
    if (this.#pending[1] === 0 && this.#sendFast(obj)) return;
    await this.#sendOut(encode(obj, 'obj'));
  }

  /**
   * Sends `size` bytes of `buf` from byte `offset` as one message, received
   * as a `Buffer` by `recvBytes`, `recvBytesInto` or `recv`. Offsets count
   * bytes, whatever the view type (as Python's memoryview cast to bytes).
   *
   * @example
   * ```ts
   * a.sendBytes(Buffer.from('hello world'), 6); // 'world'
   * a.sendBytes(new Uint8Array(0));              // an empty message, still one message
   * ```
   * @throws {TypeError} when `buf` is not bytes, `offset` or `size` is not a number, or a further
   *   argument is given (it takes no options).
   * @throws {RangeError} when `offset` or `size` is not an integer, negative, or beyond `buf`.
   * @throws {ConnectionStateError} as `send`.
   */
  sendBytes(
    buf: ArrayBufferView | ArrayBuffer | SharedArrayBuffer,
    offset?: number,
    size?: number,
    ...none: never[]
  ): void {
    const bytes = slice(buf, offset, size, none, 'Connection.sendBytes');
    this.#checkSend(false);
    runSync(this.#sendSlow(encodeRaw(bytes), false));
  }

  /**
   * `sendBytes` without blocking the event loop.
   *
   * @example
   * ```ts
   * await a.sendBytesAsync(bytes, 0, 16);
   * ```
   * @throws {TypeError|RangeError|ConnectionStateError} (as rejections), as `sendBytes`.
   */
  async sendBytesAsync(
    buf: ArrayBufferView | ArrayBuffer | SharedArrayBuffer,
    offset?: number,
    size?: number,
    ...none: never[]
  ): Promise<void> {
    const bytes = slice(buf, offset, size, none, 'Connection.sendBytesAsync');
    this.#checkSend(true);
    await this.#sendOut(encodeRaw(bytes));
  }

  // ---- receiving ----

  /**
   * Receives the next message. Blocks until one is there; throws `EOFError`
   * when every handle on the other end is closed (or its threads exited) and
   * nothing is left.
   *
   * @example
   * ```ts
   * for (;;) {
   *   try { handle(b.recv()); } catch (err) { if (err instanceof EOFError) break; throw err; }
   * }
   * ```
   * @throws {EOFError} when the other end is closed and drained, or its writer died mid-message.
   * @throws {ConnectionStateError} on a closed connection or the sending end of a one-way pipe,
   *   or while a `recvAsync` of this thread is pending on it.
   * @throws {TypeError} before any waiting, when given an argument (`b.recv({ timeout: 100 })`: it
   *   takes no options, as in Python; wait with `poll(timeout)` first).
   */
  recv(none?: never): T {
    if (none !== undefined) noOptions([none], 'Connection.recv()');
    this.#checkRecv(false);
    const v = this.#recvFast();
    if (v === NONE) return runSync(this.#recv(RECEIVE_VALUE)) as T;
    if (v === DEFERRED) return this.#finishDeferred(false) as T;
    return v as T;
  }

  /**
   * `recv` without blocking the event loop (`Atomics.waitAsync`), keeping the
   * process alive while it waits. Receives of one thread on one connection
   * are served in call order.
   *
   * @example
   * ```ts
   * const msg = await b.recvAsync();
   * ```
   * @throws {EOFError|ConnectionStateError} (as rejections), as `recv`; `ConnectionStateError`
   *   also when this thread closes the connection while it waits; `TypeError`, as `recv`, when given
   *   an argument.
   */
  async recvAsync(none?: never): Promise<T> {
    if (none !== undefined) noOptions([none], 'Connection.recvAsync()');
    this.#checkRecv(true);
    if (this.#pending[0] === 0) {
      const v = this.#recvFast();
      if (v === DEFERRED) return (await this.#finishDeferred(true)) as T;
      if (v !== NONE) return v as T;
    }
    return (await this.#serial(0, () => runAsync(this.#recv(RECEIVE_VALUE)))) as T;
  }

  /**
   * Receives the next message as bytes: what `sendBytes` sent (or the bytes
   * of a typed array, `ArrayBuffer` or `DataView` sent with `send`), as a
   * `Buffer`.
   *
   * A message longer than `maxlength` is *not* taken (unlike Python, where
   * the connection becomes unusable): `ConnectionStateError` says how long it
   * is, and it stays first in the pipe for `recv()`, a larger `maxlength` or
   * `close()`. A message sent with `send` that is not bytes is left in the
   * pipe too, with a `TypeError`.
   *
   * @example
   * ```ts
   * const bytes = b.recvBytes();
   * const small = b.recvBytes(4096); // refuses a longer message without reading it
   * ```
   * @throws {ConnectionStateError} when the message is longer than `maxlength`; as `recv`.
   * @throws {TypeError} when the next message is not bytes; before any waiting, when `maxlength` is not
   *   a number or a further argument is given (it takes no options).
   * @throws {RangeError} when `maxlength` is not a non-negative integer.
   * @throws {EOFError} as `recv`.
   */
  recvBytes(maxlength?: number, ...none: never[]): Buffer {
    const how = bytesReceive(maxlength, none, 'Connection.recvBytes');
    this.#checkRecv(false);
    return runSync(this.#recv(how)) as Buffer;
  }

  /**
   * `recvBytes` without blocking the event loop.
   *
   * @example
   * ```ts
   * const bytes = await b.recvBytesAsync();
   * ```
   * @throws {ConnectionStateError|TypeError|RangeError|EOFError} (as rejections), as `recvBytes`.
   */
  async recvBytesAsync(maxlength?: number, ...none: never[]): Promise<Buffer> {
    const how = bytesReceive(maxlength, none, 'Connection.recvBytesAsync');
    this.#checkRecv(true);
    return (await this.#serial(0, () => runAsync(this.#recv(how)))) as Buffer;
  }

  /**
   * Receives the next bytes message into `buf` from byte `offset`; returns
   * its length in bytes. When it does not fit, the message is taken anyway
   * and thrown inside a `BufferTooShort` (its `data`), as in Python.
   *
   * @example
   * ```ts
   * const buf = new Uint8Array(1024);
   * const n = b.recvBytesInto(buf, 8); // bytes 8 … 8 + n
   * ```
   * @throws {BufferTooShort} carrying the whole message when it does not fit.
   * @throws {RangeError} when `offset` is not an integer from 0 to the buffer's byte length.
   * @throws {TypeError} when `buf` is not bytes, or the next message is not bytes (left in the pipe);
   *   before any waiting, when `offset` is not a number or a further argument is given (it takes no options).
   * @throws {EOFError|ConnectionStateError} as `recv`.
   */
  recvBytesInto(buf: ArrayBufferView | ArrayBuffer | SharedArrayBuffer, offset?: number, ...none: never[]): number {
    const how = intoReceive(buf, offset, none, 'Connection.recvBytesInto');
    this.#checkRecv(false);
    return runSync(this.#recv(how)) as number;
  }

  /**
   * `recvBytesInto` without blocking the event loop.
   *
   * @example
   * ```ts
   * const n = await b.recvBytesIntoAsync(buf);
   * ```
   * @throws {BufferTooShort|RangeError|TypeError|EOFError|ConnectionStateError} (as rejections), as `recvBytesInto`.
   */
  async recvBytesIntoAsync(
    buf: ArrayBufferView | ArrayBuffer | SharedArrayBuffer,
    offset?: number,
    ...none: never[]
  ): Promise<number> {
    const how = intoReceive(buf, offset, none, 'Connection.recvBytesIntoAsync');
    this.#checkRecv(true);
    return (await this.#serial(0, () => runAsync(this.#recv(how)))) as number;
  }

  /**
   * Whether `recv` would return at once: a message has begun to arrive, or
   * the other end is closed (`recv` would throw `EOFError`). Waits up to
   * `timeout` ms for that; as in Python, omitted (or 0, or negative) answers
   * at once, and `Infinity` waits for good.
   *
   * @example
   * ```ts
   * if (b.poll()) handle(b.recv());
   * b.poll(100); // waits up to 100 ms
   * ```
   * @throws {ConnectionStateError} on a closed connection or the sending end of a one-way pipe.
   * @throws {TypeError} when `timeout` is not a number (`poll({ timeout: 100 })` included: the timeout
   *   is positional, as in Python), or a further argument is given.
   * @throws {RangeError} when `timeout` is NaN.
   */
  poll(timeout = 0, ...none: never[]): boolean {
    const ms = pollTimeout(timeout, none, 'Connection.poll');
    this.#checkRecv(false, true);
    return runSync(this.#poll(ms));
  }

  /**
   * `poll` without blocking the event loop, keeping the process alive while it waits.
   *
   * @example
   * ```ts
   * if (await b.pollAsync(1000)) console.log(await b.recvAsync());
   * ```
   * @throws {ConnectionStateError|TypeError|RangeError} (as rejections), as `poll`.
   */
  async pollAsync(timeout = 0, ...none: never[]): Promise<boolean> {
    const ms = pollTimeout(timeout, none, 'Connection.pollAsync');
    this.#checkRecv(true, true);
    return runAsync(this.#poll(ms));
  }

  /**
   * Closes this thread's handle on this end. Once every thread's handle on
   * it is closed (or its thread exited), the other end's `recv` throws
   * `EOFError` after the last message. Any later use of this object throws
   * `ConnectionStateError`; an async wait of this thread on it rejects so.
   * Idempotent.
   *
   * @example
   * ```ts
   * a.send('bye'); a.close(); // b.recv() → 'bye', then EOFError
   * ```
   * @throws {TypeError} when given an argument (it takes no options).
   */
  close(...none: never[]): void {
    noOptions(none, 'Connection.close()');
    if (this.#closed) return;
    this.#closed = true;
    collected.unregister(this);
    this.#handle.release();
    this.#in?.wakeAll(); // this thread's async receives look again and see it closed
  }

  /**
   * `close()`, for `using`.
   *
   * @example
   * ```ts
   * { using b = childEnd; b.send(1); } // closed here
   * ```
   */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Receives with `recvAsync()` until `EOFError`.
   *
   * @example
   * ```ts
   * for await (const msg of b) console.log(msg);
   * ```
   * @throws {ConnectionStateError} as `recvAsync`.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let msg: T;
      try {
        msg = await this.recvAsync();
      } catch (err) {
        if (err instanceof EOFError) return;
        throw err;
      }
      yield msg;
    }
  }

  /** @internal How `prepare()` sends a connection: with a handle lent to the copy. */
  override [kShare](): ShareDescriptor {
    if (this.#closed) throw new ConnectionStateError('a closed Connection cannot be sent to another thread');
    const { buffer, byteOffset, registry, hub, end } = this.state;
    return { kind: 'Connection', state: { buffer, byteOffset, registry, hub, end, ticket: this.#lendToPrepare() } };
  }

  protected override describe(): Record<string, unknown> {
    return {
      end: this.#end === 0 ? 'a' : 'b',
      closed: this.#closed,
      readable: this.readable,
      writable: this.writable,
    };
  }

  // ---- internals ----

  /** A handle lent to one structured-clone copy (the state's `ticket` getter). */
  #lend(): number {
    return this.#closed ? 0 : lend(this.#words, this.#end, this.#registry, this.#rings);
  }

  /**
   * A handle lent to one `prepare()`: it calls `[kShare]()` twice per
   * object (its first pass only looks; the second builds what is sent), so
   * the first call lends and the second takes the same ticket. A first call
   * left alone until the next microtask means the prepare threw before its
   * second pass: nothing was sent, and the handle is given back.
   */
  #lendToPrepare(): number {
    const pending = this.#lent;
    if (pending !== 0) {
      this.#lent = 0;
      return pending;
    }
    const ticket = lend(this.#words, this.#end, this.#registry, this.#rings);
    if (ticket !== 0) {
      this.#lent = ticket;
      queueMicrotask(() => {
        if (this.#lent !== ticket) return;
        this.#lent = 0;
        giveBack(this.#words, this.#end, ticket, this.#rings);
      });
    }
    return ticket;
  }

  #hub(): Hub {
    this.#hubHandle ??= Hub.of(this.state.hub, this.#registry);
    return this.#hubHandle;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ConnectionStateError('the connection is closed');
  }

  #checkSend(async: boolean): void {
    this.#checkOpen();
    if (this.#out === undefined) {
      throw new ConnectionStateError('this end of a one-way pipe only receives: send on the other end');
    }
    if (!async && this.#pending[1] !== 0) {
      throw new ConnectionStateError(
        'a sendAsync() of this thread is pending on this connection: await it before a blocking send',
      );
    }
  }

  #checkRecv(async: boolean, polling = false): void {
    this.#checkOpen();
    if (this.#in === undefined) {
      throw new ConnectionStateError('this end of a one-way pipe only sends: receive on the other end');
    }
    if (!async && !polling && this.#pending[0] !== 0) {
      throw new ConnectionStateError(
        'a recvAsync() of this thread is pending on this connection: await it before a blocking receive',
      );
    }
  }

  /** Runs async operation `run` of kind `k` (0 receive, 1 send) after the pending ones of this thread. */
  #serial<R>(k: 0 | 1, run: () => Promise<R>): Promise<R> {
    const before = this.#tails[k];
    this.#pending[k] = (this.#pending[k] as number) + 1;
    const p = before === undefined ? run() : before.then(run);
    // The first reaction to `p`: the count drops before the caller's `await` resumes.
    const done = (): void => {
      this.#pending[k] = (this.#pending[k] as number) - 1;
      if (this.#tails[k] === tail) this.#tails[k] = undefined;
    };
    const tail: Promise<void> = p.then(done, done);
    this.#tails[k] = tail;
    return p;
  }

  /** Whether every handle on the other end is closed (releasing those of dead threads first). */
  #peerGone(): boolean {
    const peer = 1 - this.#end;
    if (Atomics.load(this.#words, openWord(peer)) === 0) return true;
    reap(this.#words, peer, this.#registry, this.#rings);
    return Atomics.load(this.#words, openWord(peer)) === 0;
  }

  #brokenPipe(): ConnectionStateError {
    return new ConnectionStateError(
      'broken pipe: every handle on the other end is closed (or its threads exited), nobody can receive this',
    );
  }

  #brokenWrite(d: number): ConnectionStateError {
    const by = Atomics.load(this.#words, BROKEN_BY + d) - 1;
    return new ConnectionStateError(
      `the pipe is broken: thread ${by} died in the middle of sending a message, which cannot be recovered`,
    );
  }

  #brokenRead(d: number): EOFError {
    const by = Atomics.load(this.#words, BROKEN_BY + d) - 1;
    return new EOFError(
      `the other end's thread ${by} died in the middle of sending a message: nothing more can be read`,
    );
  }

  #markBroken(d: number, deadToken: number, bits: number): void {
    if ((Atomics.or(this.#words, FLAGS, bits) & (WRITE_BROKEN(d) | READ_BROKEN(d))) === 0) {
      Atomics.store(this.#words, BROKEN_BY + d, deadToken);
    }
    for (const ring of this.#rings) ring.wakeAll();
  }

  /** Mid-message: the writer of the message being read died. */
  #checkWriterAlive(): void {
    const ring = this.#in as Ring;
    const w = Atomics.load(ring.words, WRITER);
    if (w !== 0 && w !== threadToken && isDead(this.#registry, w)) {
      const d = 1 - this.#end;
      this.#markBroken(d, w, WRITE_BROKEN(d) | READ_BROKEN(d));
      throw this.#brokenRead(d);
    }
  }

  /** The whole send when nothing has to wait; false when the slow path must run. */
  #sendFast(obj: unknown): boolean {
    const words = this.#words;
    if (Atomics.load(words, FLAGS) !== 0 || Atomics.load(words, openWord(1 - this.#end)) === 0) return false;
    let json: string | undefined;
    if (wantsJson(obj)) {
      json = plainJson(obj);
      if (json === undefined) return false;
    }
    const writer = this.#writer as Lock;
    if (!writer.acquire(NO_WAIT)) return false;
    const ring = this.#out as Ring;
    let n = 0;
    if (Atomics.load(ring.words, WRITER) === 0) {
      const head = ring.head();
      n = writeSmall(ring, head, obj, json);
      if (n !== 0) ring.publish(head + n);
    }
    writer.release();
    return n !== 0;
  }

  /** An async send of `out`: at once when possible, else after this thread's pending sends. */
  #sendOut(out: Outgoing): Promise<void> {
    if (this.#pending[1] !== 0) own(out);
    return this.#serial(1, () => runAsync(this.#sendSlow(out, true)));
  }

  /** Sends `out`: registers its shared buffers, takes the writer mutex, streams the record. */
  *#sendSlow(out: Outgoing, async: boolean): Waiting<void> {
    if (out.shared !== undefined) yield* this.#hub().register(out.shared);
    const writer = this.#writer as Lock;
    const ring = this.#out as Ring;
    const d = this.#end;
    if (!writer.acquire(NO_WAIT)) {
      if (async) own(out);
      yield { lock: writer, timeout: undefined };
    }
    try {
      if (this.#closed) throw new ConnectionStateError('the connection was closed before this message could be sent');
      const rw = ring.words;
      const stale = Atomics.load(rw, WRITER);
      if (stale !== 0) {
        if (Atomics.load(rw, HEAD) !== Atomics.load(rw, WRITE_END)) this.#markBroken(d, stale, WRITE_BROKEN(d));
        else Atomics.store(rw, WRITER, 0); // its writer finished the message, then died before clearing this
      }
      if ((Atomics.load(this.#words, FLAGS) & WRITE_BROKEN(d)) !== 0) throw this.#brokenWrite(d);
      if (this.#peerGone()) throw this.#brokenPipe();
      let hooks: RingHooks = this.#writeHooks;
      if (async) {
        this.#asyncWriteHooks.out = out;
        hooks = this.#asyncWriteHooks;
      }
      let written: number;
      try {
        written = yield* writeRecord(ring, out, 0, threadToken, undefined, hooks);
      } finally {
        this.#asyncWriteHooks.out = undefined;
      }
      if (written < out.total) {
        // Nobody can read any more; a half-written message would corrupt the stream for a later reader.
        if (written > 0) this.#markBroken(d, threadToken, WRITE_BROKEN(d) | READ_BROKEN(d));
        throw this.#brokenPipe();
      }
    } finally {
      writer.release();
    }
  }

  /** The whole receive of a value when a complete record is there; NONE otherwise. */
  #recvFast(): unknown {
    const reader = this.#reader as Lock;
    if (!reader.acquire(NO_WAIT)) return NONE;
    const ring = this.#in as Ring;
    const tail = ring.tail();
    const avail = ring.readable(tail, 8);
    if (avail < 8 || Atomics.load(ring.words, READER) !== 0) {
      reader.release();
      return NONE;
    }
    let v: unknown;
    try {
      v = readSmall(ring, tail, avail, this.#size);
      if (v !== PARTIAL) ring.consume(tail + this.#size.n);
    } finally {
      reader.release();
    }
    return v === PARTIAL ? NONE : v;
  }

  #finishDeferred(async: boolean): unknown {
    const [kind, data] = takeDeferred();
    if (kind !== KIND_SHARED) return decodePayload(kind, 0, 0, data);
    const g = unpackShared(data as Uint8Array, this.#hub());
    return async ? runAsync(g) : runSync(g);
  }

  /** Receives one message as `how` says, waiting for it to begin (or for EOF). */
  *#recv(how: Receive): Waiting<unknown> {
    const ring = this.#in as Ring;
    const reader = this.#reader as Lock;
    const d = 1 - this.#end;
    for (;;) {
      if (this.#closed) throw new ConnectionStateError('the connection was closed while receiving');
      if ((Atomics.load(this.#words, FLAGS) & READ_BROKEN(d)) !== 0) throw this.#brokenRead(d);
      if (!reader.acquire(NO_WAIT)) yield { lock: reader, timeout: undefined };
      let got: unknown = NONE;
      let head: RecordHead | undefined;
      let payload: Buffer | undefined;
      try {
        if (Atomics.load(ring.words, READER) !== 0 && ring.tail() !== Atomics.load(ring.words, READ_END)) {
          yield* this.#discard();
        }
        const tail = ring.tail();
        const avail = ring.readable(tail, 8);
        if (avail >= 8) {
          if (how.as === AS_VALUE) {
            got = readSmall(ring, tail, avail, this.#size);
            if (got !== PARTIAL) {
              ring.consume(tail + this.#size.n);
            } else {
              head = readHead(ring, tail);
              payload = yield* readRecord(ring, tail, head, threadToken, this.#midHooks);
            }
          } else {
            head = readHead(ring, tail);
            checkBytes(head, how);
            const room = how.into.length;
            if (how.as === INTO && head.word0 <= room && avail >= head.total) {
              // Straight from the ring into the caller's buffer.
              if (head.word0 > 0) ring.copyOut(tail + HEADER_BYTES, how.into, 0, head.word0);
              ring.consume(tail + head.total);
              got = head.word0;
            } else {
              payload = yield* readRecord(ring, tail, head, threadToken, this.#midHooks);
            }
          }
        }
      } finally {
        reader.release();
      }
      if (got === DEFERRED) {
        const [kind, data] = takeDeferred();
        if (kind === KIND_SHARED) return yield* unpackShared(data as Uint8Array, this.#hub());
        return decodePayload(kind, 0, 0, data);
      }
      if (payload !== undefined) {
        const h = head as RecordHead;
        if (how.as === AS_BYTES) return payload;
        if (how.as === INTO) {
          if (payload.length > how.into.length) {
            const err = new BufferTooShort(
              `the message (${payload.length} bytes) does not fit the buffer (${how.into.length} bytes from the offset): it is in err.data`,
            );
            err.data = payload;
            throw err;
          }
          how.into.set(payload, 0);
          return payload.length;
        }
        if (h.kind === KIND_SHARED) return yield* unpackShared(payload, this.#hub());
        return decodePayload(h.kind, h.sub, h.word0, payload);
      }
      if (got !== NONE) return got;
      // No message has begun. OPEN is loaded before HEAD: a writer publishes before it closes.
      if (this.#peerGone() && ring.readable(ring.tail(), 1) === 0) {
        throw new EOFError('the other end of the pipe is closed and every message was received');
      }
      yield* ring.untilReadable(8, Number.POSITIVE_INFINITY, this.#recvHooks);
    }
  }

  /** Waits up to `ms` for a message to begin or the other end to close. */
  *#poll(ms: number | undefined): Waiting<boolean> {
    const ring = this.#in as Ring;
    const end = deadline(ms);
    const d = 1 - this.#end;
    for (;;) {
      if (this.#closed) throw new ConnectionStateError('the connection was closed while polling');
      if (ring.readable(ring.tail(), 8) >= 8) return true;
      if ((Atomics.load(this.#words, FLAGS) & READ_BROKEN(d)) !== 0 || this.#peerGone()) return true;
      if (remaining(end) === 0) return false;
      yield* ring.untilReadable(8, end, this.#recvHooks);
    }
  }

  /** Discards the rest of a message whose reader died half-way (called holding the reader mutex). */
  *#discard(): Waiting<void> {
    const ring = this.#in as Ring;
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
    process.emitWarning(
      `a Pipe message was lost: thread ${dead - 1} died in the middle of reading it; thread ${threadToken - 1} discarded the rest`,
      { type: 'CorepoolWarning', code: 'ERR_COREPOOL_PIPE_LOST' },
    );
  }

  static {
    make = (state, handle, lender) => new Connection(state, handle, lender);
    ringsOf = (c) => ({ in: c.#in, out: c.#out });
    registerShareable('Connection', (state) => reviveConnection(state as PipeState));
  }
}

/**
 * @internal For tests and diagnostics: the ring a connection reads (`in`)
 * or writes (`out`), to observe its words (`READERS_SLEEPING`…).
 *
 * @example
 * ```ts
 * Atomics.load(connectionRing(b, 'in')!.words, READERS_SLEEPING); // b's receivers asleep now
 * ```
 */
export function connectionRing(c: Connection, which: 'in' | 'out'): Ring | undefined {
  return ringsOf(c)[which];
}

function findRing(
  rings: readonly Ring[],
  words: Int32Array,
  d: number,
  duplex: boolean,
  capacity: number,
): Ring | undefined {
  if (!duplex && d === 0) return undefined;
  const headerOffset = words.byteOffset + (dirWord(d) + RING) * Int32Array.BYTES_PER_ELEMENT;
  return rings.find((r) => r.words.byteOffset === headerOffset) ?? newRing(words, d, duplex, capacity);
}

function newRing(words: Int32Array, d: number, duplex: boolean, capacity: number): Ring {
  return new Ring(
    words.buffer as SharedArrayBuffer,
    words.byteOffset + (dirWord(d) + RING) * Int32Array.BYTES_PER_ELEMENT,
    words.byteOffset + DATA_BYTES + (duplex ? d : 0) * capacity,
    capacity,
  );
}

/** The rings of a pipe, after checking its memory. */
function pipeRings(words: Int32Array): Ring[] {
  const duplex = Atomics.load(words, DUPLEX) === 1;
  const capacity = Atomics.load(words, CAPACITY);
  checkCapacity(capacity, 'the pipe capacity');
  if (words.byteOffset + DATA_BYTES + (duplex ? 2 : 1) * capacity > words.buffer.byteLength) {
    throw new TypeError(`invalid handle: a Pipe of ${capacity} bytes per direction does not fit its buffer`);
  }
  const rings = [newRing(words, 1, duplex, capacity)];
  if (duplex) rings.unshift(newRing(words, 0, duplex, capacity));
  return rings;
}

/** A connection of end `state.end` with `handle`, whose copies lend handles through their state's getter. */
function connection(base: PipeState, handle: Handle): Connection {
  const lender: Lender = { lend: () => 0 };
  const state: PipeState = {
    buffer: base.buffer,
    byteOffset: base.byteOffset,
    registry: base.registry,
    hub: base.hub,
    end: base.end,
    // Read by structured clone (workerData, postMessage) each time it copies the connection.
    get ticket(): number {
      return lender.lend();
    },
  };
  const conn = make(state, handle, lender);
  liveStates.set(state, conn);
  let entry = handles.get(handle.key);
  if (entry === undefined) {
    entry = { conns: [undefined, undefined] };
    handles.set(handle.key, entry);
  }
  entry.conns[base.end as 0 | 1] = new WeakRef(conn);
  return conn;
}

/** The states of this thread's connections: reviving one again (an object already revived in place) lends nothing. */
const liveStates = new WeakMap<object, Connection>();

/** The reviver: this thread's open connection on that end, else a new handle (claiming the lent one). */
function reviveConnection(state: PipeState): Connection {
  const live = typeof state === 'object' && state !== null ? liveStates.get(state) : undefined;
  if (live !== undefined && !live.closed) return live;
  const end = state?.end;
  if (end !== 0 && end !== 1)
    throw new TypeError(`invalid handle: a Connection's end must be 0 or 1: received ${describe(end)}`);
  const words = attach(state, PIPE_TAG, HEADER_WORDS, 'Connection');
  adoptHubBlock(state.hub);
  const registry = adoptRegistry(state.registry);
  // Read once: on a live state it is a getter that lends a handle.
  const raw: unknown = live === undefined ? state.ticket : 0;
  const ticket = typeof raw === 'number' ? raw : 0;
  const open = handles.get(keyOf(words))?.conns[end]?.deref();
  if (open !== undefined && !open.closed) {
    giveBack(words, end, ticket, []); // this thread's own handle keeps OPEN above 0: nobody to wake
    return open;
  }
  const rings = pipeRings(words);
  const handle = claim(words, end, ticket, rings) ?? openHandle(words, end, registry, rings);
  return connection(state, handle);
}

/** The arguments of `sendBytes` (`name`: the method) checked: the bytes to send. */
function slice(buf: unknown, offset: unknown, size: unknown, extra: readonly unknown[], name: string): Uint8Array {
  const bytes = checkBuffer(buf, `${name}(buf)`);
  const from = offset === undefined ? 0 : checkByteCount(offset, `${name}(offset)`, bytes.length);
  const n = size === undefined ? bytes.length - from : checkByteCount(size, `${name}(size)`, bytes.length - from);
  noOptions(extra, `${name}()`);
  return bytes.subarray(from, from + n);
}

/** The arguments of `recvBytes` (`name`: the method) checked: how to receive. */
function bytesReceive(maxlength: unknown, extra: readonly unknown[], name: string): Receive {
  if (maxlength !== undefined && (typeof maxlength !== 'number' || !Number.isInteger(maxlength) || maxlength < 0)) {
    throw new (typeof maxlength === 'number' ? RangeError : TypeError)(
      `${name}(maxlength) must be a non-negative integer: received ${describe(maxlength)}`,
    );
  }
  noOptions(extra, `${name}()`);
  return { as: AS_BYTES, maxlength: maxlength ?? Number.POSITIVE_INFINITY, into: RECEIVE_VALUE.into };
}

/** The arguments of `recvBytesInto` (`name`: the method) checked: how to receive. */
function intoReceive(buf: unknown, offset: unknown, extra: readonly unknown[], name: string): Receive {
  const bytes = checkBuffer(buf, `${name}(buf)`);
  const from = offset === undefined ? 0 : checkByteCount(offset, `${name}(offset)`, bytes.length);
  noOptions(extra, `${name}()`);
  return { as: INTO, maxlength: Number.POSITIVE_INFINITY, into: bytes.subarray(from) };
}

/** A bytes receive accepts this record, or leaves it in the pipe and throws. */
function checkBytes(head: RecordHead, how: Receive): void {
  if (head.kind !== KIND_RAW && head.kind !== KIND_BYTES) {
    throw new TypeError(
      'the next message was sent with send() and is not bytes: it is left in the pipe, receive it with recv()',
    );
  }
  if (head.word0 > how.maxlength) {
    throw new ConnectionStateError(
      `the next message is ${head.word0} bytes, longer than maxlength ${how.maxlength}: it is left in the pipe ` +
        '(receive it with recv() or a larger maxlength, or close the connection)',
    );
  }
}

/**
 * The arguments of `poll` (`name`: the method) checked: the ms to wait,
 * `undefined` for good. Negative means 0, as in Python.
 */
function pollTimeout(timeout: unknown, extra: readonly unknown[], name: string): number | undefined {
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
    const hint = timeout === null ? " (Python's None: use Infinity to wait for good)" : '';
    throw new (typeof timeout === 'number' ? RangeError : TypeError)(
      `${name}(timeout) must be a number of milliseconds: received ${describe(timeout)}${hint}`,
    );
  }
  noOptions(extra, `${name}()`);
  if (timeout === Number.POSITIVE_INFINITY) return undefined;
  const ms = Math.max(0, timeout);
  checkTimeout(ms, `${name}(timeout)`);
  return ms;
}

/**
 * A pipe: two connected {@link Connection}s, Python's `multiprocessing.Pipe`.
 * Duplex (default): each end sends to the other. `duplex: false`: the first
 * end only receives, the second only sends.
 *
 * @example
 * ```ts
 * const [a, b] = Pipe();
 * a.send([1, 'two', { three: 3 }]);
 * b.recv();                       // [1, 'two', { three: 3 }]
 * const [r, w] = Pipe({ duplex: false });
 * w.sendBytes(Buffer.from('raw'));
 * r.recvBytes();                  // <Buffer 72 61 77>
 * ```
 * @throws {TypeError} on an unknown option (`options.duplx is not a Pipe option …; did you mean
 *   duplex?`), options that are not an object (Python's `Pipe(false)` included: write
 *   `{ duplex: false }`), a non-boolean `duplex` or a non-number `capacity`.
 * @throws {RangeError} when `capacity` is not a power of two from 64 bytes to 1 GiB.
 */
export function Pipe<T = unknown>(options?: PipeOptions): [Connection<T>, Connection<T>] {
  const { duplex, capacity } = pipeOptions(options);
  const base = allocate(PIPE_TAG, (DATA_BYTES + (duplex ? 2 : 1) * capacity) / Int32Array.BYTES_PER_ELEMENT);
  const words = new Int32Array(base.buffer, 0, HEADER_WORDS);
  words[DUPLEX] = duplex ? 1 : 0;
  words[CAPACITY] = capacity;
  words[ID_THREAD] = threadToken;
  words[ID_SEQ] = ++ids.next;
  for (let d = 0; d < 2; d++) {
    words[dirWord(d) + WRITE_LOCK] = LOCK_TAG;
    words[dirWord(d) + READ_LOCK] = LOCK_TAG;
  }
  // The header reaches other threads with whatever carries the connections there (postMessage orders it).
  Atomics.store(words, FLAGS, 0);
  const registry = adoptRegistry(base.registry);
  const rings = pipeRings(words);
  const hub = currentHubBlock();
  const ends = [0, 1].map((end) =>
    connection({ ...base, hub, end, ticket: 0 }, openHandle(words, end, registry, rings)),
  );
  return ends as [Connection<T>, Connection<T>];
}
