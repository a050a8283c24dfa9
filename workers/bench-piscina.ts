/**
 * The raw-piscina baseline's handler: what a user of piscina alone would
 * write for the same work. One default-export function, dispatching on the
 * payload's `kind`, running the same code as the corepool tasks
 * (`bench-algorithms.ts`).
 *
 * @module
 */

import { compute, type KernelInput, squareAll } from './bench-algorithms.js';

/**
 * What the baseline posts to a piscina worker: a kernel input of the
 * speed-up benchmark (`primes`, `mandelbrot`, `sha256`, `matmul`), or one of
 * the overhead payloads (`noop`, `square`, `bytes`).
 *
 * @example
 * ```ts
 * const payload: BenchPayload = { kind: 'primes', lo: 0, hi: 100 };
 * await piscina.run(payload); // 25
 * await piscina.run({ kind: 'bytes', data: new Uint8Array(1024) }); // 1024
 * ```
 */
export type BenchPayload =
  | { readonly kind: 'noop' }
  | { readonly kind: 'square'; readonly items: readonly number[] }
  | { readonly kind: 'bytes'; readonly data: Uint8Array }
  | KernelInput;

/**
 * Runs one benchmark payload: `undefined` for `noop`, the squares for
 * `square`, `data.byteLength` for `bytes`, and the kernel's checksum
 * (`compute`) for a kernel input.
 *
 * @example
 * ```ts
 * const piscina = new Piscina({ filename: new URL('../workers/bench-piscina.js', import.meta.url).href });
 * await piscina.run({ kind: 'primes', lo: 0, hi: 100 }); // 25
 * ```
 * @throws {TypeError} for an unknown `kind`.
 */
export default function handle(payload: BenchPayload): unknown {
  switch (payload.kind) {
    case 'noop':
      return undefined;
    case 'square':
      return squareAll(payload.items);
    case 'bytes':
      return payload.data.byteLength;
    default:
      return compute(payload);
  }
}
