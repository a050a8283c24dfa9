/**
 * The raw-piscina baseline's handler: what a user of piscina alone would
 * write for the same work. One default-export function, dispatching on the
 * payload's `kind`, running the same code as the corepool tasks
 * (`bench-algorithms.ts`).
 *
 * @module
 */

import { countPrimesIn, squareAll } from './bench-algorithms.js';

/**
 * What the baseline posts to a piscina worker.
 *
 * @example
 * ```ts
 * const payload: BenchPayload = { kind: 'primes', lo: 0, hi: 100 };
 * await piscina.run(payload); // 25
 * ```
 */
export type BenchPayload =
  | { readonly kind: 'noop' }
  | { readonly kind: 'square'; readonly items: readonly number[] }
  | { readonly kind: 'primes'; readonly lo: number; readonly hi: number };

/**
 * Runs one benchmark payload.
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
    case 'primes':
      return countPrimesIn(payload.lo, payload.hi);
    default:
      throw new TypeError(`unknown benchmark payload kind: ${JSON.stringify((payload as { kind: unknown }).kind)}`);
  }
}
