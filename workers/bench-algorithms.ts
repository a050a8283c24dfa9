/**
 * The benchmark kernels as plain functions, shared by every Node peer so that
 * all of them run the same code: the corepool tasks (`bench-kernels.ts`), the
 * raw-piscina handler (`bench-piscina.ts`) and the serial baseline on the main
 * thread. `bench/python/` holds the same algorithms in Python, line for line.
 *
 * Imports nothing, so a raw-piscina worker loads no corepool code.
 *
 * @module
 */

/**
 * Whether `n` is prime, by trial division by 2 and the odd numbers up to √n.
 *
 * @example
 * ```ts
 * isPrime(97); // true
 * isPrime(91); // false (7 × 13)
 * ```
 */
export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) {
    if (n % d === 0) return false;
  }
  return true;
}

/**
 * The number of primes `p` with `lo <= p < hi`, by trial division.
 *
 * @example
 * ```ts
 * countPrimesIn(0, 100); // 25
 * ```
 */
export function countPrimesIn(lo: number, hi: number): number {
  let count = 0;
  for (let n = lo; n < hi; n++) {
    if (isPrime(n)) count++;
  }
  return count;
}

/**
 * The map benchmark's per-item function: `x * x`.
 *
 * @example
 * ```ts
 * square(12); // 144
 * ```
 */
export function square(x: number): number {
  return x * x;
}

/**
 * `square` of every item, into a packed array (as a hand-written chunk
 * handler would do it).
 *
 * @example
 * ```ts
 * squareAll([1, 2, 3]); // [1, 4, 9]
 * ```
 */
export function squareAll(items: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) out.push(square(items[i] as number));
  return out;
}
