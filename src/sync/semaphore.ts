/**
 * `Semaphore` and `BoundedSemaphore`: counting semaphores in shared memory,
 * Python's `multiprocessing.Semaphore` and `multiprocessing.BoundedSemaphore`.
 *
 * Layout (Int32 words at the object's byteOffset):
 *
 * | word       | written by                                | meaning                                    |
 * |------------|-------------------------------------------|--------------------------------------------|
 * | `TAG_WORD` | creator, once                             | {@link SEMAPHORE_TAG} or {@link BOUNDED_SEMAPHORE_TAG} |
 * | `VALUE`    | acquirers (CAS down), releasers (CAS up)  | units available now                        |
 * | `WAITERS`  | waiters (add before sleeping, sub after)  | how many may sleep on `VALUE`              |
 * | `LIMIT`    | creator, once                             | the most `VALUE` may reach: the initial value of a BoundedSemaphore, 2^31 - 1 for a Semaphore |
 *
 * Invariant: `0 <= VALUE <= LIMIT`. Every change of `VALUE` is a
 * compare-and-swap that checks it first, so no thread ever sees it leave that
 * range, and a release that would pass `LIMIT` changes nothing.
 *
 * Acquire is one compare-and-swap of `VALUE` from v > 0 to v - 1; when `VALUE`
 * is 0 the acquirer sleeps on it. Release adds n with a compare-and-swap, then
 * notifies up to n sleepers only if `WAITERS` > 0, so the uncontended path
 * makes no system call (Drepper, "Futexes Are Tricky"; glibc's `sem_post`
 * keeps its waiter count beside the value in the same way).
 *
 * No lost wake-up: a waiter increments `WAITERS` *before* `Atomics.wait`
 * compares `VALUE` with 0; a releaser writes `VALUE` *before* it reads
 * `WAITERS`. All are sequentially consistent, so either the releaser sees the
 * increment and notifies, or the waiter's wait sees `VALUE` above 0 and
 * returns at once. A woken waiter always tries to take a unit before it looks
 * at its deadline, so a wake-up is never spent by a waiter that then gives
 * up; when it finds `VALUE` at 0 again, another thread took that unit, and it
 * sleeps again.
 *
 * No dead-holder recovery, unlike Lock and RLock: a semaphore has no owner.
 * Any thread may release a unit that another thread took (that is how a
 * semaphore signals between producers and consumers), so a unit taken by a
 * thread that later died cannot be told from one handed on on purpose, and
 * giving it back would break the count. Python and POSIX semaphores do not
 * recover either; a waiter whose releaser died times out if it gave a timeout.
 *
 * @module
 */

import { describe } from '../check.js';
import { LockStateError } from '../errors.js';
import { allocate, attach, type SharedState } from '../shared-object.js';
import { registerShareable } from '../transfer.js';
import {
  ACQUIRED,
  type AcquireOptions,
  acquireSlow,
  acquireSlowAsync,
  acquireTimeout,
  LockLike,
  RETRY,
  type SleepOn,
} from './lock-like.js';

const VALUE = 1;
const WAITERS = 2;
const LIMIT = 3;
const WORDS = 4;
/** Type tag of a Semaphore's memory. */
export const SEMAPHORE_TAG = 0x43505365; // 'CPSe'
/** Type tag of a BoundedSemaphore's memory. */
export const BOUNDED_SEMAPHORE_TAG = 0x43504253; // 'CPBS'
/** The largest value an Int32 word can count. */
const MAX_VALUE = 0x7fffffff;

/** Looks at an empty semaphore this many times before sleeping: a unit is often released within a few hundred ns. */
const SPINS = 1000;

/** Which of the two classes a semaphore's memory belongs to. */
interface SemaphoreKind {
  readonly name: 'Semaphore' | 'BoundedSemaphore';
  readonly tag: number;
  readonly bounded: boolean;
  readonly acquireName: string;
  readonly acquireAsyncName: string;
  readonly releaseName: string;
}

const SEMAPHORE: SemaphoreKind = {
  name: 'Semaphore',
  tag: SEMAPHORE_TAG,
  bounded: false,
  acquireName: 'Semaphore.acquire',
  acquireAsyncName: 'Semaphore.acquireAsync',
  releaseName: 'Semaphore.release(n)',
};
const BOUNDED: SemaphoreKind = {
  name: 'BoundedSemaphore',
  tag: BOUNDED_SEMAPHORE_TAG,
  bounded: true,
  acquireName: 'BoundedSemaphore.acquire',
  acquireAsyncName: 'BoundedSemaphore.acquireAsync',
  releaseName: 'BoundedSemaphore.release(n)',
};

/** Checks a count argument: an integer from `min` to 2^31 - 1. */
function checkCount(n: unknown, min: number, what: string): asserts n is number {
  if (typeof n !== 'number') throw new TypeError(`${what} must be an integer: received ${describe(n)}`);
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`${what} must be an integer >= ${min}: received ${describe(n)}`);
  }
  if (n > MAX_VALUE) throw new RangeError(`${what} must be at most ${MAX_VALUE}: received ${describe(n)}`);
}

/**
 * A counting semaphore usable from any thread: `acquire` takes one unit,
 * waiting while there is none; `release(n)` gives n back (from any thread)
 * and wakes up to n waiters. Releasing more than was taken raises the value
 * (use {@link BoundedSemaphore} to forbid that).
 *
 * @example
 * ```ts
 * const slots = new Semaphore(3);              // at most 3 downloads at once
 * await pool.map(download, urls.map((u) => [slots, u])); // each task: `using _ = slots.hold()`
 * const ready = new Semaphore(0);              // a signal: consumer waits, producer releases
 * ready.release();
 * ```
 */
export class Semaphore extends LockLike {
  /** @internal Which class this is; subclasses of BoundedSemaphore inherit its kind. */
  protected static readonly kind: SemaphoreKind = SEMAPHORE;

  readonly #words: Int32Array;
  readonly #sleep: SleepOn;
  readonly #attemptFn = (): number => this.#attempt();
  readonly #kind: SemaphoreKind;

  /**
   * A new semaphore holding `value` units in fresh shared memory, or (with
   * `state`) the semaphore another thread made, bound to the same memory
   * (`value` is then ignored).
   *
   * @example
   * ```ts
   * const sem = new Semaphore(2);
   * sem.getValue(); // 2
   * ```
   * @throws {TypeError} when `value` is not a number; "invalid handle" when `state` does not locate a semaphore of this class.
   * @throws {RangeError} when `value` is negative, not an integer, or above 2^31 - 1.
   */
  constructor(value = 1, state?: SharedState) {
    const kind = (new.target as typeof Semaphore).kind;
    let s = state;
    if (s === undefined) {
      checkCount(value, 0, `${kind.name}(value)`);
      s = allocate(kind.tag, WORDS);
      const words = new Int32Array(s.buffer, s.byteOffset, WORDS);
      Atomics.store(words, LIMIT, kind.bounded ? value : MAX_VALUE);
      Atomics.store(words, VALUE, value);
    }
    super(kind.name, s);
    this.#kind = kind;
    this.#words = attach(s, kind.tag, WORDS, kind.name);
    this.#sleep = { words: this.#words, index: VALUE, waiters: WAITERS, slice: Number.POSITIVE_INFINITY };
  }

  /**
   * Takes one unit. Blocks this thread (Atomics.wait) while there is none,
   * until `timeout` ms pass (returns false), or returns at once with
   * `blocking: false`.
   *
   * @example
   * ```ts
   * if (sem.acquire({ timeout: 100 })) try { work(); } finally { sem.release(); }
   * ```
   * @throws {TypeError} before any waiting, when `options` is not an object, has an unknown key (named in
   *   the message), or a value of the wrong type, or `blocking: false` comes with a timeout.
   * @throws {RangeError} when `options.timeout` is negative or NaN.
   */
  acquire(options?: AcquireOptions): boolean {
    const timeout = acquireTimeout(options, this.#kind.acquireName);
    if (this.#take()) return true;
    return acquireSlow(this.#sleep, this.#attemptFn, timeout);
  }

  /**
   * Takes one unit without blocking the event loop (Atomics.waitAsync); same
   * semantics as {@link acquire}.
   *
   * @example
   * ```ts
   * if (await sem.acquireAsync({ timeout: 1000 })) try { await work(); } finally { sem.release(); }
   * ```
   * @throws {TypeError} before any waiting (as a rejection), when `options` is not an object, has an unknown
   *   key (named in the message), or a value of the wrong type, or `blocking: false` comes with a timeout.
   * @throws {RangeError} when `options.timeout` is negative or NaN (as a rejection).
   */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    const timeout = acquireTimeout(options, this.#kind.acquireAsyncName);
    if (this.#take()) return true;
    return acquireSlowAsync(this.#sleep, this.#attemptFn, timeout);
  }

  /**
   * Gives `n` units back (any thread may) and wakes up to `n` waiters.
   *
   * @example
   * ```ts
   * sem.release();  // one unit
   * sem.release(3); // three at once: up to three waiters wake
   * ```
   * @throws {TypeError} when `n` is not a number (an options object included: the count is positional, as in Python).
   * @throws {RangeError} when `n` is not an integer >= 1.
   * @throws {LockStateError} for a BoundedSemaphore, when the value would pass its initial value (nothing changes).
   * @throws {RangeError} for a Semaphore, when the value would pass 2^31 - 1 (nothing changes).
   */
  release(n = 1): void {
    const { name, bounded } = this.#kind;
    if (n !== 1) checkCount(n, 1, this.#kind.releaseName);
    const limit = Atomics.load(this.#words, LIMIT);
    for (;;) {
      const value = Atomics.load(this.#words, VALUE);
      if (n > limit - value) {
        if (bounded) {
          throw new LockStateError(
            `${name} released too many times: its value ${value} + ${n} would pass its initial value ${limit}`,
          );
        }
        throw new RangeError(`${name}.release(${n}): its value ${value} + ${n} would pass ${MAX_VALUE}`);
      }
      if (Atomics.compareExchange(this.#words, VALUE, value, value + n) === value) break;
    }
    if (Atomics.load(this.#words, WAITERS) > 0) Atomics.notify(this.#words, VALUE, n);
  }

  /**
   * The number of units available right now (Python's `get_value()`); it may
   * have changed by the time the caller looks at it.
   *
   * @example
   * ```ts
   * new Semaphore(2).getValue(); // 2
   * ```
   */
  getValue(): number {
    return Atomics.load(this.#words, VALUE);
  }

  /** One compare-and-swap: take a unit if there is one. */
  #take(): boolean {
    const value = Atomics.load(this.#words, VALUE);
    return value > 0 && Atomics.compareExchange(this.#words, VALUE, value, value - 1) === value;
  }

  /** One look at the value (after a short spin): take a unit if there is one. */
  #attempt(): number {
    let value = Atomics.load(this.#words, VALUE);
    for (let i = 0; value === 0 && i < SPINS; i++) value = Atomics.load(this.#words, VALUE);
    if (value === 0) return 0; // sleep while VALUE is 0
    return Atomics.compareExchange(this.#words, VALUE, value, value - 1) === value ? ACQUIRED : RETRY;
  }

  protected override describe(): Record<string, unknown> {
    const value = this.getValue();
    return this.#kind.bounded ? { value, initial: Atomics.load(this.#words, LIMIT) } : { value };
  }

  static {
    registerShareable('Semaphore', (state) => new Semaphore(undefined, state as SharedState));
  }
}

/**
 * A semaphore that refuses to be released above its initial value: Python's
 * `BoundedSemaphore`, which catches a release without its acquire.
 *
 * @example
 * ```ts
 * const sem = new BoundedSemaphore(2);
 * sem.acquire();
 * sem.release();
 * sem.release(); // throws LockStateError: the value would pass 2
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /** @internal */
  protected static override readonly kind: SemaphoreKind = BOUNDED;

  /**
   * A new bounded semaphore holding (and never above) `value` units, or (with
   * `state`) the one another thread made, bound to the same memory.
   *
   * @example
   * ```ts
   * const sem = new BoundedSemaphore(3);
   * ```
   * @throws {TypeError} when `value` is not a number; "invalid handle" when `state` does not locate a BoundedSemaphore.
   * @throws {RangeError} when `value` is negative, not an integer, or above 2^31 - 1.
   */
  constructor(value = 1, state?: SharedState) {
    super(value, state);
  }

  static {
    registerShareable('BoundedSemaphore', (state) => new BoundedSemaphore(undefined, state as SharedState));
  }
}
