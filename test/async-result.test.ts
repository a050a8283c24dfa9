/**
 * `AsyncResult`: `get(timeout)`, `wait(timeout)`, `ready()`, `successful()`,
 * awaiting it directly, and errors that nobody reads.
 *
 * "Still running" is made certain with a shared-memory gate: the task has
 * arrived at the gate (seen through `Atomics`) and cannot finish before the
 * test opens it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pool, PoolStateError, TimeoutError } from '../src/index.js';
import { Gate, range, unhandledDuring } from './fixtures/pool-helpers.js';
import { poolTasks } from './fixtures/pool-tasks.js';
import { tasks } from './fixtures/tasks.js';

const T = { timeout: 30_000 };

test(
  'get(timeout) rejects with TimeoutError while the task runs; the task keeps running and a later get() succeeds',
  T,
  async () => {
    await using pool = new Pool({ processes: 1 });
    const gate = new Gate();
    try {
      const r = pool.applyAsync(poolTasks.hold, [gate.array, 7]);
      await gate.arrivals(1);
      await assert.rejects(r.get(10), (err: unknown) => {
        assert.ok(err instanceof TimeoutError);
        assert.equal(err.name, 'TimeoutError');
        assert.equal(err.code, 'ERR_COREPOOL_TIMEOUT');
        return true;
      });
      await assert.rejects(r.get(0), TimeoutError);
      assert.equal(r.ready(), false);
      gate.open();
      assert.equal(await r.get(), 7);
      assert.equal(gate.arrived, 1, 'the task ran once: it was not restarted');
      // Once ready, get(timeout) answers at once, even with 0.
      assert.equal(await r.get(0), 7);
      assert.equal(await r.get(20_000), 7);
    } finally {
      gate.open();
    }
  },
);

test('get(timeout) on a task that fails in time rejects with the task error, not TimeoutError', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const r = pool.applyAsync(tasks.failOn, [5, 5]);
  await assert.rejects(r.get(20_000), { name: 'Error', message: 'item 5 is bad' });
  await assert.rejects(r.get(0), { message: 'item 5 is bad' });
});

test('get(Infinity) and wait(Infinity) wait for the task (Infinity = no time limit)', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const gate = new Gate();
  try {
    const r = pool.applyAsync(poolTasks.hold, [gate.array, 3]);
    await gate.arrivals(1);
    const got = r.get(Infinity).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    let waited = false;
    const waiting = r.wait(Infinity).then(() => {
      waited = true;
    });
    // Give a wrongly armed timer (e.g. setTimeout(Infinity), which Node runs after 1 ms)
    // the chance to fire: r.wait(50) returns after a 50 ms timer, which Node runs
    // after any shorter one.
    await r.wait(50);
    assert.equal(waited, false, 'wait(Infinity) returned while the task was still blocked');
    gate.open();
    assert.deepEqual(await got, { value: 3 });
    await waiting;
    assert.equal(r.ready(), true);
  } finally {
    gate.open();
  }
});

test('wait(timeout) never rejects: it resolves on timeout, on success and on failure', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const gate = new Gate();
  try {
    const pending = pool.applyAsync(poolTasks.hold, [gate.array, 1]);
    await gate.arrivals(1);
    assert.equal(await pending.wait(10), undefined);
    assert.equal(pending.ready(), false);

    const failing = pool.applyAsync(tasks.failOn, [1, 1]);
    assert.equal(await failing.wait(), undefined);
    assert.equal(failing.ready(), true);
    assert.equal(await failing.wait(10), undefined);

    gate.open();
    assert.equal(await pending.wait(), undefined);
    assert.equal(pending.ready(), true);
    assert.equal(await pending.get(), 1);
  } finally {
    gate.open();
  }
});

test('ready() is false while the task runs and true once it settled', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const gate = new Gate();
  try {
    const r = pool.applyAsync(poolTasks.hold, [gate.array, 2]);
    assert.equal(r.ready(), false);
    await gate.arrivals(1);
    assert.equal(r.ready(), false);
    gate.open();
    await r.wait();
    assert.equal(r.ready(), true);
  } finally {
    gate.open();
  }
});

test('successful() throws PoolStateError before the result is ready, then says how it ended', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const gate = new Gate();
  try {
    const ok = pool.applyAsync(poolTasks.hold, [gate.array, 1]);
    await gate.arrivals(1);
    assert.throws(
      () => ok.successful(),
      (err: unknown) => {
        assert.ok(err instanceof PoolStateError);
        assert.equal(err.code, 'ERR_COREPOOL_POOL_STATE');
        return true;
      },
    );
    gate.open();
    await ok.wait();
    assert.equal(ok.successful(), true);

    const bad = pool.applyAsync(tasks.failOn, [9, 9]);
    await bad.wait();
    assert.equal(bad.successful(), false);
  } finally {
    gate.open();
  }
});

test('an AsyncResult can be awaited directly and used in promise combinators', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.equal(await pool.applyAsync(tasks.square, [6]), 36);
  await assert.rejects(async () => await pool.applyAsync(tasks.failOn, [3, 3]), { message: 'item 3 is bad' });
  const all = await Promise.all([pool.applyAsync(tasks.square, [2]), pool.applyAsync(tasks.add, [2, 3])]);
  assert.deepEqual(all, [4, 5]);
  const chained = await pool.applyAsync(tasks.square, [3]).then((v) => v + 1);
  assert.equal(chained, 10);
  const caught = await pool.applyAsync(tasks.failOn, [4, 4]).then(
    () => 'resolved',
    (err: unknown) => (err as Error).message,
  );
  assert.equal(caught, 'item 4 is bad');
});

test('mapAsync returns an AsyncResult of the list; its callback gets the list once', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const lists: number[][] = [];
  const r = pool.mapAsync(tasks.square, range(10), { callback: (xs) => lists.push(xs) });
  assert.deepEqual(
    await r.get(),
    range(10).map((i) => i * i),
  );
  assert.equal(r.ready(), true);
  assert.equal(r.successful(), true);
  await r.wait();
  assert.deepEqual(lists, [range(10).map((i) => i * i)]);

  const errors: unknown[] = [];
  const bad = pool.mapAsync(poolTasks.failIfNegative, [1, 2, -3, 4], { errorCallback: (e) => errors.push(e) });
  await bad.wait();
  assert.equal(bad.successful(), false);
  await assert.rejects(bad.get(), { message: 'item -3 is bad' });
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).message, 'item -3 is bad');
});

test('a failed AsyncResult that nobody reads causes no unhandledRejection', T, async () => {
  const pool = new Pool({ processes: 2 });
  let results: { ready(): boolean; successful(): boolean }[] = [];
  try {
    const seen = await unhandledDuring(async () => {
      results = [
        pool.applyAsync(tasks.failOn, [1, 1]),
        pool.applyAsync(poolTasks.rejectLater, ['nobody reads this']),
        pool.applyAsync(tasks.failOn, [2, 2], { callback: () => {} }),
        pool.mapAsync(poolTasks.failIfNegative, [1, -1, 2]),
        pool.starmapAsync(tasks.failOn, [
          [1, 1],
          [2, 3],
        ]),
      ];
      pool.close();
      await pool.join(); // every task has settled
    });
    assert.deepEqual(seen, []);
    // The tasks did fail: the test is not vacuous.
    for (const r of results) {
      assert.equal(r.ready(), true);
      assert.equal(r.successful(), false);
    }
  } finally {
    await pool.terminate();
  }
});

test(
  'a bad timeout is refused: RangeError when out of range, TypeError (showing the type) when not a number',
  T,
  async () => {
    await using pool = new Pool({ processes: 1 });
    const r = pool.applyAsync(tasks.square, [2]);
    for (const [bad, name, shown] of [
      [-1, 'RangeError', 'received -1'],
      [Number.NaN, 'RangeError', 'received NaN'],
      ['10', 'TypeError', 'received the string "10"'],
    ] as const) {
      // Thrown or rejected: either way the caller gets the error naming the timeout.
      const message = new RegExp(`\\(timeout\\) must be a non-negative number of milliseconds: ${shown}$`);
      await assert.rejects(async () => r.get(bad as number), { name, message });
      await assert.rejects(async () => r.wait(bad as number), { name, message });
    }
    assert.equal(await r.get(), 4);
  },
);
