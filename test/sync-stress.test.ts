/**
 * Contention and recovery acceptance of the lock-like primitives.
 *
 * Contention: four threads — two Pool workers (a Pool of 2) and two plain
 * Workers — each do 100,000 increments of one `SharedValue('i32')`, each a
 * non-atomic read-modify-write (`v.value = v.value + 1`) inside the critical
 * section of the value's lock. All start together through a shared-memory
 * gate. Any two threads inside the critical section at once would lose an
 * update, so the total is exactly 400,000 only if the primitive excludes.
 * One row per primitive.
 *
 * Recovery: a thread that takes a Lock and is terminated (a plain Worker) or
 * exits (`process.exit` in a Pool task) while holding it does not strand the
 * waiter in the main thread: the waiter gets the lock, `lock.recovered` is
 * true, and a process warning with code ERR_COREPOOL_OWNER_DIED was emitted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Pool, RLock, Semaphore, SharedArray, SharedValue } from '../src/index.js';
import { Lock } from '../src/sync/lock.js';
import type { LockLike } from '../src/sync/lock-like.js';
import { ARRIVED, newGate, openGate, sharedCells, signal, waitAtLeast } from './fixtures/shared-gate.js';
import {
  DIE,
  HELD,
  HOLDER_EXIT_CODE,
  HOLDER_SLOTS,
  stressTasks,
  TRACE_HANDOFFS,
  TRACE_SLOTS,
} from './fixtures/stress-tasks.js';

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const workerOptions = ext === 'ts' ? { execArgv: ['--import', 'tsx'] } : {};
const fixture = (name: string): URL => new URL(`./fixtures/${name}.${ext}`, import.meta.url);

const INCREMENTS = 100_000;
const POOL_THREADS = 2;
const PLAIN_THREADS = 2;
const THREADS = POOL_THREADS + PLAIN_THREADS;
/** A hang guard only: a run takes seconds. */
const STRESS = { timeout: 240_000 };
const RECOVERY = { timeout: 60_000 };
/** How long the main-thread waiter is willing to wait for the dead holder's lock. */
const GENEROUS_MS = 30_000;

/** Resolves with the first message of `worker`; rejects if it errors or exits first. */
function firstMessage<T>(worker: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with code ${code} before answering`)));
  });
}

/** Records the process warnings emitted while it is installed. */
function recordWarnings(): { readonly seen: Error[]; stop(): void } {
  const seen: Error[] = [];
  const listener = (w: Error): void => {
    seen.push(w);
  };
  process.on('warning', listener);
  return { seen, stop: () => process.off('warning', listener) };
}

/** Lets `process.emitWarning` (delivered on the next tick) reach listeners. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const primitives: readonly (readonly [string, () => LockLike])[] = [
  ['Lock', () => new Lock()],
  ['RLock', () => new RLock()],
  ['Semaphore(1)', () => new Semaphore(1)],
];

for (const [name, make] of primitives) {
  test(
    `${name}: ${THREADS} threads (Pool and plain Workers) x ${INCREMENTS} locked increments lose no update`,
    STRESS,
    async (t) => {
      const value = new SharedValue('i32', 0, { lock: make() });
      const trace = new SharedArray('i32', TRACE_SLOTS, { lock: false });
      const gate = newGate();
      const started = performance.now();
      const pool = new Pool({ processes: POOL_THREADS });
      const workers: Worker[] = [];
      try {
        const pooled = Array.from({ length: POOL_THREADS }, () =>
          pool.apply(stressTasks.hammer, [value, trace, gate, INCREMENTS]),
        );
        const plain = Array.from({ length: PLAIN_THREADS }, () => {
          const worker = new Worker(fixture('stress-worker'), {
            ...workerOptions,
            workerData: { value, trace, gate, n: INCREMENTS },
          });
          workers.push(worker);
          return firstMessage<number>(worker);
        });
        const all = Promise.all([...pooled, ...plain]);
        // A thread that fails before the gate fails the test now, not at the hang guard.
        await Promise.race([waitAtLeast(gate, ARRIVED, THREADS), all]);
        openGate(gate);
        const threadIds = await all;
        assert.equal(new Set(threadIds).size, THREADS, `${THREADS} distinct threads ran: ${threadIds.join(', ')}`);
        assert.equal(value.value, THREADS * INCREMENTS);
        // Every thread took the lock from another at least once.
        const handoffs = trace.array[TRACE_HANDOFFS] ?? 0;
        assert.ok(handoffs >= THREADS, `the lock changed hands ${handoffs} times`);
        assert.equal(value.getLock().acquire({ blocking: false }), true, 'the lock is free at the end');
        value.getLock().release();
        const ms = performance.now() - started;
        t.diagnostic(`${name}: ${THREADS * INCREMENTS} increments, ${handoffs} hand-offs, in ${ms.toFixed(0)} ms`);
      } finally {
        await Promise.all(workers.map((w) => w.terminate()));
        await pool.terminate();
      }
    },
  );
}

test(
  'a plain Worker terminated while holding a Lock: the main-thread waiter recovers it, with a warning',
  RECOVERY,
  async () => {
    const lock = new Lock();
    const cells = sharedCells(HOLDER_SLOTS);
    const warnings = recordWarnings();
    const worker = new Worker(fixture('stress-holder'), { ...workerOptions, workerData: { lock, cells } });
    try {
      await waitAtLeast(cells, HELD);
      assert.equal(lock.locked(), true);
      assert.equal(lock.acquire({ blocking: false }), false, 'the worker holds it');
      const waiter = lock.acquireAsync({ timeout: GENEROUS_MS });
      await worker.terminate();
      assert.equal(await waiter, true, 'the waiter got the lock');
      assert.equal(lock.recovered, true);
      await nextTurn();
      assert.ok(
        warnings.seen.some((w) => (w as Error & { code?: string }).code === 'ERR_COREPOOL_OWNER_DIED'),
        `an ERR_COREPOOL_OWNER_DIED warning: ${warnings.seen.map((w) => w.message).join('; ')}`,
      );
      lock.release();
      assert.equal(lock.locked(), false);
      assert.equal(lock.recovered, false, 'recovered clears on release');
    } finally {
      warnings.stop();
      await worker.terminate();
    }
  },
);

test(
  'a Pool task that exits while holding a Lock: the main-thread waiter recovers it, with a warning',
  RECOVERY,
  async () => {
    const lock = new Lock();
    const cells = sharedCells(HOLDER_SLOTS);
    const warnings = recordWarnings();
    const pool = new Pool({ processes: 1 });
    try {
      const dying = pool.apply(stressTasks.holdAndExit, [lock, cells]);
      await waitAtLeast(cells, HELD);
      assert.equal(lock.acquire({ blocking: false }), false, 'the task holds it');
      const waiter = lock.acquireAsync({ timeout: GENEROUS_MS });
      signal(cells, DIE);
      await assert.rejects(dying, (err: unknown) => {
        assert.equal((err as Error).name, 'WorkerExitError');
        assert.equal((err as Error & { exitCode?: number }).exitCode, HOLDER_EXIT_CODE);
        return true;
      });
      assert.equal(await waiter, true, 'the waiter got the lock');
      assert.equal(lock.recovered, true);
      await nextTurn();
      assert.ok(
        warnings.seen.some((w) => (w as Error & { code?: string }).code === 'ERR_COREPOOL_OWNER_DIED'),
        `an ERR_COREPOOL_OWNER_DIED warning: ${warnings.seen.map((w) => w.message).join('; ')}`,
      );
      lock.release();
      assert.equal(lock.locked(), false);
    } finally {
      warnings.stop();
      await pool.terminate();
    }
  },
);
