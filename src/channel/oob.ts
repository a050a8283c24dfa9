/**
 * Shared objects inside channel messages, "out of band".
 *
 * A message is bytes in a ring, but a shared object (a `Lock`, a `Queue`, a
 * `SharedArray`…) is its `SharedArrayBuffer`s, and a SharedArrayBuffer can
 * only reach another thread through the postMessage family — `v8.serialize`
 * refuses it. So the buffers travel beside the bytes, through a *hub*: one
 * worker thread that holds SharedArrayBuffers by id until a receiver asks for
 * them.
 *
 * Sending (a message whose `prepare()` found shared objects, or that holds a
 * SharedArrayBuffer):
 * 1. {@link packShared} copies the prepared value along every path that leads
 *    to a SharedArrayBuffer and puts a placeholder `{ __corepool_sab__: id }`
 *    in its place (ids are unique in the process: the sending thread's token
 *    and a per-thread counter; a WeakMap gives the same buffer the same id
 *    every time), then `v8.serialize`s `{ ids, value }`.
 * 2. {@link Hub.register} posts `{ r: ids, s: buffers }` to the hub over
 *    `BroadcastChannel('corepool:hub:<n>')` *before* the record is written
 *    to the ring. BroadcastChannel enqueues a message for every other open
 *    channel of that name synchronously, inside `postMessage`, so the
 *    registration is in the hub's queue before any reader can see the
 *    record, and thus before that reader's request.
 *
 * Receiving ({@link unpackShared}): each id is looked up in a per-thread
 * cache of buffers received before (WeakRefs); the others are asked for with
 * `{ w: ids, q, reply, flag }`. The hub posts the buffers on the thread's own
 * reply channel, then bumps and notifies the `flag` word; the receiver
 * sleeps on that word (`Atomics.wait`, or `waitAsync` for the async forms),
 * takes the answer with `receiveMessageOnPort` (or, when its event loop ran
 * meanwhile, from the channel's `message` event: a BroadcastChannel is
 * started from birth and would otherwise drop it), puts the buffers in place of
 * the placeholders and revives the markers (src/transfer.ts). The hub counts
 * registrations per id and forgets a buffer when every message that carried
 * it was received (a receiver that had it cached says so with `{ d: ids }`),
 * so it holds only what is in flight — plus what sits forever in a queue
 * nobody reads.
 *
 * The hub starts lazily, in whichever thread first sends a shared object, as
 * an `unref()`d worker (it never keeps the process alive). Which hub a queue
 * uses is written in a small shared *hub block* that travels in the queue's
 * state:
 *
 * | word      | written by              | meaning                                            |
 * |-----------|-------------------------|----------------------------------------------------|
 * | `TAG_WORD`| creator, once           | {@link HUB_TAG}                                    |
 * | `STATE`   | starter (CAS), the hub  | `IDLE` (no hub), `STARTING`, `RUNNING`             |
 * | `STARTER` | starter                 | token of the thread that started the current hub   |
 * | `HUB`     | the hub                 | the hub thread's token                             |
 * | `NAME`    | creator, once           | the channel is `corepool:hub:<NAME>`               |
 *
 * Only the thread that wins the `IDLE → STARTING` compare-and-swap starts a
 * hub; the others sleep on `STATE`. The hub subscribes to its channel
 * *before* it stores `RUNNING`, and senders post only once they have seen
 * `RUNNING`, so no registration is posted to nobody.
 *
 * A worker thread cannot outlive the thread that created it: when the
 * starter is a worker that exits, the hub dies with it, and with it the
 * buffers of messages still in flight. The next sender or receiver sees
 * that (the thread registry marks the starter or the hub dead, sync/owners.ts)
 * and starts a new hub; a receiver whose buffers were lost gets an error
 * that says so instead of waiting forever. Send the first shared object from
 * a long-lived thread (the main thread) to avoid this.
 *
 * @module
 */

import { randomInt } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import v8 from 'node:v8';
import { BroadcastChannel, receiveMessageOnPort, threadId, type Worker } from 'node:worker_threads';
import { adoptRegistry, currentRegistry, isDead, OWNER_CHECK_MS, threadToken } from '../sync/owners.js';
import { threadGlobal } from '../thread-global.js';
import { revive } from '../transfer.js';
import { startModuleWorker, workerModule } from '../worker-entry.js';
import { type Waiting, waitStep } from './ring.js';

const TAG_WORD = 0;
/** @internal The hub block's `STATE` word (workers/hub.ts stores `RUNNING`). */
export const STATE = 1;
const STARTER = 2;
/** @internal The hub block's `HUB` word (the hub's thread token). */
export const HUB = 3;
const NAME = 4;
const WORDS = 8;
/** Type tag of a hub block. */
export const HUB_TAG = 0x43504862; // 'CPHb'

const IDLE = 0;
const STARTING = 1;
/** @internal `STATE` of a hub that listens. */
export const RUNNING = 2;

/** The hub's module (workers/hub.ts). */
const hubUrl = workerModule('hub', import.meta.url, 2);

/** Longest a thread waits for a hub to start, or to answer. */
const START_TIMEOUT_MS = 30_000;

/**
 * Ids of the worker threads this thread created that have exited. The thread
 * registry (sync/owners.ts) records a death only in the registries a thread
 * knew when it saw the exit, and a queue may carry a registry adopted later
 * (one made by the very worker that died): this set covers that case.
 */
const exited = threadGlobal('corepool.oob.exited', () => {
  const ids = new Set<number>();
  diagnostics.subscribe('worker_threads', (message) => {
    const worker = (message as { worker: Worker }).worker;
    const id = worker.threadId;
    worker.once('exit', () => ids.add(id));
  });
  return ids;
});

/**
 * Whether the thread holding `token` is known to be gone: in `registry`, in
 * this thread's own registry, or among the workers this thread saw exit.
 *
 * @example
 * ```ts
 * if (knownDead(registryWords, writerToken)) markBroken();
 * ```
 */
export function knownDead(registry: Int32Array, token: number): boolean {
  if (token <= 0) return false;
  return exited.has(token - 1) || isDead(registry, token) || isDead(adoptRegistry(currentRegistry()), token);
}

/** Key of a placeholder for a SharedArrayBuffer in a packed message. */
const SAB_KEY = '__corepool_sab__';

/**
 * A new hub block (no hub started yet).
 *
 * @example
 * ```ts
 * const state = { ...allocate(QUEUE_TAG, words), hub: createHubBlock() };
 * ```
 */
export function createHubBlock(): SharedArrayBuffer {
  const block = new SharedArrayBuffer(WORDS * Int32Array.BYTES_PER_ELEMENT);
  const words = new Int32Array(block);
  words[NAME] = randomInt(1, 2 ** 31 - 1);
  Atomics.store(words, TAG_WORD, HUB_TAG);
  return block;
}

const blocks = threadGlobal('corepool.hubBlock', () => ({ current: undefined as SharedArrayBuffer | undefined }));

/**
 * This thread's hub block: the first one it adopted, else a new one. New
 * queues use it, so that one process usually has one hub.
 *
 * @example
 * ```ts
 * const hub = currentHubBlock();
 * ```
 */
export function currentHubBlock(): SharedArrayBuffer {
  blocks.current ??= createHubBlock();
  return blocks.current;
}

/**
 * Checks `block` and makes it this thread's hub block if it has none.
 *
 * @example
 * ```ts
 * adoptHubBlock(state.hub);
 * ```
 * @throws {TypeError} "invalid handle" when `block` is not a hub block.
 */
export function adoptHubBlock(block: unknown): SharedArrayBuffer {
  if (
    !(block instanceof SharedArrayBuffer) ||
    block.byteLength !== WORDS * Int32Array.BYTES_PER_ELEMENT ||
    Atomics.load(new Int32Array(block), TAG_WORD) !== HUB_TAG
  ) {
    throw new TypeError('invalid handle: not a corepool hub block');
  }
  blocks.current ??= block;
  return block;
}

// ---- packing ----

/** A packed message: its payload and the buffers to register before it is written. */
export interface SharedPacket {
  /** `v8.serialize({ ids, value })` with placeholders for the buffers. */
  readonly bytes: Buffer;
  readonly ids: string[];
  readonly buffers: SharedArrayBuffer[];
}

interface Senders {
  next: number;
  readonly ids: WeakMap<SharedArrayBuffer, string>;
}
const senders = threadGlobal<Senders>('corepool.oob.senders', () => ({ next: 0, ids: new WeakMap() }));

/**
 * The id of a SharedArrayBuffer sent from this thread: the same buffer gets
 * the same id every time (slab.ts names its slabs so).
 *
 * @example
 * ```ts
 * const id = slabId(new SharedArrayBuffer(1 << 20)); // '3.17'
 * ```
 */
export function slabId(sab: SharedArrayBuffer): string {
  return idOf(sab);
}

function idOf(sab: SharedArrayBuffer): string {
  let id = senders.ids.get(sab);
  if (id === undefined) {
    id = `${threadToken}.${senders.next++}`;
    senders.ids.set(sab, id);
  }
  return id;
}

function isOpaque(o: object): boolean {
  return (
    ArrayBuffer.isView(o) ||
    o instanceof ArrayBuffer ||
    o instanceof Date ||
    o instanceof RegExp ||
    o instanceof Error ||
    o instanceof Boolean ||
    o instanceof Number ||
    o instanceof String
  );
}

class Packer {
  readonly seen = new Map<object, unknown>();
  readonly ids: string[] = [];
  readonly buffers: SharedArrayBuffer[] = [];

  value(v: unknown): unknown {
    if (typeof v !== 'object' || v === null) return v;
    const done = this.seen.get(v);
    if (done !== undefined || this.seen.has(v)) return done;
    if (v instanceof SharedArrayBuffer) {
      const id = idOf(v);
      if (!this.ids.includes(id)) {
        this.ids.push(id);
        this.buffers.push(v);
      }
      const placeholder = { [SAB_KEY]: id };
      this.seen.set(v, placeholder);
      return placeholder;
    }
    this.seen.set(v, v);
    if (isOpaque(v)) return v;
    let out: unknown = v;
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const x = this.value(v[i]);
        if (x !== v[i]) {
          copy ??= v.slice();
          copy[i] = x;
        }
      }
      if (copy !== undefined) out = copy;
    } else if (v instanceof Map) {
      let changed = false;
      const entries = [...v].map(([k, x]) => {
        const nk = this.value(k);
        const nx = this.value(x);
        changed ||= nk !== k || nx !== x;
        return [nk, nx] as const;
      });
      if (changed) out = new Map(entries);
    } else if (v instanceof Set) {
      let changed = false;
      const items = [...v].map((x) => {
        const nx = this.value(x);
        changed ||= nx !== x;
        return nx;
      });
      if (changed) out = new Set(items);
    } else {
      // Any other object serializes as its own enumerable properties (structured clone drops the class).
      let copy: Record<string, unknown> | undefined;
      for (const k of Object.keys(v)) {
        const x0 = (v as Record<string, unknown>)[k];
        const x = this.value(x0);
        if (x !== x0) {
          copy ??= { ...(v as Record<string, unknown>) };
          copy[k] = x;
        }
      }
      if (copy !== undefined) out = copy;
    }
    if (out !== v) this.seen.set(v, out);
    return out;
  }
}

/**
 * Packs a value that `prepare()` made ready (shared objects already turned
 * into markers): every SharedArrayBuffer in it, including those inside the
 * markers' states, becomes a placeholder with an id. The value is not
 * modified.
 *
 * @example
 * ```ts
 * const packet = packShared(prepare([lock, 1], 'item').value);
 * ```
 * @throws {DataCloneError} from `v8.serialize` when something cannot be cloned.
 */
export function packShared(value: unknown): SharedPacket {
  const packer = new Packer();
  const packed = packer.value(value);
  return { bytes: v8.serialize({ ids: packer.ids, value: packed }), ids: packer.ids, buffers: packer.buffers };
}

function place(v: unknown, buffers: ReadonlyMap<string, SharedArrayBuffer>, seen: Set<object>): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const id = (v as Record<string, unknown>)[SAB_KEY];
  if (typeof id === 'string' && Object.getPrototypeOf(v) === Object.prototype) {
    const sab = buffers.get(id);
    if (sab === undefined) throw new Error(`corrupt shared message: no buffer for id ${id}`);
    return sab;
  }
  if (seen.has(v)) return v;
  seen.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = place(v[i], buffers, seen);
  } else if (v instanceof Map) {
    const entries = [...v].map(([k, x]) => [place(k, buffers, seen), place(x, buffers, seen)] as const);
    v.clear();
    for (const [k, x] of entries) v.set(k, x);
  } else if (v instanceof Set) {
    const items = [...v].map((x) => place(x, buffers, seen));
    v.clear();
    for (const x of items) v.add(x);
  } else if (!isOpaque(v)) {
    for (const k of Object.keys(v))
      (v as Record<string, unknown>)[k] = place((v as Record<string, unknown>)[k], buffers, seen);
  }
  return v;
}

// ---- the hub, seen from one thread ----

/** Error of a receiver whose buffers the hub no longer has. */
function lostError(ids: readonly string[], starter: number): Error {
  return Object.assign(
    new Error(
      `the shared objects in this message are lost (buffers ${ids.join(', ')}): the hub thread that held them exited ` +
        `with thread ${starter - 1}, which started it; send the first shared object from a long-lived thread`,
    ),
    { code: 'ERR_COREPOOL_SHARED_LOST' },
  );
}

/**
 * One thread's handle on the hub of one hub block: registers buffers and
 * fetches them.
 *
 * @example
 * ```ts
 * const hub = Hub.of(state.hub, registryWords);
 * yield* hub.register(packet);
 * ```
 */
export class Hub {
  readonly #words: Int32Array;
  readonly #block: SharedArrayBuffer;
  readonly #registry: Int32Array;
  readonly #name: string;
  #channel: BroadcastChannel | undefined;
  #reply: BroadcastChannel | undefined;
  readonly #replyName: string;
  readonly #flag = new Int32Array(new SharedArrayBuffer(4));
  #requests = 0;
  readonly #answers = new Map<number, (SharedArrayBuffer | null)[]>();
  readonly #cache = new Map<string, WeakRef<SharedArrayBuffer>>();

  private constructor(block: SharedArrayBuffer, registry: Int32Array) {
    this.#block = block;
    this.#words = new Int32Array(block);
    this.#registry = registry;
    this.#name = `corepool:hub:${Atomics.load(this.#words, NAME)}`;
    this.#replyName = `${this.#name}:reply:${threadId}`;
  }

  /**
   * This thread's handle on the hub of `block` (one per block and thread).
   *
   * @example
   * ```ts
   * const hub = Hub.of(block, adoptRegistry(state.registry));
   * ```
   */
  static of(block: SharedArrayBuffer, registry: Int32Array): Hub {
    const hubs = threadGlobal('corepool.hubs', () => new Map<SharedArrayBuffer, Hub>());
    let hub = hubs.get(block);
    if (hub === undefined) {
      hub = new Hub(block, registry);
      hubs.set(block, hub);
    }
    return hub;
  }

  /**
   * Whether the hub (or the thread that started it, whose death takes the
   * hub along) is known dead: in the queue's registry, or this thread's own
   * (a registry only records deaths that happen after a thread adopted it).
   */
  dead(): boolean {
    return this.#dead();
  }

  #dead(): boolean {
    return (
      knownDead(this.#registry, Atomics.load(this.#words, STARTER)) ||
      knownDead(this.#registry, Atomics.load(this.#words, HUB))
    );
  }

  #post(message: unknown): void {
    if (this.#channel === undefined) {
      this.#channel = new BroadcastChannel(this.#name);
      // Every channel of this name receives what other threads post; drop it.
      this.#channel.onmessage = () => {};
      this.#channel.unref();
    }
    while (receiveMessageOnPort(this.#channel as never) !== undefined) {}
    this.#channel.postMessage(message);
  }

  #start(): void {
    Atomics.store(this.#words, STARTER, threadToken);
    Atomics.store(this.#words, HUB, 0);
    let worker: Worker;
    try {
      worker = startModuleWorker(
        hubUrl,
        { workerData: { block: this.#block, name: this.#name }, execArgv: [], stdout: false, stderr: false },
        "corepool's channel hub",
      );
    } catch (err) {
      Atomics.store(this.#words, STATE, IDLE);
      Atomics.notify(this.#words, STATE);
      throw err;
    }
    worker.unref();
    worker.on('error', () => {});
    worker.once('exit', () => {
      // Failed before it ran: let the next caller try again.
      if (Atomics.compareExchange(this.#words, STATE, STARTING, IDLE) === STARTING) Atomics.notify(this.#words, STATE);
    });
  }

  /**
   * Makes sure a hub is running for this block, starting one when there is
   * none (or the last one died).
   *
   * @example
   * ```ts
   * runSync(hub.ensure());
   * ```
   * @throws {Error} when no hub starts within 30 s.
   */
  *ensure(): Waiting<void> {
    const end = performance.now() + START_TIMEOUT_MS;
    for (;;) {
      const state = Atomics.load(this.#words, STATE);
      if (state === RUNNING) {
        if (!this.#dead()) return;
        Atomics.compareExchange(this.#words, STATE, RUNNING, IDLE);
        continue;
      }
      if (state === IDLE) {
        if (Atomics.compareExchange(this.#words, STATE, IDLE, STARTING) === IDLE) this.#start();
        continue;
      }
      if (this.#dead()) {
        Atomics.compareExchange(this.#words, STATE, STARTING, IDLE);
        continue;
      }
      const left = end - performance.now();
      if (left <= 0)
        throw new Error('the corepool hub thread (which carries shared objects in messages) did not start');
      yield waitStep(this.#words, STATE, STARTING, Math.min(left, OWNER_CHECK_MS));
    }
  }

  /**
   * Whether a hub is running for this block (it may still have died since).
   *
   * @example
   * ```ts
   * if (!hub.running()) runSync(hub.ensure());
   * ```
   */
  running(): boolean {
    return Atomics.load(this.#words, STATE) === RUNNING;
  }

  /**
   * Starts the hub in the background when none runs (without waiting for
   * it): the main thread does this when it makes a channel, so that the hub
   * lives as long as the process and is ready before a worker needs it.
   *
   * @example
   * ```ts
   * if (isMainThread) hub.startSoon();
   * ```
   */
  startSoon(): void {
    if (Atomics.compareExchange(this.#words, STATE, IDLE, STARTING) === IDLE) this.#start();
  }

  /**
   * Posts `message` to the hub, which must be running (see {@link ensure}).
   *
   * @example
   * ```ts
   * yield* hub.ensure();
   * hub.post({ f: feed });
   * ```
   */
  post(message: unknown): void {
    this.#post(message);
  }

  /**
   * Hands slab `sab` to the hub to hold until this thread drops it (slab.ts).
   *
   * @example
   * ```ts
   * yield* hub.pin(slab.id, slab.sab);
   * ```
   */
  *pin(id: string, sab: SharedArrayBuffer): Waiting<void> {
    yield* this.ensure();
    this.#post({ p: [id], s: [sab] });
  }

  /**
   * One buffer by id, from this thread's cache or the hub; a pinned slab
   * stays at the hub, a registered one is forgotten there once fetched.
   *
   * @example
   * ```ts
   * const sab = yield* hub.fetchOne(ref.id);
   * ```
   * @throws {Error} when the hub lost it.
   */
  *fetchOne(id: string): Waiting<SharedArrayBuffer> {
    const cached = this.#cache.get(id)?.deref();
    if (cached !== undefined) return cached;
    return (yield* this.fetch([id])).get(id) as SharedArrayBuffer;
  }

  /**
   * Hands the buffers of `packet` to the hub; call before the message's
   * record is written.
   *
   * @example
   * ```ts
   * yield* hub.register(packet); // then write the record
   * ```
   */
  *register(packet: SharedPacket): Waiting<void> {
    if (packet.ids.length === 0) return;
    yield* this.ensure();
    this.#post({ r: packet.ids, s: packet.buffers });
  }

  #drainReplies(): void {
    if (this.#reply === undefined) return;
    for (;;) {
      const m = receiveMessageOnPort(this.#reply as never) as
        | { message: { q: number; s: (SharedArrayBuffer | null)[] } }
        | undefined;
      if (m === undefined) return;
      this.#answers.set(m.message.q, m.message.s);
    }
  }

  /**
   * The buffers of `ids`: from this thread's cache, else from the hub.
   *
   * @example
   * ```ts
   * const buffers = yield* hub.fetch(['3.0', '3.1']);
   * ```
   * @throws {Error} when the hub lost them (see the module comment).
   */
  *fetch(ids: readonly string[]): Waiting<Map<string, SharedArrayBuffer>> {
    const found = new Map<string, SharedArrayBuffer>();
    const missing: string[] = [];
    for (const id of ids) {
      const sab = this.#cache.get(id)?.deref();
      if (sab === undefined) missing.push(id);
      else found.set(id, sab);
    }
    if (found.size > 0) {
      yield* this.ensure();
      this.#post({ d: [...found.keys()] });
    }
    if (missing.length === 0) return found;
    if (this.#reply === undefined) {
      this.#reply = new BroadcastChannel(this.#replyName);
      // A BroadcastChannel is started from birth: when the event loop runs (the async forms), it
      // dispatches each message as an event — gone unless a listener keeps it. While this thread
      // blocks (the sync forms), receiveMessageOnPort takes it first. Either way it lands here.
      this.#reply.onmessage = (event: unknown) => {
        const m = (event as { data: { q: number; s: (SharedArrayBuffer | null)[] } }).data;
        this.#answers.set(m.q, m.s);
      };
      this.#reply.unref();
    }
    const end = performance.now() + START_TIMEOUT_MS;
    for (;;) {
      yield* this.ensure();
      const starter = Atomics.load(this.#words, STARTER);
      const q = ++this.#requests;
      this.#post({ w: missing, q, reply: this.#replyName, flag: this.#flag.buffer });
      for (;;) {
        const seen = Atomics.load(this.#flag, 0);
        this.#drainReplies();
        const answer = this.#answers.get(q);
        if (answer !== undefined) {
          this.#answers.delete(q);
          const lost = missing.filter((_, i) => answer[i] === null || answer[i] === undefined);
          if (lost.length > 0) throw lostError(lost, starter);
          missing.forEach((id, i) => {
            const sab = answer[i] as SharedArrayBuffer;
            this.#cache.set(id, new WeakRef(sab));
            found.set(id, sab);
          });
          this.#prune();
          return found;
        }
        if (this.#dead()) break; // the hub died before answering: ask the next one (it will say "lost")
        if (performance.now() > end) {
          throw new Error(
            `the corepool hub thread (started by thread ${starter - 1}) did not answer within ${START_TIMEOUT_MS / 1000} s`,
          );
        }
        yield waitStep(this.#flag, 0, seen, OWNER_CHECK_MS);
      }
    }
  }

  #prune(): void {
    if (this.#cache.size < 1024) return;
    for (const [id, ref] of this.#cache) if (ref.deref() === undefined) this.#cache.delete(id);
  }
}

/**
 * Decodes a packed message: fetches its buffers, puts them in place and
 * revives the shared objects.
 *
 * @example
 * ```ts
 * const value = runSync(unpackShared(payload, hub));
 * ```
 * @throws {Error} when the buffers were lost, or a shared object's class is not loaded in this thread.
 */
export function* unpackShared(payload: Uint8Array, hub: Hub): Waiting<unknown> {
  const { ids, value } = v8.deserialize(payload) as { ids: string[]; value: unknown };
  const buffers = yield* hub.fetch(ids);
  return revive(place(value, buffers, new Set()));
}
