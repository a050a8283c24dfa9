/**
 * The message stream under `Queue` and `Pipe`: a byte ring (ring.ts) of
 * whole records (codec.ts), a writer mutex and a reader mutex — the one
 * read/write algorithm both channels use.
 *
 * Layout (Int32 words from the stream's first word; each group on its own
 * 64-byte line):
 *
 * | word          | line | written by                                   | meaning                                   |
 * |---------------|------|----------------------------------------------|-------------------------------------------|
 * | writer mutex  | 0    | a `Lock` (sync/lock.ts)                      | held while one record is written          |
 * | reader mutex  | 1    | a `Lock`                                     | held while one record is read             |
 * | ring header   | 2–4  | ring.ts                                      | `HEAD`, `TAIL`, sleepers                  |
 * | `SLAB_BYTES`  | 5    | writers (+ size, before publishing), readers (− size, after consuming) | payload bytes of slab records in the ring (Pipe's limit) |
 * | `SLAB_WAITERS`| 5    | writers waiting for `SLAB_BYTES` to fall      | how many may sleep on `SLAB_BYTES`        |
 *
 * Records are whole. A record of at most {@link Stream.inlineMax} bytes is
 * copied into the ring at once, under the writer mutex, and published with
 * one `HEAD` store; a larger message goes into a slab (slab.ts) and the ring
 * carries a small record naming it. So:
 * - No thread ever waits while it holds a mutex of the stream: a writer
 *   takes the writer mutex only when it can write its record now (or to find
 *   that it cannot, and lets go), a reader only to take one record that is
 *   there. Waiting (for room, for a record, for a mutex) always happens with
 *   nothing held, and the mutex is taken and released within one synchronous
 *   step of the algorithm — never across an `await`, where the thread's own
 *   later code could find it held by itself.
 * - A thread that dies holding a mutex leaves no half-written or half-read
 *   record: the writer had not published its `HEAD` yet (the next writer
 *   overwrites those bytes), the reader had not consumed its `TAIL` yet (the
 *   next reader reads the record again) or had (the record left with it, as
 *   a message a consumer had taken). The Lock algorithm gives the mutex to
 *   the next thread (sync/lock.ts), which sees `writer.recovered` and lets
 *   the channel repair its own bookkeeping (the Queue's reservations).
 *
 * Waiting is written once, as generators of {@link Step}s that run
 * blocking (`runSync`) or on the event loop (`runAsync`); the fast paths of
 * the channels are plain functions around {@link Stream.stageSmall} and
 * {@link Stream.take}.
 *
 * @module
 */

import { BufferTooShort, ConnectionStateError } from '../errors.js';
import type { SharedState } from '../shared-object.js';
import { LOCK_OWNER, LOCK_TAG, LOCK_WAITERS, LOCK_WORDS, Lock, labelLock } from '../sync/lock.js';
import { adoptRegistry, OWNER_CHECK_MS, threadToken } from '../sync/owners.js';
import {
  Deferred,
  decodePayload,
  HEADER_BYTES,
  KIND_BYTES,
  KIND_RAW,
  KIND_SHARED,
  KIND_SLAB,
  type Outgoing,
  PARTIAL,
  payloadInto,
  readHead,
  readSmall,
  writeOut,
  writeSmall,
} from './codec.js';
import { Hub, unpackShared } from './oob.js';
import { RING_HEADER_WORDS, Ring, type RingHooks, runAsync, runSync, type Waiting, waitStep } from './ring.js';
import { fromSlab, slabBytes, slabHoldsBytes, slabRef, toSlab } from './slab.js';

const LINE = 16;
const WRITE_LOCK = 0;
const READ_LOCK = LINE;
const RING = 2 * LINE;
const SLAB_BYTES = RING + RING_HEADER_WORDS;
const SLAB_WAITERS = SLAB_BYTES + 1;
/** Int32 words of a stream's header. */
export const STREAM_WORDS = SLAB_BYTES + LINE;

const NO_WAIT = { blocking: false } as const;
/** One look at a held mutex that also takes it over from a dead holder. */
const TAKEOVER = { timeout: 0 } as const;

/** {@link Stream.take}'s answer when no record is there. */
export const NONE: unique symbol = Symbol('none');

/** How a received record is returned. */
export const AS_VALUE = 0;
/** As a Buffer of its bytes (`recvBytes`). */
export const AS_BYTES = 1;
/** Copied into the caller's buffer (`recvBytesInto`). */
export const INTO = 2;

/** How to receive one record. */
export interface Receive {
  readonly as: number;
  /** AS_BYTES: longest accepted message. */
  readonly maxlength: number;
  /** INTO: the destination, from the offset on. */
  readonly into: Uint8Array;
}
/** Receive a value. */
export const RECEIVE_VALUE: Receive = { as: AS_VALUE, maxlength: 0, into: new Uint8Array(0) };

/** Where a channel's memory is and which hub carries its shared objects. */
export interface StreamState extends SharedState {
  readonly hub: SharedArrayBuffer;
}

/**
 * Writes the header of a new stream at word `at` of `words` (its mutexes'
 * tags); the rest of fresh memory is zero, as a stream starts.
 *
 * @example
 * ```ts
 * initStream(words, STREAM);
 * ```
 */
export function initStream(words: Int32Array, at: number): void {
  words[at + WRITE_LOCK] = LOCK_TAG;
  words[at + READ_LOCK] = LOCK_TAG;
}

/** Takes `lock` now when free or held by a dead thread (a non-blocking Lock acquire takes a dead holder's lock over). */
function tryEnter(lock: Lock): boolean {
  return lock.acquire(NO_WAIT);
}

/** Looks this many times at a held mutex before sleeping: holders hold it for one record. */
const ENTER_SPINS = 64;

/**
 * Waits (holding nothing) until `lock` is taken, then returns holding it;
 * false when `end` passes first. Spins briefly, then sleeps on the Lock's
 * `OWNER` word counted in its `WAITERS` (so a release wakes it); after a
 * sleep that timed out it lets the Lock take the mutex over from a dead
 * holder (sync/lock.ts).
 */
function* enter(lock: Lock, lw: Int32Array, end: number): Waiting<boolean> {
  let checkDead = true;
  for (;;) {
    for (let i = 0; i < ENTER_SPINS; i++) {
      if (Atomics.load(lw, LOCK_OWNER) === 0 && Atomics.compareExchange(lw, LOCK_OWNER, 0, threadToken) === 0) {
        return true;
      }
    }
    if (checkDead && lock.acquire(TAKEOVER)) return true;
    const left = end === Number.POSITIVE_INFINITY ? end : end - performance.now();
    if (left <= 0) return false;
    Atomics.add(lw, LOCK_WAITERS, 1);
    try {
      const owner = Atomics.load(lw, LOCK_OWNER);
      checkDead = false;
      if (owner !== 0) {
        checkDead = (yield waitStep(lw, LOCK_OWNER, owner, Math.min(left, OWNER_CHECK_MS))) === 'timed-out';
      }
    } finally {
      Atomics.sub(lw, LOCK_WAITERS, 1);
    }
  }
}

/**
 * One message stream: the ring, its two mutexes and the slab limit, viewed
 * by one thread. See the module comment.
 *
 * @example
 * ```ts
 * const stream = new Stream(state, STREAM, DATA_BYTES, capacity, undefined, 'a Queue');
 * if (stream.tryWriter()) { try { const n = stream.stage(out); if (n > 0) stream.publish(n); } finally { stream.leaveWriter(); } }
 * ```
 */
export class Stream {
  readonly ring: Ring;
  readonly writer: Lock;
  readonly reader: Lock;
  /** Largest record written into the ring; larger messages go to slabs. */
  readonly inlineMax: number;
  readonly #writerWords: Int32Array;
  readonly #readerWords: Int32Array;
  readonly #words: Int32Array;
  readonly #state: StreamState;
  readonly #registry: Int32Array;
  /** Most payload bytes of slab records in the ring at once (undefined: no limit). */
  readonly #slabLimit: number | undefined;
  readonly #base: number;
  #hub: Hub | undefined;
  readonly #size = { n: 0 };
  /** The `HEAD` at which the record staged by this thread starts. */
  #staged = 0;

  /**
   * @param state the channel's memory; the stream's header is at word `at`
   *   from `state.byteOffset`, its `capacity` data bytes at byte `dataOffset` from it.
   * @param slabLimit most slab payload bytes in the ring at once (a Pipe's
   *   backpressure), or undefined for none (a Queue: its items are its limit).
   * @param name the channel, in warnings: `a Queue`.
   */
  constructor(
    state: StreamState,
    at: number,
    dataOffset: number,
    capacity: number,
    slabLimit: number | undefined,
    name: string,
  ) {
    const wordOffset = (w: number): number => state.byteOffset + w * Int32Array.BYTES_PER_ELEMENT;
    const lockState = (w: number): SharedState => ({
      buffer: state.buffer,
      byteOffset: wordOffset(w),
      registry: state.registry,
    });
    this.#state = state;
    this.#base = at;
    this.#registry = adoptRegistry(state.registry);
    this.#words = new Int32Array(state.buffer, wordOffset(at), STREAM_WORDS);
    this.writer = new Lock(lockState(at + WRITE_LOCK));
    this.reader = new Lock(lockState(at + READ_LOCK));
    labelLock(this.writer, `the writer lock of ${name}`);
    labelLock(this.reader, `the reader lock of ${name}`);
    this.#writerWords = new Int32Array(state.buffer, wordOffset(at + WRITE_LOCK), LOCK_WORDS);
    this.#readerWords = new Int32Array(state.buffer, wordOffset(at + READ_LOCK), LOCK_WORDS);
    this.ring = new Ring(state.buffer, wordOffset(at + RING), state.byteOffset + dataOffset, capacity);
    this.inlineMax = Math.max(capacity >>> 2, Math.min(capacity, 64));
    this.#slabLimit = slabLimit;
  }

  /**
   * This thread's handle on the channel's hub (oob.ts).
   *
   * @example
   * ```ts
   * yield* stream.hub().register(packet);
   * ```
   */
  hub(): Hub {
    this.#hub ??= Hub.of(this.#state.hub, this.#registry);
    return this.#hub;
  }

  // ---- writing ----

  /**
   * Takes the writer mutex now when it is free (or its holder is dead).
   *
   * @example
   * ```ts
   * if (stream.tryWriter()) try { write(); } finally { stream.leaveWriter(); }
   * ```
   */
  tryWriter(): boolean {
    return tryEnter(this.writer);
  }

  /**
   * Takes the writer mutex when it is free right now: one compare-and-swap
   * (the Lock's own fast path), no spinning — the fast paths fall back to
   * the slow one, which waits, rather than spin on a core that a preempted
   * holder or the readers need.
   *
   * @example
   * ```ts
   * if (stream.grabWriter()) try { write(); } finally { stream.leaveWriter(); }
   * ```
   */
  grabWriter(): boolean {
    return Atomics.compareExchange(this.#writerWords, LOCK_OWNER, 0, threadToken) === 0;
  }

  /**
   * Waits, holding nothing, until this thread holds the writer mutex (or
   * `end`, a deadline, passes: false).
   *
   * @example
   * ```ts
   * if (yield* stream.enterWriter(Infinity)) try { write(); } finally { stream.leaveWriter(); }
   * ```
   */
  *enterWriter(end: number): Waiting<boolean> {
    return yield* enter(this.writer, this.#writerWords, end);
  }

  /**
   * Releases the writer mutex.
   *
   * @example
   * ```ts
   * stream.leaveWriter();
   * ```
   */
  leaveWriter(): void {
    this.writer.release();
  }

  /**
   * The owner of the writer mutex (a thread token), 0 when free.
   *
   * @example
   * ```ts
   * if (knownDead(registry, stream.writerOwner())) rescue();
   * ```
   */
  writerOwner(): number {
    return Atomics.load(this.#writerWords, LOCK_OWNER);
  }

  /**
   * The owner of the reader mutex (a thread token), 0 when free.
   *
   * @example
   * ```ts
   * if (knownDead(registry, stream.readerOwner())) rescue();
   * ```
   */
  readerOwner(): number {
    return Atomics.load(this.#readerWords, LOCK_OWNER);
  }

  /**
   * Outside the mutexes: `out` as it goes into the ring — itself, or a slab
   * record for a message larger than {@link inlineMax} (waiting first, on a
   * Pipe, until the slab limit has room).
   *
   * @example
   * ```ts
   * const record = yield* stream.frame(encode(value, 'obj'));
   * ```
   */
  *frame(out: Outgoing): Waiting<Outgoing> {
    if (out.total <= this.inlineMax) return out;
    if (this.#slabLimit !== undefined) yield* this.#slabRoom(out.payload.length);
    return yield* toSlab(out, this.#state.buffer, this.#state.byteOffset + this.#base * 4, this.hub());
  }

  *#slabRoom(size: number): Waiting<void> {
    const words = this.#words;
    const limit = this.#slabLimit as number;
    for (;;) {
      const inRing = Atomics.load(words, SLAB_BYTES);
      if (inRing <= 0 || inRing + size <= limit) return;
      Atomics.add(words, SLAB_WAITERS, 1);
      try {
        if (Atomics.load(words, SLAB_BYTES) === inRing) yield waitStep(words, SLAB_BYTES, inRing, OWNER_CHECK_MS);
      } finally {
        Atomics.sub(words, SLAB_WAITERS, 1);
      }
    }
  }

  /**
   * Under the writer mutex: copies record `out` into the ring at `HEAD`
   * when all of it fits now, without publishing it. Returns its size, or 0.
   *
   * @example
   * ```ts
   * const n = stream.stage(out);
   * if (n > 0) stream.publish(n);
   * ```
   */
  stage(out: Outgoing): number {
    const ring = this.ring;
    const head = ring.head();
    const n = writeOut(ring, head, out);
    if (n > 0) {
      this.#staged = head;
      if (out.kind === KIND_SLAB && this.#slabLimit !== undefined) {
        Atomics.add(this.#words, SLAB_BYTES, slabRef(out.payload).length);
      }
    }
    return n;
  }

  /**
   * Under the writer mutex: {@link stage} for the fast kinds of
   * `writeSmall` (codec.ts); `json` is the item's JSON text when it wants it.
   *
   * @example
   * ```ts
   * const n = stream.stageSmall(42, undefined);
   * ```
   */
  stageSmall(item: unknown, json: string | undefined): number {
    const ring = this.ring;
    const head = ring.head();
    const n = writeSmall(ring, head, item, json);
    if (n > 0) this.#staged = head;
    return n;
  }

  /**
   * Under the writer mutex: makes the staged record of `n` bytes visible.
   *
   * @example
   * ```ts
   * stream.publish(n);
   * ```
   */
  publish(n: number): void {
    this.ring.publish(this.#staged + n);
  }

  /**
   * Waits (holding nothing) until `bytes` are free in the ring, `end`
   * passes, or `stop()` says so; true when there is room.
   *
   * @example
   * ```ts
   * yield* stream.untilRoom(out.total, Infinity, () => peerGone());
   * ```
   */
  *untilRoom(bytes: number, end: number, stop: () => boolean): Waiting<boolean> {
    return (yield* this.ring.untilWritable(bytes, end, { stop, sliceMs: OWNER_CHECK_MS })) >= 0;
  }

  // ---- reading ----

  /**
   * Takes the reader mutex now when it is free (or its holder is dead).
   *
   * @example
   * ```ts
   * if (stream.tryReader()) try { v = stream.take(RECEIVE_VALUE); } finally { stream.leaveReader(); }
   * ```
   */
  tryReader(): boolean {
    return tryEnter(this.reader);
  }

  /**
   * Takes the reader mutex when it is free right now (one compare-and-swap, as {@link grabWriter}).
   *
   * @example
   * ```ts
   * if (stream.grabReader()) try { v = stream.take(RECEIVE_VALUE); } finally { stream.leaveReader(); }
   * ```
   */
  grabReader(): boolean {
    return Atomics.compareExchange(this.#readerWords, LOCK_OWNER, 0, threadToken) === 0;
  }

  /**
   * Waits, holding nothing, until this thread holds the reader mutex (or `end` passes: false).
   *
   * @example
   * ```ts
   * if (yield* stream.enterReader(end)) try { v = stream.take(how); } finally { stream.leaveReader(); }
   * ```
   */
  *enterReader(end: number): Waiting<boolean> {
    return yield* enter(this.reader, this.#readerWords, end);
  }

  /**
   * Releases the reader mutex.
   *
   * @example
   * ```ts
   * stream.leaveReader();
   * ```
   */
  leaveReader(): void {
    this.reader.release();
  }

  /**
   * Whether a record is there to take.
   *
   * @example
   * ```ts
   * if (stream.readable()) return true; // poll
   * ```
   */
  readable(): boolean {
    return this.ring.readable(this.ring.tail(), HEADER_BYTES) >= HEADER_BYTES;
  }

  /**
   * Under the reader mutex: takes the next record as `how` says, consuming
   * it. Returns {@link NONE} when none is there; else the value, or what
   * {@link finish} turns into it after the mutex is released (a
   * {@link Deferred}, a Buffer for a bytes receive). A bytes receive of a
   * record that is not bytes, or longer than `maxlength`, throws and leaves
   * it in the ring.
   *
   * @example
   * ```ts
   * const got = stream.take(RECEIVE_VALUE);
   * ```
   * @throws {TypeError} for a bytes receive of a record sent as a value.
   * @throws {ConnectionStateError} for a bytes receive of a record longer than `maxlength`.
   * @throws {Error} on a corrupt stream.
   */
  take(how: Receive): unknown {
    const ring = this.ring;
    const tail = ring.tail();
    const avail = ring.readable(tail, HEADER_BYTES);
    if (avail < HEADER_BYTES) return NONE;
    if (how.as === AS_VALUE) {
      const v = readSmall(ring, tail, avail, this.#size);
      if (v === PARTIAL) throw new Error(`corrupt channel stream: a record at byte ${tail >>> 0} is not whole`);
      ring.consume(tail + this.#size.n);
      if (v instanceof Deferred && v.kind === KIND_SLAB) this.#tookSlab(v.data as Uint8Array);
      return v;
    }
    const head = readHead(ring, tail);
    if (avail < head.total) throw new Error(`corrupt channel stream: a record at byte ${tail >>> 0} is not whole`);
    if (head.kind === KIND_SLAB) {
      const payload = Buffer.allocUnsafe(head.word0);
      payloadInto(ring, tail, head.word0, payload);
      const ref = slabRef(payload);
      checkBytes(slabHoldsBytes(ref), ref.length, how);
      ring.consume(tail + head.total);
      this.#tookSlab(payload);
      return new Deferred(KIND_SLAB, payload);
    }
    checkBytes(head.kind === KIND_RAW || head.kind === KIND_BYTES, head.word0, how);
    if (how.as === INTO && head.word0 <= how.into.length) {
      payloadInto(ring, tail, head.word0, how.into);
      ring.consume(tail + head.total);
      return head.word0;
    }
    const payload = Buffer.allocUnsafe(head.word0);
    payloadInto(ring, tail, head.word0, payload);
    ring.consume(tail + head.total);
    return payload;
  }

  #tookSlab(payload: Uint8Array): void {
    if (this.#slabLimit === undefined) return;
    const words = this.#words;
    Atomics.sub(words, SLAB_BYTES, slabRef(payload).length);
    if (Atomics.load(words, SLAB_WAITERS) !== 0) Atomics.notify(words, SLAB_BYTES);
  }

  /**
   * After the reader mutex is released: the value (or bytes, or count) of
   * what {@link take} returned, fetching shared objects and slabs from the hub.
   *
   * @example
   * ```ts
   * return yield* stream.finish(got, how);
   * ```
   * @throws {BufferTooShort} for `recvBytesInto` when the message does not fit (the message in `err.data`).
   * @throws {Error} when the hub lost the message's buffers.
   */
  *finish(got: unknown, how: Receive): Waiting<unknown> {
    let bytes: Buffer;
    if (got instanceof Deferred) {
      if (how.as === AS_VALUE) {
        if (got.kind === KIND_SHARED) return yield* unpackShared(got.data as Uint8Array, this.hub());
        if (got.kind === KIND_SLAB) return yield* fromSlab(slabRef(got.data as Uint8Array), this.hub());
        return decodePayload(got.kind, 0, 0, got.data);
      }
      bytes = yield* slabBytes(slabRef(got.data as Uint8Array), this.hub());
    } else if (how.as === AS_VALUE || typeof got === 'number') {
      return got;
    } else {
      bytes = got as Buffer;
    }
    if (how.as === AS_BYTES) return bytes;
    if (bytes.length > how.into.length) {
      const err = new BufferTooShort(
        `the message (${bytes.length} bytes) does not fit the buffer (${how.into.length} bytes from the offset): it is in err.data`,
      );
      err.data = bytes;
      throw err;
    }
    how.into.set(bytes, 0);
    return bytes.length;
  }

  /**
   * {@link finish} of a value, without a generator unless it needs the hub:
   * the value, or (for shared objects and slabs) a promise of it when
   * `async`, else the value after blocking.
   *
   * @example
   * ```ts
   * const v = stream.take(RECEIVE_VALUE);
   * return v instanceof Deferred ? stream.finishValue(v, false) : v;
   * ```
   */
  finishValue(d: Deferred, async: boolean): unknown {
    if (d.kind !== KIND_SHARED && d.kind !== KIND_SLAB) return decodePayload(d.kind, 0, 0, d.data);
    const g = this.finish(d, RECEIVE_VALUE);
    return async ? runAsync(g) : runSync(g);
  }

  /**
   * Waits (holding nothing) until a record is there, `end` passes, or
   * `hooks.stop()` says so; true when there is one.
   *
   * @example
   * ```ts
   * if (!(yield* stream.untilRecord(end, { stop: () => closed() }))) throw new QueueEmpty('…');
   * ```
   */
  *untilRecord(end: number, hooks: RingHooks): Waiting<boolean> {
    return (yield* this.ring.untilReadable(HEADER_BYTES, end, hooks)) >= 0;
  }

  /**
   * Wakes every sleeper of the ring (a channel closed, a peer gone).
   *
   * @example
   * ```ts
   * stream.wakeAll();
   * ```
   */
  wakeAll(): void {
    this.ring.wakeAll();
  }
}

/** A bytes receive accepts a record (`isBytes`, `length` bytes), or leaves it in the pipe and throws. */
function checkBytes(isBytes: boolean, length: number, how: Receive): void {
  if (!isBytes) {
    throw new TypeError(
      'the next message was sent with send() and is not bytes: it is left in the pipe, receive it with recv()',
    );
  }
  if (length > how.maxlength) {
    throw new ConnectionStateError(
      `the next message is ${length} bytes, longer than maxlength ${how.maxlength}: it is left in the pipe ` +
        '(receive it with recv() or a larger maxlength, or close the connection)',
    );
  }
}
