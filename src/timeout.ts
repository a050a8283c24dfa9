/**
 * Timeouts: milliseconds, `undefined` = wait forever (JS convention).
 *
 * @module
 */

import { describe } from './check.js';

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
 * @throws {TypeError} naming `what` when it is not a number; {@link RangeError} when it is negative or NaN.
 */
export function checkTimeout(timeout: unknown, what: string): asserts timeout is number | undefined {
  if (timeout !== undefined && (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0)) {
    throw new (typeof timeout === 'number' ? RangeError : TypeError)(
      `${what} must be a non-negative number of milliseconds: received ${describe(timeout)}`,
    );
  }
}
