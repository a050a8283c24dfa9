/**
 * The producer thread of bench/queue.ts: on each command it puts `n` items
 * of one payload on the corepool `Queue` it was given, or posts them on the
 * `MessagePort` it was given (the baseline), in one synchronous loop — the
 * same loop body for both, so the difference is the channel.
 *
 * @module
 */

import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { Queue } from '../src/index.js';
import '../src/index.js';

/**
 * A payload of the queue bench.
 *
 * @example
 * ```ts
 * const p: QueuePayload = 'object'; // { id: i, name: `item${i}` }
 * ```
 */
export type QueuePayload = 'int' | 'object' | 'array';

/**
 * A command to the producer.
 *
 * @example
 * ```ts
 * worker.postMessage({ channel: 'queue', payload: 'int', n: 1_000_000 } satisfies QueueCommand);
 * ```
 */
export interface QueueCommand {
  readonly channel: 'queue' | 'port';
  readonly payload: QueuePayload;
  readonly n: number;
}

/** Elements of the `array` payload: 1 MiB of Float64. */
export const ARRAY_ELEMENTS = 131_072;

const { q, port } = (workerData ?? {}) as { q: Queue; port: MessagePort };
const array = new Float64Array(ARRAY_ELEMENTS).map((_, i) => i);

function produce({ channel, payload, n }: QueueCommand): void {
  if (channel === 'queue') {
    if (payload === 'int') for (let i = 0; i < n; i++) q.put(i);
    else if (payload === 'object') for (let i = 0; i < n; i++) q.put({ id: i, name: `item${i}` });
    else for (let i = 0; i < n; i++) q.put(array);
    q.joinThread();
  } else {
    if (payload === 'int') for (let i = 0; i < n; i++) port.postMessage(i);
    else if (payload === 'object') for (let i = 0; i < n; i++) port.postMessage({ id: i, name: `item${i}` });
    else for (let i = 0; i < n; i++) port.postMessage(array);
  }
}

parentPort?.on('message', produce);
