/**
 * `Event`: CPython's `lock_tests.EventTests` and `_test_multiprocessing
 * ._TestEvent`, ported. The "other threads" are pool tasks
 * (`fixtures/sync-ev-tasks.ts`) and plain workers (`fixtures/sync-ev-worker.ts`);
 * interleavings are read from shared logs and counters, never from sleeps.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import process from 'node:process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Event, Pool } from '../src/index.js';
import { entries, eventSleepers, ints, newLog, reach, record, untilAsync } from './fixtures/sync-ev-helpers.js';
import { finish, keepAliveUrl, startWorker } from './fixtures/sync-ev-run.js';
import { SET, syncTasks, WOKE } from './fixtures/sync-ev-tasks.js';

const T = { timeout: 60_000 };
const N = 5;

/** CPython's assertTimeout, lower bound only: timings are not asserted upward here. */
function assertWaited(actual: number, expected: number): void {
  assert.ok(actual >= expected * 0.6, `waited ${actual.toFixed(1)} ms, expected about ${expected} ms`);
}

test('isSet follows set() and clear(), both idempotent (EventTests.test_is_set)', () => {
  const evt = new Event();
  assert.equal(evt.isSet(), false);
  evt.set();
  assert.equal(evt.isSet(), true);
  evt.set();
  assert.equal(evt.isSet(), true);
  evt.clear();
  assert.equal(evt.isSet(), false);
  evt.clear();
  assert.equal(evt.isSet(), false);
});

test('wait returns the flag: false on timeout, true when set (_TestEvent.test_event)', T, async () => {
  const event = new Event();
  assert.equal(event.wait(0), false);
  let start = performance.now();
  assert.equal(event.wait(50), false);
  assertWaited(performance.now() - start, 50);
  assert.equal(await event.waitAsync(0), false);
  start = performance.now();
  assert.equal(await event.waitAsync(50), false);
  assertWaited(performance.now() - start, 50);
  event.set();
  assert.equal(event.isSet(), true);
  assert.equal(event.wait(), true);
  assert.equal(event.wait(50), true);
  assert.equal(await event.waitAsync(), true);
  event.clear();
  // Another thread sets it while this one waits.
  const setter = startWorker({ scenario: 'event-set-when-asleep', event, sleepers: 1, delayMs: 0 });
  try {
    assert.equal(await event.waitAsync(), true);
    assert.equal(await setter.outcome, true);
  } finally {
    await finish(setter);
  }
});

test('set() wakes every waiter, and only set() does (EventTests.test_notify)', T, async () => {
  await using pool = new Pool({ processes: N });
  const evt = new Event();
  const check = async (): Promise<void> => {
    const log = newLog(2 * N);
    const arrivals = ints(1);
    const waits = Array.from({ length: N }, () => pool.apply(syncTasks.eventWaitTwice, [evt, log, arrivals]));
    await reach(arrivals, 0, N, 'waiters');
    await untilAsync(() => eventSleepers(evt) === N, 'waiters never all slept');
    assert.deepEqual(entries(log), [], 'no waiter returned before set()');
    record(log, SET);
    evt.set();
    assert.deepEqual(await Promise.all(waits), Array(N).fill([true, true]));
    assert.deepEqual(entries(log), [SET, ...Array(N).fill(WOKE)]);
  };
  await check();
  // Another time, after an explicit clear().
  evt.set();
  evt.clear();
  await check();
});

test('timed waits return false, then true once set (EventTests.test_timeout)', T, async () => {
  await using pool = new Pool({ processes: N });
  const evt = new Event();
  const runAll = () => Promise.all(Array.from({ length: N }, () => pool.apply(syncTasks.eventTimed, [evt, 100])));
  for (const [now, later, dt] of await runAll()) {
    assert.equal(now, false);
    assert.equal(later, false);
    assertWaited(dt, 100);
  }
  evt.set();
  for (const [now, later] of await runAll()) {
    assert.equal(now, true);
    assert.equal(later, true);
  }
});

test(
  'wait() returns true even when the event is cleared before the waiter runs (EventTests.test_set_and_clear)',
  T,
  async () => {
    await using pool = new Pool({ processes: N });
    const evt = new Event();
    const waits = Array.from({ length: N }, () => pool.apply(syncTasks.eventWait, [evt, 20_000]));
    await untilAsync(() => eventSleepers(evt) === N, 'waiters never all slept');
    evt.set();
    evt.clear();
    assert.deepEqual(await Promise.all(waits), Array(N).fill(true));
    assert.equal(evt.isSet(), false);
  },
);

test(
  'an async waiter on the main thread is woken by a pool task; the event arrives nested in an object',
  T,
  async () => {
    await using pool = new Pool({ processes: 1 });
    const a = new Event();
    const b = new Event();
    const waitA = a.waitAsync();
    const waitB = b.waitAsync(20_000);
    assert.equal(await pool.apply(syncTasks.eventSet, [{ events: [a, b] }]), 2);
    assert.deepEqual(await Promise.all([waitA, waitB]), [true, true]);
    assert.ok(a.isSet() && b.isSet());
  },
);

test('a plain worker blocked in wait() is woken by set() on the main thread', T, async () => {
  const event = new Event();
  const started = ints(1);
  const waiter = startWorker({ scenario: 'event-wait', event, started });
  try {
    await reach(started, 0, 1, 'worker start');
    await untilAsync(() => eventSleepers(event) === 1, 'the worker never slept');
    event.set();
    assert.equal(await waiter.outcome, true);
  } finally {
    await finish(waiter);
  }
  // And a worker's timed wait on a clear event times out.
  event.clear();
  const timed = startWorker({ scenario: 'event-wait', event, timeout: 30, started });
  assert.equal(await finish(timed), false);
});

test('500 set/wait round trips between the main thread and a worker, none lost', T, async () => {
  const ping = new Event();
  const pong = new Event();
  const rounds = 500;
  const peer = startWorker({ scenario: 'event-pong', ping, pong, rounds });
  try {
    for (let i = 0; i < rounds; i++) {
      ping.set();
      assert.equal(await pong.waitAsync(20_000), true, `round ${i}`);
      pong.clear();
    }
    assert.equal(await peer.outcome, rounds);
  } finally {
    await finish(peer);
  }
});

test('an async wait keeps the process alive until a worker sets the event', T, async () => {
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      process.execPath,
      [fileURLToPath(keepAliveUrl)],
      { timeout: 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ code: 0, stdout, stderr });
        if (typeof error.code === 'string') return reject(error);
        resolve({ code: typeof error.code === 'number' ? error.code : null, stdout, stderr });
      },
    );
  });
  assert.equal(run.code, 0, `child exited with ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  assert.equal(run.stdout.trim(), 'woke: true');
});

test(
  'bad timeouts: RangeError for a bad number, TypeError showing a non-number (rejections for waitAsync)',
  T,
  async () => {
    const evt = new Event();
    for (const bad of [-1, Number.NaN]) {
      assert.throws(() => evt.wait(bad), RangeError);
      await assert.rejects(evt.waitAsync(bad), RangeError);
    }
    for (const [bad, shown] of [
      ['10', 'the string "10"'],
      [null, 'null'],
      [{ timeout: 10 }, 'an object'],
      [true, 'true'],
    ] as const) {
      const message = (method: string): string =>
        `Event.${method}(timeout) must be a non-negative number of milliseconds: received ${shown}`;
      assert.throws(() => evt.wait(bad as never), { name: 'TypeError', message: message('wait') });
      await assert.rejects(evt.waitAsync(bad as never), { name: 'TypeError', message: message('waitAsync') });
    }
    evt.set();
    assert.throws(() => evt.wait(-5), { name: 'RangeError', message: /^Event\.wait\(timeout\) must be/ });
  },
);

test('an Event is rebuilt from its memory on another thread, and foreign memory is refused', () => {
  const evt = new Event();
  const copy = new Event((evt as unknown as { state: ConstructorParameters<typeof Event>[0] }).state);
  copy.set();
  assert.equal(evt.isSet(), true);
  const registry = (evt as unknown as { state: { registry: SharedArrayBuffer } }).state.registry;
  assert.throws(() => new Event({ buffer: new SharedArrayBuffer(12), byteOffset: 0, registry }), {
    name: 'TypeError',
    message: /invalid handle/,
  });
});
