/**
 * The benchmark kernels as corepool tasks. Each wraps the plain function of
 * `bench-algorithms.ts` that the raw-piscina handler and the serial baseline
 * also run, so every peer does the same work.
 *
 * @module
 */

import { defineTasks } from '../src/index.js';
import * as algorithms from './bench-algorithms.js';

/**
 * Tasks of the Pool benchmarks.
 *
 * @example
 * ```ts
 * import { kernels } from '../workers/bench-kernels.js';
 * await pool.applyAsync(kernels.noop, []);                 // per-task overhead
 * await pool.map(kernels.square, [1, 2, 3]);               // [1, 4, 9]
 * await pool.apply(kernels.countPrimes, [[0, 100]]);       // 25
 * ```
 */
export const kernels = defineTasks(import.meta.url, {
  /** Does nothing: what is left is the cost of a round trip through the pool. */
  noop(): void {},
  /** `x * x`: a per-item function too cheap to hide any per-item overhead. */
  square(x: number): number {
    return algorithms.square(x);
  },
  /** Primes in `[lo, hi)` by trial division: a CPU-bound kernel. */
  countPrimes(range: readonly [number, number]): number {
    return algorithms.countPrimesIn(range[0], range[1]);
  },
});
