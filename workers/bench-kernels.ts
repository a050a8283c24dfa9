/**
 * The benchmark kernels as corepool tasks. Each wraps the plain function of
 * `bench-algorithms.ts` that the raw-piscina handler and the serial baseline
 * also run, so every peer does the same work.
 *
 * @module
 */

import { defineTasks } from '../src/index.js';
import type { KernelInput } from './bench-algorithms.js';
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
 * await pool.map(kernels.compute, workload('mandelbrot', 'quick', 128).inputs, { chunksize: 1 });
 * await pool.apply(kernels.byteLength, [new Uint8Array(1 << 20)]); // 1048576
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
  /** One task of the speed-up benchmark's kernels (`primes`, `mandelbrot`, `sha256`, `matmul`): its checksum. */
  compute(input: KernelInput): number {
    return algorithms.compute(input);
  },
  /** `data.byteLength`: no work, so what is left is the cost of shipping `data` to a worker. */
  byteLength(data: Uint8Array): number {
    return data.byteLength;
  },
});
