/**
 * One process running a function: the twin of the tutorial's first
 * `Process` example (3.1).
 *
 * ```python
 * def worker(interval):
 *     n = 5
 *     while n > 0:
 *         print("The time is {0}".format(time.ctime()))
 *         time.sleep(interval)
 *         n -= 1
 *
 * if __name__ == "__main__":
 *     p = multiprocessing.Process(target = worker, args = (3,))
 *     p.start()
 *     print("p.pid:", p.pid)
 *     print("p.name:", p.name)
 *     print("p.is_alive:", p.is_alive())
 * ```
 *
 * The child is a worker thread, so `pid` is its thread id. The interval is
 * 100 ms rather than 3 s so the demo is quick. Python's main program waits
 * for its children at exit; here `join()` says so, and the exit code and
 * `isAlive()` are printed once the child has ended.
 *
 * Run: `npm run example -- process-basic`
 *
 * @module
 */

import { Process } from 'corepool';
import { worker } from './process-tasks.js';

/** How long the child sleeps between two lines: the tutorial's 3 s, shortened. */
const INTERVAL_MS = 100;

/**
 * Starts one child that prints the time five times, prints its pid, name and
 * liveness, then waits for it.
 *
 * @example
 * ```ts
 * await main();
 * // p.pid: 1
 * // p.name: Process-1
 * // p.isAlive: true
 * // [Process-1] The time is 12:34:56.789
 * // … (five time lines, 100 ms apart)
 * // p.exitCode: 0
 * // p.isAlive: false
 * ```
 */
export async function main(): Promise<void> {
  const p = new Process({ target: worker, args: [INTERVAL_MS] });
  p.start();
  console.log('p.pid:', p.pid);
  console.log('p.name:', p.name);
  console.log('p.isAlive:', p.isAlive());
  await p.join(); // Python waits for its non-daemon children at exit; here we say so
  console.log('p.exitCode:', p.exitCode);
  console.log('p.isAlive:', p.isAlive());
}
