/**
 * The task runner: piscina's entry point in every `Pool` worker.
 *
 * For each {@link TaskMessage} it finds the task (importing its module once),
 * rebuilds shared objects in the arguments, runs the pool's `initializer` once
 * before the first task of this worker, calls the task, and answers with a
 * {@link ReplyMessage}. It never throws: a task's error is flattened here
 * (`encodeError`) so that its class, `code`, own properties and this worker's
 * stack survive the trip, which structured clone alone would not allow.
 *
 * @module
 */

import { performance } from 'node:perf_hooks';
import { workerData } from 'node:worker_threads';
import '../src/shared-kinds.js';
import { encodeError } from '../src/error-codec.js';
import { CallKind, type ReplyMessage, type RunnerData, type TaskMessage } from '../src/protocol.js';
import { releaseRemotes } from '../src/remote.js';
import { adoptRegistry } from '../src/sync/owners.js';
import { resolveTask } from '../src/task.js';
import { type Prepared, prepare, revive, reviveCollecting } from '../src/transfer.js';

const data = workerData as RunnerData;
adoptRegistry(data.registry);
let initialized: Promise<void> | undefined;

async function initialize(): Promise<void> {
  const init = data.init;
  if (init === undefined) return;
  const fn = await resolveTask({ module: init.m, name: init.n });
  const args = init.s ? revive<unknown[]>(init.a) : init.a;
  await fn(...args);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

async function call(msg: TaskMessage, remotes: unknown[]): Promise<ReplyMessage> {
  if (initialized === undefined) {
    initialized = initialize();
    // A failed initializer is retried before this worker's next task.
    initialized.catch(() => {
      initialized = undefined;
    });
  }
  await initialized;
  const fn = await resolveTask({ module: msg.m, name: msg.n });
  const a = msg.s ? reviveCollecting<unknown[]>(msg.a, remotes) : (msg.a as unknown[]);
  if (msg.k === CallKind.Apply) {
    let v = fn(...a);
    if (isThenable(v)) v = await v;
    return reply(v, msg);
  }
  const start = performance.now();
  // Filled by push, not preallocated: `new Array(n)` is holey, and V8's
  // structured clone writes a holey array element by element as a sparse
  // one, ~4x slower to post (and to read back) than a packed array.
  const out: unknown[] = [];
  for (let i = 0; i < a.length; i++) {
    let v = msg.k === CallKind.Map ? fn(a[i]) : fn(...(a[i] as unknown[]));
    if (isThenable(v)) v = await v;
    out.push(v);
  }
  return reply(out, msg, performance.now() - start);
}

function reply(v: unknown, msg: TaskMessage, d?: number): ReplyMessage {
  let prepared: Prepared;
  try {
    prepared = prepare(v, 'result');
  } catch (err) {
    if (err instanceof Error) err.message = `task ${msg.n} returned a value that cannot be sent back: ${err.message}`;
    throw err;
  }
  return d === undefined
    ? { ok: true, v: prepared.value, s: prepared.shared }
    : { ok: true, v: prepared.value, s: prepared.shared, d };
}

/** Runs one task message; the answer is always a reply, never a rejection. */
export default async function run(msg: TaskMessage): Promise<ReplyMessage> {
  // Callbacks (comlink proxies) in the arguments are released when the task ends.
  const remotes: unknown[] = [];
  try {
    return await call(msg, remotes);
  } catch (err) {
    return { ok: false, e: encodeError(err) };
  } finally {
    releaseRemotes(remotes);
  }
}
