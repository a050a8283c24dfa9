/**
 * The channel hub (src/channel/oob.ts): one worker thread per hub block
 * that
 * - holds SharedArrayBuffers of messages in flight until their receivers ask
 *   for them (`r` register, `p` pin a slab, `w` fetch, `d` drop), since a
 *   SharedArrayBuffer can only reach a thread through the postMessage family;
 * - feeds queues (`o` a new overflow segment): moves the records that
 *   producers could not write at once from each queue's overflow chain into
 *   its ring as readers make room (src/channel/feeder.ts).
 *
 * It listens on `BroadcastChannel('corepool:hub:<n>')`, which every sender
 * posts to synchronously; it subscribes before it says `RUNNING`, so that no
 * message is posted to nobody. Its event loop always turns.
 *
 * @module
 */

import { BroadcastChannel, threadId, workerData } from 'node:worker_threads';
import { FeedServer, type SegmentMessage } from '../src/channel/feeder.js';
import { HUB, RUNNING, STATE } from '../src/channel/oob.js';
import { Queue, type QueueState, queueFeedTarget } from '../src/channel/queue.js';

interface Held {
  readonly sab: SharedArrayBuffer;
  /** Messages that carried it and were not received yet; Infinity for a pinned slab. */
  refs: number;
}

interface HubMessage {
  readonly r?: string[];
  readonly p?: string[];
  readonly s?: SharedArrayBuffer[];
  readonly w?: string[];
  readonly q?: number;
  readonly reply?: string;
  readonly flag?: SharedArrayBuffer;
  readonly d?: string[];
  readonly o?: SegmentMessage;
}

const { block, name } = workerData as { block: SharedArrayBuffer; name: string };
const words = new Int32Array(block);
const held = new Map<string, Held>();
const lookup = (id: string): SharedArrayBuffer | undefined => held.get(id)?.sab;
const feeder = new FeedServer(
  (state) => queueFeedTarget(new Queue(state as QueueState), lookup),
  lookup,
  (id) => held.delete(id),
);

function drop(id: string): SharedArrayBuffer | null {
  const e = held.get(id);
  if (e === undefined) return null;
  if (--e.refs === 0) held.delete(id);
  return e.sab;
}

function handle(m: HubMessage): void {
  if (m.o !== undefined) {
    // A queue's new overflow segment: held (pinned) while the feeder drains it.
    held.set(m.o.id, { sab: m.o.s, refs: Number.POSITIVE_INFINITY });
    feeder.segment(m.o);
  } else if (m.r !== undefined || m.p !== undefined) {
    const list = (m.r ?? m.p) as string[];
    const refs = m.p !== undefined ? Number.POSITIVE_INFINITY : 1;
    for (let i = 0; i < list.length; i++) {
      const id = list[i] as string;
      const e = held.get(id);
      if (e === undefined) held.set(id, { sab: (m.s as SharedArrayBuffer[])[i] as SharedArrayBuffer, refs });
      else e.refs += refs;
    }
  } else if (m.w !== undefined) {
    const reply = new BroadcastChannel(m.reply as string);
    reply.postMessage({ q: m.q, s: m.w.map(drop) });
    reply.close();
    const flag = new Int32Array(m.flag as SharedArrayBuffer);
    Atomics.add(flag, 0, 1);
    Atomics.notify(flag, 0);
  } else if (m.d !== undefined) {
    for (const id of m.d) drop(id);
  }
}

const channel = new BroadcastChannel(name);
channel.onmessage = (event: unknown) => handle((event as { data: HubMessage }).data);
Atomics.store(words, HUB, threadId + 1);
Atomics.store(words, STATE, RUNNING);
Atomics.notify(words, STATE);
