/**
 * Several processes at once: the twin of the tutorial's second `Process`
 * example (3.2).
 *
 * ```python
 * if __name__ == "__main__":
 *     p1 = multiprocessing.Process(target = worker_1, args = (2,))
 *     p2 = multiprocessing.Process(target = worker_2, args = (3,))
 *     p3 = multiprocessing.Process(target = worker_3, args = (4,))
 *     p1.start()
 *     p2.start()
 *     p3.start()
 *     print("The number of CPU is:" + str(multiprocessing.cpu_count()))
 *     for p in multiprocessing.active_children():
 *         print("child   p.name:" + p.name + "\tp.id" + str(p.pid))
 * ```
 *
 * The three children sleep 200, 300 and 400 ms (the tutorial's 2, 3 and 4 s)
 * and run side by side. `activeChildren()` lists the children started by
 * this thread that are still running: all three, since none can have been
 * seen exiting before the main thread next yields.
 *
 * Run: `npm run example -- process-many`
 *
 * @module
 */

import { activeChildren, cpuCount, Process } from 'corepool';
import { worker1, worker2, worker3 } from './process-tasks.js';

/**
 * Starts three children with different sleeps, prints the number of CPUs and
 * the running children, then waits for the three.
 *
 * @example
 * ```ts
 * await main();
 * // The number of CPU is: 8
 * // child   p.name: Process-1	p.id 1
 * // child   p.name: Process-2	p.id 2
 * // child   p.name: Process-3	p.id 3
 * // [Process-1] worker_1
 * // [Process-2] worker_2
 * // [Process-3] worker_3
 * // [Process-1] end worker_1
 * // [Process-2] end worker_2
 * // [Process-3] end worker_3
 * ```
 */
export async function main(): Promise<void> {
  const p1 = new Process({ target: worker1, args: [200] });
  const p2 = new Process({ target: worker2, args: [300] });
  const p3 = new Process({ target: worker3, args: [400] });
  p1.start();
  p2.start();
  p3.start();
  console.log(`The number of CPU is: ${cpuCount()}`);
  for (const p of activeChildren()) {
    console.log(`child   p.name: ${p.name}\tp.id ${p.pid}`);
  }
  await Promise.all([p1.join(), p2.join(), p3.join()]);
}
