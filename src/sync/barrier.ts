/**
 * `Barrier`: `parties` threads wait until all have arrived, then all go on —
 * Python's `multiprocessing.Barrier`, without the action callback (a
 * function cannot cross threads: the thread whose `wait()` returns 0 does the
 * one-off work).
 *
 * Layout (Int32 words at the object's byteOffset):
 *
 * | word          | written by                                   | meaning                                  |
 * |---------------|----------------------------------------------|------------------------------------------|
 * | `TAG_WORD`    | creator, once                                | {@link BARRIER_TAG}                      |
 * | `STATE`       | arrivals, leavers, `abort`, `reset` (all CAS) | generation, phase and count, packed (below) |
 * | `PARTIES`     | creator, once                                | how many threads each generation needs   |
 * | `TIMEOUT_LO`, `TIMEOUT_HI` | creator, once                   | the default timeout (float64 bits; NaN = none) |
 * | `SLEEPERS`    | waiters (add before sleeping, sub after)     | how many may sleep on `STATE`            |
 *
 * `STATE` packs three fields so that every transition is one compare-and-swap:
 *
 * ```
 *  31            18 17 16 15              0
 * +----------------+-----+-----------------+
 * |   generation   |phase|      count      |
 * +----------------+-----+-----------------+
 * ```
 *
 * - FILLING (phase 0): `count` threads of this generation have arrived and
 *   wait. An arrival takes `count` as its index (so the first gets 0) and adds
 *   one; the arrival that makes `count === parties` instead writes
 *   (generation + 1, FILLING, 0), which releases the whole generation at
 *   once and leaves the barrier ready for the next one.
 * - BROKEN (phase 1): set by `abort()` and by a waiter whose timeout
 *   expired; `count` is how many waiters of this generation have not left yet
 *   (each leaves with `BrokenBarrierError`, counting itself out). New
 *   arrivals throw at once, without counting, until `reset()`.
 * - RESETTING (phase 2): `reset()` while waiters are inside. They leave with
 *   `BrokenBarrierError`, and the last one out writes (generation + 1,
 *   FILLING, 0); arrivals meanwhile wait for that (Python's "resetting"
 *   state).
 *
 * Invariant: the generation changes only when no waiter of the old
 * generation needs to be told anything else — on release (all of them
 * passed) or when the last one has left a broken generation. So a waiter of
 * generation g that sees another generation has passed, and one that sees g
 * with phase BROKEN or RESETTING is broken; no history is needed, and the
 * counter never drifts over any number of generations. The generation has 14
 * bits: a released waiter would be fooled only if 16,384 further generations
 * completed between its wake-up and its next read, which needs more threads
 * than parties and a thread stalled that long. `count` has 16 bits, hence at
 * most {@link MAX_PARTIES} parties.
 *
 * Waiters sleep on `STATE` with the value they read; arrivals do not notify
 * (sleepers stay asleep while `count` grows); every release, break, reset
 * and end of a reset notifies all sleepers, and only when `SLEEPERS` > 0.
 * No lost wake-up: a waiter increments `SLEEPERS` before `Atomics.wait`
 * compares `STATE` with what it read; a transition writes `STATE` before it
 * reads `SLEEPERS` (all sequentially consistent; Drepper, "Futexes Are
 * Tricky").
 *
 * @module
 */

import { checkOptions, describe } from '../check.js';
import { BrokenBarrierError } from '../errors.js';
import { allocate, attach, SharedObject, type SharedState } from '../shared-object.js';
import { registerShareable } from '../transfer.js';
import { checkTimeout, deadline, remaining, waitAsync, waitSync } from './wait.js';

const STATE = 1;
const PARTIES = 2;
const TIMEOUT_LO = 3;
const TIMEOUT_HI = 4;
const SLEEPERS = 5;
const WORDS = 6;
/** Type tag of a Barrier's memory. */
export const BARRIER_TAG = 0x43504272; // 'CPBr'

const COUNT_MASK = 0xffff;
const PHASE_SHIFT = 16;
const PHASE_MASK = 0x3;
const GEN_SHIFT = 18;
const GEN_MASK = 0x3fff;
const FILLING = 0;
const BROKEN = 1;
const RESETTING = 2;
/** The most parties a Barrier can have (the width of `count`). */
export const MAX_PARTIES = COUNT_MASK;

const count = (s: number): number => s & COUNT_MASK;
const phase = (s: number): number => (s >>> PHASE_SHIFT) & PHASE_MASK;
const generation = (s: number): number => s >>> GEN_SHIFT;
const pack = (gen: number, ph: number, n: number): number => ((gen & GEN_MASK) << GEN_SHIFT) | (ph << PHASE_SHIFT) | n;

// Splits a float64 into the two words that store it.
const f64 = new Float64Array(1);
const f64Words = new Int32Array(f64.buffer);

/** Options of `new Barrier`. */
export interface BarrierOptions {
  /** Default timeout of `wait()` in ms (default: wait forever). */
  timeout?: number;
}

const barrierOptions = ['timeout'] as const;

/** What an arrival found: a place in a generation, or a reset to wait out. */
type Arrival = { readonly gen: number; readonly index: number } | { readonly resetting: number };

/**
 * A reusable barrier for a fixed number of threads: each `wait()` blocks
 * until `parties` threads have called it, then all return, each with a
 * distinct index from 0 to `parties - 1` (the first to arrive gets 0).
 *
 * No action callback, unlike Python (functions cannot cross threads): have
 * the thread whose `wait()` returns 0 do the one-off work.
 *
 * A timeout, `abort()` or `reset()` breaks the current generation: its
 * waiters throw {@link BrokenBarrierError}. After a timeout or `abort()` the
 * barrier stays broken (every `wait()` throws at once) until `reset()`.
 *
 * @example
 * ```ts
 * const barrier = new Barrier(4);
 * await pool.map(step, [0, 1, 2, 3].map((i) => [barrier, i]));
 * // in the task: for (const round of rounds) { compute(round); if (barrier.wait() === 0) merge(round); barrier.wait(); }
 * ```
 */
export class Barrier extends SharedObject {
  readonly #words: Int32Array;
  readonly #parties: number;
  readonly #timeout: number | undefined;

  /**
   * A new barrier for `parties` threads in fresh shared memory, or (with
   * `state`) the barrier another thread made, bound to the same memory
   * (`parties` and `options` are then read from it and the arguments ignored).
   *
   * @example
   * ```ts
   * const barrier = new Barrier(3, { timeout: 5000 });
   * ```
   * @throws {TypeError} when `parties` is not a number; when `options` is not an object (a function
   * included: there is no action), has an unknown key (named in the message), or a `timeout` that is
   * not a number; "invalid handle" when `state` does not locate a Barrier.
   * @throws {RangeError} when `parties` is not an integer from 1 to {@link MAX_PARTIES},
   * or `options.timeout` is negative or NaN.
   */
  constructor(parties: number, options?: BarrierOptions, state?: SharedState) {
    let s = state;
    if (s === undefined) {
      if (typeof parties !== 'number') {
        throw new TypeError(`Barrier(parties) must be a number: received ${describe(parties)}`);
      }
      if (!Number.isInteger(parties) || parties < 1 || parties > MAX_PARTIES) {
        throw new RangeError(
          `Barrier(parties) must be an integer from 1 to ${MAX_PARTIES}: received ${describe(parties)}`,
        );
      }
      if (typeof options === 'function') {
        throw new TypeError(
          `Barrier: options must be an object: received ${describe(options)}; a Barrier takes no action (functions cannot cross threads): have the thread whose wait() returns 0 do the work`,
        );
      }
      const { timeout } = checkOptions(options, barrierOptions, 'Barrier');
      checkTimeout(timeout, 'Barrier(options.timeout)');
      s = allocate(BARRIER_TAG, WORDS);
      const words = new Int32Array(s.buffer, s.byteOffset, WORDS);
      Atomics.store(words, PARTIES, parties);
      f64[0] = timeout ?? Number.NaN;
      Atomics.store(words, TIMEOUT_LO, f64Words[0] as number);
      Atomics.store(words, TIMEOUT_HI, f64Words[1] as number);
    }
    super('Barrier', s);
    this.#words = attach(s, BARRIER_TAG, WORDS, 'Barrier');
    this.#parties = Atomics.load(this.#words, PARTIES);
    f64Words[0] = Atomics.load(this.#words, TIMEOUT_LO);
    f64Words[1] = Atomics.load(this.#words, TIMEOUT_HI);
    const timeout = f64[0] as number;
    this.#timeout = Number.isNaN(timeout) ? undefined : timeout;
  }

  /**
   * How many threads each generation needs.
   *
   * @example
   * ```ts
   * new Barrier(3).parties; // 3
   * ```
   */
  get parties(): number {
    return this.#parties;
  }

  /**
   * How many threads wait at the barrier now (0 while it is broken or resetting).
   *
   * @example
   * ```ts
   * while (barrier.nWaiting < barrier.parties - 1) await setTimeout(1);
   * ```
   */
  get nWaiting(): number {
    const s = Atomics.load(this.#words, STATE);
    return phase(s) === FILLING ? count(s) : 0;
  }

  /**
   * Whether the barrier is broken (aborted, or a wait timed out) and needs `reset()`.
   *
   * @example
   * ```ts
   * if (barrier.broken) barrier.reset();
   * ```
   */
  get broken(): boolean {
    return phase(Atomics.load(this.#words, STATE)) === BROKEN;
  }

  /**
   * Blocks this thread (Atomics.wait) until `parties` threads have called
   * `wait`, and returns this thread's arrival index (0 for the first). With
   * no `timeout`, the barrier's default applies.
   *
   * @example
   * ```ts
   * if (barrier.wait() === 0) console.log('all arrived');
   * ```
   * @throws {BrokenBarrierError} when the barrier is or becomes broken (abort,
   * reset, or any waiter's timeout — this one's included, which breaks it).
   * @throws {TypeError} before any waiting, when `timeout` is not a number (an options object
   *   included: the timeout is positional, as in Python).
   * @throws {RangeError} when `timeout` is negative or NaN.
   */
  wait(timeout?: number): number {
    checkTimeout(timeout, 'Barrier.wait(timeout)');
    const end = deadline(timeout ?? this.#timeout);
    let arrival = this.#arrive();
    while ('resetting' in arrival) {
      const left = remaining(end);
      if (left === 0) this.#breakReset(arrival.resetting);
      else this.#sleep(arrival.resetting, left);
      arrival = this.#arrive();
    }
    for (;;) {
      const seen = this.#outcome(arrival.gen, arrival.index);
      if (seen === undefined) return arrival.index;
      const left = remaining(end);
      if (left === 0) return this.#timedOut(arrival);
      this.#sleep(seen, left);
    }
  }

  /**
   * Same as {@link wait} without blocking the event loop
   * (Atomics.waitAsync); keeps the process alive while it waits.
   *
   * @example
   * ```ts
   * const index = await barrier.waitAsync(1000);
   * ```
   * @throws {BrokenBarrierError} as {@link wait} (as a rejection).
   * @throws {TypeError} before any waiting, when `timeout` is not a number (as a rejection; an
   *   options object included).
   * @throws {RangeError} when `timeout` is negative or NaN (as a rejection).
   */
  async waitAsync(timeout?: number): Promise<number> {
    checkTimeout(timeout, 'Barrier.waitAsync(timeout)');
    const end = deadline(timeout ?? this.#timeout);
    let arrival = this.#arrive();
    while ('resetting' in arrival) {
      const left = remaining(end);
      if (left === 0) this.#breakReset(arrival.resetting);
      else await this.#sleepAsync(arrival.resetting, left);
      arrival = this.#arrive();
    }
    for (;;) {
      const seen = this.#outcome(arrival.gen, arrival.index);
      if (seen === undefined) return arrival.index;
      const left = remaining(end);
      if (left === 0) return this.#timedOut(arrival);
      await this.#sleepAsync(seen, left);
    }
  }

  /**
   * Breaks the barrier: every current and future `wait()` throws
   * {@link BrokenBarrierError} until `reset()`. Use it when a party cannot
   * come, so that the others do not wait forever.
   *
   * @example
   * ```ts
   * try { compute(); } catch (err) { barrier.abort(); throw err; }
   * ```
   */
  abort(): void {
    for (;;) {
      const s = Atomics.load(this.#words, STATE);
      if (phase(s) === BROKEN) return;
      if (this.#swap(s, pack(generation(s), BROKEN, count(s)))) return;
    }
  }

  /**
   * Returns the barrier to its initial, empty state. Threads waiting at it
   * throw {@link BrokenBarrierError}; arrivals wait until they have left.
   *
   * @example
   * ```ts
   * if (barrier.broken) barrier.reset();
   * ```
   */
  reset(): void {
    for (;;) {
      const s = Atomics.load(this.#words, STATE);
      const ph = phase(s);
      const n = count(s);
      if (ph === RESETTING || (ph === FILLING && n === 0)) return;
      // Waiters inside leave first (the last one out ends the reset); an empty broken barrier starts afresh.
      const next = n > 0 ? pack(generation(s), RESETTING, n) : pack(generation(s) + 1, FILLING, 0);
      if (this.#swap(s, next)) return;
    }
  }

  /** Joins the current generation (releasing it if this is the last party), or reports a reset to wait out. */
  #arrive(): Arrival {
    for (;;) {
      const s = Atomics.load(this.#words, STATE);
      const ph = phase(s);
      if (ph === BROKEN)
        throw new BrokenBarrierError('the Barrier is broken (aborted, or a wait timed out): reset() it first');
      if (ph === RESETTING) return { resetting: s };
      const gen = generation(s);
      const index = count(s);
      const next = index + 1 === this.#parties ? pack(gen + 1, FILLING, 0) : (s + 1) | 0;
      if (Atomics.compareExchange(this.#words, STATE, s, next) === s) {
        if (index + 1 === this.#parties) this.#wake();
        return { gen, index };
      }
    }
  }

  /**
   * Where a waiter of generation `gen` stands: `undefined` when the
   * generation passed; the state to sleep on while it fills; and when it is
   * broken or resetting, the waiter counts itself out and throws.
   */
  #outcome(gen: number, index: number): number | undefined {
    const s = Atomics.load(this.#words, STATE);
    if (generation(s) !== gen) return undefined;
    if (phase(s) === FILLING) return s;
    this.#leave(gen);
    throw new BrokenBarrierError(
      phase(s) === RESETTING
        ? `the Barrier was reset while waiter ${index} waited`
        : `the Barrier was broken (aborted, or a wait timed out) while waiter ${index} waited`,
    );
  }

  /** A waiter of a broken or resetting generation leaves; the last one out of a reset starts the next generation. */
  #leave(gen: number): void {
    for (;;) {
      const s = Atomics.load(this.#words, STATE);
      const lastOut = phase(s) === RESETTING && count(s) === 1;
      const next = lastOut ? pack(gen + 1, FILLING, 0) : (s - 1) | 0;
      if (Atomics.compareExchange(this.#words, STATE, s, next) === s) {
        if (lastOut) this.#wake();
        return;
      }
    }
  }

  /**
   * A waiter's deadline passed: it breaks the barrier (Python: a timeout
   * breaks it for everyone) and leaves, unless its generation passed
   * meanwhile; then it throws.
   */
  #timedOut(arrival: { readonly gen: number; readonly index: number }): number {
    for (;;) {
      const s = this.#outcome(arrival.gen, arrival.index); // throws if broken meanwhile
      if (s === undefined) return arrival.index; // released at the last moment
      if (this.#swap(s, pack(arrival.gen, BROKEN, count(s) - 1))) break;
    }
    throw new BrokenBarrierError(`Barrier.wait timed out (waiter ${arrival.index}): the barrier is now broken`);
  }

  /** An arrival's deadline passed while a reset was finishing: break the barrier, unless the state moved meanwhile. */
  #breakReset(seen: number): void {
    if (this.#swap(seen, pack(generation(seen), BROKEN, count(seen)))) {
      throw new BrokenBarrierError('Barrier.wait timed out while the barrier was being reset: it is now broken');
    }
  }

  /** One CAS of `STATE`; wakes every sleeper when it succeeds. */
  #swap(from: number, to: number): boolean {
    if (Atomics.compareExchange(this.#words, STATE, from, to) !== from) return false;
    this.#wake();
    return true;
  }

  #wake(): void {
    if (Atomics.load(this.#words, SLEEPERS) > 0) Atomics.notify(this.#words, STATE);
  }

  #sleep(seen: number, ms: number): void {
    Atomics.add(this.#words, SLEEPERS, 1);
    waitSync(this.#words, STATE, seen, ms);
    Atomics.sub(this.#words, SLEEPERS, 1);
  }

  async #sleepAsync(seen: number, ms: number): Promise<void> {
    Atomics.add(this.#words, SLEEPERS, 1);
    await waitAsync(this.#words, STATE, seen, ms);
    Atomics.sub(this.#words, SLEEPERS, 1);
  }

  protected override describe(): Record<string, unknown> {
    return { parties: this.#parties, nWaiting: this.nWaiting, broken: this.broken };
  }

  static {
    registerShareable('Barrier', (state) => new Barrier(0, undefined, state as SharedState));
  }
}
