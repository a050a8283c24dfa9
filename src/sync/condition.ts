/**
 * `Condition`: a condition variable in shared memory, Python's
 * `multiprocessing.Condition`, bound to a lock (an `RLock` unless given).
 *
 * Layout (Int32 words at the object's byteOffset; the lock has its own memory):
 *
 * | word               | written by                  | meaning                                             |
 * |--------------------|-----------------------------|-----------------------------------------------------|
 * | `TAG_WORD`         | creator, once               | {@link CONDITION_TAG}                               |
 * | `TICKETS`          | waiters                     | the next ticket: waiters are numbered as they come  |
 * | `SIGNALED_BELOW`   | notifiers                   | every waiter with a ticket below it is signaled     |
 * | `GROUP_END`        | notifiers                   | tickets in [`SIGNALED_BELOW`, `GROUP_END`) are the *group* |
 * | `PERMITS`          | notifiers (+), group waiters (−) | signals given to the group, not yet taken      |
 * | `GROUP_UNSIGNALED` | notifiers (−), group waiters that time out (−) | live group waiters no permit covers |
 * | `LATER_WAITING`    | waiters (+, − on time-out), notifiers (→ group) | live waiters from `GROUP_END` on    |
 * | `SEQ`              | notifiers (+1 when they signal) | what sleepers sleep on                          |
 * | `SLEEPERS`         | waiters (add before sleeping, sub after) | how many may sleep on `SEQ`            |
 *
 * Tickets split the waiters in three runs: *signaled* (below
 * `SIGNALED_BELOW`: they return true as soon as they have the lock back),
 * the *group* (every one of them was waiting when the notify that formed it
 * ran; `PERMITS` of them may return true, any of them), and the *later*
 * ones (waiting since then; nothing is promised to them yet). Invariant, at
 * every point where the lock is free: live group waiters =
 * `PERMITS + GROUP_UNSIGNALED`, and live later waiters = `LATER_WAITING`.
 *
 * `notify(n)` hands out permits to the group first; when every live group
 * waiter holds one, the group joins the signaled run (`SIGNALED_BELOW =
 * GROUP_END`, `PERMITS = 0`) and the later waiters become the new group
 * (`GROUP_END = TICKETS`), and so on until n signals are given or nobody is
 * left. So notify(n) wakes exactly min(n, waiters not yet signaled), all of
 * them waiting before it, oldest groups first — the counts CPython's tests
 * check — while waiters that arrive after a notify can never take its
 * signal. `notifyAll()` signals every ticket. A waiter whose timeout
 * expires takes the lock back, returns true if it was signaled meanwhile
 * (taking a permit if it is in the group), and otherwise withdraws from its
 * run's count, so no later signal is spent on it. Plain tickets with a single
 * "released up to" counter cannot do that: a waiter that gives up in the
 * middle leaves a hole that would swallow a later signal. The state is
 * bounded: three runs and six counters, whatever the number of waiters.
 *
 * Every write of these counters happens with the condition's lock held, so
 * they need no compare-and-swap (the lock must exclude: a `Lock`, an `RLock`,
 * a `Semaphore(1)`). A sleeper only *peeks* at them without the lock (a
 * hint); it decides with the lock held.
 *
 * A waiter whose thread is terminated while it waits cannot withdraw: it
 * stays counted until one signal is spent on it (or `notifyAll()`), as a
 * killed process stays counted by Python's `multiprocessing.Condition`.
 *
 * No lost wake-up: a waiter reads `SEQ` while it still holds the lock (and
 * again before each later sleep, after having peeked), and sleeps only while
 * `SEQ` still has that value; a notifier, holding the lock, writes the
 * counters, then `SEQ`, then reads `SLEEPERS`, and wakes every sleeper if
 * there is one (a sleeper increments `SLEEPERS` before its `Atomics.wait`).
 * All are sequentially consistent: either the notifier sees the sleeper and
 * wakes it, or the sleeper's wait sees `SEQ` moved and returns at once, and
 * any peek after reading the new `SEQ` sees the counters written before it.
 * A peek reads `PERMITS` before `SIGNALED_BELOW`, and a group retires by
 * writing `SIGNALED_BELOW` before zeroing `PERMITS`, so a group waiter never
 * misses both (retiring without a new signal does not move `SEQ`).
 *
 * Every signal wakes every sleeper: group waiters race for the lock to take
 * a permit (a loser sleeps again), later waiters see they are not signaled
 * and sleep again without touching the lock. `Atomics.notify` cannot pick
 * which sleepers to wake, so waking fewer could wake the wrong ones.
 *
 * @module
 */

import { checkFn, describe } from '../check.js';
import { LockStateError } from '../errors.js';
import { allocate, attach, type SharedState } from '../shared-object.js';
import { registerShareable, revive } from '../transfer.js';
import { type AcquireOptions, acquireTimeout, LockLike } from './lock-like.js';
import { kReleaseAll, RLock } from './rlock.js';
import { checkTimeout, deadline, remaining, waitAsync, waitSync } from './wait.js';

const TICKETS = 1;
const SIGNALED_BELOW = 2;
const GROUP_END = 3;
const PERMITS = 4;
const GROUP_UNSIGNALED = 5;
const LATER_WAITING = 6;
const SEQ = 7;
const SLEEPERS = 8;
const WORDS = 9;
/** Type tag of a Condition's memory. */
export const CONDITION_TAG = 0x4350436e; // 'CPCn'

/** Where a Condition's memory is, and its lock (which travels with it). */
export interface ConditionState extends SharedState {
  readonly lock: LockLike;
}

/** Ticket `a` comes before ticket `b` (tickets wrap at 2^32). */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/**
 * A condition variable: threads holding its lock wait until another thread
 * notifies them. Its lock is an {@link RLock} unless one is given (a
 * corepool lock-like that one holder at a time can have: `Lock`, `RLock`,
 * `Semaphore(1)`, or another condition, whose lock it then shares);
 * `acquire`, `release`, `hold` and `run` work on that lock.
 *
 * `wait` releases the lock (every recursion level of an RLock), sleeps until
 * notified, and takes the lock back (restoring the recursion level) before
 * it returns. As in any condition variable, check the state you wait for in
 * a loop, or use {@link waitFor}.
 *
 * An RLock is owned by a *thread*, so async code on one thread cannot use an
 * RLock-based condition to exclude other async code on the same thread; give
 * such code a `Lock`.
 *
 * @example
 * ```ts
 * const cond = new Condition();
 * const items = new SharedArray('i32', 1); // items.array[0]: how many are ready
 * // consumer (any thread)
 * cond.run(() => {
 *   cond.waitFor(() => items.array[0] > 0);
 *   items.array[0]--;
 * });
 * // producer (any thread)
 * cond.run(() => { items.array[0]++; cond.notify(); });
 * ```
 */
export class Condition extends LockLike<ConditionState> {
  readonly #words: Int32Array;
  readonly #lock: LockLike;

  /**
   * A new condition over `lock` (default: a new {@link RLock}) in fresh
   * shared memory, or (with `state`) the condition another thread made,
   * bound to the same memory and lock.
   *
   * @example
   * ```ts
   * const cond = new Condition();             // over a new RLock
   * const cond2 = new Condition(new Lock());  // over a plain Lock
   * ```
   * @throws {TypeError} when `lock` is not a corepool lock-like, or
   * "invalid handle" when `state` does not locate a Condition.
   */
  constructor(lock?: LockLike, state?: ConditionState) {
    let s: ConditionState;
    if (state === undefined) {
      if (lock !== undefined && !(lock instanceof LockLike)) {
        throw new TypeError(
          `Condition(lock) must be a corepool Lock, RLock or other lock-like: received ${describe(lock)}`,
        );
      }
      // A condition over a condition shares that condition's lock.
      const own = lock instanceof Condition ? lock.#lock : (lock ?? new RLock());
      s = { ...allocate(CONDITION_TAG, WORDS), lock: own };
    } else {
      s = state;
    }
    super('Condition', s);
    this.#words = attach(s, CONDITION_TAG, WORDS, 'Condition');
    if (!(s.lock instanceof LockLike)) throw new TypeError('invalid handle: a Condition state needs its lock');
    this.#lock = s.lock;
  }

  /**
   * Acquires the underlying lock; same options and result as its `acquire`.
   *
   * @example
   * ```ts
   * cond.acquire(); try { cond.notify(); } finally { cond.release(); }
   * ```
   * @throws {TypeError} before any waiting, when `options` is not an object, has an unknown key (named in
   *   the message), or a value of the wrong type, or `blocking: false` comes with a timeout.
   * @throws {RangeError} when `options.timeout` is negative or NaN.
   */
  acquire(options?: AcquireOptions): boolean {
    acquireTimeout(options, 'Condition.acquire');
    return this.#lock.acquire(options);
  }

  /**
   * Acquires the underlying lock without blocking the event loop.
   *
   * @example
   * ```ts
   * await cond.acquireAsync(); try { cond.notifyAll(); } finally { cond.release(); }
   * ```
   * @throws {TypeError} before any waiting (as a rejection), when `options` is not an object, has an unknown
   *   key (named in the message), or a value of the wrong type, or `blocking: false` comes with a timeout.
   * @throws {RangeError} when `options.timeout` is negative or NaN (as a rejection).
   */
  async acquireAsync(options?: AcquireOptions): Promise<boolean> {
    acquireTimeout(options, 'Condition.acquireAsync');
    return this.#lock.acquireAsync(options);
  }

  /**
   * Releases the underlying lock.
   *
   * @example
   * ```ts
   * cond.release();
   * ```
   * @throws {LockStateError} as the lock's `release` does (unlocked, or an RLock owned by another thread).
   */
  release(): void {
    this.#lock.release();
  }

  /**
   * Releases the lock, blocks this thread (Atomics.wait) until notified or
   * `timeout` ms pass, then takes the lock back. Returns false if the
   * timeout passed, true otherwise — as Python's `Condition.wait`.
   *
   * @example
   * ```ts
   * cond.acquire();
   * try { while (!ready()) cond.wait(); use(); } finally { cond.release(); }
   * ```
   * @throws {LockStateError} "cannot wait on un-acquired lock" when the caller does not hold the lock.
   * @throws {TypeError} before any waiting, when `timeout` is not a number (an options object
   *   included: the timeout is positional, as in Python).
   * @throws {RangeError} when `timeout` is negative or NaN.
   */
  wait(timeout?: number): boolean {
    checkTimeout(timeout, 'Condition.wait(timeout)');
    this.#checkOwned('wait');
    const ticket = this.#enqueue();
    let seq = Atomics.load(this.#words, SEQ);
    const saved = this.#releaseSave();
    const end = deadline(timeout);
    for (;;) {
      const left = remaining(end);
      if (this.#peek(ticket) || left === 0) {
        this.#acquireRestore(saved);
        if (this.#take(ticket)) return true;
        if (left === 0) return this.#withdraw(ticket);
        seq = Atomics.load(this.#words, SEQ);
        this.#releaseLevels(saved);
        continue;
      }
      Atomics.add(this.#words, SLEEPERS, 1);
      waitSync(this.#words, SEQ, seq, left);
      Atomics.sub(this.#words, SLEEPERS, 1);
      seq = Atomics.load(this.#words, SEQ);
    }
  }

  /**
   * Same as {@link wait} without blocking the event loop (Atomics.waitAsync,
   * and the lock taken back with `acquireAsync`); keeps the process alive
   * while it waits.
   *
   * @example
   * ```ts
   * await cond.acquireAsync();
   * try { while (!ready()) await cond.waitAsync(); use(); } finally { cond.release(); }
   * ```
   * @throws {LockStateError} "cannot wait on un-acquired lock" when the caller does not hold the lock (as a rejection).
   * @throws {TypeError} before any waiting, when `timeout` is not a number (as a rejection; an
   *   options object included).
   * @throws {RangeError} when `timeout` is negative or NaN (as a rejection).
   */
  async waitAsync(timeout?: number): Promise<boolean> {
    checkTimeout(timeout, 'Condition.waitAsync(timeout)');
    this.#checkOwned('wait');
    const ticket = this.#enqueue();
    let seq = Atomics.load(this.#words, SEQ);
    const saved = this.#releaseSave();
    const end = deadline(timeout);
    for (;;) {
      const left = remaining(end);
      if (this.#peek(ticket) || left === 0) {
        await this.#acquireRestoreAsync(saved);
        if (this.#take(ticket)) return true;
        if (left === 0) return this.#withdraw(ticket);
        seq = Atomics.load(this.#words, SEQ);
        this.#releaseLevels(saved);
        continue;
      }
      Atomics.add(this.#words, SLEEPERS, 1);
      await waitAsync(this.#words, SEQ, seq, left);
      Atomics.sub(this.#words, SLEEPERS, 1);
      seq = Atomics.load(this.#words, SEQ);
    }
  }

  /**
   * Waits until `predicate()` returns a truthy value, or `timeout` ms pass;
   * returns the predicate's last value (Python's `wait_for`). The predicate
   * runs with the lock held, first before any wait.
   *
   * @example
   * ```ts
   * cond.run(() => {
   *   if (!cond.waitFor(() => queue.length > 0, 1000)) throw new Error('nothing after 1 s');
   *   return queue.shift();
   * });
   * ```
   * @throws {LockStateError} when it has to wait and the caller does not hold the lock.
   * @throws {TypeError} when `predicate` is not a function.
   * @throws {TypeError} before any waiting, when `timeout` is not a number (an options object
   *   included: the timeout is positional, as in Python).
   * @throws {RangeError} when `timeout` is negative or NaN.
   */
  waitFor<T>(predicate: () => T, timeout?: number): T {
    checkFn(predicate, 'Condition.waitFor(predicate)');
    checkTimeout(timeout, 'Condition.waitFor(timeout)');
    let result = predicate();
    // As Python: the clock starts at the first wait, which always happens.
    let end: number | undefined;
    while (!result) {
      if (end === undefined) end = deadline(timeout);
      else if (remaining(end) === 0) break;
      this.wait(timeout === undefined ? undefined : remaining(end));
      result = predicate();
    }
    return result;
  }

  /**
   * Same as {@link waitFor} without blocking the event loop; the predicate
   * may be async.
   *
   * @example
   * ```ts
   * await cond.runAsync(async () => {
   *   await cond.waitForAsync(() => done.value === total);
   * });
   * ```
   * @throws {LockStateError} when it has to wait and the caller does not hold the lock (as a rejection).
   * @throws {TypeError} when `predicate` is not a function (as a rejection).
   * @throws {TypeError} before any waiting, when `timeout` is not a number (as a rejection; an
   *   options object included).
   * @throws {RangeError} when `timeout` is negative or NaN (as a rejection).
   */
  async waitForAsync<T>(predicate: () => T | PromiseLike<T>, timeout?: number): Promise<T> {
    checkFn(predicate, 'Condition.waitForAsync(predicate)');
    checkTimeout(timeout, 'Condition.waitForAsync(timeout)');
    let result = await predicate();
    let end: number | undefined;
    while (!result) {
      if (end === undefined) end = deadline(timeout);
      else if (remaining(end) === 0) break;
      await this.waitAsync(timeout === undefined ? undefined : remaining(end));
      result = await predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` threads waiting on this condition (those waiting
   * longest first, by notify); a no-op when none waits. The caller must hold
   * the lock; the woken return from `wait` once they get it.
   *
   * @example
   * ```ts
   * cond.run(() => { items.push(x); cond.notify(); });
   * ```
   * @throws {LockStateError} "cannot notify on un-acquired lock" when the caller does not hold the lock.
   * @throws {TypeError} when `n` is not a number (an options object included: the count is positional, as in Python).
   * @throws {RangeError} when `n` is not a non-negative integer or `Infinity`.
   */
  notify(n = 1): void {
    if (typeof n !== 'number') throw new TypeError(`Condition.notify(n) must be a number: received ${describe(n)}`);
    if (!(n >= 0 && (Number.isInteger(n) || n === Number.POSITIVE_INFINITY))) {
      throw new RangeError(`Condition.notify(n) must be a non-negative integer or Infinity: received ${describe(n)}`);
    }
    this.#checkOwned('notify');
    const w = this.#words;
    let left = n;
    let signaled = false;
    while (left > 0) {
      const unsignaled = Atomics.load(w, GROUP_UNSIGNALED);
      if (unsignaled > 0) {
        const k = Math.min(left, unsignaled);
        Atomics.add(w, PERMITS, k);
        Atomics.store(w, GROUP_UNSIGNALED, unsignaled - k);
        left -= k;
        signaled = true;
        continue;
      }
      // Every live group waiter holds a permit: the group joins the signaled run.
      Atomics.store(w, SIGNALED_BELOW, Atomics.load(w, GROUP_END));
      Atomics.store(w, PERMITS, 0);
      const later = Atomics.load(w, LATER_WAITING);
      if (later === 0) break;
      // The later waiters, all waiting before this notify, become the group.
      Atomics.store(w, GROUP_END, Atomics.load(w, TICKETS));
      Atomics.store(w, GROUP_UNSIGNALED, later);
      Atomics.store(w, LATER_WAITING, 0);
    }
    if (signaled) this.#wake();
  }

  /**
   * Wakes every thread waiting on this condition. The caller must hold the lock.
   *
   * @example
   * ```ts
   * cond.run(() => { shuttingDown = true; cond.notifyAll(); });
   * ```
   * @throws {LockStateError} "cannot notify on un-acquired lock" when the caller does not hold the lock.
   */
  notifyAll(): void {
    this.#checkOwned('notify');
    const w = this.#words;
    const unsignaled = Atomics.load(w, GROUP_UNSIGNALED) + Atomics.load(w, LATER_WAITING);
    const tickets = Atomics.load(w, TICKETS);
    Atomics.store(w, SIGNALED_BELOW, tickets);
    Atomics.store(w, GROUP_END, tickets);
    Atomics.store(w, PERMITS, 0);
    Atomics.store(w, GROUP_UNSIGNALED, 0);
    Atomics.store(w, LATER_WAITING, 0);
    if (unsignaled > 0) this.#wake();
  }

  /** Takes a ticket as a later waiter (lock held). */
  #enqueue(): number {
    Atomics.add(this.#words, LATER_WAITING, 1);
    return Atomics.add(this.#words, TICKETS, 1);
  }

  /** Without the lock: whether `ticket` looks signaled (a hint; see the module comment for the read order). */
  #peek(ticket: number): boolean {
    const permits = Atomics.load(this.#words, PERMITS);
    if (before(ticket, Atomics.load(this.#words, SIGNALED_BELOW))) return true;
    return permits > 0 && before(ticket, Atomics.load(this.#words, GROUP_END));
  }

  /** With the lock: whether `ticket` is signaled, taking a group permit if it needs one. */
  #take(ticket: number): boolean {
    if (before(ticket, Atomics.load(this.#words, SIGNALED_BELOW))) return true;
    if (!before(ticket, Atomics.load(this.#words, GROUP_END))) return false;
    const permits = Atomics.load(this.#words, PERMITS);
    if (permits === 0) return false;
    Atomics.store(this.#words, PERMITS, permits - 1);
    return true;
  }

  /** With the lock, after a time-out: `ticket` leaves its run's count. */
  #withdraw(ticket: number): false {
    const run = before(ticket, Atomics.load(this.#words, GROUP_END)) ? GROUP_UNSIGNALED : LATER_WAITING;
    Atomics.sub(this.#words, run, 1);
    return false;
  }

  #wake(): void {
    Atomics.add(this.#words, SEQ, 1);
    if (Atomics.load(this.#words, SLEEPERS) > 0) Atomics.notify(this.#words, SEQ);
  }

  #checkOwned(what: 'wait' | 'notify'): void {
    if (!this.#owned()) throw new LockStateError(`cannot ${what} on un-acquired lock`);
  }

  /** Python's `_is_owned`: an RLock knows its owner; for other locks, "held by someone". */
  #owned(): boolean {
    const lock = this.#lock;
    if (lock instanceof RLock) return lock.isOwned();
    if (lock.acquire({ blocking: false })) {
      lock.release();
      return false;
    }
    return true;
  }

  /**
   * Releases the lock completely (Python's `_release_save`); returns how
   * many levels to take back: the RLock's recursion depth, 1 for other locks.
   */
  #releaseSave(): number {
    const lock = this.#lock;
    if (lock instanceof RLock) return lock[kReleaseAll]();
    lock.release();
    return 1;
  }

  /**
   * Takes the lock back with `levels` levels (Python's `_acquire_restore`).
   * The levels are *added* (re-entrant acquires), not set: when async code on
   * this thread entered the RLock meanwhile (an RLock cannot keep it out: the
   * owner is the thread), its levels stay counted.
   */
  #acquireRestore(levels: number): void {
    this.#lock.acquire();
    for (let i = 1; i < levels; i++) this.#lock.acquire();
  }

  async #acquireRestoreAsync(levels: number): Promise<void> {
    await this.#lock.acquireAsync();
    for (let i = 1; i < levels; i++) this.#lock.acquire();
  }

  /** Gives back exactly the `levels` levels that {@link #acquireRestore} took. */
  #releaseLevels(levels: number): void {
    for (let i = 0; i < levels; i++) this.#lock.release();
  }

  protected override describe(): Record<string, unknown> {
    const waiting = Atomics.load(this.#words, GROUP_UNSIGNALED) + Atomics.load(this.#words, LATER_WAITING);
    return { lock: this.#lock, waiting };
  }

  static {
    registerShareable('Condition', (state) => {
      const s = state as ConditionState;
      // revive() does not look inside a marker's state: the lock is still a marker here.
      const lock = s.lock instanceof LockLike ? s.lock : revive<LockLike>(s.lock);
      return new Condition(undefined, { ...s, lock });
    });
  }
}
