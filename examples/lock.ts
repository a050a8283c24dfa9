/**
 * Two processes appending to one file under a `Lock`: the twin of the
 * tutorial's section 4.
 *
 * ```python
 * def worker_with(lock, f):
 *     with lock:
 *         fs = open(f, 'a+')
 *         n = 10
 *         while n > 1:
 *             fs.write("Lock 通过 with\n")
 *             n -= 1
 *         fs.close()
 *
 * def worker_no_with(lock, f):
 *     lock.acquire()
 *     try:
 *         ...  # the same, writing "Lock 直接 操作\n"
 *     finally:
 *         lock.release()
 *
 * if __name__ == "__main__":
 *     lock = multiprocessing.Lock()
 *     f = "file.txt"
 *     w = multiprocessing.Process(target = worker_with, args=(lock, f))
 *     nw = multiprocessing.Process(target = worker_no_with, args=(lock, f))
 *     w.start()
 *     nw.start()
 * ```
 *
 * Python's `with lock:` is `using _ = lock.hold()`; the other worker uses
 * `acquire()`/`try`/`finally release()`. Each appends its nine lines one
 * write at a time with a short pause in between, so without the lock the
 * two would interleave; with it, the file holds two unbroken runs of nine.
 * The file is made in a fresh temporary directory (its path is printed) and
 * left there for you to look at.
 *
 * Run: `npm run example -- lock`
 *
 * @module
 */

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lock, Process } from 'corepool';
import { workerNoWith, workerWith } from './sync-tasks.js';

/**
 * Starts the two writers on one lock and one file, waits for them, and
 * prints the file.
 *
 * @example
 * ```ts
 * await main();
 * // file: /tmp/corepool-lock-XXXXXX/file.txt
 * // [Process-1] holds the lock (using lock.hold())
 * // [Process-1] releases the lock
 * // [Process-2] holds the lock (acquire/release)
 * // [Process-2] releases the lock
 * // file.txt holds 18 lines:
 * //   Lock 通过 with
 * //   … (nine of them, then nine "Lock 直接 操作")
 * ```
 */
export async function main(): Promise<void> {
  const lock = new Lock();
  const f = join(mkdtempSync(join(tmpdir(), 'corepool-lock-')), 'file.txt');
  console.log(`file: ${f}`);
  const w = new Process({ target: workerWith, args: [lock, f] });
  const nw = new Process({ target: workerNoWith, args: [lock, f] });
  w.start();
  nw.start();
  await Promise.all([w.join(), nw.join()]);
  const lines = readFileSync(f, 'utf8').trimEnd().split('\n');
  console.log(`file.txt holds ${lines.length} lines:`);
  for (const line of lines) console.log(`  ${line}`);
}
