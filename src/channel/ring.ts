/**
 * A byte ring in shared memory: the stream under `Queue` and `Pipe`, with
 * one writer and one reader at a time. Who may be the writer or the reader at
 * a given moment is the user's business (stream.ts holds a writer and a
 * reader mutex for one whole record); the ring only moves bytes and puts
 * threads to sleep until there is something to do.
 *
 * Layout: a header of Int32 words at `headerOffset`, and `capacity` data
 * bytes at `dataOffset` (a multiple of 8). Each group of header words sits on
 * its own 64-byte cache line, so that the writer's stores do not evict the
 * reader's line and the other way round.
 *
 * | word               | line | written by                      | meaning                                          |
 * |--------------------|------|---------------------------------|--------------------------------------------------|
 * | `HEAD`             | 0    | writer (`Atomics.store`)        | bytes ever written, a wrapping u32 counter        |
 * | `TAIL`             | 1    | reader (`Atomics.store`)        | bytes ever read, a wrapping u32 counter           |
 * | `READERS_SLEEPING` | 2    | readers (add before sleeping, sub after) | how many may sleep on `READ_WAKE`        |
 * | `READ_WAKE`        | 2    | writers, and `wakeAll`          | bumped to wake readers                            |
 * | `WRITERS_SLEEPING` | 2    | writers (add before sleeping, sub after) | how many may sleep on `WRITE_WAKE`       |
 * | `WRITE_WAKE`       | 2    | readers, and `wakeAll`          | bumped to wake writers                            |
 * | `WRITE_WANT`       | 2    | a writer before it sleeps       | the `TAIL` it waits for (readers notify only then) |
 *
 * Invariants: `0 <= (HEAD - TAIL) mod 2^32 <= capacity` (the bytes between
 * them are written and unread); `capacity` is a power of two, so a counter
 * maps to the data offset `counter & (capacity - 1)` and a counter wrap at
 * 2^32 is invisible. The writer copies bytes *then* publishes `HEAD` with
 * `Atomics.store`; the reader loads `HEAD` *then* reads the bytes (and the
 * same for `TAIL` the other way), so every published byte is seen complete:
 * the sequentially consistent store/load pair orders the plain copies.
 *
 * Sleeping, and why no wake-up is lost (Drepper, "Futexes Are Tricky", with
 * the sleeper count in its own word, as in sync/lock.ts): a reader that finds
 * too few bytes (1) increments `READERS_SLEEPING`, (2) loads `READ_WAKE`,
 * (3) looks at `HEAD` (and whatever else it waits for) again, and only then
 * (4) sleeps on `READ_WAKE` while it still holds the value of (2). A writer
 * (a) stores `HEAD`, then (b) loads `READERS_SLEEPING` and, when it is not 0,
 * (c) bumps `READ_WAKE` and notifies. In the single total order of these
 * operations, either (b) sees the increment (1) — then (c) changes the word,
 * and the sleep (4) either sees the new value and returns at once or is
 * woken by the notify — or (b) comes before (1), and then (3) comes after
 * (a) and sees the new `HEAD`. Waiting on a separate wake word instead of
 * `HEAD` itself lets *other* events wake readers too: closing a queue, a
 * broken stream ({@link Ring.wakeAll}). Writers sleep on `WRITE_WAKE` in
 * the mirror image, with one refinement: the sleeping writer stores the
 * `TAIL` it needs in `WRITE_WANT`
 * (after incrementing `WRITERS_SLEEPING`, before its last look at `TAIL`),
 * and a reader notifies only once its new `TAIL` reaches it — a reader that
 * sees a stale `WANT` made its `TAIL` store before the writer's last look,
 * which then sees that `TAIL`. Without it, a full ring would cost a
 * notify and a wake-up per message read. Several writers may sleep at once
 * (senders of a Pipe end, the hub): the last one's `WANT` stands, and
 * `notify` wakes them all when it is reached; one that needed less was
 * delayed, never stranded, since every `WANT` is reached once readers catch
 * up. A thread only notifies when someone sleeps, so the steady streaming
 * path makes no system call.
 *
 * Waiting is written once: the algorithms that may wait are generators that
 * yield a {@link Step} ("wait on word i while it equals v, for at most ms"),
 * and two drivers run them, {@link runSync}
 * (`Atomics.wait`, for workers and scripts) and {@link runAsync}
 * (`Atomics.waitAsync`, never blocking the event loop, keeping the process
 * alive). Callers keep a plain-function fast path for the case where nothing
 * has to wait.
 *
 * @module
 */

import { describe } from '../check.js';
import { remaining, type WaitOutcome, waitAsync } from '../sync/wait.js';

/** Int32 words per cache line. */
const LINE = 16;
/** Bytes written, published by the writer. */
export const HEAD = 0;
/** Bytes read, published by the reader. */
export const TAIL = LINE;
/** Readers that may sleep on `READ_WAKE`. */
export const READERS_SLEEPING = 2 * LINE;
/** Bumped to wake readers. */
export const READ_WAKE = 2 * LINE + 1;
/** Writers that may sleep on `WRITE_WAKE`. */
export const WRITERS_SLEEPING = 2 * LINE + 2;
/** Bumped to wake writers. */
export const WRITE_WAKE = 2 * LINE + 3;
/** The `TAIL` a sleeping writer waits for: readers wake it once `TAIL` reaches it. */
export const WRITE_WANT = 2 * LINE + 4;
/** Int32 words of a ring header. */
export const RING_HEADER_WORDS = 3 * LINE;
/** Bytes of a ring header. */
export const RING_HEADER_BYTES = RING_HEADER_WORDS * Int32Array.BYTES_PER_ELEMENT;

/** Smallest ring. */
export const MIN_CAPACITY = 64;
/** Largest ring (1 GiB). */
export const MAX_CAPACITY = 2 ** 30;
/** Default ring: 256 KiB. */
export const DEFAULT_CAPACITY = 256 * 1024;

/** Looks this many times at a counter before going to sleep: the other side is usually a few hundred ns away. */
export const SPINS = 2000;

/** "Wait on `words[index]` while it holds `value`, for at most `ms`" — yielded by waiting algorithms. */
export interface Step {
  readonly words: Int32Array;
  readonly index: number;
  readonly value: number;
  readonly ms: number;
}

/**
 * A waiting algorithm: yields steps, receives each step's outcome, returns
 * its result. An algorithm never holds a lock across a yield (stream.ts):
 * under `runAsync`, other code of the same thread runs between two steps.
 */
export type Waiting<T> = Generator<Step, T, WaitOutcome>;

/**
 * A wait step.
 *
 * @example
 * ```ts
 * yield waitStep(words, READ_WAKE, seen, 50);
 * ```
 */
export function waitStep(words: Int32Array, index: number, value: number, ms: number): Step {
  return { words, index, value, ms };
}

/**
 * Runs a waiting algorithm on this thread, blocking it in `Atomics.wait`.
 *
 * @example
 * ```ts
 * const n = runSync(ring.untilReadable(8, deadline(100), hooks));
 * ```
 * @throws whatever the algorithm throws.
 */
export function runSync<T>(g: Waiting<T>): T {
  let r = g.next();
  while (r.done !== true) {
    const s = r.value;
    r = g.next(Atomics.wait(s.words, s.index, s.value, s.ms));
  }
  return r.value;
}

/**
 * Runs a waiting algorithm without blocking the event loop
 * (`Atomics.waitAsync`); the process stays alive while it waits.
 *
 * @example
 * ```ts
 * const n = await runAsync(ring.untilReadable(8, deadline(100), hooks));
 * ```
 * @throws whatever the algorithm throws (as a rejection).
 */
export async function runAsync<T>(g: Waiting<T>): Promise<T> {
  let r = g.next();
  while (r.done !== true) {
    const s = r.value;
    let outcome: WaitOutcome;
    try {
      outcome = await waitAsync(s.words, s.index, s.value, s.ms);
    } catch (err) {
      r = g.throw(err);
      continue;
    }
    r = g.next(outcome);
  }
  return r.value;
}

/** What a ring wait asks of its caller besides the counters. */
export interface RingHooks {
  /**
   * Called before each sleep. Returns true when it made progress that may
   * satisfy the wait (e.g. the thread flushed data it had buffered), so the
   * ring looks again instead of sleeping. May throw to end the wait.
   */
  beforeSleep?(): boolean;
  /** Whether to stop waiting now (e.g. the queue was closed): the wait returns false. */
  stop?(): boolean;
  /** Called after each wake-up or timeout slice; may throw (e.g. a dead peer was detected). */
  check?(): void;
  /** Longest single sleep, so that `check` runs at least that often (default: the whole wait). */
  sliceMs?: number | undefined;
}

/**
 * The ring over `capacity` bytes of `buffer`. Any number of `Ring` objects
 * (one per thread, or several) may view the same memory; the per-object
 * caches below are only hints that are checked before use.
 *
 * @example
 * ```ts
 * const buffer = new SharedArrayBuffer(RING_HEADER_BYTES + 1024);
 * const ring = new Ring(buffer, 0, RING_HEADER_BYTES, 1024);
 * const head = ring.head();
 * if (ring.writable(head) >= 3) { ring.copyIn(head, new Uint8Array([1, 2, 3]), 0, 3); ring.publish(head + 3); }
 * ```
 */
export class Ring {
  /** Header words. */
  readonly words: Int32Array;
  /** The data bytes. */
  readonly bytes: Uint8Array;
  /** The data bytes, for fixed-size fields. */
  readonly view: DataView;
  /** The data bytes as a Buffer, for UTF-8 encoding and decoding in place. */
  readonly text: Buffer;
  readonly capacity: number;
  /** `capacity - 1`: counter to data offset. */
  readonly mask: number;
  /** The writer's last look at `TAIL`, valid while `HEAD` is still `#myHead` (no other writer came between). */
  #tail = 0;
  #myHead = -1;
  /** The reader's last look at `HEAD`, valid while `TAIL` is still `#myTail`. */
  #head = 0;
  #myTail = -1;

  /**
   * @throws {RangeError} when `capacity` is not a power of two within
   *   [{@link MIN_CAPACITY}, {@link MAX_CAPACITY}], or the offsets are misaligned or out of the buffer.
   */
  constructor(buffer: SharedArrayBuffer, headerOffset: number, dataOffset: number, capacity: number) {
    checkCapacity(capacity, 'capacity');
    if (headerOffset % 4 !== 0 || dataOffset % 8 !== 0 || dataOffset + capacity > buffer.byteLength) {
      throw new RangeError(
        `a ring needs a 4-aligned header and 8-aligned data inside the buffer: header ${headerOffset}, data ${dataOffset}, capacity ${capacity}, buffer ${buffer.byteLength}`,
      );
    }
    this.words = new Int32Array(buffer, headerOffset, RING_HEADER_WORDS);
    this.bytes = new Uint8Array(buffer, dataOffset, capacity);
    this.view = new DataView(buffer, dataOffset, capacity);
    this.text = Buffer.from(buffer, dataOffset, capacity);
    this.capacity = capacity;
    this.mask = capacity - 1;
  }

  // ---- writer side (the caller is the ring's writer) ----

  /**
   * The writer's position: bytes written so far (`HEAD`).
   *
   * @example
   * ```ts
   * const head = ring.head();
   * ```
   */
  head(): number {
    return Atomics.load(this.words, HEAD);
  }

  /**
   * Free bytes at `head` (the writer's position). Loads `TAIL` only when the
   * cached one shows too little room, or another writer wrote since.
   *
   * @example
   * ```ts
   * if (ring.writable(head) >= need) write();
   * ```
   */
  writable(head: number, need = this.capacity): number {
    if (head !== this.#myHead) {
      this.#tail = Atomics.load(this.words, TAIL);
      this.#myHead = head;
    }
    let free = this.capacity - ((head - this.#tail) >>> 0);
    if (free < need || free < 0) {
      this.#tail = Atomics.load(this.words, TAIL);
      free = this.capacity - ((head - this.#tail) >>> 0);
    }
    return free;
  }

  /**
   * Copies `len` bytes of `src` from `srcOffset` to the ring at counter
   * `at`, in at most two pieces when it wraps. The caller checked the room.
   *
   * @example
   * ```ts
   * ring.copyIn(head + 8, payload, 0, payload.length);
   * ```
   */
  copyIn(at: number, src: Uint8Array, srcOffset: number, len: number): void {
    const pos = at & this.mask;
    const first = this.capacity - pos;
    if (len <= first) {
      this.bytes.set(len === src.length && srcOffset === 0 ? src : src.subarray(srcOffset, srcOffset + len), pos);
    } else {
      this.bytes.set(src.subarray(srcOffset, srcOffset + first), pos);
      this.bytes.set(src.subarray(srcOffset + first, srcOffset + len), 0);
    }
  }

  /**
   * Makes everything before counter `newHead` visible to the reader, and
   * wakes sleeping readers.
   *
   * @example
   * ```ts
   * ring.publish(head + total);
   * ```
   */
  publish(newHead: number): void {
    const h = newHead | 0;
    Atomics.store(this.words, HEAD, h);
    this.#myHead = h;
    if (Atomics.load(this.words, READERS_SLEEPING) !== 0) {
      Atomics.add(this.words, READ_WAKE, 1);
      Atomics.notify(this.words, READ_WAKE);
    }
  }

  // ---- reader side (the caller is the ring's reader) ----

  /**
   * The reader's position: bytes read so far (`TAIL`).
   *
   * @example
   * ```ts
   * const tail = ring.tail();
   * ```
   */
  tail(): number {
    return Atomics.load(this.words, TAIL);
  }

  /**
   * Unread bytes at `tail` (the reader's position). Loads `HEAD` only when
   * the cached one shows fewer than `need`, or another reader read since.
   *
   * @example
   * ```ts
   * if (ring.readable(tail) >= 8) readHeader();
   * ```
   */
  readable(tail: number, need = 1): number {
    if (tail !== this.#myTail) {
      this.#head = Atomics.load(this.words, HEAD);
      this.#myTail = tail;
    }
    let avail = (this.#head - tail) >>> 0;
    if (avail < need || avail > this.capacity) {
      this.#head = Atomics.load(this.words, HEAD);
      avail = (this.#head - tail) >>> 0;
    }
    return avail;
  }

  /**
   * Copies `len` bytes at counter `at` into `dst` from `dstOffset`, in at
   * most two pieces when it wraps. The caller checked they are there.
   *
   * @example
   * ```ts
   * ring.copyOut(tail + 8, out, 0, length);
   * ```
   */
  copyOut(at: number, dst: Uint8Array, dstOffset: number, len: number): void {
    const pos = at & this.mask;
    const first = this.capacity - pos;
    if (len <= first) {
      dst.set(this.bytes.subarray(pos, pos + len), dstOffset);
    } else {
      dst.set(this.bytes.subarray(pos, this.capacity), dstOffset);
      dst.set(this.bytes.subarray(0, len - first), dstOffset + first);
    }
  }

  /**
   * Frees everything before counter `newTail` for the writer, and wakes
   * sleeping writers.
   *
   * @example
   * ```ts
   * ring.consume(tail + total);
   * ```
   */
  consume(newTail: number): void {
    const t = newTail | 0;
    Atomics.store(this.words, TAIL, t);
    this.#myTail = t;
    if (Atomics.load(this.words, WRITERS_SLEEPING) !== 0 && ((t - Atomics.load(this.words, WRITE_WANT)) | 0) >= 0) {
      Atomics.add(this.words, WRITE_WAKE, 1);
      Atomics.notify(this.words, WRITE_WAKE);
    }
  }

  // ---- waiting ----

  /**
   * Wakes every sleeper on both sides, so that they look at their
   * condition again (after a queue is closed, or the stream broken).
   *
   * @example
   * ```ts
   * Atomics.store(flags, CLOSED, 1); ring.wakeAll();
   * ```
   */
  wakeAll(): void {
    Atomics.add(this.words, READ_WAKE, 1);
    Atomics.notify(this.words, READ_WAKE);
    Atomics.add(this.words, WRITE_WAKE, 1);
    Atomics.notify(this.words, WRITE_WAKE);
  }

  /**
   * Waits until at least `need` bytes are readable at the current `TAIL`,
   * `end` (a {@link deadline}) passes, or `hooks.stop()` says so. Returns
   * the readable bytes (at least `need`), or -1 when it gave up.
   *
   * @example
   * ```ts
   * const avail = runSync(ring.untilReadable(8, deadline(timeout), {}));
   * ```
   */
  *untilReadable(need: number, end: number, hooks: RingHooks): Waiting<number> {
    return yield* this.#until(true, need, end, hooks);
  }

  /**
   * Waits until at least `need` bytes are free at the current `HEAD`, `end`
   * passes, or `hooks.stop()` says so. Returns the free bytes (at least
   * `need`), or -1 when it gave up.
   *
   * @example
   * ```ts
   * const free = runSync(ring.untilWritable(4096, deadline(50), {}));
   * ```
   */
  *untilWritable(need: number, end: number, hooks: RingHooks): Waiting<number> {
    return yield* this.#until(false, need, end, hooks);
  }

  *#until(reader: boolean, need: number, end: number, hooks: RingHooks): Waiting<number> {
    const words = this.words;
    const sleeping = reader ? READERS_SLEEPING : WRITERS_SLEEPING;
    const wake = reader ? READ_WAKE : WRITE_WAKE;
    const look = reader ? () => this.readable(this.tail(), need) : () => this.writable(this.head(), need);
    for (;;) {
      let n = look();
      for (let i = 0; n < need && i < SPINS; i++) n = look();
      if (n >= need) return n;
      if (hooks.stop?.() === true) return -1;
      if (hooks.beforeSleep?.() === true) continue;
      const left = remaining(end);
      if (left === 0) return -1;
      Atomics.add(words, sleeping, 1);
      // The TAIL at which `need` bytes are free (readers look at it only while a writer sleeps).
      if (!reader) Atomics.store(words, WRITE_WANT, (this.head() + need - this.capacity) | 0);
      const seen = Atomics.load(words, wake);
      n = look();
      if (n >= need || hooks.stop?.() === true) {
        Atomics.sub(words, sleeping, 1);
        continue;
      }
      try {
        yield waitStep(words, wake, seen, hooks.sliceMs === undefined ? left : Math.min(left, hooks.sliceMs));
      } finally {
        Atomics.sub(words, sleeping, 1);
      }
      hooks.check?.();
    }
  }
}

/**
 * Checks a ring capacity: a power of two within [{@link MIN_CAPACITY}, {@link MAX_CAPACITY}].
 *
 * @example
 * ```ts
 * checkCapacity(options.capacity ?? DEFAULT_CAPACITY, 'options.capacity');
 * ```
 * @throws {TypeError} naming `what` when it is not a number; {@link RangeError} when it is a number otherwise.
 */
export function checkCapacity(capacity: unknown, what: string): asserts capacity is number {
  if (
    typeof capacity !== 'number' ||
    !Number.isInteger(capacity) ||
    capacity < MIN_CAPACITY ||
    capacity > MAX_CAPACITY ||
    (capacity & (capacity - 1)) !== 0
  ) {
    throw new (typeof capacity === 'number' ? RangeError : TypeError)(
      `${what} must be a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY} bytes: received ${describe(capacity)}`,
    );
  }
}
