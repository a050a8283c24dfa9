/**
 * The task of the pipe example: the tutorial's `consumer` (section 8).
 *
 * @module
 */

import { type Connection, currentProcess, defineTasks, EOFError } from 'corepool';
import { say } from './util.js';

/**
 * The pipe example's target.
 *
 * `consumer([conn1, conn2])` gets both ends of the pipe, closes its copy of
 * the sending end `conn2` (each thread holds its own handle on an end, as
 * each process holds its own file descriptor), then prints what `conn1`
 * receives until `recv()` throws `EOFError`: every handle on `conn2` is
 * closed and everything sent has been read.
 *
 * @example
 * ```ts
 * import { Pipe, Process } from 'corepool';
 * import { consumer } from './pipe-tasks.js';
 *
 * const [conn1, conn2] = Pipe<number>();
 * const p = new Process({ target: consumer, args: [[conn1, conn2]] });
 * p.start();
 * conn2.send(1);
 * conn2.close(); // the consumer prints 1, then EOFError
 * await p.join();
 * ```
 */
export const { consumer } = defineTasks(import.meta.url, {
  consumer([conn1, conn2]: [Connection<number>, Connection<number>]): void {
    say(`consumer: process id ${currentProcess().pid}`);
    conn2.close(); // input pipe close 1: only the parent's handle on the sending end is left
    for (;;) {
      let item: number;
      try {
        item = conn1.recv();
      } catch (err) {
        if (!(err instanceof EOFError)) throw err;
        say('EOFError');
        break;
      }
      say(String(item));
    }
    say('consumer done');
  },
});
