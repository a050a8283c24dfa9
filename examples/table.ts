/**
 * A column table of a million rows aggregated by a pool with zero copies:
 * the corepool answer to the tutorial's companion topic, "passing a
 * DataFrame between processes".
 *
 * ```python
 * # The Python way: each worker gets a pickled copy of its slice.
 * df = pd.DataFrame({"price": ..., "qty": ..., "category": ...})
 * with multiprocessing.Pool() as pool:
 *     parts = pool.map(aggregate, np.array_split(df, 16))
 * total = pd.concat(parts).groupby(level=0).sum()
 * ```
 *
 * Here the table is column-oriented in shared memory: `price` and `qty` are
 * `SharedArray('f64')` columns and `category` a `SharedArray('i32')` one,
 * filled from a seeded PRNG (the same table on every run). Each pool task
 * gets the whole table, which crosses to the worker as shared memory (no
 * copy, whatever its size), and a row range; the partial per-category sums
 * are merged and checked against one thread aggregating all rows itself.
 * Prices are integer cents and quantities integers, so every sum is an
 * exact integer and the two results must be *equal*, not just close.
 *
 * Run: `npm run example -- table`
 *
 * @module
 */

import { isDeepStrictEqual } from 'node:util';
import { cpuCount, Pool, SharedArray } from 'corepool';
import { aggregate, aggregateRows, CATEGORIES, mergeTotals, type Table, type Totals } from './table-tasks.js';

const ROWS = 1_000_000;
const SEED = 2024;
/** Row ranges (one task each). */
const TASKS = 16;

/**
 * mulberry32: a small, fast PRNG with 32-bit state; the same seed gives the
 * same sequence of floats in [0, 1).
 */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A table of `rows` rows in shared memory: prices 1.00 … 999.99 (in cents), quantities 1 … 100. */
function makeTable(rows: number, seed: number): Table {
  const table: Table = {
    price: new SharedArray('f64', rows, { lock: false }),
    qty: new SharedArray('f64', rows, { lock: false }),
    category: new SharedArray('i32', rows, { lock: false }),
  };
  const random = mulberry32(seed);
  const [price, qty, category] = [table.price.array, table.qty.array, table.category.array];
  for (let i = 0; i < rows; i++) {
    price[i] = 100 + Math.floor(random() * 99_900);
    qty[i] = 1 + Math.floor(random() * 100);
    category[i] = Math.floor(random() * CATEGORIES);
  }
  return table;
}

/** Integer cents as `123.45`, exactly. */
function money(cents: number): string {
  return `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** One line per category. */
function report(t: Totals): string[] {
  return t.rows.map((rows, c) => {
    const mean = (t.priceCents[c] as number) / rows / 100;
    return `  category ${c}: rows ${rows}, qty ${t.qty[c]}, revenue ${money(t.cents[c] as number)}, mean price ${mean.toFixed(2)}`;
  });
}

/**
 * Builds the table, aggregates it per category on a pool and on this thread,
 * and prints both and whether they match.
 *
 * @example
 * ```ts
 * await main();
 * // table: 1000000 rows (price f64, qty f64, category i32), 20.0 MB of shared memory
 * // pool (4 workers, 16 tasks of 62500 rows):
 * //   category 0: rows 124917, qty 6307771, revenue 31521577071.58, mean price 499.50
 * //   …
 * // zero copies: true
 * // single thread:
 * //   category 0: rows 124917, qty 6307771, revenue 31521577071.58, mean price 499.50
 * //   …
 * // match: true
 * ```
 */
export async function main(): Promise<void> {
  const table = makeTable(ROWS, SEED);
  const bytes = ROWS * (Float64Array.BYTES_PER_ELEMENT * 2 + Int32Array.BYTES_PER_ELEMENT);
  console.log(
    `table: ${ROWS} rows (price f64, qty f64, category i32), ${(bytes / 1e6).toFixed(1)} MB of shared memory`,
  );

  const processes = Math.min(4, cpuCount());
  const step = Math.ceil(ROWS / TASKS);
  const ranges: [Table, number, number][] = [];
  for (let lo = 0; lo < ROWS; lo += step) ranges.push([table, lo, Math.min(lo + step, ROWS)]);
  await using pool = new Pool({ processes });
  // Each task gets the table (shared memory: nothing is copied) and its row range.
  const parts = await pool.starmap(aggregate, ranges);
  const byPool = mergeTotals(parts);
  console.log(`pool (${processes} workers, ${ranges.length} tasks of ${step} rows):`);
  for (const line of report(byPool)) console.log(line);
  console.log(`zero copies: ${parts.every((part) => part.shared)}`);

  const byOne = aggregateRows(table, 0, ROWS);
  console.log('single thread:');
  for (const line of report(byOne)) console.log(line);
  console.log(`match: ${isDeepStrictEqual(byPool, byOne)}`);
}
