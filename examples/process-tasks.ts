/**
 * The tasks that the `Process` examples run in their children
 * (process-basic, process-many): the tutorial's `worker` and
 * `worker_1`/`worker_2`/`worker_3`.
 *
 * A child thread cannot be handed a function: it is handed a reference (this
 * module's URL and the task's name) and imports this module itself, as
 * Python's `spawn` start method re-imports the main module. So the targets
 * live in a module of their own, without side effects, declared with
 * `defineTasks`.
 *
 * @module
 */

import { defineTasks } from 'corepool';
import { clockTime, say, sleep } from './util.js';

/** `worker_k`: announce, sleep `interval` ms, announce the end. */
function announce(label: string, interval: number): void {
  say(label);
  sleep(interval);
  say(`end ${label}`);
}

/**
 * The targets of the process examples.
 *
 * - `worker(interval, n = 5)`: prints the time `n` times, `interval` ms apart
 *   (tutorial 3.1).
 * - `worker1`, `worker2`, `worker3` (`interval`): print their name, sleep
 *   `interval` ms, print "end" and their name (tutorial 3.2).
 *
 * @example
 * ```ts
 * import { Process } from 'corepool';
 * import { worker } from './process-tasks.js';
 *
 * const p = new Process({ target: worker, args: [100] });
 * p.start(); // [Process-1] The time is 12:34:56.789 … five times
 * await p.join();
 * ```
 */
export const { worker, worker1, worker2, worker3 } = defineTasks(import.meta.url, {
  worker(interval: number, n = 5): void {
    for (let i = 0; i < n; i++) {
      say(`The time is ${clockTime()}`);
      sleep(interval);
    }
  },
  worker1(interval: number): void {
    announce('worker_1', interval);
  },
  worker2(interval: number): void {
    announce('worker_2', interval);
  },
  worker3(interval: number): void {
    announce('worker_3', interval);
  },
});
