/**
 * Summary statistics of benchmark samples: median and spread, never a mean
 * alone (one descheduled run on a shared machine would move it).
 *
 * @module
 */

/**
 * The summary of a set of samples, in the samples' unit.
 *
 * @example
 * ```ts
 * const { median, min, max }: Summary = summarize([3, 1, 2]); // 2, 1, 3
 * ```
 */
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** First quartile. */
  readonly q1: number;
  /** Third quartile. */
  readonly q3: number;
  readonly mean: number;
  /** Half the min–max range relative to the median, in percent: a quick noise figure. */
  readonly spreadPct: number;
}

function sorted(xs: readonly number[]): number[] {
  if (xs.length === 0) throw new RangeError('no samples: at least one is needed');
  return [...xs].sort((a, b) => a - b);
}

/**
 * The `q`-quantile (0 ≤ q ≤ 1) of `xs`, interpolating linearly between the
 * closest ranks (the method of NumPy's default and R's type 7).
 *
 * @example
 * ```ts
 * quantile([1, 2, 3, 4], 0.5);  // 2.5
 * quantile([1, 2, 3, 4], 0.25); // 1.75
 * ```
 * @throws {RangeError} when `xs` is empty or `q` is outside [0, 1].
 */
export function quantile(xs: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be within [0, 1]: received ${q}`);
  const s = sorted(xs);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = s[lo] as number;
  const b = s[hi] as number;
  return a + (b - a) * (pos - lo);
}

/**
 * The median of `xs`.
 *
 * @example
 * ```ts
 * median([5, 1, 3]); // 3
 * ```
 * @throws {RangeError} when `xs` is empty.
 */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/**
 * Median, quartiles, extremes and mean of `xs`.
 *
 * @example
 * ```ts
 * summarize([10, 12, 11, 30]).median;    // 11.5
 * summarize([10, 12, 11, 30]).spreadPct; // 87 (one outlier shows up here, not in the median)
 * ```
 * @throws {RangeError} when `xs` is empty.
 */
export function summarize(xs: readonly number[]): Summary {
  const s = sorted(xs);
  const med = quantile(s, 0.5);
  const min = s[0] as number;
  const max = s[s.length - 1] as number;
  return {
    n: s.length,
    median: med,
    min,
    max,
    q1: quantile(s, 0.25),
    q3: quantile(s, 0.75),
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    spreadPct: med === 0 ? 0 : ((max - min) / 2 / Math.abs(med)) * 100,
  };
}

/**
 * Rates (`work / time`) from times: `work` units done in each of `ms`.
 * Summarise rates from per-run rates, not from the median time, so that
 * min/max keep their meaning.
 *
 * @example
 * ```ts
 * ratesPerSecond(20_000, [500, 1000]); // [40000, 20000]
 * ```
 */
export function ratesPerSecond(work: number, ms: readonly number[]): number[] {
  return ms.map((t) => (work / t) * 1000);
}
