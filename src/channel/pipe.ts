/**
 * `Pipe()` and `Connection`: Python's `multiprocessing.Pipe` over one
 * SharedArrayBuffer — per direction a message stream (stream.ts: a ring of
 * whole records, a writer mutex and a reader mutex) — plus, per end, a count
 * of the open handles on that end and a table of the threads holding them
 * (pipe-handles.ts).
 *
 * Ends and directions: end 0 is `a`, end 1 is `b`. End `e` writes into
 * direction `e` and reads direction `1 - e`. A one-way pipe (`duplex: false`)
 * has only direction 1: `a` receives, `b` sends, as in Python.
 *
 * Layout (Int32 words; each group on its own 64-byte line):
 *
 * | word                 | line   | written by                  | meaning                                        |
 * |----------------------|--------|-----------------------------|------------------------------------------------|
 * | `TAG_WORD`           | 0      | creator, once               | {@link PIPE_TAG}                               |
 * | `DUPLEX`             | 0      | creator, once               | 1: both directions; 0: direction 1 only        |
 * | `CAPACITY`           | 0      | creator, once               | ring bytes per direction (a power of two)      |
 * | `TICKETS`, `ID_THREAD`, `ID_SEQ` | 0 | pipe-handles.ts      | lent handles; the pipe's identity              |
 * | ends' handle tables  | 1–8    | pipe-handles.ts             | `OPEN` and holder slots of each end            |
 * | stream of d          | 9+6d…  | stream.ts                   | mutexes, ring header, slab count of direction d |
 * | data of d            | after  | stream.ts                   | `CAPACITY` bytes per existing direction        |
 *
 * EOF: a reader of direction d throws `EOFError` when `OPEN` of the writing
 * end is 0 and the ring holds no record. It loads `OPEN` *before* `HEAD`; a
 * writer publishes `HEAD` before it closes — so the last messages are always
 * read before EOF. The close that brings `OPEN` to 0 wakes every sleeper of
 * both streams.
 *
 * Messages are whole records (stream.ts), so several threads may share an
 * end, and a thread that dies mid-send or mid-receive never corrupts the
 * stream: the next writer or reader takes the mutex over and goes on (a
 * record half-copied by a dead writer was never published; one a dead reader
 * had consumed is lost with it). `send` blocks while the ring is full (as a
 * full OS pipe does); a message larger than a quarter of the ring travels in
 * a slab (slab.ts), and at most `capacity` bytes of slabs (or one larger
 * message) are in flight per direction — so a thread that sends more than
 * that to an end that only it reads waits for good, as in Python.
 *
 * @module
 */

import { checkBoolean, checkOptions, describe, noOptions, positionalForm } from '../check.js';
import { ConnectionStateError, EOFError } from '../errors.js';
import { allocate, attach, SharedObject, type SharedState } from '../shared-object.js';
import { adoptRegistry, OWNER_CHECK_MS, threadToken } from '../sync/owners.js';
import { checkTimeout, deadline, remaining } from '../sync/wait.js';
import { kShare, registerShareable, type ShareDescriptor } from '../transfer.js';
import { Deferred, encode, encodeRaw, type Outgoing, own, plainJson, wantsJson } from './codec.js';
import { adoptHubBlock, currentHubBlock } from './oob.js';
import {
  claim,
  collected,
  ENDS_END,
  giveBack,
  type Handle,
  handles,
  ID_SEQ,
  ID_THREAD,
  ids,
  keyOf,
  lend,
  openHandle,
  openWord,
  reap,
} from './pipe-handles.js';
import { checkCapacity, type Ring, type RingHooks, runAsync, runSync, type Waiting } from './ring.js';
import { AS_BYTES, INTO, initStream, NONE, RECEIVE_VALUE, type Receive, STREAM_WORDS, Stream } from './stream.js';

const DUPLEX = 1;
const CAPACITY = 2;
const DIRS = ENDS_END;
const DIR_WORDS = STREAM_WORDS;
const HEADER_WORDS = DIRS + 2 * DIR_WORDS;
const DATA_BYTES = HEADER_WORDS * Int32Array.BYTES_PER_ELEMENT;

/** First word of direction `d`. */
const dirWord = (d: number): number => DIRS + d * DIR_WORDS;

/** Type tag of a pipe's memory. */
export const PIPE_TAG = 0x43505069; // 'CPPi'
/** Default ring per direction: 64 KiB, a Linux pipe's buffer. */
export const DEFAULT_PIPE_CAPACITY = 64 * 1024;

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

/** Lets a state's `ticket` getter reach its connection, which exists only after the state. */
interface Lender {
  lend(): number;
}

let make: (state: PipeState, handle: Handle, lender: Lender) => Connection;
let streamsOf: (c: Connection) => { in: Stream | undefined; out: Stream | undefined };

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
  /** The stream this end reads (direction 1 - end). */
  readonly #in: Stream | undefined;
  /** The stream this end writes (direction end). */
  readonly #out: Stream | undefined;
  readonly #streams: readonly Stream[];
  readonly #handle: Handle;
  #closed = false;
  /** A ticket lent by the first `[kShare]()` call of a `prepare()`, for its second (see `#lendToPrepare`). */
  #lent = 0;
  /** Pending async receives and sends of this thread, run one after another. */
  readonly #pending = [0, 0];
  readonly #tails: [Promise<unknown> | undefined, Promise<unknown> | undefined] = [undefined, undefined];
  readonly #recvHooks: RingHooks;
  readonly #peerGoneFn = (): boolean => this.#peerGone();

  private constructor(state: PipeState, handle: Handle, lender: Lender) {
    super('Connection', state);
    const words = attach(state, PIPE_TAG, HEADER_WORDS, 'Connection');
    this.#words = words;
    this.#end = state.end;
    this.#registry = adoptRegistry(state.registry);
    this.#handle = handle;
    this.#streams = handle.rings as readonly Stream[];
    const duplex = Atomics.load(words, DUPLEX) === 1;
    const capacity = Atomics.load(words, CAPACITY);
    this.#in = findStream(this.#streams, state, 1 - this.#end, duplex, capacity);
    this.#out = findStream(this.#streams, state, this.#end, duplex, capacity);
    lender.lend = () => this.#lend();
    this.#recvHooks = { stop: () => this.#closed || this.#peerGone(), sliceMs: OWNER_CHECK_MS };
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
    if (v instanceof Deferred) return (this.#in as Stream).finishValue(v, false) as T;
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
      if (v instanceof Deferred) return (await (this.#in as Stream).finishValue(v, true)) as T;
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
    return this.#closed ? 0 : lend(this.#words, this.#end, this.#registry, this.#streams);
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
    const ticket = lend(this.#words, this.#end, this.#registry, this.#streams);
    if (ticket !== 0) {
      this.#lent = ticket;
      queueMicrotask(() => {
        if (this.#lent !== ticket) return;
        this.#lent = 0;
        giveBack(this.#words, this.#end, ticket, this.#streams);
      });
    }
    return ticket;
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
    reap(this.#words, peer, this.#registry, this.#streams);
    return Atomics.load(this.#words, openWord(peer)) === 0;
  }

  #brokenPipe(): ConnectionStateError {
    return new ConnectionStateError(
      'broken pipe: every handle on the other end is closed (or its threads exited), nobody can receive this',
    );
  }

  /** The whole send when nothing has to wait; false when the slow path must run. */
  #sendFast(obj: unknown): boolean {
    if (Atomics.load(this.#words, openWord(1 - this.#end)) === 0) return false;
    let json: string | undefined;
    if (wantsJson(obj)) {
      json = plainJson(obj);
      if (json === undefined) return false;
    }
    const stream = this.#out as Stream;
    if (!stream.grabWriter()) return false;
    let n = 0;
    try {
      n = stream.stageSmall(obj, json);
      if (n !== 0) stream.publish(n);
    } finally {
      stream.leaveWriter();
    }
    return n !== 0;
  }

  /** An async send of `out`: at once when possible, else after this thread's pending sends. */
  #sendOut(out: Outgoing): Promise<void> {
    if (this.#pending[1] !== 0) own(out);
    return this.#serial(1, () => runAsync(this.#sendSlow(out, true)));
  }

  /** Sends `out`: registers its shared buffers, frames it (a slab when large), writes it when there is room. */
  *#sendSlow(out: Outgoing, async: boolean): Waiting<void> {
    const stream = this.#out as Stream;
    if (out.shared !== undefined) yield* stream.hub().register(out.shared);
    if (async) own(out); // it may wait: the message must not view the caller's memory any longer
    const record = yield* stream.frame(out);
    for (;;) {
      if (this.#closed) throw new ConnectionStateError('the connection was closed before this message could be sent');
      if (this.#peerGone()) throw this.#brokenPipe();
      yield* stream.enterWriter(Number.POSITIVE_INFINITY);
      let n = 0;
      try {
        n = stream.stage(record);
        if (n !== 0) stream.publish(n);
      } finally {
        stream.leaveWriter();
      }
      if (n !== 0) return;
      yield* stream.untilRoom(record.total, Number.POSITIVE_INFINITY, this.#peerGoneFn);
    }
  }

  /** The whole receive of a value when a record is there and the reader mutex is free; NONE otherwise. */
  #recvFast(): unknown {
    const stream = this.#in as Stream;
    if (!stream.grabReader()) return NONE;
    try {
      return stream.take(RECEIVE_VALUE);
    } finally {
      stream.leaveReader();
    }
  }

  /** Receives one message as `how` says, waiting for it (or for EOF). */
  *#recv(how: Receive): Waiting<unknown> {
    const stream = this.#in as Stream;
    for (;;) {
      if (this.#closed) throw new ConnectionStateError('the connection was closed while receiving');
      yield* stream.enterReader(Number.POSITIVE_INFINITY);
      let got: unknown;
      try {
        got = stream.take(how);
      } finally {
        stream.leaveReader();
      }
      if (got !== NONE) return yield* stream.finish(got, how);
      // Nothing there. OPEN is loaded before HEAD: a writer publishes before it closes.
      if (this.#peerGone() && !stream.readable()) {
        throw new EOFError('the other end of the pipe is closed and every message was received');
      }
      yield* stream.untilRecord(Number.POSITIVE_INFINITY, this.#recvHooks);
    }
  }

  /** Waits up to `ms` for a message to arrive or the other end to close. */
  *#poll(ms: number | undefined): Waiting<boolean> {
    const stream = this.#in as Stream;
    const end = deadline(ms);
    for (;;) {
      if (this.#closed) throw new ConnectionStateError('the connection was closed while polling');
      if (stream.readable() || this.#peerGone()) return true;
      if (remaining(end) === 0) return false;
      yield* stream.untilRecord(end, this.#recvHooks);
    }
  }

  static {
    make = (state, handle, lender) => new Connection(state, handle, lender);
    streamsOf = (c) => ({ in: c.#in, out: c.#out });
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
  return streamsOf(c)[which]?.ring;
}

function findStream(
  streams: readonly Stream[],
  state: PipeState,
  d: number,
  duplex: boolean,
  capacity: number,
): Stream | undefined {
  if (!duplex && d === 0) return undefined;
  const headerOffset = state.byteOffset + (dirWord(d) + 2 * 16) * Int32Array.BYTES_PER_ELEMENT;
  return streams.find((s) => s.ring.words.byteOffset === headerOffset) ?? newStream(state, d, duplex, capacity);
}

function newStream(
  state: SharedState & { hub: SharedArrayBuffer },
  d: number,
  duplex: boolean,
  capacity: number,
): Stream {
  // At most `capacity` bytes of slabs in flight per direction: a pipe's backpressure.
  return new Stream(state, dirWord(d), DATA_BYTES + (duplex ? d : 0) * capacity, capacity, capacity, 'a Pipe');
}

/** The streams of a pipe, after checking its memory. */
function pipeStreams(words: Int32Array, state: SharedState & { hub: SharedArrayBuffer }): Stream[] {
  const duplex = Atomics.load(words, DUPLEX) === 1;
  const capacity = Atomics.load(words, CAPACITY);
  checkCapacity(capacity, 'the pipe capacity');
  if (words.byteOffset + DATA_BYTES + (duplex ? 2 : 1) * capacity > words.buffer.byteLength) {
    throw new TypeError(`invalid handle: a Pipe of ${capacity} bytes per direction does not fit its buffer`);
  }
  const streams = [newStream(state, 1, duplex, capacity)];
  if (duplex) streams.unshift(newStream(state, 0, duplex, capacity));
  return streams;
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
    return open as Connection;
  }
  const streams = pipeStreams(words, state);
  const handle = claim(words, end, ticket, streams) ?? openHandle(words, end, registry, streams);
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
    initStream(words, dirWord(d));
  }
  // The header reaches other threads with whatever carries the connections there (postMessage orders it).
  Atomics.store(words, DUPLEX, duplex ? 1 : 0);
  const registry = adoptRegistry(base.registry);
  const hub = currentHubBlock();
  const streams = pipeStreams(words, { ...base, hub });
  const ends = [0, 1].map((end) =>
    connection({ ...base, hub, end, ticket: 0 }, openHandle(words, end, registry, streams)),
  );
  return ends as [Connection<T>, Connection<T>];
}
