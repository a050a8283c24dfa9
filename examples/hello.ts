/**
 * Hello world: `pool.map` squares four numbers on worker threads. The
 * README's first example (there as two plain JavaScript files).
 *
 * Run: `npm run example -- hello`
 *
 * @module
 */

import { Pool } from 'corepool';
import { square } from './hello-tasks.js';

/**
 * Squares 1..4 on a pool of one worker per core and prints the results, in
 * input order, then closes the pool and waits for its workers to exit.
 *
 * @example
 * ```ts
 * await main(); // [ 1, 4, 9, 16 ]
 * ```
 */
export async function main(): Promise<void> {
  const pool = new Pool(); // one worker thread per core
  console.log(await pool.map(square, [1, 2, 3, 4])); // [ 1, 4, 9, 16 ]
  pool.close();
  await pool.join();
}
