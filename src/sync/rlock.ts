/**
 * `RLock`: a re-entrant mutex in shared memory, Python's
 * `multiprocessing.RLock`, robust against owners that die.
 *
 * Layout (Int32 words at the object's byteOffset):
 *
 * | word        | written by                           | meaning                                       |
 * |-------------|--------------------------------------|-----------------------------------------------|
 * | `TAG_WORD`  | creator, once                        | {@link RLOCK_TAG}                             |
 * | `OWNER`     | acquirer (CAS), owner on last release | 0 = free, else the owner's thread token       |
 * | `WAITERS`   | waiters (add before sleeping, sub after) | how many may sleep on `OWNER`              |
 * | `RECOVERED` | a waiter that took over from a dead owner; the owner on last release | 1 = this ownership was recovered |
 * | `COUNT`     | the owner only                       | recursion depth: acquires minus releases      |
 *
 * Invariants: `OWNER === 0` if and only if nobody owns the lock, and then
 * `COUNT === 0` and `RECOVERED === 0`; while a thread owns it, `COUNT >= 1`.
 * `COUNT` and `RECOVERED` are written only by the thread whose token is in
 * `OWNER` (after it won `OWNER`, and before it gives `OWNER` up), so they need
 * no CAS: the `OWNER` word orders every hand-over.
 *
 * Acquire is one compare-and-swap of `OWNER` from 0 to the caller's token,
 * then `COUNT = 1`; when `OWNER` already holds the caller's token it is only
 * `COUNT += 1` (the owner is a *thread*: an `acquireAsync` on the thread that
 * owns the lock re-enters it, as `threading.RLock` does in one thread). The
 * last release clears `COUNT` and `RECOVERED`, *then* stores 0 in `OWNER`, so
 * the next owner never sees a stale count or flag, and notifies one sleeper
 * only if `WAITERS` > 0 (Drepper, "Futexes Are Tricky", mutex 2, with the
 * waiter count in its own word, as in lock.ts).
 *
 * No lost wake-up: a waiter increments `WAITERS` *before* `Atomics.wait`
 * compares `OWNER` with the token it saw; the releaser writes `OWNER` *before*
 * it reads `WAITERS`. All are sequentially consistent, so either the releaser
 * sees the increment and notifies, or the waiter's wait sees `OWNER` changed
 * and returns at once.
 *
 * Dead owners: sleepers wake every `OWNER_CHECK_MS` and look the owner's token
 * up in the thread registry (sync/owners.ts). If it is dead, one of them swaps
 * `OWNER` from the dead token to its own (only one CAS can win), resets
 * `COUNT` to 1 (the dead thread's recursion levels die with it), sets
 * `RECOVERED`, and reports it with a process warning (code
 * `ERR_COREPOOL_OWNER_DIED`); `rlock.recovered` reads true until the new
 * owner's last release. Python would deadlock here; POSIX robust mutexes
 * return EOWNERDEAD.
 *
 * @module
 */

import { LockStateError } from '../errors.js';
import { allocate, attach, type SharedState } from '../shared-object.js';
import { registerShareable } from '../transfer.js';
import { type Lock, reportRecovery } from './lock.js';
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
import { adoptRegistry, isDead, OWNER_CHECK_MS, threadToken } from './owners.js';

const OWNER = 1;
const WAITERS = 2;
const RECOVERED = 3;
const COUNT = 4;
const WORDS = 5;
/** Type tag of an RLock's memory. */
export const RLOCK_TAG = 0x43505252; // 'CPRR'

/** Looks at a held lock this many times before sleeping: an owner usually lets go within a few hundred ns. */
const SPINS = 1000;
/** The deepest recursion `COUNT` can record. */
const MAX_COUNT = 0x7fffffff;

/**
 * @internal For `Condition`: releases every recursion level of an RLock the
 * caller owns and returns how many there were (Python's `_release_save`).
 * Throws {@link LockStateError} as `release()` does.
 *
 * @example
 * ```ts
 * const depth = rlock[kReleaseAll]();   // unlocked, whatever the depth was
 * for (let i = 0; i < depth; i++) await rlock.acquireAsync(); // back to the saved depth
 * ```
 */
export const kReleaseAll: unique symbol = Symbol.for('corepool.rlock.releaseAll');

/**
 * A re-entrant lock usable from any thread: the thread that owns it may
 * acquire it again (each acquire needs its release); other threads wait until
 * the owner's last release. Only the owner may release it.
 *
 * The owner is a *thread*: async code on the owning thread re-enters it too
 * (as `threading.RLock` does within one Python thread), so it cannot keep
 * two async tasks of one thread apart; a {@link Lock} can.
 *
 * @example
 * ```ts
 * const rlock = new RLock();
 * rlock.acquire();
 * rlock.acquire();          // same thread: re-enters, depth 2
 * rlock.release();
 * rlock.release();          // depth 0: unlocked, one waiter wakes
 * await pool.apply(updateTree, [rlock, root]); // the task may nest `using _ = rlock.hold()`
 * ```
 */
export class RLock extends LockLike {
  readonly #words: Int32Array;
  readonly #sleep: SleepOn;
  readonly #attemptFn = (): number => this.#attempt();
  readonly #registry: Int32Array;

  /**
   * A new unlocked re-entrant lock in fresh shared memory, or (with `state`)
   * the RLock another thread made, bound to the same memory.
   *
   * @example
   * ```ts
   * const rlock = new RLock();
   * ```
   * @throws {TypeError} "invalid handle" when `state` does not locate an RLock.
   */
  constructor(state?: SharedState) {
    const s = state ?? allocate(RLOCK_TAG, WORDS);
    super('RLock', s);
    this.#words = attach(s, RLOCK_TAG, WORDS, 'RLock');
    this.#sleep = { words: this.#words, index: OWNER, waiters: WAITERS, slice: OWNER_CHECK_MS };
    this.#registry = adoptRegistry(s.registry);
  }

  /**
   * Acquires the lock, or re-enters it when this thread owns it already.
   * Blocks this thread (Atomics.wait) until it is free, `timeout` ms pass
   * (returns false), or at once with `blocking: false`.
   *
   * @example
   * ```ts
   * if (rlock.acquire({ timeout: 100 })) try { work(); } finally { rlock.release(); }
   * ```
   * @throws {TypeError} before any waiting, when `options` is not an object, has an unknown key (named in
   *   the message), or a value of the wrong type, or `blocking: false` comes with a timeout.
   * @throws {RangeError} when `options.timeout` is negative or NaN.
   * @throws {RangeError} when the recursion depth would pass 2^31 - 1.
   */
  acquire(options?: AcquireOptions): boolean {
    const timeout = acquireTimeout(options, 'RLock.acquire');
    if (this.#enter()) return true;
    return acquireSlow(this.#sleep, this.#attemptFn, timeout);
  }

  /**
   * Acquires (or re-enters) the lock without blocking the event loop
   * (Atomics.waitAsync); same semantics as {@link acquire}. The owner is the
   * thread, so an `acquireAsync` on the owning thread re-enters at once.
   *
   * @example
   * ```ts
   * if (await rlock.acquireAsync({ timeout: 1000 })) try { await work(); } finally { rlock.release(); }
   * ```
   * @throws {TypeError} before any waiting (as a rejection), when `options` is not an object, has an unknown
   *   key (named in the message), or a value of the wrong type, or `blocking: false` comes with a timeout.
   * @throws {RangeError} when `options.timeout` is negative or NaN (as a rejection).
   * @throws {RangeError} when the recursion depth would pass 2^31 - 1 (as a rejection).
   */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    const timeout = acquireTimeout(options, 'RLock.acquireAsync');
    if (this.#enter()) return true;
    return acquireSlowAsync(this.#sleep, this.#attemptFn, timeout);
  }

  /**
   * Gives up one recursion level; the last one unlocks the lock and wakes
   * one waiter.
   *
   * @example
   * ```ts
   * rlock.acquire(); try { work(); } finally { rlock.release(); }
   * ```
   * @throws {LockStateError} when the lock is unlocked, or owned by another thread.
   */
  release(): void {
    this.#checkOwned('release');
    const count = this.#words[COUNT] as number;
    if (count > 1) {
      this.#words[COUNT] = count - 1;
      return;
    }
    this.#unlock();
  }

  /**
   * Whether some thread owns the lock right now.
   *
   * @example
   * ```ts
   * rlock.locked(); // false
   * ```
   */
  locked(): boolean {
    return Atomics.load(this.#words, OWNER) !== 0;
  }

  /**
   * Whether the calling thread owns the lock (Python's `_is_owned()`).
   *
   * @example
   * ```ts
   * rlock.acquire();
   * rlock.isOwned(); // true here, false on every other thread
   * ```
   */
  isOwned(): boolean {
    return Atomics.load(this.#words, OWNER) === threadToken;
  }

  /**
   * True while the current ownership was taken over from an owner thread
   * that died holding the lock (the data it guarded may be half-updated).
   *
   * @example
   * ```ts
   * rlock.acquire();
   * if (rlock.recovered) repairSharedState();
   * ```
   */
  get recovered(): boolean {
    return Atomics.load(this.#words, RECOVERED) === 1;
  }

  /** @internal See {@link kReleaseAll}. */
  [kReleaseAll](): number {
    this.#checkOwned('release');
    const count = Atomics.load(this.#words, COUNT);
    this.#unlock();
    return count;
  }

  /** Takes a free lock, or re-enters it when this thread owns it; false when another thread owns it. */
  #enter(): boolean {
    const owner = Atomics.compareExchange(this.#words, OWNER, 0, threadToken);
    if (owner === 0) {
      this.#words[COUNT] = 1;
      return true;
    }
    if (owner !== threadToken) return false;
    const count = this.#words[COUNT] as number;
    if (count >= MAX_COUNT) throw new RangeError(`RLock recursion depth cannot pass ${MAX_COUNT}`);
    this.#words[COUNT] = count + 1;
    return true;
  }

  #checkOwned(what: string): void {
    const owner = Atomics.load(this.#words, OWNER);
    if (owner === threadToken) return;
    throw new LockStateError(
      owner === 0
        ? `${what} of an unlocked RLock`
        : `${what} of an RLock owned by thread ${owner - 1}, not by this thread (${threadToken - 1})`,
    );
  }

  /** The owner's last release: clear what belongs to this ownership, free `OWNER`, wake one sleeper. */
  #unlock(): void {
    this.#words[COUNT] = 0;
    if (Atomics.load(this.#words, RECOVERED) !== 0) Atomics.store(this.#words, RECOVERED, 0);
    Atomics.store(this.#words, OWNER, 0);
    if (Atomics.load(this.#words, WAITERS) > 0) Atomics.notify(this.#words, OWNER, 1);
  }

  /** One look at the lock (after a short spin): take it if free or if its owner is dead. */
  #attempt(): number {
    let owner = Atomics.load(this.#words, OWNER);
    for (let i = 0; owner !== 0 && i < SPINS; i++) owner = Atomics.load(this.#words, OWNER);
    if (owner === 0) {
      if (Atomics.compareExchange(this.#words, OWNER, 0, threadToken) !== 0) return RETRY;
      Atomics.store(this.#words, COUNT, 1);
      return ACQUIRED;
    }
    if (!isDead(this.#registry, owner)) return owner;
    if (Atomics.compareExchange(this.#words, OWNER, owner, threadToken) !== owner) return RETRY;
    Atomics.store(this.#words, COUNT, 1);
    Atomics.store(this.#words, RECOVERED, 1);
    reportRecovery('RLock', owner);
    return ACQUIRED;
  }

  protected override describe(): Record<string, unknown> {
    const owner = Atomics.load(this.#words, OWNER);
    return owner === 0
      ? { locked: false }
      : { locked: true, owner: owner - 1, count: Atomics.load(this.#words, COUNT) };
  }

  static {
    registerShareable('RLock', (state) => new RLock(state as SharedState));
  }
}
