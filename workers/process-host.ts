/**
 * The Process host: the entry point of every `Process` child thread.
 *
 * It adopts the parent's thread registry (so locks held by threads that die
 * are recovered everywhere), then lets `runChild` (src/process.ts) rebuild the
 * process object and await its `run()`. An error out of `run()` is flattened
 * here (`encodeError`: class, `code`, own properties and this thread's stack
 * survive, which structured clone alone would not allow) and posted on the
 * worker's own port, which Node drains before the parent sees `exit`; the
 * exit code becomes 1, and the channel `expose()` serves is closed. Either
 * way the thread then ends as Node threads do: once nothing is left to do.
 *
 * @module
 */

import '../src/shared-kinds.js';
import { parentPort, workerData } from 'node:worker_threads';
import { encodeError } from '../src/error-codec.js';
import { CONTROL, type ControlMessage, type ProcessData, runChild } from '../src/process.js';
import { adoptRegistry } from '../src/sync/owners.js';

const data = workerData as ProcessData;
adoptRegistry(data.registry);
try {
  await runChild(data);
} catch (err) {
  const message: ControlMessage = { [CONTROL]: 'error', error: encodeError(err) };
  parentPort?.postMessage(message);
  process.exitCode = 1;
  // A failed process serves nothing more: its exposed object (if any) no longer keeps it alive.
  data.port.close();
}
