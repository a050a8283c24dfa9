/**
 * A `Pipe` and a consumer process that reads until `EOFError`: the twin of
 * the tutorial's section 8.
 *
 * ```python
 * def consumer(pipe):
 *     conn1, conn2 = pipe
 *     conn2.close()   # input pipe close 1
 *     while True:
 *         try:
 *             item = conn1.recv()
 *         except EOFError:
 *             print('EOFError')
 *             break
 *         print(item)
 *     print('consumer done')
 *
 * def producer(listArr, conn2):
 *     for item in listArr:
 *         conn2.send(item)
 *
 * if __name__ == '__main__':
 *     (conn1, conn2) = multiprocessing.Pipe()
 *     cons_p = multiprocessing.Process(target=consumer, args=((conn1,conn2),))
 *     cons_p.start()
 *     conn1.close()  # output pipe close 1
 *     arr = [1,2,3,4,5]
 *     producer(arr, conn2)
 *     conn2.close()  # input pipe close 2
 * ```
 *
 * Both ends go to the child, as in Python, and each thread closes the ends
 * it does not use: the child its copy of `conn2`, the parent `conn1`. The
 * child's `recv()` throws `EOFError` only when *every* handle on `conn2` is
 * closed and all that was sent has been read — so the parent's last
 * `close()` ends the consumer's loop after the five items. (If the child
 * kept its copy of `conn2` open, it would wait forever, as in Python.)
 *
 * Run: `npm run example -- pipe`
 *
 * @module
 */

import { type Connection, Pipe, Process } from 'corepool';
import { consumer } from './pipe-tasks.js';
import { say } from './util.js';

/** The tutorial's `producer`: sends each item down the pipe. */
function producer(listArr: readonly number[], conn2: Connection<number>): void {
  for (const item of listArr) conn2.send(item);
}

/**
 * Starts the consumer with both ends of a pipe, sends it 1 … 5 and closes
 * the sending end, then waits for it.
 *
 * @example
 * ```ts
 * await main();
 * // [MainProcess] main: sent [1, 2, 3, 4, 5], closing conn2
 * // [Process-1] consumer: process id 1
 * // [Process-1] 1
 * // … 2, 3, 4, 5
 * // [Process-1] EOFError
 * // [Process-1] consumer done
 * ```
 * (The consumer reads as the items arrive, so its first lines may come
 * before the main thread's; EOFError always comes after it.)
 */
export async function main(): Promise<void> {
  const [conn1, conn2] = Pipe<number>();
  const consP = new Process({ target: consumer, args: [[conn1, conn2]] });
  consP.start(); // the child's copies of both ends count from here on
  conn1.close(); // output pipe close 1: this thread only sends
  const arr = [1, 2, 3, 4, 5];
  producer(arr, conn2);
  say(`main: sent [${arr.join(', ')}], closing conn2`);
  conn2.close(); // input pipe close 2: the last handle on conn2 once the child has closed its copy
  await consP.join();
}
