/**
 * Plain worker threads: makes the shared objects in `workerData` work.
 *
 * A shared object (a lock, a `SharedValue`, a queue…) put in the
 * `workerData` of a `new Worker()` arrives in the worker as the plain marker
 * object that structured clone makes of it. When corepool is first imported
 * in a worker thread, this module revives every marker inside `workerData`
 * *in place* — the object `node:worker_threads` exports is the one user code
 * sees — so that
 *
 * ```ts
 * // main.ts
 * new Worker(new URL('./worker.js', import.meta.url), { workerData: { lock, counter } });
 * // worker.js
 * import { workerData } from 'node:worker_threads';
 * import { SharedValue } from 'corepool';     // revives workerData.lock and workerData.counter
 * workerData.lock.acquire();
 * ```
 *
 * works. Imports are evaluated before the importing module's body, so any
 * module that imports corepool sees live objects.
 *
 * Limits:
 * - A shared object passed as the *whole* `workerData` cannot be replaced in
 *   place (the binding is read-only): wrap it, `{ workerData: { lock } }`, or
 *   call `revive(workerData)` and use what it returns. A process warning says so.
 * - Messages are not workerData: a shared object sent with
 *   `port.postMessage(x)` arrives as a marker too; call `revive(msg)` on
 *   what you receive.
 * - Only corepool's own classes (and any registered before corepool is first
 *   imported) are known at that moment. A marker of a class of yours that
 *   registers itself later (`registerShareable`) is left as it is: call
 *   `revive()` on it once your class is loaded. Unlike `revive()`, this pass
 *   never throws for an unknown kind, so importing corepool never fails
 *   because of what `workerData` holds.
 *
 * Pool and Process workers revive their own arguments (and initargs, whose
 * classes their initializer may load later); reviving again what was revived
 * here is harmless (the same memory, a second instance).
 *
 * @module
 */

import { isMainThread, workerData } from 'node:worker_threads';
import './shared-kinds.js';
import { MARKER, revive } from './transfer.js';

if (!isMainThread && typeof workerData === 'object' && workerData !== null) {
  const kind = (workerData as Record<string, unknown>)[MARKER];
  if (typeof kind === 'string') {
    process.emitWarning(
      `workerData is itself a shared ${kind}, which cannot be replaced in place: pass it inside an object ({ workerData: { value } }) or use revive(workerData)`,
      { type: 'CorepoolWarning', code: 'ERR_COREPOOL_WORKERDATA_SHARED' },
    );
  } else {
    // In place; kinds whose class this thread has not loaded yet stay markers.
    revive(workerData, { unknownKinds: 'keep' });
  }
}
