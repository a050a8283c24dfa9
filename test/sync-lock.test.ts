/**
 * The lock-likes — `Lock`, `RLock`, `Semaphore`, `BoundedSemaphore` — against
 * Python's semantics: the cases of CPython's `Lib/test/lock_tests.py`
 * (BaseLockTests, LockTests, RLockTests, BaseSemaphoreTests, SemaphoreTests,
 * BoundedSemaphoreTests) and `_test_multiprocessing.py` (`_TestLock`,
 * `_TestSemaphore`) that apply, ported to threads that share memory; plus what
 * corepool adds: async forms, scoped use, travel between threads, refusal of
 * foreign memory, the async keep-alive, and recovery from a dead owner.
 *
 * Python's tests synchronise with short sleeps; these never do. Threads
 * report through a gate in shared memory (`fixtures/sync-helpers.ts`), and
 * "that waiter really sleeps" is read from the primitive's own sleeper count.
 * Timings only ever bound from below (a timed-out acquire waited at least its
 * timeout), with an upper bound far too loose to depend on machine speed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { inspect, promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { LockStateError } from '../src/errors.js';
import * as root from '../src/index.js';
import { Pool } from '../src/pool.js';
import type { SharedState } from '../src/shared-object.js';
import { Lock } from '../src/sync/lock.js';
import { LockLike } from '../src/sync/lock-like.js';
import { currentRegistry } from '../src/sync/owners.js';
import { RLock } from '../src/sync/rlock.js';
import { BoundedSemaphore, Semaphore } from '../src/sync/semaphore.js';
import { MARKER, revive } from '../src/transfer.js';
import {
  ARRIVED,
  DONE,
  loggedPhases,
  newGate,
  open,
  PHASE,
  reach,
  SAFETY_MS,
  sleepers,
  TASK_SAFETY_MS,
  turns,
  until,
  untilSleeping,
} from './fixtures/sync-helpers.js';
import { type Kind, makers, syncTasks } from './fixtures/sync-tasks.js';

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const workerUrl = new URL(`./fixtures/sync-worker.${ext}`, import.meta.url);
const keepAliveScript = fileURLToPath(new URL(`./fixtures/sync-keepalive.${ext}`, import.meta.url));
const execFileAsync = promisify(execFile);

/** Test options: generous, but nothing may hang a run. */
const T = { timeout: 60_000 };
/** For tests of refusals that must come before any waiting. */
const T30 = { timeout: 30_000 };
const KINDS: readonly Kind[] = ['Lock', 'RLock', 'Semaphore', 'BoundedSemaphore'];
const SEMAPHORES = ['Semaphore', 'BoundedSemaphore'] as const;
/** A short timeout for "returns false after about this long". */
const SHORT_MS = 100;

/** A timed-out wait took at least its timeout, and nothing insane (never a speed assertion). */
function assertWaited(elapsed: number, ms: number): void {
  assert.ok(elapsed >= ms - 1, `waited ${elapsed} ms, less than the timeout of ${ms} ms`);
  assert.ok(elapsed < ms + SAFETY_MS, `waited ${elapsed} ms for a timeout of ${ms} ms`);
}

/** Whether `x` is taken (a lock locked, a one-unit semaphore at 0). */
function held(x: LockLike): boolean {
  return x instanceof Semaphore ? x.getValue() === 0 : (x as Lock | RLock).locked();
}

/** The memory description of a shared object. */
function stateOf(x: object): SharedState {
  return (x as { state: SharedState }).state;
}

/** Builds a `kind` on existing memory, as the receiving thread does. */
function attachAs(kind: Kind, state: SharedState): LockLike {
  switch (kind) {
    case 'Lock':
      return new Lock(state);
    case 'RLock':
      return new RLock(state);
    case 'Semaphore':
      return new Semaphore(undefined, state);
    case 'BoundedSemaphore':
      return new BoundedSemaphore(undefined, state);
  }
}

type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; name: string; message: string; code?: unknown }
  | { ok: false; exited: number };

/** Plain `Worker`s running tasks of `fixtures/sync-tasks.ts`; disposing terminates them all. */
class Threads implements AsyncDisposable {
  readonly #workers: Worker[] = [];

  /** Starts `task(...args)` on a new Worker; lock-likes travel through `workerData`. */
  start(task: keyof typeof syncTasks, args: unknown[]): { worker: Worker; outcome: Promise<Outcome> } {
    const worker = new Worker(workerUrl, { workerData: { task, args } });
    this.#workers.push(worker);
    const outcome = new Promise<Outcome>((resolve) => {
      worker.once('message', resolve);
      worker.once('error', (err) => resolve({ ok: false, name: err.name, message: err.message }));
      worker.once('exit', (exited) => resolve({ ok: false, exited }));
    });
    return { worker, outcome };
  }

  /** Runs `task(...args)` on a new Worker and returns its value (fails the test on an error). */
  async run(task: keyof typeof syncTasks, args: unknown[]): Promise<unknown> {
    return resultOf(await this.start(task, args).outcome);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/**
 * `wait`, failing at once (not at its safety deadline) when a task or worker
 * started for the test fails first: a worker that cannot load its module
 * never arrives at a gate.
 */
async function meanwhile<T>(wait: Promise<T>, ...running: Promise<unknown>[]): Promise<T> {
  const failed = Promise.all(
    running.map(async (r) => {
      const o = await r;
      if (typeof o === 'object' && o !== null && (o as { ok?: unknown }).ok === false) {
        throw new Error(`a worker of the test failed: ${JSON.stringify(o)}`);
      }
    }),
  ).then(() => new Promise<never>(() => {}));
  failed.catch(() => {});
  return Promise.race([wait, failed]);
}

function resultOf(outcome: Outcome): unknown {
  if (!outcome.ok) assert.fail(`the worker failed: ${JSON.stringify(outcome)}`);
  return outcome.value;
}

test('the package root exports RLock, Semaphore and BoundedSemaphore', () => {
  assert.equal(root.RLock, RLock);
  assert.equal(root.Semaphore, Semaphore);
  assert.equal(root.BoundedSemaphore, BoundedSemaphore);
  assert.ok(new BoundedSemaphore() instanceof Semaphore, 'a BoundedSemaphore is a Semaphore, as in Python');
});

describe('every lock-like (BaseLockTests, _TestLock)', () => {
  for (const kind of KINDS) {
    const make = (): LockLike => makers[kind](1);

    test(`${kind}: constructs, inspects, and travels as a marker with state`, () => {
      const x = make();
      assert.ok(x instanceof LockLike);
      assert.match(inspect(x), new RegExp(`^${kind} \\{`));
      assert.deepEqual(Object.keys(x).sort(), [MARKER, 'state']);
      x.acquire();
      assert.match(inspect(x), kind === 'Lock' || kind === 'RLock' ? /locked: true/ : /value: 0/);
    });

    test(`${kind}: acquire/release and acquire({ blocking: false })`, () => {
      const x = make();
      assert.equal(held(x), false);
      assert.equal(x.acquire(), true);
      assert.equal(held(x), true);
      if (kind === 'RLock') {
        // Re-entry, not contention: the owner may take it again.
        assert.equal(x.acquire({ blocking: false }), true);
        assert.equal(x.release(), undefined);
      } else {
        assert.equal(x.acquire({ blocking: false }), false);
      }
      assert.equal(x.release(), undefined);
      assert.equal(held(x), false);
      assert.equal(x.acquire({ blocking: false }), true);
      x.release();
      assert.equal(x.acquire({ timeout: 5000 }), true, 'a free lock-like is taken at once');
      x.release();
      assert.equal(x.acquire({ timeout: 0 }), true);
      x.release();
      assert.equal(x.acquire({ timeout: Number.POSITIVE_INFINITY }), true);
      x.release();
    });

    test(`${kind}: the async forms acquire and release alike`, async () => {
      const x = make();
      const p = x.acquireAsync();
      assert.ok(p instanceof Promise);
      assert.equal(await p, true);
      assert.equal(held(x), true);
      if (kind !== 'RLock') {
        assert.equal(await x.acquireAsync({ blocking: false }), false);
        assert.equal(await x.acquireAsync({ timeout: 0 }), false);
      }
      x.release();
      assert.equal(await x.acquireAsync({ blocking: false }), true);
      x.release();
      assert.equal(await x.acquireAsync({ timeout: 5000 }), true);
      x.release();
      assert.equal(held(x), false);
    });

    test(`${kind}: release of an unlocked one`, () => {
      const x = make();
      if (kind === 'Semaphore') {
        // Python's SemaphoreTests.test_release_unacquired: allowed, the value grows.
        x.release();
        assert.equal((x as Semaphore).getValue(), 2);
        return;
      }
      assert.throws(
        () => x.release(),
        (err: unknown) => {
          assert.ok(err instanceof LockStateError);
          assert.equal(err.code, 'ERR_COREPOOL_LOCK_STATE');
          return true;
        },
      );
      x.acquire();
      x.release();
      assert.throws(() => x.release(), LockStateError);
      assert.equal(held(x), false);
    });

    test(`${kind}: bad acquire options are refused, sync and async (test_timeout)`, async () => {
      const x = make();
      const bad: [unknown, new (...a: never[]) => Error, RegExp][] = [
        [{ blocking: false, timeout: 1 }, TypeError, /blocking: false/],
        [{ timeout: -100 }, RangeError, /options\.timeout/],
        [{ timeout: Number.NaN }, RangeError, /options\.timeout/],
        [{ timeout: '5' }, TypeError, /options\.timeout\) must be .*: received the string "5"$/],
        [{ blocking: 'no' }, TypeError, /options\.blocking/],
        [null, TypeError, /options/],
        [7, TypeError, /options/],
      ];
      for (const [options, cls, message] of bad) {
        assert.throws(
          () => x.acquire(options as never),
          (err: unknown) => {
            assert.ok(err instanceof cls, `acquire(${inspect(options)}) threw ${String(err)}`);
            assert.match((err as Error).message, message);
            assert.match((err as Error).message, new RegExp(`^${kind}\\.acquire`));
            return true;
          },
        );
        const p = x.acquireAsync(options as never);
        assert.ok(p instanceof Promise, 'the async form rejects, it does not throw');
        await assert.rejects(p, (err: unknown) => {
          assert.ok(err instanceof cls);
          assert.match((err as Error).message, new RegExp(`^${kind}\\.acquireAsync`));
          return true;
        });
      }
      assert.equal(held(x), false, 'a refused acquire takes nothing');
    });

    test(`${kind}: an unknown acquire option is refused before any waiting, naming it (issue 10)`, T30, async () => {
      const x = make();
      const message = (method: string): string =>
        `options.timeot is not a ${kind}.${method}() option (known: blocking, timeout); did you mean timeout?`;
      assert.throws(() => x.acquire({ timeot: 5 } as never), { name: 'TypeError', message: message('acquire') });
      await assert.rejects(x.acquireAsync({ timeot: 5 } as never), {
        name: 'TypeError',
        message: message('acquireAsync'),
      });
      assert.equal(held(x), false, 'a refused acquire takes nothing');

      await using threads = new Threads();
      const gate = newGate();
      const { outcome } = threads.start('holdUntilOpen', [x, gate]);
      await meanwhile(reach(gate, ARRIVED, 1), outcome);
      try {
        // Beside a real timeout, an unchecked key would make this wait SHORT_MS and return false.
        assert.throws(() => x.acquire({ timeout: SHORT_MS, timeot: 5 } as never), {
          name: 'TypeError',
          message: message('acquire'),
        });
        // An unchecked key would leave this pending until the holder lets go: it must have rejected by now.
        const settled = await Promise.race([
          x.acquireAsync({ timeot: 5 } as never).then(
            () => 'acquired',
            (err: unknown) => err,
          ),
          delay(10 * SHORT_MS, 'still waiting'),
        ]);
        assert.ok(settled instanceof TypeError, `acquireAsync({ timeot: 5 }) gave ${String(settled)}`);
        assert.equal(settled.message, message('acquireAsync'));
        assert.equal(sleepers(x), 0, 'nobody started waiting');
      } finally {
        // The holder lets go before the threads are disposed of: were the refusal missing, the
        // pending acquire would then take the lock-like and settle, instead of waiting forever on a
        // terminated holder (a semaphore has no dead-holder recovery).
        open(gate);
        await outcome;
      }
      resultOf(await outcome);
      assert.equal(held(x), false);
    });

    test(`${kind}: positional and wrong-typed acquire arguments are refused, saying what was received`, async () => {
      const x = make();
      const refused: [unknown, string][] = [
        [
          false,
          `${kind}.acquire(): options must be an object, such as { blocking: false }: received false (Python's positional form)`,
        ],
        [
          5,
          `${kind}.acquire(): options must be an object, such as { timeout: 5 }: received 5 (Python's positional form)`,
        ],
        ['yes', `${kind}.acquire(): options must be an object: received the string "yes"`],
        [[], `${kind}.acquire(): options must be an object: received an array of 0`],
        [null, `${kind}.acquire(): options must be an object: received null`],
        [{ blocking: 'no' }, `${kind}.acquire(options.blocking) must be a boolean: received the string "no"`],
        [
          { timeout: '4' },
          `${kind}.acquire(options.timeout) must be a non-negative number of milliseconds: received the string "4"`,
        ],
        [
          { blocking: false, timeout: 1 },
          `${kind}.acquire(options.timeout) cannot be given with blocking: false: received 1`,
        ],
      ];
      for (const [options, message] of refused) {
        assert.throws(() => x.acquire(options as never), { name: 'TypeError', message });
        await assert.rejects(x.acquireAsync(options as never), {
          name: 'TypeError',
          message: message.replace('.acquire(', '.acquireAsync('),
        });
      }
      assert.equal(held(x), false, 'a refused acquire takes nothing');
    });

    test(`${kind}: hold, holdAsync, run and runAsync take no options: one given is refused, nothing taken`, async () => {
      const x = make();
      const none = (method: string): { name: string; message: string } => ({
        name: 'TypeError',
        message: `options.timeout is not a ${kind}.${method}() option (known: none)`,
      });
      assert.throws(() => x.hold({ timeout: 5 } as never), none('hold'));
      assert.equal(held(x), false);
      assert.throws(() => x.hold(5 as never), {
        name: 'TypeError',
        message: `${kind}.hold() takes no options: received 5`,
      });
      await assert.rejects(x.holdAsync({ timeout: 5 } as never), none('holdAsync'));
      assert.equal(held(x), false);
      assert.throws(() => x.run(() => 1, { timeout: 5 } as never), none('run'));
      await assert.rejects(
        x.runAsync(() => 1, { timeout: 5 } as never),
        none('runAsync'),
      );
      assert.throws(() => x.run('f' as never), {
        name: 'TypeError',
        message: `${kind}.run(fn) must be a function: received the string "f"`,
      });
      await assert.rejects(x.runAsync(undefined as never), {
        name: 'TypeError',
        message: `${kind}.runAsync(fn) must be a function: received undefined`,
      });
      assert.equal(held(x), false, 'a refused call takes nothing');
      {
        using _ = x.hold({} as never);
        assert.equal(held(x), true, 'an empty options object is no option');
      }
      assert.equal(
        x.run(() => 7, undefined as never),
        7,
      );
      assert.equal(held(x), false);
    });

    if (kind !== 'RLock') {
      test(`${kind}: a timed-out acquire leaves it in a proper state (test_state_after_timeout)`, async () => {
        const x = make();
        x.acquire();
        const start = performance.now();
        assert.equal(x.acquire({ timeout: 10 }), false);
        assertWaited(performance.now() - start, 10);
        const startAsync = performance.now();
        assert.equal(await x.acquireAsync({ timeout: 10 }), false);
        assertWaited(performance.now() - startAsync, 10);
        x.release();
        assert.equal(held(x), false);
        assert.equal(x.acquire({ blocking: false }), true);
        x.release();
      });
    }

    test(`${kind}: a timed acquire in another thread returns false after its timeout (test_timeout)`, T, async () => {
      await using threads = new Threads();
      const x = make();
      x.acquire();
      const { got, elapsed } = (await threads.run('timedAcquire', [x, SHORT_MS])) as { got: boolean; elapsed: number };
      assert.equal(got, false);
      assertWaited(elapsed, SHORT_MS);
      x.release();
      const again = (await threads.run('timedAcquire', [x, SAFETY_MS])) as { got: boolean };
      assert.equal(again.got, true);
      assert.equal(held(x), false);
    });

    test(
      `${kind}: async acquire while another thread holds it: no, timeout, then woken by its release`,
      T,
      async () => {
        await using threads = new Threads();
        const x = make();
        const gate = newGate();
        const { outcome } = threads.start('holdUntilOpen', [x, gate]);
        await meanwhile(reach(gate, ARRIVED, 1), outcome);
        assert.equal(held(x), true);
        assert.equal(await x.acquireAsync({ blocking: false }), false);
        let start = performance.now();
        assert.equal(await x.acquireAsync({ timeout: SHORT_MS }), false);
        assertWaited(performance.now() - start, SHORT_MS);
        start = performance.now();
        assert.equal(x.acquire({ timeout: 20 }), false);
        assertWaited(performance.now() - start, 20);
        const pending = x.acquireAsync();
        await meanwhile(untilSleeping(x, 1), outcome);
        open(gate);
        assert.equal(await pending, true);
        assert.equal(held(x), true);
        resultOf(await outcome);
        x.release();
        assert.equal(held(x), false);
      },
    );

    test(
      `${kind}: acquire({ blocking: false }) in another thread fails while held (test_try_acquire_contended)`,
      T,
      async () => {
        await using pool = new Pool({ processes: 1 });
        const x = make();
        x.acquire();
        assert.deepEqual(await pool.apply(syncTasks.tryAcquire, [x, 1]), [false]);
        x.release();
        assert.equal(await pool.apply(syncTasks.tryAcquireRelease, [x]), true);
        assert.equal(held(x), false);
      },
    );

    test(`${kind}: waiters blocked in other threads go through once released (test_acquire_contended)`, T, async () => {
      const N = 3;
      await using pool = new Pool({ processes: N });
      const x = make();
      const gate = newGate();
      x.acquire();
      const results = Array.from({ length: N }, () => pool.apply(syncTasks.waitAcquire, [x, gate]));
      await meanwhile(reach(gate, ARRIVED, N), ...results);
      await meanwhile(untilSleeping(x, N), ...results);
      assert.equal(Atomics.load(gate, DONE), 0, 'nobody got in while it was held');
      x.release();
      assert.deepEqual(await Promise.all(results), [true, true, true]);
      assert.equal(Atomics.load(gate, DONE), N);
      assert.equal(held(x), false);
    });

    test(`${kind}: using _ = x.hold() releases at the end of the block, even on throw (test_with)`, T, async () => {
      const x = make();
      {
        using _ = x.hold();
        assert.equal(held(x), true);
        if (kind === 'RLock') {
          using __ = x.hold();
          assert.equal(held(x), true);
        }
      }
      assert.equal(held(x), false);
      assert.throws(
        () => {
          using _ = x.hold();
          assert.equal(held(x), true);
          throw new TypeError('thrown inside the block');
        },
        { name: 'TypeError', message: 'thrown inside the block' },
      );
      assert.equal(held(x), false);
      // Another thread can take it: nothing was left behind.
      await using threads = new Threads();
      assert.equal(await threads.run('tryAcquireRelease', [x]), true);
    });

    test(`${kind}: await using _ = await x.holdAsync() releases, even on throw`, async () => {
      const x = make();
      {
        await using _ = await x.holdAsync();
        assert.equal(held(x), true);
      }
      assert.equal(held(x), false);
      await assert.rejects(
        async () => {
          await using _ = await x.holdAsync();
          assert.equal(held(x), true);
          throw new RangeError('thrown inside the async block');
        },
        { name: 'RangeError', message: 'thrown inside the async block' },
      );
      assert.equal(held(x), false);
    });

    test(`${kind}: run and runAsync return the body's value and release even when it throws`, async () => {
      const x = make();
      assert.equal(
        x.run(() => {
          assert.equal(held(x), true);
          return 42;
        }),
        42,
      );
      assert.equal(held(x), false);
      assert.throws(
        () =>
          x.run(() => {
            throw new Error('sync body');
          }),
        { message: 'sync body' },
      );
      assert.equal(held(x), false);
      assert.equal(
        await x.runAsync(async () => {
          await turns(1);
          assert.equal(held(x), true);
          return 'async value';
        }),
        'async value',
      );
      assert.equal(held(x), false);
      await assert.rejects(
        x.runAsync(async () => {
          await turns(1);
          throw new Error('async body');
        }),
        { message: 'async body' },
      );
      assert.equal(held(x), false);
      await assert.rejects(
        x.runAsync(() => {
          throw new Error('sync throw in runAsync');
        }),
        { message: 'sync throw in runAsync' },
      );
      assert.equal(held(x), false);
      assert.throws(() => x.run(5 as never), TypeError);
      await assert.rejects(x.runAsync(5 as never), TypeError);
      assert.equal(held(x), false);
    });

    test(`${kind}: crosses to a Pool task (nested, one instance per message) and comes back working`, T, async () => {
      await using pool = new Pool({ processes: 1 });
      const x = make();
      assert.deepEqual(await pool.apply(syncTasks.inspectShared, [{ deep: [x, x] }]), {
        ctor: kind,
        same: true,
        locked: false,
      });
      x.acquire();
      assert.equal((await pool.apply(syncTasks.inspectShared, [{ deep: [x, x] }])).locked, true, 'same memory');
      x.release();
      // Made on a worker, returned, and still bound to the memory the worker uses.
      const y = await pool.apply(syncTasks.make, [kind, 1]);
      assert.equal(y.constructor, x.constructor);
      assert.equal(y.acquire({ blocking: false }), true);
      assert.deepEqual(await pool.apply(syncTasks.tryAcquire, [y, 1]), [false]);
      y.release();
      assert.equal(await pool.apply(syncTasks.tryAcquireRelease, [y]), true);
    });

    test(`${kind}: mutual exclusion across Pool tasks and a plain Worker on the same memory`, T, async () => {
      const ITERATIONS = 5000;
      await using pool = new Pool({ processes: 2 });
      await using threads = new Threads();
      const x = make();
      const counter = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
      const gate = newGate();
      const done = await Promise.all([
        pool.apply(syncTasks.contend, [x, counter, ITERATIONS, 'acquire', gate, 3]),
        pool.apply(syncTasks.contend, [x, counter, ITERATIONS, kind === 'RLock' ? 'nested' : 'hold', gate, 3]),
        threads.run('contend', [x, counter, ITERATIONS, 'run', gate, 3]),
      ]);
      assert.deepEqual(done, [ITERATIONS, ITERATIONS, ITERATIONS]);
      assert.equal(counter[0], 3 * ITERATIONS, 'no increment was lost: no two critical sections overlapped');
      assert.equal(held(x), false);
    });

    test(`${kind}: a foreign buffer or the memory of another kind is refused ("invalid handle")`, T, async () => {
      const registry = currentRegistry();
      const foreign: SharedState[] = [
        { buffer: new SharedArrayBuffer(64), byteOffset: 0, registry },
        { buffer: new ArrayBuffer(64) as unknown as SharedArrayBuffer, byteOffset: 0, registry },
        { buffer: stateOf(make()).buffer, byteOffset: 2, registry },
        { buffer: stateOf(make()).buffer, byteOffset: 64, registry },
        ...KINDS.filter((k) => k !== kind).map((k) => stateOf(makers[k](1))),
      ];
      for (const state of foreign) {
        assert.throws(() => attachAs(kind, state), { name: 'TypeError', message: /invalid handle/ });
        assert.throws(() => revive({ [MARKER]: kind, state }), { name: 'TypeError', message: /invalid handle/ });
      }
      // A forged marker in workerData is refused by revive on the receiving thread too.
      await using threads = new Threads();
      const forged = { [MARKER]: kind, state: foreign.at(-1) };
      const outcome = await threads.start('inspectShared', [{ deep: [forged, forged] }]).outcome;
      assert.equal(outcome.ok, false);
      assert.equal((outcome as { name: string }).name, 'TypeError');
      assert.match((outcome as { message: string }).message, /invalid handle/);
      // Its own memory, attached again, is the same lock-like.
      const x = make();
      const again = attachAs(kind, stateOf(x));
      again.acquire();
      assert.equal(held(x), true);
      x.release();
    });

    test(`${kind}: an async waiter keeps the process alive until another thread releases`, T, async () => {
      const { stdout } = await execFileAsync(process.execPath, [keepAliveScript, kind], { timeout: 30_000 });
      assert.equal(stdout, `${kind} acquired true\n`);
    });
  }
});

describe('Lock (LockTests)', () => {
  test('is not re-entrant: a second acquire waits until another thread releases (test_reacquire)', T, async () => {
    await using pool = new Pool({ processes: 1 });
    const lock = new Lock();
    const gate = newGate();
    const second = pool.apply(syncTasks.acquireTwice, [lock, gate]);
    await meanwhile(reach(gate, ARRIVED, 1), second);
    await meanwhile(untilSleeping(lock, 1), second);
    assert.equal(Atomics.load(gate, DONE), 0);
    lock.release(); // the worker's first hold, released by this thread
    assert.equal(await second, true);
    assert.equal(lock.locked(), true);
    lock.release();
    assert.equal(lock.locked(), false);
  });

  test('may be released by a thread other than its holder (test_different_thread)', T, async () => {
    await using threads = new Threads();
    const lock = new Lock();
    lock.acquire();
    assert.equal(await threads.run('releaseIt', [lock]), 'released');
    assert.equal(lock.locked(), false);
    assert.equal(lock.acquire({ blocking: false }), true);
    lock.release();
  });

  test('a holder that dies is recovered by an async waiter, with a warning', T, async () => {
    await using threads = new Threads();
    const lock = new Lock();
    const gate = newGate();
    const { worker, outcome } = threads.start('holdForever', [lock, gate, 1]);
    await meanwhile(reach(gate, ARRIVED, 1), outcome);
    const warnings: (Error & { code?: string })[] = [];
    const onWarning = (w: Error & { code?: string }): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const pending = lock.acquireAsync({ timeout: TASK_SAFETY_MS });
      await worker.terminate();
      assert.equal(await pending, true);
      assert.equal(lock.recovered, true);
      await turns();
      assert.ok(warnings.some((w) => w.code === 'ERR_COREPOOL_OWNER_DIED' && /Lock/.test(w.message)));
      lock.release();
      assert.equal(lock.recovered, false);
      assert.equal(lock.locked(), false);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('RLock (RLockTests, _TestLock.test_rlock)', () => {
  test('re-enters: each acquire needs its release (test_rlock, test_reacquire)', () => {
    const rlock = new RLock();
    assert.equal(rlock.acquire(), true);
    assert.equal(rlock.acquire(), true);
    assert.equal(rlock.acquire(), true);
    assert.equal(rlock.release(), undefined);
    assert.equal(rlock.release(), undefined);
    assert.equal(rlock.locked(), true);
    assert.equal(rlock.release(), undefined);
    assert.equal(rlock.locked(), false);
    assert.throws(() => rlock.release(), LockStateError);
    rlock.acquire();
    rlock.acquire();
    rlock.release();
    rlock.acquire();
    rlock.release();
    rlock.release();
    assert.equal(rlock.locked(), false);
  });

  test('release of an unacquired RLock throws, before and after use (test_release_unacquired)', () => {
    const rlock = new RLock();
    assert.throws(() => rlock.release(), { name: 'LockStateError', message: /unlocked RLock/ });
    rlock.acquire();
    rlock.acquire();
    rlock.release();
    rlock.acquire();
    rlock.release();
    rlock.release();
    assert.throws(() => rlock.release(), LockStateError);
  });

  test('the recursion count: other threads wait until the last release', T, async () => {
    await using threads = new Threads();
    const rlock = new RLock();
    for (let i = 0; i < 3; i++) rlock.acquire();
    rlock.release();
    rlock.release();
    assert.equal(rlock.isOwned(), true);
    assert.match(inspect(rlock), /count: 1/);
    assert.equal(await threads.run('tryAcquireRelease', [rlock]), false);
    rlock.release();
    assert.equal(rlock.locked(), false);
    assert.equal(await threads.run('tryAcquireRelease', [rlock]), true);
  });

  test('async re-entry on the owning thread counts as the owner', async () => {
    const rlock = new RLock();
    rlock.acquire();
    assert.equal(await rlock.acquireAsync(), true);
    assert.equal(await rlock.acquireAsync({ blocking: false }), true);
    assert.equal(await rlock.acquireAsync({ timeout: 0 }), true);
    {
      await using _ = await rlock.holdAsync();
      assert.match(inspect(rlock), /count: 5/);
    }
    for (let i = 0; i < 4; i++) rlock.release();
    assert.equal(rlock.locked(), false);
    assert.throws(() => rlock.release(), LockStateError);
  });

  test(
    'release by a thread that does not own it throws LockStateError, both ways (test_different_thread)',
    T,
    async () => {
      await using threads = new Threads();
      await using pool = new Pool({ processes: 1 });
      const rlock = new RLock();
      // Owned here, released there.
      rlock.acquire();
      const outcome = await threads.start('releaseIt', [rlock]).outcome;
      assert.equal(outcome.ok, false);
      assert.equal((outcome as { name: string }).name, 'LockStateError');
      assert.match((outcome as { message: string }).message, /owned by thread/);
      await assert.rejects(pool.apply(syncTasks.releaseIt, [rlock]), (err: unknown) => {
        assert.ok(err instanceof LockStateError);
        assert.equal(err.code, 'ERR_COREPOOL_LOCK_STATE');
        return true;
      });
      assert.equal(rlock.isOwned(), true);
      rlock.release();
      // Owned there, released here.
      const gate = newGate();
      const held2 = threads.start('holdUntilOpen', [rlock, gate, 2]);
      await meanwhile(reach(gate, ARRIVED, 1), held2.outcome);
      assert.throws(() => rlock.release(), {
        name: 'LockStateError',
        message: /owned by thread \d+, not by this thread/,
      });
      assert.equal(rlock.locked(), true);
      assert.equal(rlock.isOwned(), false);
      assert.equal(rlock.acquire({ blocking: false }), false);
      open(gate);
      resultOf(await held2.outcome);
      assert.equal(rlock.locked(), false);
    },
  );

  test('isOwned() is true on the owning thread only (test__is_owned)', T, async () => {
    await using pool = new Pool({ processes: 1 });
    const rlock = new RLock();
    assert.equal(rlock.isOwned(), false);
    rlock.acquire();
    assert.equal(rlock.isOwned(), true);
    rlock.acquire();
    assert.equal(rlock.isOwned(), true);
    assert.equal(await pool.apply(syncTasks.isOwnedHere, [rlock]), false);
    rlock.release();
    assert.equal(rlock.isOwned(), true);
    rlock.release();
    assert.equal(rlock.isOwned(), false);
  });

  test('an owner that dies is recovered by an async waiter: recovered, count reset to 1, warning', T, async () => {
    await using threads = new Threads();
    const rlock = new RLock();
    const gate = newGate();
    const { worker, outcome } = threads.start('holdForever', [rlock, gate, 3]);
    await meanwhile(reach(gate, ARRIVED, 1), outcome);
    assert.equal(rlock.locked(), true);
    assert.equal(rlock.recovered, false);
    const warnings: (Error & { code?: string })[] = [];
    const onWarning = (w: Error & { code?: string }): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const pending = rlock.acquireAsync({ timeout: TASK_SAFETY_MS });
      await worker.terminate();
      assert.equal(await pending, true);
      assert.equal(rlock.recovered, true);
      assert.equal(rlock.isOwned(), true);
      await turns();
      const warning = warnings.find((w) => w.code === 'ERR_COREPOOL_OWNER_DIED');
      assert.ok(warning, `no ERR_COREPOOL_OWNER_DIED warning among ${inspect(warnings)}`);
      assert.equal(warning.name, 'OwnerDiedWarning');
      assert.match(warning.message, /RLock/);
      // The dead owner's three levels died with it: one release unlocks.
      rlock.release();
      assert.equal(rlock.locked(), false);
      assert.equal(rlock.recovered, false, 'cleared by the release');
      assert.equal(rlock.acquire({ blocking: false }), true);
      assert.equal(rlock.recovered, false, 'a normal acquire is not a recovery');
      rlock.release();
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('an owner that dies is recovered by a waiter blocked in another thread', T, async () => {
    await using threads = new Threads();
    const rlock = new RLock();
    const holderGate = newGate();
    const waiterGate = newGate();
    const holder = threads.start('holdForever', [rlock, holderGate, 2]);
    await meanwhile(reach(holderGate, ARRIVED, 1), holder.outcome);
    const waiter = threads.start('acquireReporting', [rlock, waiterGate]);
    await meanwhile(reach(waiterGate, ARRIVED, 1), holder.outcome, waiter.outcome);
    await meanwhile(untilSleeping(rlock, 1), holder.outcome, waiter.outcome);
    await holder.worker.terminate();
    assert.deepEqual(resultOf(await waiter.outcome), {
      got: true,
      recovered: true,
      depthOne: true,
      codes: ['ERR_COREPOOL_OWNER_DIED'],
    });
    assert.equal(rlock.locked(), false);
  });
});

describe('Semaphore and BoundedSemaphore (BaseSemaphoreTests, _TestSemaphore)', () => {
  for (const kind of SEMAPHORES) {
    const Cls = kind === 'Semaphore' ? Semaphore : BoundedSemaphore;

    test(`${kind}: a bad initial value is refused, naming the argument (test_constructor)`, () => {
      for (const value of [-1, -Number.MAX_SAFE_INTEGER, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
        assert.throws(() => new Cls(value), { name: 'RangeError', message: new RegExp(`^${kind}\\(value\\)`) });
      }
      assert.throws(() => new Cls(-1), { message: /must be an integer >= 0: received -1/ });
      assert.throws(() => new Cls('2' as never), {
        name: 'TypeError',
        message: `${kind}(value) must be an integer: received the string "2"`,
      });
      assert.equal(new Cls(0).getValue(), 0);
      assert.equal(new Cls(2 ** 31 - 1).getValue(), 2 ** 31 - 1);
    });

    test(`${kind}: the default value is 1 (test_default_value)`, () => {
      const sem = new Cls();
      assert.equal(sem.getValue(), 1);
      assert.equal(sem.acquire({ blocking: false }), true);
      assert.equal(sem.acquire({ blocking: false }), false);
      sem.release();
    });

    test(`${kind}: counts down on acquire and up on release (_test_semaphore)`, () => {
      const sem = new Cls(2);
      assert.equal(sem.getValue(), 2);
      assert.equal(sem.acquire(), true);
      assert.equal(sem.getValue(), 1);
      assert.equal(sem.acquire(), true);
      assert.equal(sem.getValue(), 0);
      assert.equal(sem.acquire({ blocking: false }), false);
      assert.equal(sem.getValue(), 0);
      assert.equal(sem.release(), undefined);
      assert.equal(sem.getValue(), 1);
      assert.equal(sem.release(), undefined);
      assert.equal(sem.getValue(), 2);
      if (kind === 'Semaphore') {
        // test_semaphore: an unbounded semaphore goes on counting.
        assert.equal(sem.release(), undefined);
        assert.equal(sem.getValue(), 3);
        assert.equal(sem.release(), undefined);
        assert.equal(sem.getValue(), 4);
      } else {
        // test_bounded_semaphore: not past the initial value; nothing changes.
        assert.throws(() => sem.release(), { name: 'LockStateError', message: /released too many times/ });
        assert.equal(sem.getValue(), 2);
      }
    });

    test(`${kind}: acquire({ blocking: false }) (test_try_acquire, test_acquire)`, () => {
      const sem = new Cls(2);
      assert.equal(sem.acquire({ blocking: false }), true);
      assert.equal(sem.acquire({ blocking: false }), true);
      assert.equal(sem.acquire({ blocking: false }), false);
      sem.release();
      assert.equal(sem.acquire({ blocking: false }), true);
      sem.release(2);
      assert.equal(sem.getValue(), 2);
    });

    test(`${kind}: timeouts (test_acquire_timeout, _TestSemaphore.test_timeout)`, async () => {
      const sem = new Cls(2);
      assert.throws(() => sem.acquire({ blocking: false, timeout: 1000 }), TypeError);
      assert.equal(sem.acquire({ timeout: 5 }), true);
      assert.equal(sem.acquire({ timeout: 5 }), true);
      assert.equal(sem.acquire({ timeout: 5 }), false);
      sem.release();
      assert.equal(sem.acquire({ timeout: 5 }), true);
      let start = performance.now();
      assert.equal(sem.acquire({ timeout: SHORT_MS }), false);
      assertWaited(performance.now() - start, SHORT_MS);
      start = performance.now();
      assert.equal(sem.acquire({ blocking: true, timeout: SHORT_MS }), false);
      assertWaited(performance.now() - start, SHORT_MS);
      start = performance.now();
      assert.equal(await sem.acquireAsync({ timeout: SHORT_MS }), false);
      assertWaited(performance.now() - start, SHORT_MS);
      assert.equal(sem.acquire({ blocking: false }), false);
      assert.equal(await sem.acquireAsync({ blocking: false }), false);
      assert.equal(sem.getValue(), 0);
    });

    test(
      `${kind}: acquire({ blocking: false }) from other threads takes exactly what is left (test_try_acquire_contended)`,
      T,
      async () => {
        await using pool = new Pool({ processes: 2 });
        const sem = new Cls(4);
        sem.acquire();
        const results = await Promise.all(Array.from({ length: 5 }, () => pool.apply(syncTasks.tryAcquire, [sem, 2])));
        assert.deepEqual(results.flat().sort(), [...Array<boolean>(7).fill(false), ...Array<boolean>(3).fill(true)]);
        assert.equal(sem.getValue(), 0);
      },
    );

    test(`${kind}: nested hold (test_with)`, () => {
      const sem = new Cls(2);
      const body = (err?: Error): void => {
        using _ = sem.hold();
        assert.equal(sem.acquire({ blocking: false }), true);
        sem.release();
        using __ = sem.hold();
        assert.equal(sem.acquire({ blocking: false }), false);
        if (err) throw err;
      };
      body();
      assert.equal(sem.getValue(), 2);
      assert.throws(() => body(new TypeError('inside')), TypeError);
      assert.equal(sem.getValue(), 2);
    });

    test(`${kind}: release(n) adds n; a bad n is refused, naming it`, () => {
      const sem = new Cls(3);
      for (let i = 0; i < 3; i++) sem.acquire();
      for (const n of [0, -1, 1.5, Number.NaN]) {
        assert.throws(() => sem.release(n), { name: 'RangeError', message: new RegExp(`^${kind}\\.release\\(n\\)`) });
      }
      assert.throws(() => sem.release('1' as never), {
        name: 'TypeError',
        message: `${kind}.release(n) must be an integer: received the string "1"`,
      });
      assert.throws(() => sem.release({ n: 2 } as never), {
        name: 'TypeError',
        message: `${kind}.release(n) must be an integer: received an object`,
      });
      assert.equal(sem.getValue(), 0, 'a refused release changes nothing');
      if (kind === 'BoundedSemaphore') {
        assert.throws(() => sem.release(4), LockStateError);
        assert.equal(sem.getValue(), 0);
        sem.release(2);
        assert.throws(() => sem.release(2), { name: 'LockStateError', message: /initial value 3/ });
        assert.equal(sem.getValue(), 2);
        sem.release(1);
        assert.equal(sem.getValue(), 3);
      } else {
        sem.release(5);
        assert.equal(sem.getValue(), 5);
        const full = new Semaphore(2 ** 31 - 1);
        assert.throws(() => full.release(), RangeError);
        assert.equal(full.getValue(), 2 ** 31 - 1);
      }
    });

    test(`${kind}: release(n) wakes up to n waiters blocked in other threads`, T, async () => {
      const N = 3;
      await using pool = new Pool({ processes: N });
      const sem = new Cls(N);
      for (let i = 0; i < N; i++) sem.acquire();
      const gate = newGate();
      const results = Array.from({ length: N }, () => pool.apply(syncTasks.acquireLogged, [sem, gate, 1]));
      await meanwhile(reach(gate, ARRIVED, N), ...results);
      await meanwhile(untilSleeping(sem, N), ...results);
      assert.equal(Atomics.load(gate, DONE), 0);
      sem.release(2);
      await meanwhile(reach(gate, DONE, 2), ...results);
      await meanwhile(untilSleeping(sem, 1), ...results);
      assert.equal(Atomics.load(gate, DONE), 2, 'release(2) let exactly two through');
      assert.equal(sem.getValue(), 0);
      sem.release(1);
      assert.deepEqual(await Promise.all(results), [1, 1, 1]);
      assert.equal(sem.getValue(), 0);
    });

    test(`${kind}: waiters go through in the phase that released them (test_acquire_contended)`, T, async () => {
      const TASKS = 4;
      await using pool = new Pool({ processes: TASKS });
      const sem = new Cls(3);
      sem.acquire();
      const gate = newGate();
      let finished = 0;
      const results = Array.from({ length: TASKS }, () =>
        pool.apply(syncTasks.acquireLogged, [sem, gate, 2]).then((n) => {
          finished++;
          return n;
        }),
      );
      // Settled: `logged` acquisitions happened and every unfinished task sleeps.
      const settle = async (logged: number): Promise<void> => {
        await meanwhile(reach(gate, DONE, logged), ...results);
        await meanwhile(
          until(() => sleepers(sem) + finished === TASKS, 'every unfinished task sleeps'),
          ...results,
        );
        assert.equal(Atomics.load(gate, DONE), logged);
      };
      await meanwhile(reach(gate, ARRIVED, TASKS), ...results);
      await settle(2);
      assert.deepEqual(loggedPhases(gate), [0, 0]);
      Atomics.store(gate, PHASE, 1);
      sem.release(3);
      await settle(5);
      assert.deepEqual(loggedPhases(gate), [0, 0, 1, 1, 1]);
      Atomics.store(gate, PHASE, 2);
      sem.release();
      sem.release();
      await settle(7);
      assert.deepEqual(loggedPhases(gate), [0, 0, 1, 1, 1, 2, 2]);
      assert.equal(sem.acquire({ blocking: false }), false, 'still taken');
      sem.release();
      assert.deepEqual(await Promise.all(results), [2, 2, 2, 2]);
      assert.equal(sem.getValue(), 0);
    });

    test(`${kind}: async waiters on this thread are woken by releases from another thread`, T, async () => {
      await using pool = new Pool({ processes: 1 });
      const sem = new Cls(3);
      for (let i = 0; i < 3; i++) sem.acquire();
      let got = 0;
      const waiters = Array.from({ length: 3 }, () =>
        sem.acquireAsync({ timeout: TASK_SAFETY_MS }).then((ok) => {
          if (ok) got++;
          return ok;
        }),
      );
      await untilSleeping(sem, 3);
      assert.equal(await pool.apply(syncTasks.releaseIt, [sem, 2]), 'released');
      await until(() => got === 2, 'two async waiters got a unit');
      await untilSleeping(sem, 1);
      assert.equal(got, 2);
      assert.equal(sem.getValue(), 0);
      sem.release();
      assert.deepEqual(await Promise.all(waiters), [true, true, true]);
      assert.equal(sem.getValue(), 0);
    });
  }

  test('units released in a worker are seen here: one memory, any thread may release', T, async () => {
    await using pool = new Pool({ processes: 1 });
    const sem = new Semaphore(0);
    assert.equal(await pool.apply(syncTasks.releaseIt, [sem, 3]), 'released');
    assert.equal(sem.getValue(), 3);
    assert.deepEqual(await pool.apply(syncTasks.tryAcquire, [sem, 4]), [true, true, true, false]);
    assert.equal(sem.getValue(), 0);
  });

  test('a Semaphore and a BoundedSemaphore refuse each other memory', () => {
    const sem = new Semaphore(1);
    const bounded = new BoundedSemaphore(1);
    assert.throws(() => new Semaphore(undefined, stateOf(bounded)), /invalid handle.*not a Semaphore/);
    assert.throws(() => new BoundedSemaphore(undefined, stateOf(sem)), /invalid handle.*not a BoundedSemaphore/);
  });
});
