/**
 * Small helpers shared by the examples' task modules and main scripts.
 *
 * @module
 */

import { writeSync } from 'node:fs';
import { currentProcess } from 'corepool';

// One per thread: each thread imports this module afresh, so nobody else
// ever notifies this cell and `Atomics.wait` simply times out.
const nap = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

/**
 * Blocks this thread for `ms`, as `time.sleep` blocks a Python process.
 *
 * @example
 * ```ts
 * sleep(100); // this thread does nothing else for 100 ms
 * ```
 */
export function sleep(ms: number): void {
  Atomics.wait(nap, 0, 0, ms);
}

/**
 * Prints `line` tagged with the name of the process that prints it
 * (`[Process-1] …`, `[MainProcess] …`).
 *
 * `console.log` in a worker thread posts its text to the main thread, which
 * prints it a little later; lines from several threads can then come out in
 * another order than they happened. Writing to stdout (fd 1) synchronously
 * shows the real order, which is the point of these examples.
 *
 * @example
 * ```ts
 * say('starting'); // [Process-1] starting
 * ```
 */
export function say(line: string): void {
  writeSync(1, `[${currentProcess().name}] ${line}\n`);
}

/**
 * The wall-clock time with milliseconds, `12:34:56.789`: Python's
 * `time.ctime()`, precise enough to see intervals of a tenth of a second.
 *
 * @example
 * ```ts
 * say(`The time is ${clockTime()}`); // [Process-1] The time is 12:34:56.789
 * ```
 */
export function clockTime(date: Date = new Date()): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}
