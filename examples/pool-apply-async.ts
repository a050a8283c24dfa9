/**
 * A non-blocking pool: the twin of the tutorial's `apply_async` example.
 *
 * ```python
 * pool = multiprocessing.Pool(processes = 3)
 * for i in range(4):
 *     msg = "hello %d" %(i)
 *     pool.apply_async(func, (msg, ))
 * print("开始执行")
 * pool.close()
 * pool.join()
 * print("子进程执行完成")
 * ```
 *
 * `applyAsync` returns at once, so the start line comes before any task has
 * ended. Three workers run the first three tasks side by side; the fourth
 * waits for a free worker.
 *
 * Run: `npm run example -- pool-apply-async`
 *
 * @module
 */

import { Pool } from 'corepool';
import { func } from './tasks.js';

/**
 * Submits four tasks to a pool of three workers without waiting for them,
 * then closes the pool and waits for every task to finish.
 *
 * @example
 * ```ts
 * await main();
 * // 开始执行 (started)
 * // [thread 1] msg: hello 0
 * // [thread 2] msg: hello 1
 * // [thread 3] msg: hello 2
 * // [thread 1] end: hello 0
 * // [thread 1] msg: hello 3
 * // …
 * // 子进程执行完成 (all tasks done)
 * ```
 */
export async function main(): Promise<void> {
  const pool = new Pool({ processes: 3 });
  for (let i = 0; i < 4; i++) {
    const msg = `hello ${i}`;
    pool.applyAsync(func, [msg]); // returns an AsyncResult at once; the task runs when a worker is free
  }
  console.log('开始执行 (started)');
  pool.close(); // no more work: join() needs close() (or terminate()) first, as in Python
  await pool.join(); // resolves when every task has run and the workers have exited
  console.log('子进程执行完成 (all tasks done)');
}
