/**
 * How a range job is cut into tasks, identically for every peer (the Python
 * peers cut it with the same integer arithmetic).
 *
 * @module
 */

/**
 * `[lo, hi)` cut into `parts` consecutive ranges whose sizes differ by at
 * most one, as `bench/python/speedup.py`'s `split` cuts it.
 *
 * @example
 * ```ts
 * splitRange(0, 10, 3); // [[0, 3], [3, 6], [6, 10]]
 * ```
 * @throws {RangeError} when `parts` is not a positive integer or `hi < lo`.
 */
export function splitRange(lo: number, hi: number, parts: number): [number, number][] {
  if (!Number.isInteger(parts) || parts < 1)
    throw new RangeError(`parts must be a positive integer: received ${parts}`);
  if (hi < lo) throw new RangeError(`hi must be >= lo: received [${lo}, ${hi})`);
  const size = hi - lo;
  return Array.from({ length: parts }, (_, i) => [
    lo + Math.floor((size * i) / parts),
    lo + Math.floor((size * (i + 1)) / parts),
  ]);
}
