/**
 * The benchmark kernels as plain functions, shared by every Node peer so that
 * all of them run the same code: the corepool tasks (`bench-kernels.ts`), the
 * raw-piscina handler (`bench-piscina.ts`) and the serial baseline on the main
 * thread. `bench/python/` holds the same algorithms in Python, line for line.
 *
 * Imports nothing from corepool (only `node:crypto`), so a raw-piscina worker
 * loads no corepool code.
 *
 * The four CPU-bound kernels of the speed-up benchmark are reached through
 * {@link compute}; `bench/lib/workloads.ts` cuts a job into their inputs.
 *
 * @module
 */

import { createHash } from 'node:crypto';

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

/**
 * One task of a speed-up benchmark: a slice of one of the four CPU-bound
 * kernels. Every field is a number except the `sha256` buffer, so an input
 * crosses threads by structured clone as it is.
 *
 * - `primes`: count the primes in `[lo, hi)` by trial division ({@link countPrimesIn}).
 * - `mandelbrot`: rows `rowStart`, `rowStart + rowStep`, … `< height` of a
 *   `width × height` image ({@link mandelbrotRows}).
 * - `sha256`: `data` hashed `rounds` times over ({@link sha256Rounds}).
 * - `matmul`: rows `[row0, row1)` of `A × B` for `n × n` matrices ({@link matmulRows}).
 *
 * @example
 * ```ts
 * const input: KernelInput = { kind: 'matmul', n: 200, row0: 0, row1: 25 };
 * compute(input); // the weighted sum of those 25 rows of C
 * ```
 */
export type KernelInput =
  | { readonly kind: 'primes'; readonly lo: number; readonly hi: number }
  | {
      readonly kind: 'mandelbrot';
      readonly width: number;
      readonly height: number;
      readonly maxIter: number;
      readonly rowStart: number;
      readonly rowStep: number;
    }
  | { readonly kind: 'sha256'; readonly data: Uint8Array; readonly rounds: number }
  | { readonly kind: 'matmul'; readonly n: number; readonly row0: number; readonly row1: number };

/**
 * The sum of the escape counts of rows `rowStart`, `rowStart + rowStep`, …
 * `< height` of a `width × height` image of the plane `re ∈ [-2, 0.5]`,
 * `im ∈ [-1.25, 1.25]`. Pixel `(x, y)` is `c = (-2 + 2.5x/width) + (-1.25 + 2.5y/height)i`;
 * its count is the number of steps `z ← z² + c` from `z = 0` taken before
 * `|z|² > 4`, capped at `maxIter`.
 *
 * Dealing rows out cyclically (`rowStep` = the number of tasks) gives every
 * task a share of the costly middle rows, so tasks cost about the same.
 *
 * `bench/python/speedup.py` does the same double operations in the same
 * order (JavaScript numbers and Python floats are both IEEE-754 doubles and
 * neither fuses a multiply-add), so the two agree to the last count.
 *
 * @example
 * ```ts
 * const whole = mandelbrotRows(64, 48, 100, 0, 1);
 * whole === mandelbrotRows(64, 48, 100, 0, 2) + mandelbrotRows(64, 48, 100, 1, 2); // true
 * ```
 */
export function mandelbrotRows(
  width: number,
  height: number,
  maxIter: number,
  rowStart: number,
  rowStep: number,
): number {
  let total = 0;
  for (let y = rowStart; y < height; y += rowStep) {
    const ci = -1.25 + (2.5 * y) / height;
    for (let x = 0; x < width; x++) {
      const cr = -2 + (2.5 * x) / width;
      let zr = 0;
      let zi = 0;
      let n = 0;
      while (n < maxIter) {
        const zr2 = zr * zr;
        const zi2 = zi * zi;
        if (zr2 + zi2 > 4) break;
        zi = 2 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        n++;
      }
      total += n;
    }
  }
  return total;
}

/**
 * SHA-256 of `data` repeated `rounds` times (`update(data)` `rounds` times,
 * then one digest), as the first 4 bytes of the digest read as an unsigned
 * 32-bit big-endian integer.
 *
 * @example
 * ```ts
 * sha256Rounds(new TextEncoder().encode('abc'), 1); // 0xba7816bf
 * ```
 */
export function sha256Rounds(data: Uint8Array, rounds: number): number {
  const hash = createHash('sha256');
  for (let r = 0; r < rounds; r++) hash.update(data);
  return hash.digest().readUInt32BE(0);
}

/** `A[i][j]` of the `n × n` matrix `A`: an integer in [-8, 8]. */
const matrixA = (n: number, i: number, j: number): number => ((i * n + j) % 17) - 8;
/** `B[i][j]`: an integer in [-6, 6]. */
const matrixB = (i: number, j: number): number => ((i * 3 + j * 5) % 13) - 6;

let cached: { readonly n: number; readonly a: Float64Array; readonly b: Float64Array } | undefined;

/** `A` and `B` for `n`, row-major, built on first use in this thread and kept (one `n` at a time). */
function matrices(n: number): { readonly a: Float64Array; readonly b: Float64Array } {
  if (cached?.n === n) return cached;
  const a = new Float64Array(n * n);
  const b = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      a[i * n + j] = matrixA(n, i, j);
      b[i * n + j] = matrixB(i, j);
    }
  }
  cached = { n, a, b };
  return cached;
}

/** Rows of `C` computed together by {@link matmulRows}. */
const MATMUL_BLOCK = 8;

/**
 * The weighted sum `Σ C[i][j]·w(i, j)`, `w(i, j) = (i + 2j) mod 7 + 1`, over
 * rows `[row0, row1)` of `C = A × B` (the weights make a misplaced or
 * transposed entry change the checksum), where `A`
 * and `B` are `n × n` Float64 matrices of small integers,
 * `A[i][j] = (i·n + j) mod 17 − 8` and `B[i][j] = (3i + 5j) mod 13 − 6`, so
 * every product and sum is exact in doubles whatever the order. Computed
 * in i-k-j order over blocks of {@link MATMUL_BLOCK} rows: each row of `B`
 * is read once per block and used for every row of it from L1, so the loop
 * is bound by arithmetic, not by streaming `B` from memory for every row
 * (which made the time depend on what else shared the memory bus).
 *
 * The matrices are not shipped with the task: each thread (each Python
 * process) builds them from `n` on its first task and keeps them, so a task
 * carries four numbers and the warm-up round absorbs the build.
 *
 * @example
 * ```ts
 * matmulRows(2, 0, 2); // A = [[-8, -7], [-6, -5]], B = [[-6, -1], [-3, 2]]: C = [[69, -6], [51, -4]], 69 − 3·6 + 2·51 − 4·4 = 137
 * ```
 */
export function matmulRows(n: number, row0: number, row1: number): number {
  const { a, b } = matrices(n);
  const acc = new Float64Array(MATMUL_BLOCK * n);
  let total = 0;
  for (let i0 = row0; i0 < row1; i0 += MATMUL_BLOCK) {
    const rows = Math.min(MATMUL_BLOCK, row1 - i0);
    acc.fill(0);
    for (let k = 0; k < n; k++) {
      const bk = k * n;
      for (let r = 0; r < rows; r++) {
        const aik = a[(i0 + r) * n + k]!;
        const out = r * n;
        for (let j = 0; j < n; j++) acc[out + j]! += aik * b[bk + j]!;
      }
    }
    for (let r = 0; r < rows; r++) {
      const i = i0 + r;
      for (let j = 0; j < n; j++) total += acc[r * n + j]! * (((i + 2 * j) % 7) + 1);
    }
  }
  return total;
}

/**
 * Runs one benchmark task: dispatches on `input.kind`. The result is an
 * integer below 2^53, so a job's checksum is the plain sum over its tasks.
 *
 * @example
 * ```ts
 * compute({ kind: 'primes', lo: 0, hi: 100 }); // 25
 * compute({ kind: 'mandelbrot', width: 4, height: 4, maxIter: 10, rowStart: 0, rowStep: 1 }); // 87
 * ```
 * @throws {TypeError} for an unknown `kind`.
 */
export function compute(input: KernelInput): number {
  switch (input.kind) {
    case 'primes':
      return countPrimesIn(input.lo, input.hi);
    case 'mandelbrot':
      return mandelbrotRows(input.width, input.height, input.maxIter, input.rowStart, input.rowStep);
    case 'sha256':
      return sha256Rounds(input.data, input.rounds);
    case 'matmul':
      return matmulRows(input.n, input.row0, input.row1);
    default:
      throw new TypeError(`unknown kernel input kind: ${JSON.stringify((input as { kind: unknown }).kind)}`);
  }
}
