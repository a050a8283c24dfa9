/**
 * A blocking pool: the twin of the tutorial's `apply` example.
 *
 * ```python
 * pool = multiprocessing.Pool(processes = 3)
 * for i in range(4):
 *     msg = "hello %d" %(i)
 *     pool.apply(func, (msg, ))
 * print("开始执行")
 * pool.close()
 * pool.join()
 * print("子进程执行完成")
 * ```
 *
 * Python's `apply` blocks until the task is done; corepool's `apply` returns
 * a Promise, and awaiting it gives the same flow. The tasks run one after
 * another, whatever the number of workers, and the start line comes only
 * after the last one.
 *
 * Run: `npm run example -- pool-apply`
 *
 * @module
 */

import { Pool } from 'corepool';
import { func } from './tasks.js';

/**
 * Runs four tasks on a pool of three workers, waiting for each before
 * submitting the next, then closes the pool and waits for it.
 *
 * @example
 * ```ts
 * await main();
 * // [thread 1] msg: hello 0
 * // [thread 1] end: hello 0
 * // [thread 1] msg: hello 1
 * // [thread 1] end: hello 1
 * // …
 * // 开始执行 (started)
 * // 子进程执行完成 (all tasks done)
 * ```
 */
export async function main(): Promise<void> {
  const pool = new Pool({ processes: 3 });
  for (let i = 0; i < 4; i++) {
    const msg = `hello ${i}`;
    await pool.apply(func, [msg]); // resolves (with func's result) when the task is done
  }
  console.log('开始执行 (started)');
  pool.close();
  await pool.join();
  console.log('子进程执行完成 (all tasks done)');
}
