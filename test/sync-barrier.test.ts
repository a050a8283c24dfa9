/**
 * `Barrier`: CPython's `lock_tests.BarrierTests` and
 * `_test_multiprocessing._TestBarrier`, ported (without the action
 * callback, which corepool replaces with "the thread that gets 0 does it"),
 * and the thousand-generation run across threads with exact counts.
 *
 * Parties run as pool tasks (`fixtures/sync-ev-tasks.ts`), plain workers and
 * async waits on the main thread; what they saw comes back through shared
 * counters and their results. No sleeps: a "late" party waits for the others
 * to report, instead of sleeping longer than their timeout.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Barrier, BrokenBarrierError, Pool } from '../src/index.js';
import { ints, reach, SAFETY_MS } from './fixtures/sync-ev-helpers.js';
import { finish, startWorker } from './fixtures/sync-ev-run.js';
import { checkPass, type PassBook, syncTasks } from './fixtures/sync-ev-tasks.js';

const T = { timeout: 60_000 };
const N = 5;

/** Runs `task` as `parties` pool tasks at once; resolves with their results. */
function runParties<R>(parties: number, task: () => Promise<R>): Promise<R[]> {
  return Promise.all(Array.from({ length: parties }, task));
}

const isBroken = { name: 'BrokenBarrierError', code: 'ERR_COREPOOL_BROKEN_BARRIER' };

test(
  'a barrier is passed in lockstep, once and ten times (BarrierTests.test_barrier, test_barrier_10)',
  T,
  async () => {
    await using pool = new Pool({ processes: N });
    for (const passes of [1, 10]) {
      const barrier = new Barrier(N, { timeout: SAFETY_MS });
      const counts = ints(2);
      const out = await runParties(N, () => pool.apply(syncTasks.multipass, [barrier, counts, passes]));
      assert.deepEqual(out, Array(N).fill([0, false]));
      assert.deepEqual([...counts], [N * passes, N * passes]);
      assert.equal(barrier.nWaiting, 0);
      assert.equal(barrier.broken, false);
    }
  },
);

test('wait returns each index 0..parties-1 once per generation (BarrierTests.test_wait_return)', T, async () => {
  await using pool = new Pool({ processes: N });
  const barrier = new Barrier(N, { timeout: SAFETY_MS });
  for (let generation = 0; generation < 3; generation++) {
    const indices = await runParties(N, () => pool.apply(syncTasks.barrierWait, [barrier]));
    assert.deepEqual(
      indices.sort((a, b) => a - b),
      [0, 1, 2, 3, 4],
    );
  }
});

test('abort() breaks the barrier for every waiter (BarrierTests.test_abort)', T, async () => {
  await using pool = new Pool({ processes: N });
  const barrier = new Barrier(N, { timeout: SAFETY_MS });
  const counts = ints(2);
  await runParties(N, () => pool.apply(syncTasks.barrierAbort, [barrier, counts]));
  assert.deepEqual([...counts], [0, N - 1]);
  assert.equal(barrier.broken, true);
  assert.equal(barrier.nWaiting, 0);
  assert.throws(() => barrier.wait(), isBroken);
  await assert.rejects(barrier.waitAsync(), BrokenBarrierError);
});

test(
  'reset() frees the waiting threads with BrokenBarrierError, then the barrier works (BarrierTests.test_reset)',
  T,
  async () => {
    await using pool = new Pool({ processes: N });
    const barrier = new Barrier(N, { timeout: SAFETY_MS });
    const counts = ints(3);
    await runParties(N, () => pool.apply(syncTasks.barrierReset, [barrier, counts]));
    assert.deepEqual([...counts], [0, N - 1, N]);
    assert.equal(barrier.broken, false);
  },
);

test('a broken barrier can be reset and used again (BarrierTests.test_abort_and_reset)', T, async () => {
  await using pool = new Pool({ processes: N });
  const barrier = new Barrier(N, { timeout: SAFETY_MS });
  const barrier2 = new Barrier(N, { timeout: SAFETY_MS });
  const counts = ints(3);
  await runParties(N, () => pool.apply(syncTasks.barrierAbortAndReset, [barrier, barrier2, counts]));
  assert.deepEqual([...counts], [0, N - 1, N]);
  assert.equal(barrier.broken, false);
});

test('a wait(timeout) that expires breaks the barrier for all (BarrierTests.test_timeout)', T, async () => {
  await using pool = new Pool({ processes: N });
  const barrier = new Barrier(N, { timeout: SAFETY_MS });
  const counts = ints(1);
  await runParties(N, () => pool.apply(syncTasks.barrierLate, [barrier, counts, 100]));
  assert.equal(Atomics.load(counts, 0), N);
  assert.equal(barrier.broken, true);
});

test("the barrier's default timeout applies to wait() (BarrierTests.test_default_timeout)", T, async () => {
  await using pool = new Pool({ processes: N });
  const barrier = new Barrier(N, { timeout: 100 });
  const counts = ints(1);
  await runParties(N, () => pool.apply(syncTasks.barrierLate, [barrier, counts]));
  assert.equal(Atomics.load(counts, 0), N);
  assert.equal(barrier.broken, true);
  // A lone timed wait: it breaks the barrier and throws, after about its timeout.
  const lone = new Barrier(2);
  const start = performance.now();
  assert.throws(() => lone.wait(50), { ...isBroken, message: /timed out/ });
  assert.ok(performance.now() - start >= 30);
  assert.equal(lone.broken, true);
  lone.reset();
  assert.equal(lone.broken, false);
});

test('a barrier of one never waits (BarrierTests.test_single_thread)', T, async () => {
  const b = new Barrier(1);
  assert.equal(b.wait(), 0);
  assert.equal(b.wait(), 0);
  assert.equal(await b.waitAsync(), 0);
  assert.equal(b.parties, 1);
  assert.equal(b.nWaiting, 0);
});

test('the 14-bit generation counter wraps without drift: 17,000 generations of two async parties', T, async () => {
  const barrier = new Barrier(2);
  const byIndex = [0, 0];
  for (let generation = 0; generation < 17_000; generation++) {
    for (const index of await Promise.all([barrier.waitAsync(), barrier.waitAsync()])) byIndex[index]!++;
  }
  assert.deepEqual(byIndex, [17_000, 17_000]);
  assert.equal(barrier.nWaiting, 0);
  assert.equal(barrier.broken, false);
});

test(
  '1,000 generations across three pool workers and the main thread: one index 0 and every party per generation (_TestBarrier.test_thousand)',
  T,
  async () => {
    await using pool = new Pool({ processes: 3 });
    const parties = 4;
    const passes = 1_000;
    const barrier = new Barrier(parties, { timeout: SAFETY_MS });
    const book: PassBook = { arrivals: ints(passes), zeros: ints(passes), indexSums: ints(passes) };
    const workers = Array.from({ length: parties - 1 }, () => pool.apply(syncTasks.thousand, [barrier, book, passes]));
    for (let pass = 0; pass < passes; pass++) {
      Atomics.add(book.arrivals, pass, 1);
      checkPass(book, pass, parties, await barrier.waitAsync());
    }
    assert.deepEqual(await Promise.all(workers), Array(parties - 1).fill(passes));
    const sum = (parties * (parties - 1)) / 2;
    for (let pass = 0; pass < passes; pass++) {
      assert.equal(book.arrivals[pass], parties, `pass ${pass}: arrivals`);
      assert.equal(book.zeros[pass], 1, `pass ${pass}: exactly one index 0`);
      assert.equal(book.indexSums[pass], sum, `pass ${pass}: indices 0..${parties - 1}`);
    }
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  },
);

test('more threads than parties: four threads share a barrier of two over 1,000 generations', T, async () => {
  await using pool = new Pool({ processes: 4 });
  const barrier = new Barrier(2, { timeout: SAFETY_MS });
  const counts = ints(4);
  const threads = runParties(4, () => pool.apply(syncTasks.barrierMany, [barrier, 1_000, counts]));
  await reach(counts, 3, 1, '1,000 generations');
  // Threads stop joining now; one may be left waiting for a partner that stopped.
  barrier.abort();
  await threads;
  const [zeros, ones, generations] = counts;
  assert.ok(generations! >= 1_000);
  assert.equal(zeros, generations, 'one index 0 per generation');
  assert.equal(ones, generations, 'one index 1 per generation');
});

test('async waiters on one thread: reset() rejects them, then three async parties pass', T, async () => {
  const barrier = new Barrier(3);
  const early = [barrier.waitAsync(), barrier.waitAsync()];
  assert.equal(barrier.nWaiting, 2);
  barrier.reset();
  for (const w of early) await assert.rejects(w, { ...isBroken, message: /reset/ });
  assert.equal(barrier.broken, false);
  assert.equal(barrier.nWaiting, 0);
  const indices = await Promise.all([barrier.waitAsync(), barrier.waitAsync(), barrier.waitAsync()]);
  assert.deepEqual(
    indices.sort((a, b) => a - b),
    [0, 1, 2],
  );
  // abort() rejects a pending async waiter too.
  const pending = barrier.waitAsync();
  barrier.abort();
  await assert.rejects(pending, isBroken);
  assert.equal(barrier.broken, true);
  barrier.reset();
  assert.equal(barrier.broken, false);
});

test('plain workers rebuild the barrier from workerData with its parties and default timeout', T, async () => {
  const barrier = new Barrier(3, { timeout: SAFETY_MS });
  const a = startWorker({ scenario: 'barrier-wait', barrier });
  const b = startWorker({ scenario: 'barrier-wait', barrier });
  const mine = await barrier.waitAsync();
  const theirs = (await Promise.all([finish(a), finish(b)])) as { index: number; parties: number }[];
  assert.deepEqual([mine, ...theirs.map((r) => r.index)].sort(), [0, 1, 2]);
  assert.deepEqual(
    theirs.map((r) => r.parties),
    [3, 3],
  );
  // The default timeout travels in the barrier's memory: a lone worker's wait() times out.
  const short = new Barrier(2, { timeout: 30 });
  assert.deepEqual(await finish(startWorker({ scenario: 'barrier-wait', barrier: short })), {
    error: 'BrokenBarrierError',
    parties: 2,
  });
  assert.equal(short.broken, true);
});

test('bad parties and timeouts: RangeError / TypeError', T, async () => {
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 65_536]) {
    assert.throws(() => new Barrier(bad), { name: 'RangeError', message: /^Barrier\(parties\) must be an integer/ });
  }
  for (const bad of ['3', undefined, null, {}]) {
    assert.throws(() => new Barrier(bad as never), TypeError);
  }
  assert.throws(() => new Barrier('3' as never), {
    name: 'TypeError',
    message: 'Barrier(parties) must be a number: received the string "3"',
  });
  assert.throws(() => new Barrier(2, { timeout: -1 }), { name: 'RangeError', message: /options\.timeout/ });
  assert.throws(() => new Barrier(2, { timeout: '5' } as never), {
    name: 'TypeError',
    message: 'Barrier(options.timeout) must be a non-negative number of milliseconds: received the string "5"',
  });
  assert.throws(() => new Barrier(2, 5 as never), {
    name: 'TypeError',
    message: 'Barrier: options must be an object: received 5',
  });
  const barrier = new Barrier(2);
  assert.throws(() => barrier.wait(-5), RangeError);
  assert.throws(() => barrier.wait('1' as never), {
    name: 'TypeError',
    message: 'Barrier.wait(timeout) must be a non-negative number of milliseconds: received the string "1"',
  });
  await assert.rejects(barrier.waitAsync({ timeout: 1 } as never), {
    name: 'TypeError',
    message: 'Barrier.waitAsync(timeout) must be a non-negative number of milliseconds: received an object',
  });
  await assert.rejects(barrier.waitAsync(Number.NaN), RangeError);
  assert.equal(barrier.nWaiting, 0, 'a refused wait does not count');
  assert.equal(new Barrier(65_535).parties, 65_535);
});

test('Barrier options: an unknown key is refused naming it; an action function is refused saying why (issue 10)', () => {
  assert.throws(() => new Barrier(2, { timeot: 5 } as never), {
    name: 'TypeError',
    message: 'options.timeot is not a Barrier option (known: timeout); did you mean timeout?',
  });
  assert.throws(() => new Barrier(2, { action: () => {} } as never), {
    name: 'TypeError',
    message: 'options.action is not a Barrier option (known: timeout)',
  });
  assert.throws(() => new Barrier(2, [] as never), {
    name: 'TypeError',
    message: 'Barrier: options must be an object: received an array of 0',
  });
  assert.throws(() => new Barrier(2, function merge() {} as never), {
    name: 'TypeError',
    message: /^Barrier: options must be an object: received function merge; a Barrier takes no action/,
  });
  assert.equal(new Barrier(2, { timeout: 5 }).parties, 2);
  assert.equal(new Barrier(2, {}).parties, 2);
});
