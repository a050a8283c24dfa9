/**
 * The tasks of the queue example: the tutorial's `writer_proc` and
 * `reader_proc` (section 7), with two events that put their steps in a fixed
 * order so the outcome is always the same.
 *
 * @module
 */

import { defineTasks, type Event, type Queue, QueueEmpty, QueueFull } from 'corepool';
import { say } from './util.js';

/** Runs `fn`, printing `what -> <its result>`, or the name of the QueueFull/QueueEmpty it throws. */
function attempt(what: string, fn: () => unknown): void {
  try {
    const got = fn();
    say(got === undefined ? `${what} -> ok` : `${what} -> ${String(got)}`);
  } catch (err) {
    if (!(err instanceof QueueFull || err instanceof QueueEmpty)) throw err;
    say(`${what} -> ${err.name}`);
  }
}

/**
 * The queue example's targets, on a queue of `maxsize` 1.
 *
 * - `readerProc(q, tried, landed)`: `getNowait()` on the empty queue
 *   (QueueEmpty), sets `tried`, waits for `landed`, then `getNowait()` twice:
 *   the writer's item, then QueueEmpty again.
 * - `writerProc(q, tried, landed)`: waits for `tried`, then `putNowait(1)`
 *   (it lands), `putNowait(2)` (QueueFull: the queue holds one item), and
 *   sets `landed`.
 *
 * @example
 * ```ts
 * import { Event, Process, Queue } from 'corepool';
 * import { readerProc, writerProc } from './queue-tasks.js';
 *
 * const [q, tried, landed] = [new Queue<number>({ maxsize: 1 }), new Event(), new Event()];
 * const writer = new Process({ target: writerProc, args: [q, tried, landed] });
 * const reader = new Process({ target: readerProc, args: [q, tried, landed] });
 * writer.start();
 * reader.start();
 * await Promise.all([reader.join(), writer.join()]);
 * ```
 */
export const { writerProc, readerProc } = defineTasks(import.meta.url, {
  writerProc(q: Queue<number>, tried: Event, landed: Event): void {
    tried.wait(); // the reader has seen the queue empty
    attempt('q.putNowait(1)', () => q.putNowait(1));
    attempt('q.putNowait(2)', () => q.putNowait(2)); // maxsize 1: full
    landed.set();
  },
  readerProc(q: Queue<number>, tried: Event, landed: Event): void {
    attempt('q.getNowait()', () => q.getNowait()); // nothing put yet
    tried.set();
    landed.wait(); // the writer's put has landed
    attempt('q.getNowait()', () => q.getNowait());
    attempt('q.getNowait()', () => q.getNowait()); // taken already: empty again
  },
});
