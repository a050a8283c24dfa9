/**
 * Which threads are gone: what lets a lock whose holder died be recovered.
 *
 * A lock records its holder as a *thread token* (`threadId + 1`, so that 0
 * can mean "free"). When the holder exits or is terminated while holding it,
 * the lock word keeps that token forever; its waiters need to learn that the
 * token is dead. JavaScript has no robust futex, and a terminated worker runs
 * no code on its way out (`process.on('exit')` does not fire), so the news
 * comes from outside: every thread that loads corepool subscribes to the
 * `worker_threads` diagnostics channel, which reports each `Worker` created in
 * that thread, and records the worker's thread id at creation (it reads -1
 * after exit). On the worker's `exit` event it sets the dead bit of that id in
 * every registry this thread knows (and, later, in each registry it meets
 * afterwards). Waiters on a held lock wake up every
 * {@link OWNER_CHECK_MS} to look at the holder's bit.
 *
 * Limit: the news of a worker's death reaches the thread that created the
 * worker through its event loop. A thread blocked in a synchronous wait
 * (`lock.acquire()`) is not running its event loop, so it cannot learn that
 * its *own* child died; waiters in other threads, and async waiters
 * (`acquireAsync`) anywhere, do. On the thread that owns a Pool or Workers,
 * wait with `acquireAsync` (or give a timeout) when a holder may die.
 *
 * A registry is one SharedArrayBuffer per process in the usual case: the
 * first thread that needs one creates it, every shared object carries it in
 * its state, and a thread that receives one adopts it if it has none (pools
 * and processes also hand it to their workers at start).
 *
 * Layout (Int32 words):
 *
 * | word            | written by          | meaning                                  |
 * |-----------------|---------------------|------------------------------------------|
 * | `TAG`           | creator, once       | {@link REGISTRY_TAG}: refuses foreign memory |
 * | `DEATHS`        | any observer        | deaths recorded so far (diagnostics)     |
 * | `BITMAP + i`    | observers of exits  | bit `id & 31` of word `id >> 5` set: thread `id` is dead |
 *
 * Invariant: a bit is only ever set, never cleared (thread ids are not reused
 * within a process), so a dead reading is final. Ids at or beyond
 * {@link MAX_THREAD_ID} are never reported dead (no false recovery; such a
 * lock's waiters fall back to waiting, as in Python).
 *
 * @module
 */

import diagnostics from 'node:diagnostics_channel';
import { threadId, type Worker } from 'node:worker_threads';
import { threadGlobal } from '../thread-global.js';

const TAG = 0;
const DEATHS = 1;
const BITMAP = 2;
/** Type tag of a registry buffer. */
export const REGISTRY_TAG = 0x43505267; // 'CPRg'
/** Thread ids below this are tracked. */
export const MAX_THREAD_ID = 1 << 21;
/** How often a waiter on a held lock checks whether the holder died, in ms. */
export const OWNER_CHECK_MS = 50;
const BYTES = (BITMAP + MAX_THREAD_ID / 32) * Int32Array.BYTES_PER_ELEMENT;

/** This thread's token: `threadId + 1` (never 0). */
export const threadToken: number = threadId + 1;

interface ThreadRegistries {
  current: Int32Array | undefined;
  readonly known: Map<SharedArrayBuffer, Int32Array>;
  /** Every death this thread observed, to record in registries it meets later. */
  readonly dead: number[];
}

const registries = threadGlobal<ThreadRegistries>('corepool.registries', () => {
  const state: ThreadRegistries = { current: undefined, known: new Map(), dead: [] };
  diagnostics.subscribe('worker_threads', (message) => {
    const worker = (message as { worker: Worker }).worker;
    const id = worker.threadId;
    worker.once('exit', () => markDead(id));
  });
  return state;
});

function view(buffer: SharedArrayBuffer): Int32Array {
  const known = registries.known.get(buffer);
  if (known !== undefined) return known;
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== BYTES) {
    throw new TypeError('invalid handle: not a corepool thread registry');
  }
  const words = new Int32Array(buffer);
  if (Atomics.load(words, TAG) !== REGISTRY_TAG) throw new TypeError('invalid handle: not a corepool thread registry');
  registries.known.set(buffer, words);
  // A registry met late still learns of the deaths this thread saw before.
  for (const id of registries.dead) record(words, id);
  return words;
}

function record(words: Int32Array, id: number): void {
  const before = Atomics.or(words, BITMAP + (id >> 5), 1 << (id & 31));
  if ((before & (1 << (id & 31))) === 0) Atomics.add(words, DEATHS, 1);
}

/**
 * This thread's registry, created on first use.
 *
 * @example
 * ```ts
 * const state = { buffer, byteOffset: 0, registry: currentRegistry() };
 * ```
 */
export function currentRegistry(): SharedArrayBuffer {
  if (registries.current === undefined) {
    const words = new Int32Array(new SharedArrayBuffer(BYTES));
    Atomics.store(words, TAG, REGISTRY_TAG);
    registries.known.set(words.buffer as SharedArrayBuffer, words);
    registries.current = words;
  }
  return registries.current.buffer as SharedArrayBuffer;
}

/**
 * Makes `buffer` known to this thread (deaths it observes are recorded there)
 * and this thread's registry if it has none yet. Returns its word view.
 *
 * @example
 * ```ts
 * const words = adoptRegistry(state.registry);
 * ```
 * @throws {TypeError} when `buffer` is not a registry.
 */
export function adoptRegistry(buffer: SharedArrayBuffer): Int32Array {
  const words = view(buffer);
  registries.current ??= words;
  return words;
}

/**
 * Records that thread `id` is gone, in every registry this thread knows now
 * or adopts later.
 *
 * @example
 * ```ts
 * worker.once('exit', () => markDead(idRecordedAtStart));
 * ```
 */
export function markDead(id: number): void {
  if (!(id >= 0 && id < MAX_THREAD_ID)) return;
  registries.dead.push(id);
  for (const words of registries.known.values()) record(words, id);
}

/**
 * Whether the thread holding `token` is known to be gone.
 *
 * @example
 * ```ts
 * if (isDead(registry, owner)) takeOver();
 * ```
 */
export function isDead(registry: Int32Array, token: number): boolean {
  const id = token - 1;
  if (!(id >= 0 && id < MAX_THREAD_ID)) return false;
  return (Atomics.load(registry, BITMAP + (id >> 5)) & (1 << (id & 31))) !== 0;
}
