/**
 * Timeouts: milliseconds, `undefined` = wait forever (JS convention).
 *
 * @module
 */

/** Longest delay a Node timer takes (about 24.8 days); longer timeouts mean "forever". */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks a timeout in ms: undefined (forever) or a non-negative number;
 * `Infinity` and anything above {@link MAX_TIMER_MS} also mean forever.
 *
 * @example
 * ```ts
 * checkTimeout(options.timeout, 'options.timeout');
 * ```
 * @throws {RangeError} naming `what` when it is negative, NaN or not a number.
 */
export function checkTimeout(timeout: unknown, what: string): asserts timeout is number | undefined {
  if (timeout !== undefined && (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0)) {
    throw new RangeError(`${what} must be a non-negative number of milliseconds: received ${String(timeout)}`);
  }
}
