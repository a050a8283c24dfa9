/**
 * The column table of the table example and its aggregation, used both by
 * the pool's tasks and by the single-thread check.
 *
 * @module
 */

import { defineTasks, type SharedArray } from 'corepool';

/**
 * Number of categories: `category` holds 0 … CATEGORIES - 1.
 *
 * @example
 * ```ts
 * category[i] = Math.floor(random() * CATEGORIES);
 * ```
 */
export const CATEGORIES = 8;

/**
 * A column-oriented table in shared memory: one `SharedArray` per column,
 * all of the same length. `price` is in integer cents and `qty` an integer
 * (stored as `f64`, exact up to 2^53), so every sum below is an exact
 * integer, whatever the order in which rows are added.
 *
 * @example
 * ```ts
 * const table: Table = {
 *   price: new SharedArray('f64', n, { lock: false }),
 *   qty: new SharedArray('f64', n, { lock: false }),
 *   category: new SharedArray('i32', n, { lock: false }),
 * };
 * ```
 */
export interface Table {
  readonly price: SharedArray<'f64'>;
  readonly qty: SharedArray<'f64'>;
  readonly category: SharedArray<'i32'>;
}

/**
 * Per-category sums over some rows: `rows[c]`, `qty[c]`, `cents[c]` (the sum
 * of price × qty) and `priceCents[c]` (the sum of prices, for the mean).
 *
 * @example
 * ```ts
 * const t = emptyTotals();
 * t.rows[3] += 1;
 * ```
 */
export interface Totals {
  readonly rows: number[];
  readonly qty: number[];
  readonly cents: number[];
  readonly priceCents: number[];
}

/**
 * Totals of no rows.
 *
 * @example
 * ```ts
 * emptyTotals().rows; // [0, 0, 0, 0, 0, 0, 0, 0]
 * ```
 */
export function emptyTotals(): Totals {
  const zeros = () => new Array<number>(CATEGORIES).fill(0);
  return { rows: zeros(), qty: zeros(), cents: zeros(), priceCents: zeros() };
}

/**
 * Aggregates rows `lo` (inclusive) to `hi` (exclusive) of `table` per
 * category, reading the columns in place.
 *
 * @example
 * ```ts
 * const all = aggregateRows(table, 0, table.price.length);
 * ```
 * @throws {RangeError} when a category is outside 0 … CATEGORIES - 1.
 */
export function aggregateRows(table: Table, lo: number, hi: number): Totals {
  const price = table.price.array;
  const qty = table.qty.array;
  const category = table.category.array;
  const rows = new Float64Array(CATEGORIES);
  const qtys = new Float64Array(CATEGORIES);
  const cents = new Float64Array(CATEGORIES);
  const prices = new Float64Array(CATEGORIES);
  for (let i = lo; i < hi; i++) {
    const c = category[i] as number;
    if (!(c >= 0 && c < CATEGORIES)) throw new RangeError(`row ${i}: category ${c} is not in 0 … ${CATEGORIES - 1}`);
    const p = price[i] as number;
    const q = qty[i] as number;
    rows[c] = (rows[c] as number) + 1;
    qtys[c] = (qtys[c] as number) + q;
    cents[c] = (cents[c] as number) + p * q;
    prices[c] = (prices[c] as number) + p;
  }
  return { rows: Array.from(rows), qty: Array.from(qtys), cents: Array.from(cents), priceCents: Array.from(prices) };
}

/**
 * Adds up partial totals (one per row range).
 *
 * @example
 * ```ts
 * const all = mergeTotals(await pool.starmap(aggregate, ranges));
 * ```
 */
export function mergeTotals(parts: readonly Totals[]): Totals {
  const sum = emptyTotals();
  for (const part of parts) {
    for (let c = 0; c < CATEGORIES; c++) {
      sum.rows[c] = (sum.rows[c] as number) + (part.rows[c] as number);
      sum.qty[c] = (sum.qty[c] as number) + (part.qty[c] as number);
      sum.cents[c] = (sum.cents[c] as number) + (part.cents[c] as number);
      sum.priceCents[c] = (sum.priceCents[c] as number) + (part.priceCents[c] as number);
    }
  }
  return sum;
}

/**
 * The pool task: aggregates rows `lo` to `hi` of the table. The columns
 * arrive as `SharedArray`s over the caller's memory, not as copies; the
 * result says so (`shared`: every column's `.array` is a view of a
 * `SharedArrayBuffer`).
 *
 * @example
 * ```ts
 * import { Pool } from 'corepool';
 * import { aggregate } from './table-tasks.js';
 *
 * await using pool = new Pool();
 * const part = await pool.apply(aggregate, [table, 0, 250_000]);
 * ```
 */
export const { aggregate } = defineTasks(import.meta.url, {
  aggregate(table: Table, lo: number, hi: number): Totals & { shared: boolean } {
    const shared = [table.price, table.qty, table.category].every(
      (column) => column.array.buffer instanceof SharedArrayBuffer,
    );
    return { ...aggregateRows(table, lo, hi), shared };
  },
});
