/**
 * A `Semaphore(2)` letting five processes in two at a time: the twin of the
 * tutorial's section 5.
 *
 * ```python
 * def worker(s, i):
 *     s.acquire()
 *     print(multiprocessing.current_process().name + "acquire");
 *     time.sleep(i)
 *     print(multiprocessing.current_process().name + "release\n");
 *     s.release()
 *
 * if __name__ == "__main__":
 *     s = multiprocessing.Semaphore(2)
 *     for i in range(5):
 *         p = multiprocessing.Process(target = worker, args=(s, i*2))
 *         p.start()
 * ```
 *
 * Worker `i` holds its unit for `i × 50` ms (the tutorial's `i × 2` s).
 * Besides printing, each worker records its acquire (`+n`) and release
 * (`-n`, just before releasing) in a shared log, while it holds the unit, so
 * the log is the real order of events; the main thread prints it once all
 * are done, with the most holders it ever shows at once.
 *
 * Run: `npm run example -- semaphore`
 *
 * @module
 */

import { Process, Semaphore, SharedArray } from 'corepool';
import { semaphoreWorker } from './sync-tasks.js';

const WORKERS = 5;
/** How long worker `i` holds its unit: `i × HOLD_MS`. */
const HOLD_MS = 50;

/**
 * Starts five workers on a `Semaphore(2)`, waits for them, and prints the
 * acquire/release log and the most workers it shows holding at once.
 *
 * @example
 * ```ts
 * await main();
 * // [Process-1] acquire
 * // [Process-2] acquire
 * // [Process-1] release
 * // …
 * // log: +Process-1 +Process-2 -Process-1 +Process-3 …
 * // most holders at once: 2
 * ```
 */
export async function main(): Promise<void> {
  const s = new Semaphore(2);
  // log.array[0] counts the entries; two per worker follow it.
  const log = new SharedArray('i32', 1 + 2 * WORKERS, { lock: false });
  const ps: Process[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const p = new Process({ target: semaphoreWorker, args: [s, i, i * HOLD_MS, log] });
    p.start();
    ps.push(p);
  }
  await Promise.all(ps.map((p) => p.join()));
  const entries = [...log.array.subarray(1, 1 + (log.array[0] ?? 0))];
  const shown: string[] = [];
  let holders = 0;
  let most = 0;
  for (const e of entries) {
    holders += Math.sign(e);
    most = Math.max(most, holders);
    shown.push(`${e > 0 ? '+' : '-'}${ps[Math.abs(e) - 1]?.name}`);
  }
  console.log(`log: ${shown.join(' ')}`);
  console.log(`most holders at once: ${most}`);
}
