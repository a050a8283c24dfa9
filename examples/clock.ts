/**
 * `ClockProcess`, the tutorial's custom process class (3.3), in a module of
 * its own: the child thread imports this module to find the class (its
 * `static module`), so the module must export it and have no side effects.
 *
 * @module
 */

import { Process } from 'corepool';
import { clockTime, say, sleep } from './util.js';

/**
 * A process that prints the time `n` times, `interval` ms apart. Its
 * constructor runs in the parent only; the child gets an instance with a
 * copy of its fields (`interval`, `n`) and runs `run()`.
 *
 * @example
 * ```ts
 * const p = new ClockProcess(100, 3);
 * p.start(); // [ClockProcess-1] the time is 12:34:56.789 … three times
 * await p.join();
 * ```
 */
export class ClockProcess extends Process {
  /** Where the child thread finds this class. */
  static module = import.meta.url;

  /**
   * @param interval ms between two lines.
   * @param n how many lines.
   */
  constructor(
    readonly interval: number,
    readonly n = 5,
  ) {
    super();
  }

  /** Runs in the child (`start()` makes it run there, as in Python). */
  override run(): void {
    for (let i = 0; i < this.n; i++) {
      say(`the time is ${clockTime()}`);
      sleep(this.interval);
    }
  }
}
