/**
 * The two threads of bench/sync.ts. Each runs one command at a time, posted
 * by the main thread, in one synchronous loop, and answers with the time its
 * loop took (measured inside the thread):
 *
 * - `contend`: `n` increments of a plain (non-atomic) Int32Array slot, each
 *   inside a critical section of the named lock — corepool's `Lock`, `RLock`,
 *   `Semaphore(1)`, or the raw compare-and-swap spinlock baseline;
 * - `pingpong`: `n` round trips with the other thread, as `ping` (sets, then
 *   waits) or `pong` (waits, then answers), through two corepool `Event`s or
 *   the raw `Atomics.wait`/`Atomics.notify` baseline on one word.
 *
 * Both threads of a round pass a shared-memory gate first (each counts itself
 * in, then spins until both have), so they start within nanoseconds of each
 * other and the message latency of the command stays outside the timing.
 *
 * Shared words ({@link SyncSlot}) live in one Int32Array the main thread
 * makes; the locks and events arrive in `workerData`, revived in place by the
 * corepool import.
 *
 * @module
 */

import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { Event, Lock, RLock, Semaphore } from '../src/index.js';
import '../src/index.js';

/**
 * Slots of the shared Int32Array of the sync bench, each on its own 64-byte
 * cache line so that the baselines do not share a line with the gate or the
 * counter by accident (corepool's primitives have their own memory).
 *
 * - `GATE`: arrivals of the current round; the main thread zeroes it before
 *   each round, each thread adds 1 and spins until it reads 2.
 * - `COUNTER`: the counter, incremented non-atomically inside the critical section.
 * - `SPIN`: the raw spinlock: 0 = free, 1 = held.
 * - `TURN`: the raw ping-pong word: 0 = ping's turn, 1 = pong's turn.
 *
 * @example
 * ```ts
 * const words = new Int32Array(new SharedArrayBuffer(SLOTS_BYTES));
 * Atomics.store(words, SyncSlot.GATE, 0);
 * ```
 */
export const SyncSlot = { GATE: 0, COUNTER: 16, SPIN: 32, TURN: 48 } as const;

/**
 * Bytes of the shared Int32Array: one 64-byte line per slot.
 *
 * @example
 * ```ts
 * new Int32Array(new SharedArrayBuffer(SLOTS_BYTES));
 * ```
 */
export const SLOTS_BYTES = (SyncSlot.TURN + 16) * Int32Array.BYTES_PER_ELEMENT;

/**
 * A lock of the contention measurement.
 *
 * @example
 * ```ts
 * const kind: LockKind = 'spin'; // the raw CAS spinlock baseline
 * ```
 */
export type LockKind = 'Lock' | 'RLock' | 'Semaphore' | 'spin';

/**
 * A signalling mechanism of the ping-pong measurement.
 *
 * @example
 * ```ts
 * const kind: PingKind = 'raw'; // Atomics.wait/notify on one word
 * ```
 */
export type PingKind = 'Event' | 'raw';

/**
 * What the main thread hands each bench thread at start.
 *
 * @example
 * ```ts
 * new Worker(url, { workerData: { words, lock, rlock, sem, e1, e2 } satisfies SyncWorkerData });
 * ```
 */
export interface SyncWorkerData {
  readonly words: Int32Array;
  readonly lock: Lock;
  readonly rlock: RLock;
  readonly sem: Semaphore;
  readonly e1: Event;
  readonly e2: Event;
}

/**
 * A command to a bench thread.
 *
 * @example
 * ```ts
 * worker.postMessage({ op: 'contend', kind: 'Lock', n: 1_000_000 } satisfies SyncCommand);
 * worker.postMessage({ op: 'pingpong', kind: 'Event', role: 'ping', n: 20_000 } satisfies SyncCommand);
 * ```
 */
export type SyncCommand =
  | { readonly op: 'contend'; readonly kind: LockKind; readonly n: number }
  | { readonly op: 'pingpong'; readonly kind: PingKind; readonly role: 'ping' | 'pong'; readonly n: number };

const { GATE, COUNTER, SPIN, TURN } = SyncSlot;

/** Counts this thread in and spins until both threads are: they leave the gate together. */
function passGate(words: Int32Array): void {
  Atomics.add(words, GATE, 1);
  while (Atomics.load(words, GATE) < 2) {
    // spin: the other thread is a message delivery away
  }
}

// One loop per primitive, so that each call site stays monomorphic.

function contendLock(words: Int32Array, lock: Lock, n: number): void {
  for (let i = 0; i < n; i++) {
    lock.acquire();
    words[COUNTER] = (words[COUNTER] as number) + 1;
    lock.release();
  }
}

function contendRLock(words: Int32Array, lock: RLock, n: number): void {
  for (let i = 0; i < n; i++) {
    lock.acquire();
    words[COUNTER] = (words[COUNTER] as number) + 1;
    lock.release();
  }
}

function contendSemaphore(words: Int32Array, sem: Semaphore, n: number): void {
  for (let i = 0; i < n; i++) {
    sem.acquire();
    words[COUNTER] = (words[COUNTER] as number) + 1;
    sem.release();
  }
}

/** The floor: a test-and-set spinlock, one compare-and-swap to take, one store to free. */
function contendSpin(words: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    while (Atomics.compareExchange(words, SPIN, 0, 1) !== 0) {
      // spin
    }
    words[COUNTER] = (words[COUNTER] as number) + 1;
    Atomics.store(words, SPIN, 0);
  }
}

function pingEvent(e1: Event, e2: Event, n: number): void {
  for (let i = 0; i < n; i++) {
    e1.set();
    e2.wait();
    e2.clear();
  }
}

function pongEvent(e1: Event, e2: Event, n: number): void {
  for (let i = 0; i < n; i++) {
    e1.wait();
    e1.clear();
    e2.set();
  }
}

/** The floor: hand the turn over with a store and a notify, sleep while it is the other's. */
function pingRaw(words: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    Atomics.store(words, TURN, 1);
    Atomics.notify(words, TURN, 1);
    while (Atomics.load(words, TURN) === 1) Atomics.wait(words, TURN, 1);
  }
}

function pongRaw(words: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    while (Atomics.load(words, TURN) === 0) Atomics.wait(words, TURN, 0);
    Atomics.store(words, TURN, 0);
    Atomics.notify(words, TURN, 1);
  }
}

function run(data: SyncWorkerData, command: SyncCommand): void {
  const { words } = data;
  passGate(words);
  const start = performance.now();
  if (command.op === 'contend') {
    if (command.kind === 'Lock') contendLock(words, data.lock, command.n);
    else if (command.kind === 'RLock') contendRLock(words, data.rlock, command.n);
    else if (command.kind === 'Semaphore') contendSemaphore(words, data.sem, command.n);
    else contendSpin(words, command.n);
  } else if (command.kind === 'Event') {
    if (command.role === 'ping') pingEvent(data.e1, data.e2, command.n);
    else pongEvent(data.e1, data.e2, command.n);
  } else if (command.role === 'ping') pingRaw(words, command.n);
  else pongRaw(words, command.n);
  parentPort?.postMessage(performance.now() - start);
}

const data = workerData as SyncWorkerData | undefined;
if (data !== undefined && parentPort !== null) {
  parentPort.on('message', (command: SyncCommand) => run(data, command));
}
