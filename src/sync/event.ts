/**
 * `Event`: a flag in shared memory that threads wait for, Python's
 * `multiprocessing.Event`.
 *
 * Layout (Int32 words at the object's byteOffset):
 *
 * | word       | written by                               | meaning                                   |
 * |------------|------------------------------------------|-------------------------------------------|
 * | `TAG_WORD` | creator, once                            | {@link EVENT_TAG}                         |
 * | `EPOCH`    | `set()` and `clear()` (CAS, +1 each)     | how many times the flag changed; odd = set |
 * | `SLEEPERS` | waiters (add before sleeping, sub after) | how many may sleep on `EPOCH`             |
 *
 * Invariant: the flag is `EPOCH & 1`. `set()` only moves an even epoch to the
 * next (odd) one and `clear()` an odd epoch to the next (even) one, so the
 * only way out of an even epoch is a `set()`. A waiter samples the epoch
 * once; if it is odd the flag is set and it returns true at once, and if it
 * is even, *any* later change of `EPOCH` proves that a `set()` happened since
 * it began waiting. So `wait()` returns true even when the event was set and
 * cleared again before the waiter ran (Python's issue #13502: "True if and
 * only if the internal flag has been set to true, either before the wait call
 * or after the wait starts"). A wake-up is only a hint: the waiter re-reads
 * `EPOCH` after each one and sleeps again while it has not moved. `EPOCH`
 * wraps at 2^32, which keeps its parity; a waiter would be fooled only by
 * exactly 2^32 changes between two of its reads.
 *
 * `set()` notifies all sleepers on `EPOCH`, and only when `SLEEPERS` > 0, so
 * setting an event nobody waits for makes no system call; there is no polling.
 *
 * No lost wake-up: a waiter increments `SLEEPERS` *before* `Atomics.wait`
 * compares `EPOCH` with the value it sampled; `set()` writes `EPOCH` *before*
 * it reads `SLEEPERS`. All are sequentially consistent, so either the setter
 * sees the increment and notifies, or the waiter's wait sees `EPOCH` changed
 * and returns at once (Drepper, "Futexes Are Tricky", with the waiter count in
 * its own word).
 *
 * @module
 */

import { allocate, attach, SharedObject, type SharedState } from '../shared-object.js';
import { registerShareable } from '../transfer.js';
import { checkTimeout, deadline, remaining, waitAsync, waitSync } from './wait.js';

const EPOCH = 1;
const SLEEPERS = 2;
const WORDS = 3;
/** Looks at EPOCH this many times before sleeping (as Lock spins). */
const SPINS = 1000;
/** Type tag of an Event's memory. */
export const EVENT_TAG = 0x43504576; // 'CPEv'

/**
 * A flag that any thread can set, clear and wait for; `set()` wakes every
 * waiter.
 *
 * @example
 * ```ts
 * const ready = new Event();
 * const done = pool.apply(waitThenWork, [ready]); // the task calls ready.wait()
 * loadConfig();
 * ready.set();
 * await done;
 * ```
 */
export class Event extends SharedObject {
  readonly #words: Int32Array;

  /**
   * A new event, not set, in fresh shared memory, or (with `state`) the
   * event another thread made, bound to the same memory.
   *
   * @example
   * ```ts
   * const stop = new Event();
   * ```
   * @throws {TypeError} "invalid handle" when `state` does not locate an Event.
   */
  constructor(state?: SharedState) {
    const s = state ?? allocate(EVENT_TAG, WORDS);
    super('Event', s);
    this.#words = attach(s, EVENT_TAG, WORDS, 'Event');
  }

  /**
   * Whether the flag is set.
   *
   * @example
   * ```ts
   * if (stop.isSet()) return;
   * ```
   */
  isSet(): boolean {
    return (Atomics.load(this.#words, EPOCH) & 1) === 1;
  }

  /**
   * Sets the flag and wakes every thread waiting for it. Does nothing when
   * it is set already.
   *
   * @example
   * ```ts
   * ready.set();
   * ```
   */
  set(): void {
    for (;;) {
      const epoch = Atomics.load(this.#words, EPOCH);
      if ((epoch & 1) === 1) return;
      if (Atomics.compareExchange(this.#words, EPOCH, epoch, (epoch + 1) | 0) === epoch) break;
    }
    if (Atomics.load(this.#words, SLEEPERS) > 0) Atomics.notify(this.#words, EPOCH);
  }

  /**
   * Clears the flag: later waits block until the next `set()`.
   *
   * @example
   * ```ts
   * ready.clear();
   * ```
   */
  clear(): void {
    for (;;) {
      const epoch = Atomics.load(this.#words, EPOCH);
      if ((epoch & 1) === 0) return;
      if (Atomics.compareExchange(this.#words, EPOCH, epoch, (epoch + 1) | 0) === epoch) return;
    }
  }

  /**
   * Blocks this thread (Atomics.wait) until the flag is set or `timeout` ms
   * pass. Returns true if the flag was set before the call or while it
   * waited (even if cleared again since), false on timeout — as Python's
   * `Event.wait`. `wait(0)` only looks.
   *
   * @example
   * ```ts
   * if (!ready.wait(5000)) throw new Error('not ready after 5 s');
   * ```
   * @throws {TypeError} before any waiting, when `timeout` is not a number (an options object
   *   included: the timeout is positional, as in Python).
   * @throws {RangeError} when `timeout` is negative or NaN.
   */
  wait(timeout?: number): boolean {
    checkTimeout(timeout, 'Event.wait(timeout)');
    const epoch = Atomics.load(this.#words, EPOCH);
    if ((epoch & 1) === 1) return true;
    // Look a while before sleeping, as Lock does: a setter on another core is often that close.
    if (timeout !== 0) for (let i = 0; i < SPINS; i++) if (Atomics.load(this.#words, EPOCH) !== epoch) return true;
    const end = deadline(timeout);
    for (;;) {
      if (Atomics.load(this.#words, EPOCH) !== epoch) return true;
      const left = remaining(end);
      if (left === 0) return false;
      Atomics.add(this.#words, SLEEPERS, 1);
      waitSync(this.#words, EPOCH, epoch, left);
      Atomics.sub(this.#words, SLEEPERS, 1);
    }
  }

  /**
   * Waits for the flag without blocking the event loop
   * (Atomics.waitAsync), keeping the process alive meanwhile; same result
   * as {@link wait}.
   *
   * @example
   * ```ts
   * await ready.waitAsync();
   * ```
   * @throws {TypeError} before any waiting, when `timeout` is not a number (as a rejection; an
   *   options object included).
   * @throws {RangeError} when `timeout` is negative or NaN (as a rejection).
   */
  async waitAsync(timeout?: number): Promise<boolean> {
    checkTimeout(timeout, 'Event.waitAsync(timeout)');
    const epoch = Atomics.load(this.#words, EPOCH);
    if ((epoch & 1) === 1) return true;
    const end = deadline(timeout);
    for (;;) {
      if (Atomics.load(this.#words, EPOCH) !== epoch) return true;
      const left = remaining(end);
      if (left === 0) return false;
      Atomics.add(this.#words, SLEEPERS, 1);
      await waitAsync(this.#words, EPOCH, epoch, left);
      Atomics.sub(this.#words, SLEEPERS, 1);
    }
  }

  protected override describe(): Record<string, unknown> {
    return { set: this.isSet() };
  }

  static {
    registerShareable('Event', (state) => new Event(state as SharedState));
  }
}
