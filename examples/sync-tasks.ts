/**
 * The tasks that the synchronisation examples run in their children (lock,
 * semaphore, event). Each gets its primitive as an argument: a `Lock`,
 * `Semaphore` or `Event` crosses to the child as a working object bound to
 * the same shared memory, as Python's are inherited by a child process.
 *
 * @module
 */

import { appendFileSync } from 'node:fs';
import { defineTasks, type Event, type Lock, type Semaphore, type SharedArray } from 'corepool';
import { say, sleep } from './util.js';

/** The lines each lock worker appends: the tutorial's `while n > 1` from 10, nine lines. */
const LINES_PER_WORKER = 9;
/** What `workerWith` writes: the tutorial's text. */
const WITH_LINE = 'Lock 通过 with';
/** What `workerNoWith` writes. */
const NO_WITH_LINE = 'Lock 直接 操作';
/** Pause between two lines, so that without the lock the two writers would interleave. */
const LINE_PAUSE_MS = 5;

/** Appends `LINES_PER_WORKER` lines, one write each, with a pause between them. */
function appendLines(path: string, line: string): void {
  for (let i = 0; i < LINES_PER_WORKER; i++) {
    appendFileSync(path, `${line}\n`);
    sleep(LINE_PAUSE_MS);
  }
}

/**
 * The semaphore log: `log.array[0]` counts the entries, which follow it:
 * `+(i + 1)` when worker `i` has acquired, `-(i + 1)` when it is about to
 * release. Both are written while it holds a unit, so at every point of the
 * log at most as many workers are "in" as the semaphore allows.
 */
function record(log: SharedArray<'i32'>, entry: number): void {
  const at = Atomics.add(log.array, 0, 1) + 1;
  Atomics.store(log.array, at, entry);
}

/**
 * The synchronisation examples' targets.
 *
 * - `workerWith(lock, path)` / `workerNoWith(lock, path)`: append nine lines
 *   to `path` under `lock`, with `using _ = lock.hold()` (Python's
 *   `with lock:`) and with `acquire()`/`try`/`finally release()` (section 4).
 * - `semaphoreWorker(s, i, ms, log)`: holds a unit of `s` for `ms`, printing
 *   and logging when it acquires and releases (section 5).
 * - `waitForEvent(e, started)` / `waitForEventTimeout(e, t, started)`: wait
 *   for `e` without and with a timeout and print what they saw; each
 *   releases `started` once it is about to wait (section 6).
 *
 * @example
 * ```ts
 * import { Lock, Process } from 'corepool';
 * import { workerWith } from './sync-tasks.js';
 *
 * const p = new Process({ target: workerWith, args: [new Lock(), '/tmp/file.txt'] });
 * p.start();
 * await p.join(); // nine lines "Lock 通过 with" in /tmp/file.txt
 * ```
 */
export const { workerWith, workerNoWith, semaphoreWorker, waitForEvent, waitForEventTimeout } = defineTasks(
  import.meta.url,
  {
    workerWith(lock: Lock, path: string): void {
      using _ = lock.hold(); // released at the end of the block, even on throw: Python's `with lock:`
      say('holds the lock (using lock.hold())');
      appendLines(path, WITH_LINE);
      say('releases the lock');
    },
    workerNoWith(lock: Lock, path: string): void {
      lock.acquire();
      try {
        say('holds the lock (acquire/release)');
        appendLines(path, NO_WITH_LINE);
        say('releases the lock');
      } finally {
        lock.release();
      }
    },
    semaphoreWorker(s: Semaphore, i: number, ms: number, log: SharedArray<'i32'>): void {
      s.acquire();
      try {
        say('acquire');
        record(log, i + 1);
        sleep(ms);
        record(log, -(i + 1));
        say('release');
      } finally {
        s.release();
      }
    },
    waitForEvent(e: Event, started: Semaphore): void {
      say('wait_for_event: starting');
      started.release();
      const got = e.wait();
      say(`wait_for_event: e.wait() -> ${got}, e.isSet() -> ${e.isSet()}`);
    },
    waitForEventTimeout(e: Event, t: number, started: Semaphore): void {
      say('wait_for_event_timeout: starting');
      started.release();
      const got = e.wait(t);
      say(`wait_for_event_timeout: e.wait(${t}) -> ${got}, e.isSet() -> ${e.isSet()}`);
    },
  },
);
