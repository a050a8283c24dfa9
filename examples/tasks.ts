/**
 * The tasks the examples run in pool workers.
 *
 * A worker cannot be handed a function; it is handed a reference (this
 * module's URL and the task's name) and imports this module itself. That is
 * why tasks live in their own module and are declared with `defineTasks`:
 * Python's `Pool` pickles `func` by name for the same reason.
 *
 * @module
 */

import { writeSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { defineTasks } from 'corepool';

/** How long `func` sleeps: the tutorial's `time.sleep(3)`, shortened so the demo is quick. */
const SLEEP_MS = 300;

// One per thread: each worker imports this module afresh, so nobody else
// ever notifies this cell and `Atomics.wait` simply times out.
const nap = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

/** Blocks this thread for `ms`, as `time.sleep` blocks a Python process. */
function sleep(ms: number): void {
  Atomics.wait(nap, 0, 0, ms);
}

/**
 * Prints `line` tagged with the id of the thread that runs it.
 *
 * `console.log` in a worker thread posts its text to the main thread, which
 * prints it a little later; lines from several threads can then come out in
 * another order than they happened. Writing to stdout (fd 1) synchronously
 * shows the real order, which is the point of these examples.
 */
function say(line: string): void {
  writeSync(1, `[thread ${threadId}] ${line}\n`);
}

/**
 * The examples' tasks. `func` is the tutorial's `func(msg)`: print the
 * message, sleep, print "end".
 *
 * @example
 * ```ts
 * import { Pool } from 'corepool';
 * import { func } from './tasks.js';
 *
 * const pool = new Pool({ processes: 3 });
 * await pool.apply(func, ['hello 0']); // [thread 1] msg: hello 0 … [thread 1] end: hello 0
 * await pool.terminate();
 * ```
 */
export const { func } = defineTasks(import.meta.url, {
  func(msg: string): void {
    say(`msg: ${msg}`);
    sleep(SLEEP_MS);
    say(`end: ${msg}`);
  },
});
