/**
 * A `Queue` between a writer and a reader process, with the non-blocking
 * `putNowait`/`getNowait` and their `QueueFull`/`QueueEmpty`: the twin of the
 * tutorial's section 7.
 *
 * ```python
 * def writer_proc(q):
 *     try:
 *         q.put(1, block = False)
 *     except:
 *         pass
 *
 * def reader_proc(q):
 *     try:
 *         print(q.get(block = False))
 *     except:
 *         pass
 *
 * if __name__ == "__main__":
 *     q = multiprocessing.Queue()
 *     writer = multiprocessing.Process(target=writer_proc, args=(q,))
 *     writer.start()
 *     reader = multiprocessing.Process(target=reader_proc, args=(q,))
 *     reader.start()
 *     reader.join()
 *     writer.join()
 * ```
 *
 * Python's version is a race: the reader prints 1 only if the writer's put
 * has landed by the time it looks, and nothing otherwise. Here two `Event`s
 * fix the order: the reader looks at the empty queue first (QueueEmpty),
 * then the writer puts 1 and tries to put 2 into the queue of `maxsize` 1
 * (QueueFull), then the reader takes the 1 and finds the queue empty again.
 * `putNowait(x)` is `put(x, { block: false })` and `getNowait()` is
 * `get({ block: false })`, as in Python.
 *
 * Run: `npm run example -- queue`
 *
 * @module
 */

import { Event, Process, Queue } from 'corepool';
import { readerProc, writerProc } from './queue-tasks.js';

/**
 * Starts the writer and the reader on a queue of `maxsize` 1, waits for both,
 * and prints what is left in the queue.
 *
 * @example
 * ```ts
 * await main();
 * // [Process-2] q.getNowait() -> QueueEmpty
 * // [Process-1] q.putNowait(1) -> ok
 * // [Process-1] q.putNowait(2) -> QueueFull
 * // [Process-2] q.getNowait() -> 1
 * // [Process-2] q.getNowait() -> QueueEmpty
 * // main: q.qsize() -> 0, q.empty() -> true
 * ```
 */
export async function main(): Promise<void> {
  const q = new Queue<number>({ maxsize: 1 });
  const tried = new Event(); // set by the reader once it has seen the queue empty
  const landed = new Event(); // set by the writer once its put is in the queue
  const writer = new Process({ target: writerProc, args: [q, tried, landed] });
  writer.start();
  const reader = new Process({ target: readerProc, args: [q, tried, landed] });
  reader.start();
  await reader.join();
  await writer.join();
  console.log(`main: q.qsize() -> ${q.qsize()}, q.empty() -> ${q.empty()}`);
}
