/**
 * Waiting on shared memory: the one place that calls `Atomics.wait` and
 * `Atomics.waitAsync`, with timeouts on a monotonic clock.
 *
 * Every primitive loops around these: a wake-up is a hint, never a promise
 * that the state it waits for holds (another thread may have taken it first,
 * and `notify` may wake more waiters than can proceed), so callers re-check
 * their condition after each return and wait again with the time left.
 *
 * Node 20's `Atomics.waitAsync` does not keep the event loop alive: a process
 * whose only pending work is an async wait would exit. While any async wait is
 * pending, this module holds one ref'd interval timer, as a pending timer
 * would keep the process alive.
 *
 * @module
 */

import { performance } from 'node:perf_hooks';

/** Outcome of one wait, as `Atomics.wait` reports it. */
export type WaitOutcome = 'ok' | 'not-equal' | 'timed-out';

/**
 * The monotonic deadline for `timeout` ms from now; `Infinity` when `timeout`
 * is undefined (wait forever).
 *
 * @example
 * ```ts
 * const end = deadline(100);
 * while (!ready()) if (waitSync(word, 0, 0, remaining(end)) === 'timed-out') break;
 * ```
 */
export function deadline(timeout: number | undefined): number {
  return timeout === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeout;
}

/**
 * Milliseconds left until `end` (never negative).
 *
 * @example
 * ```ts
 * remaining(deadline(50)); // about 50
 * ```
 */
export function remaining(end: number): number {
  return end === Number.POSITIVE_INFINITY ? end : Math.max(0, end - performance.now());
}

export { checkTimeout } from '../timeout.js';

/**
 * Blocks this thread while `word[index] === value`, for at most `ms`.
 *
 * @example
 * ```ts
 * waitSync(state, FLAG, 0, 10); // 'ok', 'not-equal' or 'timed-out'
 * ```
 */
export function waitSync(word: Int32Array, index: number, value: number, ms: number): WaitOutcome {
  return Atomics.wait(word, index, value, ms);
}

let pendingAsync = 0;
let keepAlive: NodeJS.Timeout | undefined;

function hold(): void {
  if (pendingAsync++ === 0) keepAlive = setInterval(() => {}, 1 << 30);
}

function unhold(): void {
  if (--pendingAsync === 0) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

/**
 * Waits without blocking the event loop while `word[index] === value`, for at
 * most `ms`; keeps the process alive meanwhile.
 *
 * @example
 * ```ts
 * await waitAsync(state, FLAG, 0, 10); // 'ok', 'not-equal' or 'timed-out'
 * ```
 */
export function waitAsync(word: Int32Array, index: number, value: number, ms: number): Promise<WaitOutcome> {
  const result = Atomics.waitAsync(word, index, value, ms);
  if (!result.async) return Promise.resolve(result.value);
  hold();
  return result.value.then((outcome) => {
    unhold();
    return outcome;
  });
}
