/**
 * The task of the hello-world example. It lives in a module of its own
 * because every worker imports the module that defines its tasks (see the
 * README's Tasks section).
 *
 * @module
 */

import { defineTasks } from 'corepool';

/**
 * `square(n)`: n², computed in whichever worker gets it.
 *
 * @example
 * ```ts
 * import { Pool } from 'corepool';
 * import { square } from './hello-tasks.js';
 *
 * const pool = new Pool();
 * await pool.map(square, [1, 2, 3]); // [1, 4, 9]
 * await pool.terminate();
 * ```
 */
export const { square } = defineTasks(import.meta.url, {
  square: (n: number): number => n * n,
});
