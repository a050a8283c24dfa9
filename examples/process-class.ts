/**
 * A custom process class: the twin of the tutorial's `ClockProcess` (3.3).
 *
 * ```python
 * class ClockProcess(multiprocessing.Process):
 *     def __init__(self, interval):
 *         multiprocessing.Process.__init__(self)
 *         self.interval = interval
 *     def run(self):
 *         n = 5
 *         while n > 0:
 *             print("the time is {0}".format(time.ctime()))
 *             time.sleep(self.interval)
 *             n -= 1
 *
 * if __name__ == '__main__':
 *     p = ClockProcess(3)
 *     p.start()
 * ```
 *
 * The subclass lives in [clock.ts](./clock.ts) with
 * `static module = import.meta.url`, which tells the child thread where to
 * import it from. As in Python, `start()` makes the child call `run()`.
 *
 * Run: `npm run example -- process-class`
 *
 * @module
 */

import { ClockProcess } from './clock.js';

/** The clock's interval (the tutorial's 3 s, shortened) and its number of lines. */
const INTERVAL_MS = 100;
const TICKS = 5;

/**
 * Starts a `ClockProcess` that prints the time five times and waits for it.
 *
 * @example
 * ```ts
 * await main();
 * // [ClockProcess-1] the time is 12:34:56.789
 * // … (five lines, 100 ms apart)
 * // ClockProcess-1 exited with 0
 * ```
 */
export async function main(): Promise<void> {
  const p = new ClockProcess(INTERVAL_MS, TICKS);
  p.start(); // runs p.run() in a new thread
  await p.join();
  console.log(`${p.name} exited with ${p.exitCode}`);
}
