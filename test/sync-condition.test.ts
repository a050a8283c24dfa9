/**
 * `Condition`: CPython's `lock_tests.ConditionTests` and
 * `_test_multiprocessing._TestCondition`, ported, plus what the shared-memory
 * design must guarantee: notify(n) counts, timed-out waiters that do not
 * swallow later notifies, the RLock recursion level kept across `wait`, and
 * a producer/consumer across threads with exact counts.
 *
 * Waiters run as pool tasks (`fixtures/sync-ev-tasks.ts`), plain workers and
 * async waits on the main thread. A waiter counts its arrival while it holds
 * the lock, just before `wait()`; `wait()` takes its place in line before it
 * releases the lock, so once the main thread has seen n arrivals *and*
 * acquired the lock, n waiters are in line. No sleeps.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Condition, Lock, LockStateError, Pool, RLock } from '../src/index.js';
import { bump, entries, ints, newLog, reach, SAFETY_MS } from './fixtures/sync-ev-helpers.js';
import { finish, startWorker } from './fixtures/sync-ev-run.js';
import { type Channel, type NotifyBook, syncTasks, type WaiterBook } from './fixtures/sync-ev-tasks.js';

const T = { timeout: 60_000 };

function assertWaited(actual: number, expected: number): void {
  assert.ok(actual >= expected * 0.6, `waited ${actual.toFixed(1)} ms, expected about ${expected} ms`);
}

/** `count` copies of `value`. */
const times = <V>(count: number, value: V): V[] => Array(count).fill(value);

test('acquire/release go to the lock: RLock by default, or the given Lock (ConditionTests.test_acquire)', () => {
  let cond = new Condition();
  cond.acquire();
  cond.acquire();
  cond.release();
  cond.release();
  assert.throws(() => cond.release(), LockStateError);

  const lock = new Lock();
  cond = new Condition(lock);
  cond.acquire();
  assert.equal(lock.acquire({ blocking: false }), false);
  cond.release();
  assert.equal(lock.acquire({ blocking: false }), true);
  assert.equal(cond.acquire({ blocking: false }), false);
  lock.release();
  {
    using _ = cond.hold();
    assert.equal(lock.acquire({ blocking: false }), false);
  }
  assert.equal(lock.locked(), false);
  assert.equal(
    cond.run(() => lock.locked()),
    true,
  );
  // A condition over a condition shares its lock.
  const outer = new Condition(cond);
  outer.acquire();
  assert.equal(lock.locked(), true);
  outer.release();
});

test(
  'wait/notify without the lock throw LockStateError (test_unacquired_wait, test_unacquired_notify)',
  T,
  async () => {
    for (const cond of [new Condition(), new Condition(new Lock())]) {
      assert.throws(() => cond.wait(), { name: 'LockStateError', message: 'cannot wait on un-acquired lock' });
      assert.throws(() => cond.wait(10), LockStateError);
      await assert.rejects(cond.waitAsync(), { name: 'LockStateError', code: 'ERR_COREPOOL_LOCK_STATE' });
      assert.throws(() => cond.notify(), { name: 'LockStateError', message: 'cannot notify on un-acquired lock' });
      assert.throws(() => cond.notifyAll(), LockStateError);
      assert.throws(() => cond.waitFor(() => false, 10), LockStateError);
      await assert.rejects(
        cond.waitForAsync(() => false),
        LockStateError,
      );
      // A predicate that holds already needs no wait, hence no lock (as Python).
      assert.equal(
        cond.waitFor(() => 7),
        7,
      );
    }
    // An RLock held by another thread is not held by this one.
    await using pool = new Pool({ processes: 1 });
    const cond = new Condition();
    assert.equal(typeof (await pool.apply(syncTasks.condAcquireAndKeep, [{ cond }])), 'number');
    assert.throws(() => cond.notify(), { message: 'cannot notify on un-acquired lock' });
  },
);

test(
  'bad arguments: timeouts TypeError/RangeError, notify(n) RangeError/TypeError, predicate and lock TypeError',
  T,
  async () => {
    const cond = new Condition();
    cond.acquire();
    try {
      for (const bad of [-1, Number.NaN]) {
        assert.throws(() => cond.wait(bad), RangeError);
        await assert.rejects(cond.waitAsync(bad), RangeError);
        assert.throws(() => cond.waitFor(() => false, bad), RangeError);
      }
      const wrong = (method: string, shown: string) => ({
        name: 'TypeError',
        message: `Condition.${method}(timeout) must be a non-negative number of milliseconds: received ${shown}`,
      });
      assert.throws(() => cond.wait('5' as never), wrong('wait', 'the string "5"'));
      await assert.rejects(cond.waitAsync({ timeout: 5 } as never), wrong('waitAsync', 'an object'));
      assert.throws(() => cond.waitFor(() => false, '5' as never), wrong('waitFor', 'the string "5"'));
      await assert.rejects(
        cond.waitForAsync(() => false, null as never),
        wrong('waitForAsync', 'null'),
      );
      assert.throws(() => cond.notify(-1), RangeError);
      assert.throws(() => cond.notify(1.5), RangeError);
      assert.throws(() => cond.notify(Number.NaN), RangeError);
      assert.throws(() => cond.notify('2' as never), {
        name: 'TypeError',
        message: 'Condition.notify(n) must be a number: received the string "2"',
      });
      assert.throws(() => cond.notify({ n: 2 } as never), {
        name: 'TypeError',
        message: 'Condition.notify(n) must be a number: received an object',
      });
      cond.notify(0);
      cond.notify(Number.POSITIVE_INFINITY);
      assert.throws(() => cond.waitFor(true as never), {
        name: 'TypeError',
        message: 'Condition.waitFor(predicate) must be a function: received true',
      });
      await assert.rejects(cond.waitForAsync('x' as never), {
        name: 'TypeError',
        message: 'Condition.waitForAsync(predicate) must be a function: received the string "x"',
      });
    } finally {
      cond.release();
    }
    assert.throws(() => new Condition({} as never), {
      name: 'TypeError',
      message: /^Condition\(lock\) must be a corepool Lock, RLock or other lock-like: received an object$/,
    });
    assert.throws(() => new Condition('lock' as never), { name: 'TypeError', message: /received the string "lock"$/ });
  },
);

test('Condition.acquire: an unknown option is refused before any waiting, naming Condition (issue 10)', {
  timeout: 30_000,
}, async () => {
  const lock = new Lock();
  const cond = new Condition(lock);
  const message = (method: string): string =>
    `options.timeot is not a Condition.${method}() option (known: blocking, timeout); did you mean timeout?`;
  assert.throws(() => cond.acquire({ timeot: 5 } as never), { name: 'TypeError', message: message('acquire') });
  assert.throws(() => cond.hold({ timeout: 5 } as never), {
    name: 'TypeError',
    message: 'options.timeout is not a Condition.hold() option (known: none)',
  });
  assert.equal(lock.locked(), false, 'a refused acquire takes nothing');
  lock.acquire(); // held: a Lock is not re-entrant, so an acquire that got past the check would wait
  try {
    // Beside a real timeout, an unchecked key would make this wait 100 ms and return false.
    assert.throws(() => cond.acquire({ timeout: 100, timeot: 5 } as never), {
      name: 'TypeError',
      message: message('acquire'),
    });
    const p = cond.acquireAsync({ timeot: 5 } as never);
    assert.ok(p instanceof Promise, 'the async form rejects, it does not throw');
    const settled = await Promise.race([
      p.then(
        () => 'acquired',
        (err: unknown) => err,
      ),
      new Promise((resolve) => setTimeout(resolve, 1000, 'still waiting')),
    ]);
    assert.ok(settled instanceof TypeError, `acquireAsync({ timeot: 5 }) gave ${String(settled)}`);
    assert.equal(settled.message, message('acquireAsync'));
    assert.throws(() => cond.acquire('yes' as never), {
      name: 'TypeError',
      message: 'Condition.acquire(): options must be an object: received the string "yes"',
    });
  } finally {
    lock.release();
  }
});

/**
 * ConditionTests._check_notify: five waiters, each waiting twice; notify(3),
 * then notify(5) (two in their first wait, three in their second), then
 * notifyAll(). Every result is logged with the phase the main thread had set.
 */
async function checkNotify(pool: Pool, cond: Condition): Promise<void> {
  const N = 5;
  const book: NotifyBook = { arrivals: ints(1), phase: ints(1), results1: newLog(N), results2: newLog(N) };
  const tasks = Array.from({ length: N }, () => pool.apply(syncTasks.checkNotifyWaiter, [cond, book]));
  const phase = async (phaseNum: number, notify: () => void): Promise<void> => {
    await cond.acquireAsync();
    notify();
    Atomics.store(book.phase, 0, phaseNum);
    cond.release();
  };
  await reach(book.arrivals, 0, N, 'first waits');
  await phase(1, () => cond.notify(3));
  // The three woken wait again: 8 waits begun.
  await reach(book.arrivals, 0, N + 3, 'second waits of the woken');
  await cond.acquireAsync(); // ...and all eight are in line
  cond.release();
  assert.deepEqual(entries(book.results1), times(3, 11));
  assert.deepEqual(entries(book.results2), []);

  await phase(2, () => cond.notify(5));
  await reach(book.arrivals, 0, N + 5, 'second waits of the rest');
  await reach(book.results2, 0, 3, 'second results');
  await cond.acquireAsync();
  cond.release();
  assert.deepEqual(entries(book.results1), [...times(3, 11), ...times(2, 21)]);
  assert.deepEqual(entries(book.results2), times(3, 21));

  await phase(3, () => cond.notifyAll());
  await Promise.all(tasks);
  assert.deepEqual(entries(book.results1), [...times(3, 11), ...times(2, 21)]);
  assert.deepEqual(entries(book.results2), [...times(3, 21), ...times(2, 31)]);
}

test(
  'notify(3), notify(5), notifyAll wake exactly those counts, twice over (ConditionTests.test_notify)',
  T,
  async () => {
    await using pool = new Pool({ processes: 5 });
    for (const cond of [new Condition(), new Condition(new Lock())]) {
      await checkNotify(pool, cond);
      // A second time, to check the internal state is still right.
      await checkNotify(pool, cond);
    }
  },
);

test(
  'notify(2), notify(4), notify(3) with six waiters: 2, then 6, then still 6 woken (_TestCondition.test_notify_n)',
  T,
  async () => {
    await using pool = new Pool({ processes: 5 });
    const cond = new Condition();
    const book: WaiterBook = { counts: ints(2), phase: ints(1) };
    // Five pool tasks and one async waiter on the main thread.
    const tasks = Array.from({ length: 5 }, () => pool.apply(syncTasks.condWaiter, [cond, book]));
    await reach(book.counts, 0, 5, 'sleeping');
    await cond.acquireAsync();
    const local = (async () => {
      bump(book.counts, 0);
      const result = await cond.waitAsync(SAFETY_MS);
      bump(book.counts, 1); // notifies: `reach` below may be waiting on this slot
      const phase = Atomics.load(book.phase, 0);
      cond.release();
      return [result, phase] as [boolean, number];
    })();
    // The main thread's wait is in line now; take the lock back to notify.
    await cond.acquireAsync();
    assert.equal(Atomics.load(book.counts, 1), 0, 'nobody woke before a notify');
    cond.notify(2);
    Atomics.store(book.phase, 0, 1);
    cond.release();
    await reach(book.counts, 1, 2, 'woken');
    await cond.acquireAsync();
    cond.notify(4);
    Atomics.store(book.phase, 0, 2);
    cond.release();
    const results = await Promise.all([...tasks, local]);
    assert.equal(Atomics.load(book.counts, 1), 6);
    assert.deepEqual(results.map(([r]) => r).sort(), times(6, true));
    assert.deepEqual(results.map(([, p]) => p).sort(), [1, 1, 2, 2, 2, 2]);
    await cond.acquireAsync();
    cond.notify(3); // nobody left: a no-op
    cond.release();
    assert.equal(Atomics.load(book.counts, 1), 6);
  },
);

test('six waiters time out, then six more are all woken by notifyAll (_TestCondition.test_notify_all)', T, async () => {
  await using pool = new Pool({ processes: 6 });
  const cond = new Condition();
  const book: WaiterBook = { counts: ints(2), phase: ints(1) };
  const timedOut = await Promise.all(
    Array.from({ length: 6 }, () => pool.apply(syncTasks.condWaiter, [cond, book, 50])),
  );
  assert.deepEqual(timedOut, times(6, [false, 0]));
  assert.equal(Atomics.load(book.counts, 1), 6);

  Atomics.store(book.counts, 0, 0);
  Atomics.store(book.counts, 1, 0);
  const tasks = Array.from({ length: 6 }, () => pool.apply(syncTasks.condWaiter, [cond, book]));
  await reach(book.counts, 0, 6, 'sleeping');
  await cond.acquireAsync();
  assert.equal(Atomics.load(book.counts, 1), 0);
  cond.notifyAll();
  Atomics.store(book.phase, 0, 1);
  cond.release();
  assert.deepEqual(await Promise.all(tasks), times(6, [true, 1]));
});

test('a waiter that timed out does not swallow a later notify meant for one behind it', T, async () => {
  await using pool = new Pool({ processes: 3 });
  const cond = new Condition(new Lock());
  const book: WaiterBook = { counts: ints(2), phase: ints(1) };
  // In line, in this order: A (no timeout), B (times out), C (no timeout).
  const a = pool.apply(syncTasks.condWaiter, [cond, book]);
  await reach(book.counts, 0, 1);
  const b = pool.apply(syncTasks.condWaiter, [cond, book, 30]);
  await reach(book.counts, 0, 2);
  const c = pool.apply(syncTasks.condWaiter, [cond, book]);
  await reach(book.counts, 0, 3);
  assert.deepEqual(await b, [false, 0]);
  for (const phase of [1, 2]) {
    await cond.acquireAsync();
    cond.notify(1);
    Atomics.store(book.phase, 0, phase);
    cond.release();
    await reach(book.counts, 1, phase + 1, 'woken');
  }
  assert.deepEqual([await a, await c].sort(), [
    [true, 1],
    [true, 2],
  ]);
});

test(
  'timed waits return false after the timeout (ConditionTests.test_timeout, _TestCondition.test_timeout)',
  T,
  async () => {
    await using pool = new Pool({ processes: 5 });
    const cond = new Condition();
    const results = await Promise.all(Array.from({ length: 5 }, () => pool.apply(syncTasks.condTimed, [cond, 100])));
    for (const [result, dt] of results) {
      assert.equal(result, false);
      assertWaited(dt, 100);
    }
    cond.acquire();
    const start = performance.now();
    assert.equal(cond.wait(50), false);
    assertWaited(performance.now() - start, 50);
    cond.release();
  },
);

test('waitFor returns once the predicate holds (ConditionTests.test_waitfor)', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const cond = new Condition();
  const state = ints(1);
  const waiter = pool.apply(syncTasks.condWaitFor, [cond, state, 4]);
  for (let i = 0; i < 4; i++) {
    await cond.acquireAsync();
    Atomics.add(state, 0, 1);
    cond.notify();
    cond.release();
  }
  const [result, seen] = await waiter;
  assert.equal(result, true);
  assert.equal(seen, 4);
});

test('waitFor returns the false predicate after its timeout (ConditionTests.test_waitfor_timeout)', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const cond = new Condition();
  const state = ints(1);
  const waiter = pool.apply(syncTasks.condWaitFor, [cond, state, 4, 100]);
  // Only three increments: state 4 is never reached.
  for (let i = 0; i < 3; i++) {
    await cond.acquireAsync();
    Atomics.add(state, 0, 1);
    cond.notify();
    cond.release();
  }
  const [result, seen, dt] = await waiter;
  assert.equal(result, false);
  assert.equal(seen, 3);
  assertWaited(dt, 100);
  // The predicate's last value is returned as it is (Python's wait_for).
  await cond.acquireAsync();
  try {
    assert.equal(
      cond.waitFor(() => 0, 10),
      0,
    );
    assert.equal(await cond.waitForAsync(async () => '', 10), '');
    assert.equal(await cond.waitForAsync(() => 'ok'), 'ok');
  } finally {
    cond.release();
  }
});

test('waitFor on both sides of a pool task (_TestCondition.test_waitfor)', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const cond = new Condition();
  const state = ints(1);
  Atomics.store(state, 0, -1);
  const child = pool.apply(syncTasks.condWaitForFour, [cond, state]);
  await cond.acquireAsync();
  try {
    assert.equal(await cond.waitForAsync(() => Atomics.load(state, 0) === 0, SAFETY_MS), true);
    assert.equal(Atomics.load(state, 0), 0);
  } finally {
    cond.release();
  }
  for (let i = 0; i < 4; i++) {
    await cond.runAsync(() => {
      Atomics.add(state, 0, 1);
      cond.notify();
    });
  }
  assert.equal(await child, true);
});

test(
  'wait(0) and wait(ms) are false; a plain worker notify makes waitAsync true (_TestCondition.test_wait_result)',
  T,
  async () => {
    const cond = new Condition();
    await cond.acquireAsync();
    try {
      assert.equal(cond.wait(0), false);
      assert.equal(await cond.waitAsync(0), false);
      assert.equal(cond.wait(10), false);
      // The worker can take the lock only once this wait has released it.
      const notifier = startWorker({ scenario: 'condition-notify', cond });
      try {
        assert.equal(await cond.waitAsync(60_000), true);
      } finally {
        await finish(notifier);
      }
    } finally {
      cond.release();
    }
  },
);

test('wait releases every level of an RLock and restores them (Python _release_save/_acquire_restore)', T, async () => {
  const lock = new RLock();
  const cond = new Condition(lock);
  cond.acquire();
  cond.acquire();
  cond.acquire();
  // The worker blocks on the RLock until this wait has released all three levels.
  const notifier = startWorker({ scenario: 'condition-notify', cond });
  try {
    assert.equal(await cond.waitAsync(SAFETY_MS), true);
  } finally {
    await finish(notifier);
  }
  assert.equal(lock.isOwned(), true);
  cond.release();
  cond.release();
  assert.equal(lock.isOwned(), true);
  cond.release();
  assert.equal(lock.locked(), false);
  assert.throws(() => cond.release(), LockStateError);
});

test('async waiters and their notifier on one thread, default RLock: the recursion count stays right', T, async () => {
  // An RLock is owned by the thread, so async code on the thread that holds it
  // re-enters it: the waiters below take the lock back while this code still
  // holds it. Their levels must be added to ours, and a waiter that finds no
  // signal must give back only its own.
  const lock = new RLock();
  const cond = new Condition(lock);
  await cond.acquireAsync();
  const first = cond.waitAsync(SAFETY_MS);
  await cond.acquireAsync();
  const second = cond.waitAsync(SAFETY_MS);
  assert.equal(lock.locked(), false, 'both waits released the lock');
  cond.acquire();
  cond.notify(1); // wakes both sleepers; one signal between them
  const winner = await Promise.race([first, second]);
  assert.equal(winner, true);
  // Ours and the winner's: two levels; the loser went back to sleep with none.
  cond.release();
  assert.equal(lock.isOwned(), true);
  cond.release();
  assert.equal(lock.locked(), false);
  await cond.acquireAsync();
  cond.notify();
  cond.release();
  assert.deepEqual(await Promise.all([first, second]), [true, true]);
  cond.release();
  assert.equal(lock.locked(), false);
  assert.throws(() => cond.release(), LockStateError);
});

test('the condition and its lock travel together to a pool worker', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const lock = new Lock();
  const cond = new Condition(lock);
  const thread = await pool.apply(syncTasks.condAcquireAndKeep, [{ cond }]);
  assert.equal(typeof thread, 'number');
  assert.equal(lock.locked(), true, 'the worker holds the main thread lock');
  lock.release(); // a Lock may be released by any thread
});

test(
  'producer/consumer over one Lock and two Conditions across four threads: every item once, in order per producer',
  T,
  async () => {
    await using pool = new Pool({ processes: 4 });
    const lock = new Lock();
    const capacity = 8;
    const ch: Channel = {
      notEmpty: new Condition(lock),
      notFull: new Condition(lock),
      ring: ints(2 + capacity),
      capacity,
    };
    const perProducer = 2_000;
    const consumers = [pool.apply(syncTasks.consume, [ch]), pool.apply(syncTasks.consume, [ch])];
    await Promise.all([
      pool.apply(syncTasks.produce, [ch, 1, perProducer]),
      pool.apply(syncTasks.produce, [ch, 2, perProducer]),
    ]);
    // One end marker per consumer, put from the main thread.
    for (let i = 0; i < consumers.length; i++) {
      await ch.notFull.runAsync(async () => {
        assert.ok(await ch.notFull.waitForAsync(() => ch.ring[1]! - ch.ring[0]! < capacity, SAFETY_MS));
        ch.ring[2 + (ch.ring[1]! % capacity)] = -1;
        ch.ring[1]!++;
        ch.notEmpty.notify();
      });
    }
    const got = await Promise.all(consumers);
    const all = got.flat();
    assert.equal(all.length, 2 * perProducer);
    assert.equal(new Set(all).size, all.length, 'no item twice');
    for (const items of got) {
      for (const producer of [1, 2]) {
        const mine = items.filter((x) => Math.floor(x / 1_000_000) === producer);
        assert.deepEqual(
          mine,
          [...mine].sort((p, q) => p - q),
          `producer ${producer}'s items in order`,
        );
      }
    }
    assert.equal(Atomics.load(ch.ring, 0), 2 * perProducer + 2);
    assert.equal(lock.locked(), false);
  },
);
