/**
 * `Lock`: a mutex in shared memory, Python's `multiprocessing.Lock`, robust
 * against holders that die.
 *
 * Layout (Int32 words at the object's byteOffset):
 *
 * | word        | written by                     | meaning                                   |
 * |-------------|--------------------------------|-------------------------------------------|
 * | `TAG_WORD`  | creator, once                  | {@link LOCK_TAG}                          |
 * | `OWNER`     | acquirer (CAS), releaser (CAS) | 0 = free, else the holder's thread token   |
 * | `WAITERS`   | waiters (add before sleeping, sub after) | how many may sleep on `OWNER`     |
 * | `RECOVERED` | a waiter that took over from a dead holder; cleared on release | 1 = this holding was recovered |
 *
 * Acquire is one compare-and-swap of `OWNER` from 0 to the caller's token.
 * Release swaps it back to 0 and notifies one sleeper only if `WAITERS` > 0,
 * so the uncontended path makes no system call (Drepper, "Futexes Are
 * Tricky", mutex 2, with the waiter count in its own word).
 *
 * No lost wake-up: a waiter increments `WAITERS` *before* it reads `OWNER` and
 * sleeps on the value it read; a releaser writes `OWNER` *before* it reads
 * `WAITERS`. All four are sequentially consistent, so either the releaser sees
 * the waiter's increment and notifies, or the waiter's sleep sees `OWNER`
 * changed and returns at once.
 *
 * Dead holders: sleepers wake every `OWNER_CHECK_MS` and look the holder's
 * token up in the thread registry (sync/owners.ts). If it is dead, one of them
 * swaps `OWNER` from the dead token to its own (only one CAS can win), sets
 * `RECOVERED`, and reports it with a process warning (code
 * `ERR_COREPOOL_OWNER_DIED`); `lock.recovered` reads true until it releases.
 * Python would deadlock here; POSIX robust mutexes return EOWNERDEAD.
 *
 * @module
 */

import { LockStateError } from '../errors.js';
import { allocate, attach, type SharedState, withArticle } from '../shared-object.js';
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
import { adoptRegistry, isDead, OWNER_CHECK_MS, threadToken } from './owners.js';

const OWNER = 1;
const WAITERS = 2;
const RECOVERED = 3;
const WORDS = 4;
/** @internal The `OWNER` word of a Lock's memory (for code that waits for a lock without taking it through a promise). */
export const LOCK_OWNER = OWNER;
/** @internal The `WAITERS` word of a Lock's memory. */
export const LOCK_WAITERS = WAITERS;
/** @internal Int32 words of a Lock's memory. */
export const LOCK_WORDS = WORDS;
/** Type tag of a Lock's memory. */
export const LOCK_TAG = 0x43504c6b; // 'CPLk'

/** Looks at a held lock this many times before sleeping: a holder usually lets go within a few hundred ns. */
const SPINS = 1000;

/**
 * A non-recursive lock usable from any thread: once acquired, further
 * acquires (from any thread, including the holder) wait until some thread
 * releases it.
 *
 * @example
 * ```ts
 * const lock = new Lock();
 * await pool.apply(appendLine, [lock, 'file.txt', 'hello']); // the task does `using _ = lock.hold()`
 * if (lock.acquire({ timeout: 100 })) {
 *   try { criticalSection(); } finally { lock.release(); }
 * }
 * ```
 */
export class Lock extends LockLike {
  readonly #words: Int32Array;
  readonly #sleep: SleepOn;
  readonly #attemptFn = (): number => this.#attempt();
  readonly #registry: Int32Array;

  /**
   * A new unlocked lock in fresh shared memory, or (with `state`) the lock
   * another thread made, bound to the same memory.
   *
   * @throws {TypeError} "invalid handle" when `state` does not locate a Lock.
   */
  constructor(state?: SharedState) {
    const s = state ?? allocate(LOCK_TAG, WORDS);
    super('Lock', s);
    this.#words = attach(s, LOCK_TAG, WORDS, 'Lock');
    this.#sleep = { words: this.#words, index: OWNER, waiters: WAITERS, slice: OWNER_CHECK_MS };
    this.#registry = adoptRegistry(s.registry);
  }

  /**
   * Acquires the lock. Blocks this thread (Atomics.wait) until it is free,
   * `timeout` ms pass (returns false), or at once with `blocking: false`.
   *
   * @example
   * ```ts
   * if (!lock.acquire({ blocking: false })) console.log('busy');
   * ```
   * @throws {TypeError} before any waiting, when `options` is not an object, has an unknown key (named in
   *   the message), or a value of the wrong type, or `blocking: false` comes with a timeout.
   * @throws {RangeError} when `options.timeout` is negative or NaN.
   */
  acquire(options?: AcquireOptions): boolean {
    const timeout = acquireTimeout(options, 'Lock.acquire');
    if (Atomics.compareExchange(this.#words, OWNER, 0, threadToken) === 0) return true;
    return acquireSlow(this.#sleep, this.#attemptFn, timeout);
  }

  /**
   * Acquires the lock without blocking the event loop (Atomics.waitAsync);
   * same semantics as {@link acquire}.
   *
   * @example
   * ```ts
   * if (await lock.acquireAsync({ timeout: 1000 })) try { await work(); } finally { lock.release(); }
   * ```
   * @throws {TypeError} before any waiting (as a rejection), when `options` is not an object, has an unknown
   *   key (named in the message), or a value of the wrong type, or `blocking: false` comes with a timeout.
   * @throws {RangeError} when `options.timeout` is negative or NaN (as a rejection).
   */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    const timeout = acquireTimeout(options, 'Lock.acquireAsync');
    if (Atomics.compareExchange(this.#words, OWNER, 0, threadToken) === 0) return true;
    return acquireSlowAsync(this.#sleep, this.#attemptFn, timeout);
  }

  /**
   * Releases the lock; any thread may release it (as in Python), and one
   * waiter wakes.
   *
   * @example
   * ```ts
   * lock.acquire(); try { work(); } finally { lock.release(); }
   * ```
   * @throws {LockStateError} when the lock is not locked.
   */
  release(): void {
    if (Atomics.load(this.#words, RECOVERED) !== 0) Atomics.store(this.#words, RECOVERED, 0);
    if (Atomics.exchange(this.#words, OWNER, 0) === 0) throw new LockStateError('release of an unlocked Lock');
    if (Atomics.load(this.#words, WAITERS) > 0) Atomics.notify(this.#words, OWNER, 1);
  }

  /**
   * Whether some thread holds the lock right now.
   *
   * @example
   * ```ts
   * lock.locked(); // false
   * ```
   */
  locked(): boolean {
    return Atomics.load(this.#words, OWNER) !== 0;
  }

  /**
   * True while the current holding was taken over from a holder thread that
   * died holding the lock (the data it guarded may be half-updated).
   *
   * @example
   * ```ts
   * lock.acquire();
   * if (lock.recovered) repairSharedState();
   * ```
   */
  get recovered(): boolean {
    return Atomics.load(this.#words, RECOVERED) === 1;
  }

  /** One look at the lock (after a short spin): take it if free or if its holder is dead. */
  #attempt(): number {
    let owner = Atomics.load(this.#words, OWNER);
    for (let i = 0; owner !== 0 && i < SPINS; i++) owner = Atomics.load(this.#words, OWNER);
    if (owner === 0) return Atomics.compareExchange(this.#words, OWNER, 0, threadToken) === 0 ? ACQUIRED : RETRY;
    if (!isDead(this.#registry, owner)) return owner;
    if (Atomics.compareExchange(this.#words, OWNER, owner, threadToken) !== owner) return RETRY;
    Atomics.store(this.#words, RECOVERED, 1);
    const label = labels.get(this);
    if (label === undefined) reportRecovery('Lock', owner);
    else reportRecovery(label, owner, true);
    return ACQUIRED;
  }

  protected override describe(): Record<string, unknown> {
    return { locked: this.locked() };
  }

  static {
    registerShareable('Lock', (state) => new Lock(state as SharedState));
  }
}

/** What recovery warnings call a Lock that is part of something else. */
const labels = new WeakMap<Lock, string>();

/**
 * @internal Names `lock` in its recovery warning (a channel's writer lock,
 * not a Lock of the user's).
 *
 * @example
 * ```ts
 * labelLock(writer, "a Queue's writer lock");
 * ```
 */
export function labelLock(lock: Lock, label: string): void {
  labels.set(lock, label);
}

/**
 * Reports that a lock-like was taken over from a dead holder.
 *
 * @example
 * ```ts
 * reportRecovery('RLock', deadToken);
 * ```
 */
export function reportRecovery(kind: string, deadToken: number, named = false): void {
  process.emitWarning(
    `${named ? kind : withArticle(kind)} was held by thread ${deadToken - 1}, which exited without releasing it; thread ${threadToken - 1} took it over`,
    { type: 'OwnerDiedWarning', code: 'ERR_COREPOOL_OWNER_DIED' },
  );
}
