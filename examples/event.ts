/**
 * An `Event` released by the main thread, with one waiter without a timeout
 * and one with: the twin of the tutorial's section 6.
 *
 * ```python
 * def wait_for_event(e):
 *     print("wait_for_event: starting")
 *     e.wait()
 *     print("wairt_for_event: e.is_set()->" + str(e.is_set()))
 *
 * def wait_for_event_timeout(e, t):
 *     print("wait_for_event_timeout:starting")
 *     e.wait(t)
 *     print("wait_for_event_timeout:e.is_set->" + str(e.is_set()))
 *
 * if __name__ == "__main__":
 *     e = multiprocessing.Event()
 *     w1 = multiprocessing.Process(name = "block", target = wait_for_event, args = (e,))
 *     w2 = multiprocessing.Process(name = "non-block", target = wait_for_event_timeout, args = (e, 2))
 *     w1.start()
 *     w2.start()
 *     time.sleep(3)
 *     e.set()
 *     print("main: event is set")
 * ```
 *
 * Python sleeps 3 s and hopes both children are waiting by then and the 2 s
 * timeout is over. Here the main thread waits for what it means instead:
 * until both children are about to wait (each releases a `Semaphore(0)`),
 * and until "non-block" has timed out and ended (its `join()`). Only then
 * does it set the event, so what matters always comes in the same order:
 * the waiter with a timeout sees `false`, then the event is set, then the
 * waiter without one sees `true`. The main thread's lines, too, are written
 * synchronously, so they come out where they happen. ("block" wakes as soon
 * as the event is set, so its last line and "main: event is set" may come
 * in either order.)
 *
 * Run: `npm run example -- event`
 *
 * @module
 */

import { Event, Process, Semaphore } from 'corepool';
import { waitForEvent, waitForEventTimeout } from './sync-tasks.js';
import { say } from './util.js';

/** The timeout of "non-block" (the tutorial's 2 s, shortened). */
const TIMEOUT_MS = 200;

/**
 * Starts the two waiters, lets the one with a timeout give up, then sets the
 * event and waits for the other.
 *
 * @example
 * ```ts
 * await main();
 * // [block] wait_for_event: starting
 * // [non-block] wait_for_event_timeout: starting
 * // [non-block] wait_for_event_timeout: e.wait(200) -> false, e.isSet() -> false
 * // [MainProcess] main: setting the event
 * // [MainProcess] main: event is set
 * // [block] wait_for_event: e.wait() -> true, e.isSet() -> true
 * ```
 * (The two "starting" lines, and the last two, may come in either order.)
 */
export async function main(): Promise<void> {
  const e = new Event();
  const started = new Semaphore(0);
  const w1 = new Process({ name: 'block', target: waitForEvent, args: [e, started] });
  const w2 = new Process({ name: 'non-block', target: waitForEventTimeout, args: [e, TIMEOUT_MS, started] });
  w1.start();
  w2.start();
  await started.acquireAsync(); // each child releases once, just before it waits
  await started.acquireAsync();
  await w2.join(); // in place of Python's time.sleep(3): "non-block" has timed out
  say('main: setting the event');
  e.set();
  say('main: event is set');
  await w1.join();
}
