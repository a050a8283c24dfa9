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

let cached: { readonly n: number; readonly bt: Float64Array } | undefined;

/**
 * `Bᵀ` for `n` (`bt[j·n + k] = B[k][j]`), so that an entry of `C` is the dot
 * product of two contiguous rows. Built on first use in this thread and kept
 * (one `n` at a time); at the bench's n = 192 it is 288 KiB and stays in L2.
 */
function transposedB(n: number): Float64Array {
  if (cached?.n === n) return cached.bt;
  const bt = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) bt[j * n + k] = matrixB(k, j);
  }
  cached = { n, bt };
  return bt;
}

/** Rows `i0 … i0 + count − 1` of `A` into `out`, one after another. */
function rowsOfA(out: Float64Array, n: number, i0: number, count: number): void {
  for (let r = 0; r < count; r++) {
    for (let k = 0; k < n; k++) out[r * n + k] = matrixA(n, i0 + r, k);
  }
}

/** The checksum's weight of `C[i][j]`. */
const weight = (i: number, j: number): number => ((i + 2 * j) % 7) + 1;

/**
 * The weighted sum `Σ C[i][j]·w(i, j)`, `w(i, j) = (i + 2j) mod 7 + 1`, over
 * rows `[row0, row1)` of `C = A × B` (the weights make a misplaced or
 * transposed entry change the checksum). `A` has as many rows as the job
 * needs and `n` columns, `B` is `n × n`; their entries are small integers,
 * `A[i][j] = (i·n + j) mod 17 − 8` and `B[i][j] = (3i + 5j) mod 13 − 6`, so
 * every product and sum is exact in doubles whatever the order.
 *
 * Each entry is a dot product of a row of `A` and a row of `Bᵀ`, four rows of
 * `A` at a time, with the sums in registers. `Bᵀ` is built once per thread
 * and kept; the task's rows of `A` are made as they are needed. A task thus
 * ships four numbers, and at n = 192 everything it reads stays in the core's
 * own L2, so its speed is the core's, not the memory bus's or the shared
 * cache's (with 700 × 700 matrices streamed from L3, the same job ran up to
 * 1.6x slower on some threads than on others of this VM).
 *
 * @example
 * ```ts
 * matmulRows(2, 0, 2); // A = [[-8, -7], [-6, -5]], B = [[-6, -1], [-3, 2]]: C = [[69, -6], [51, -4]], 69 − 3·6 + 2·51 − 4·4 = 137
 * ```
 */
export function matmulRows(n: number, row0: number, row1: number): number {
  const bt = transposedB(n);
  const a = new Float64Array(4 * n);
  let total = 0;
  let i = row0;
  // Four rows of A at a time against each row of Bᵀ: four sums in registers,
  // each row of Bᵀ read once per four rows of C.
  for (; i + 4 <= row1; i += 4) {
    rowsOfA(a, n, i, 4);
    for (let j = 0; j < n; j++) {
      const bj = j * n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < n; k++) {
        const v = bt[bj + k]!;
        s0 += a[k]! * v;
        s1 += a[n + k]! * v;
        s2 += a[2 * n + k]! * v;
        s3 += a[3 * n + k]! * v;
      }
      total += s0 * weight(i, j) + s1 * weight(i + 1, j) + s2 * weight(i + 2, j) + s3 * weight(i + 3, j);
    }
  }
  for (; i < row1; i++) {
    rowsOfA(a, n, i, 1);
    for (let j = 0; j < n; j++) {
      const bj = j * n;
      let sum = 0;
      for (let k = 0; k < n; k++) sum += a[k]! * bt[bj + k]!;
      total += sum * weight(i, j);
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
