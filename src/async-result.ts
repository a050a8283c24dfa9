/**
 * `AsyncResult`: the handle `Pool.applyAsync` and `Pool.mapAsync` return, as in
 * Python's `multiprocessing.pool.AsyncResult`, and also a `PromiseLike` so it
 * can be awaited directly.
 *
 * A result that fails and is never looked at does not become an unhandled
 * rejection: as in Python, an error stays inside the result until asked for.
 *
 * @module
 */

import { PoolStateError, TimeoutError } from './errors.js';
import { checkTimeout, MAX_TIMER_MS } from './timeout.js';

type State<T> =
  | { readonly status: 'pending' }
  | { readonly status: 'fulfilled'; readonly value: T }
  | { readonly status: 'rejected'; readonly reason: unknown };

const noop = (): void => {};

/**
 * Waits for `promise` at most `timeout` ms; resolves `true` if it settled.
 * `undefined` (or a timeout too long for a timer) waits forever.
 */
function settledWithin(promise: Promise<unknown>, timeout: number | undefined): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  if (timeout === undefined || timeout > MAX_TIMER_MS) return settled;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(resolve, timeout, false);
    void settled.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * The pending result of a task submitted with `Pool.applyAsync` or
 * `Pool.mapAsync`.
 *
 * @example
 * ```ts
 * const r = pool.applyAsync(square, [7]);
 * r.ready();            // false at first
 * await r.wait();       // resolves when done, never rejects
 * r.successful();       // true
 * await r.get(1000);    // 49 (rejects TimeoutError if not ready within 1 s)
 * await r;              // 49: an AsyncResult is PromiseLike
 * ```
 */
export class AsyncResult<T> implements PromiseLike<T> {
  readonly #promise: Promise<T>;
  #state: State<T> = { status: 'pending' };

  /** @internal Made by the pool; `promise` settles with the task. */
  constructor(promise: Promise<T>) {
    this.#promise = promise;
    promise.then(
      (value) => {
        this.#state = { status: 'fulfilled', value };
      },
      (reason: unknown) => {
        this.#state = { status: 'rejected', reason };
      },
    );
  }

  /**
   * The result: resolves with the value or rejects with the task's error. With
   * `timeout` (ms), rejects with {@link TimeoutError} if the task is not done by
   * then; the task keeps running and a later `get()` can still succeed.
   *
   * @example
   * ```ts
   * const value = await pool.applyAsync(fib, [30]).get(5_000);
   * ```
   * @throws {RangeError} (as a rejection) when `timeout` is negative or NaN; {@link TypeError} when it is not a number.
   */
  get(timeout?: number): Promise<T> {
    try {
      checkTimeout(timeout, 'get(timeout)');
    } catch (err) {
      return Promise.reject(err);
    }
    if (timeout === undefined || this.#state.status !== 'pending') return this.#promise;
    return settledWithin(this.#promise, timeout).then((done) => {
      if (!done) throw new TimeoutError(`result not ready within ${timeout} ms`);
      return this.#promise;
    });
  }

  /**
   * Resolves once the result is ready or `timeout` ms have passed; never
   * rejects (Python's `wait`).
   *
   * @example
   * ```ts
   * await r.wait(100);
   * if (!r.ready()) console.log('still running');
   * ```
   * @throws {RangeError} when `timeout` is negative or NaN; {@link TypeError} when it is not a number.
   */
  async wait(timeout?: number): Promise<void> {
    checkTimeout(timeout, 'wait(timeout)');
    await settledWithin(this.#promise, timeout);
  }

  /**
   * Whether the task has finished (either way).
   *
   * @example
   * ```ts
   * while (!r.ready()) await r.wait(50);
   * ```
   */
  ready(): boolean {
    return this.#state.status !== 'pending';
  }

  /**
   * Whether the task finished without error.
   *
   * @example
   * ```ts
   * await r.wait();
   * if (!r.successful()) console.error(await r.get().catch((e) => e));
   * ```
   * @throws {PoolStateError} when the result is not ready yet.
   */
  successful(): boolean {
    if (this.#state.status === 'pending') throw new PoolStateError('result is not ready: call wait() first');
    return this.#state.status === 'fulfilled';
  }

  /**
   * Lets `await` and promise chains use the result directly.
   *
   * @example
   * ```ts
   * const [a, b] = await Promise.all([pool.applyAsync(f, [1]), pool.applyAsync(f, [2])]);
   * ```
   */
  // biome-ignore lint/suspicious/noThenProperty: an AsyncResult is deliberately PromiseLike.
  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#promise.then(onfulfilled, onrejected);
  }
}

/** @internal A promise whose rejection is not reported as unhandled. */
export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(noop);
  return promise;
}
