/**
 * What every lock-like primitive (Lock, RLock, Semaphore, BoundedSemaphore,
 * Condition) offers on top of `acquire`/`release`: scoped use that always
 * releases — a `Disposable` for `using`, an `AsyncDisposable` for
 * `await using`, and callback forms — and the checking of acquire options.
 *
 * @module
 */

import { checkBoolean, checkFn, checkOptions, describe, noOptions, positionalForm } from '../check.js';
import { SharedObject, type SharedState } from '../shared-object.js';
import { checkTimeout, deadline, remaining, waitAsync, waitSync } from './wait.js';

/** Options of `acquire` and `acquireAsync`. */
export interface AcquireOptions {
  /** Wait for the lock (default true); `false` returns at once. */
  blocking?: boolean;
  /** Give up after this many ms (default: wait forever). Not with `blocking: false`. */
  timeout?: number;
}

/** The keys of {@link AcquireOptions}. */
const acquireOptions = ['blocking', 'timeout'] as const;

/** The names an acquire method's errors use, made once per method (acquire is a hot path). */
interface AcquireNames {
  readonly call: string;
  readonly blocking: string;
  readonly timeout: string;
}
const acquireNames = new Map<string, AcquireNames>();
function namesOf(what: string): AcquireNames {
  let names = acquireNames.get(what);
  if (names === undefined) {
    names = { call: `${what}()`, blocking: `${what}(options.blocking)`, timeout: `${what}(options.timeout)` };
    acquireNames.set(what, names);
  }
  return names;
}

/**
 * Checks acquire options; returns the timeout to use (0 when not blocking).
 * `what` names the method: `Lock.acquire`. Python's positional form
 * (`acquire(false)`, `acquire(true, 5)`) is refused with the object to write
 * instead.
 *
 * @example
 * ```ts
 * const timeout = acquireTimeout(options, 'Lock.acquire');
 * acquireTimeout({ timeot: 5 }, 'Lock.acquire');
 * // TypeError: options.timeot is not a Lock.acquire() option (known: blocking, timeout); did you mean timeout?
 * ```
 * @throws {TypeError} when options are not an object, have an unknown key, have a value of the wrong
 *   type, or `blocking: false` comes with a timeout.
 * @throws {RangeError} when the timeout is negative or NaN.
 */
export function acquireTimeout(options: AcquireOptions | undefined, what: string): number | undefined {
  if (options === undefined) return undefined;
  if (typeof options === 'boolean' || typeof options === 'number') {
    const instead = typeof options === 'boolean' ? `{ blocking: ${options} }` : `{ timeout: ${describe(options)} }`;
    throw positionalForm(`${what}()`, options, instead);
  }
  const names = namesOf(what);
  const { blocking = true, timeout } = checkOptions(options, acquireOptions, names.call);
  checkBoolean(blocking, names.blocking);
  checkTimeout(timeout, names.timeout);
  if (!blocking) {
    if (timeout !== undefined) {
      throw new TypeError(`${names.timeout} cannot be given with blocking: false: received ${describe(timeout)}`);
    }
    return 0;
  }
  return timeout;
}

/** `attempt` result: the lock-like is now held by the caller. */
export const ACQUIRED = -1;
/** `attempt` result: the state moved under us; look again without sleeping. */
export const RETRY = -2;

/**
 * Where the slow path of a lock-like's acquire sleeps: on `words[index]`,
 * counted in `words[waiters]` (incremented before sleeping, so a releaser
 * notifies only when someone sleeps), at most `slice` ms at a time (a lock
 * wakes to check whether its holder died; `Infinity` for no such check).
 */
export interface SleepOn {
  readonly words: Int32Array;
  readonly index: number;
  readonly waiters: number;
  readonly slice: number;
}

/**
 * The slow path of every lock-like acquire, blocking form: calls `attempt`
 * until it returns {@link ACQUIRED} (true) or the timeout passes (false).
 * `attempt` returns {@link RETRY} to look again at once, or the value of
 * `words[index]` to sleep on while it holds.
 *
 * @example
 * ```ts
 * if (fastPath()) return true;
 * return acquireSlow(this.#sleep, this.#attemptFn, timeout);
 * ```
 */
export function acquireSlow(on: SleepOn, attempt: () => number, timeout: number | undefined): boolean {
  const end = deadline(timeout);
  for (;;) {
    const seen = attempt();
    if (seen === ACQUIRED) return true;
    if (seen === RETRY) continue;
    const left = remaining(end);
    if (left === 0) return false;
    Atomics.add(on.words, on.waiters, 1);
    waitSync(on.words, on.index, seen, Math.min(left, on.slice));
    Atomics.sub(on.words, on.waiters, 1);
  }
}

/**
 * {@link acquireSlow} without blocking the event loop (Atomics.waitAsync).
 *
 * @example
 * ```ts
 * if (fastPath()) return true;
 * return acquireSlowAsync(this.#sleep, this.#attemptFn, timeout);
 * ```
 */
export async function acquireSlowAsync(
  on: SleepOn,
  attempt: () => number,
  timeout: number | undefined,
): Promise<boolean> {
  const end = deadline(timeout);
  for (;;) {
    const seen = attempt();
    if (seen === ACQUIRED) return true;
    if (seen === RETRY) continue;
    const left = remaining(end);
    if (left === 0) return false;
    Atomics.add(on.words, on.waiters, 1);
    await waitAsync(on.words, on.index, seen, Math.min(left, on.slice));
    Atomics.sub(on.words, on.waiters, 1);
  }
}

/**
 * Base of the lock-like primitives: subclasses implement `acquire`,
 * `acquireAsync` and `release`; scoped forms come from here.
 *
 * @example
 * ```ts
 * using _ = lock.hold();               // released at the end of the block
 * await using __ = await sem.holdAsync();
 * const n = lock.run(() => counter.value++);
 * await lock.runAsync(async () => { await write(); });
 * ```
 */
export abstract class LockLike<S extends SharedState = SharedState> extends SharedObject<S> {
  abstract acquire(options?: AcquireOptions): boolean;
  abstract acquireAsync(options?: AcquireOptions): Promise<boolean>;
  abstract release(): void;

  /**
   * Acquires (blocking) and returns a `Disposable` that releases: `using _ = lock.hold()`.
   *
   * @example
   * ```ts
   * { using _ = lock.hold(); file.appendFileSync(line); } // released here, even on throw
   * ```
   * @throws {TypeError} when given an argument (it takes no options: to give up after a time, use
   *   `acquire({ timeout })` and `release()`).
   */
  hold(none?: never): Disposable {
    if (none !== undefined) noOptions([none], `${this.constructor.name}.hold()`);
    this.acquire();
    return { [Symbol.dispose]: () => this.release() };
  }

  /**
   * Acquires without blocking the event loop and resolves to an
   * `AsyncDisposable` that releases: `await using _ = await lock.holdAsync()`.
   *
   * @example
   * ```ts
   * { await using _ = await lock.holdAsync(); await fs.appendFile(path, line); }
   * ```
   * @throws {TypeError} when given an argument (as a rejection; it takes no options).
   */
  async holdAsync(none?: never): Promise<AsyncDisposable> {
    if (none !== undefined) noOptions([none], `${this.constructor.name}.holdAsync()`);
    await this.acquireAsync();
    return { [Symbol.asyncDispose]: async () => this.release() };
  }

  /**
   * Runs `fn` holding the lock (blocking acquire) and releases, even when `fn` throws.
   *
   * @example
   * ```ts
   * const next = lock.run(() => ++shared.value);
   * ```
   * @throws {TypeError} when `fn` is not a function, or a further argument is given (it takes no options).
   */
  run<T>(fn: () => T, none?: never): T {
    if (typeof fn !== 'function') checkFn(fn, `${this.constructor.name}.run(fn)`);
    if (none !== undefined) noOptions([none], `${this.constructor.name}.run()`);
    this.acquire();
    try {
      return fn();
    } finally {
      this.release();
    }
  }

  /**
   * Runs `fn` (sync or async) holding the lock, acquired without blocking the
   * event loop, and releases when it settles, even when it throws.
   *
   * @example
   * ```ts
   * await lock.runAsync(async () => { await fs.appendFile(path, line); });
   * ```
   * @throws {TypeError} when `fn` is not a function, or a further argument is given (as a rejection).
   */
  async runAsync<T>(fn: () => T | Promise<T>, none?: never): Promise<T> {
    if (typeof fn !== 'function') checkFn(fn, `${this.constructor.name}.runAsync(fn)`);
    if (none !== undefined) noOptions([none], `${this.constructor.name}.runAsync()`);
    await this.acquireAsync();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
