/**
 * Workers that die mid-task: `process.exit(n)`, an uncaught error thrown from
 * a timer while the task is pending, and running out of memory under
 * `resourceLimits`. Each such task rejects with `WorkerExitError` (exit code,
 * thread id); the pool replaces the worker, every other task completes, and
 * nothing hangs.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { CorepoolError, Pool, type PoolOptions, WorkerExitError } from '../src/index.js';
import { ARRIVED, newGate, openGate, prng, settles, waitAtLeast } from './fixtures/fault-gate.js';
import { expected, faultTasks, TIMER_MESSAGE } from './fixtures/fault-tasks.js';

/** Small enough that a worker runs out of memory in a few allocations. */
const resourceLimits = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 };
const PROCESSES = 2;
const T = { timeout: 120_000 };

type Crash = { readonly kind: 'exit'; readonly code: number } | { readonly kind: 'timer' } | { readonly kind: 'oom' };
type Plan = { readonly kind: 'ok' } | Crash;

/** Submits the task that `plan` describes, for input `i`. */
function submit(pool: Pool, plan: Plan, i: number): Promise<number> {
  switch (plan.kind) {
    case 'ok':
      return pool.apply(faultTasks.compute, [i]);
    case 'exit':
      return pool.apply(faultTasks.exitWith, [plan.code]);
    case 'timer':
      return pool.apply(faultTasks.throwInTimer, []);
    case 'oom':
      return pool.apply(faultTasks.exhaustMemory, []);
  }
}

/** Asserts that `err` reports the death of a worker in the way `crash` kills it; returns its thread id. */
function assertWorkerExit(err: unknown, crash: Crash, where = ''): number {
  assert.ok(err instanceof WorkerExitError, `${where}expected a WorkerExitError, got ${String(err)}`);
  // Every failure message below carries what the error said, and its cause.
  where = `${where}[${err.message}; cause: ${String(err.cause)}] `;
  assert.ok(err instanceof CorepoolError, where);
  assert.ok(err instanceof Error, where);
  assert.equal(err.name, 'WorkerExitError', where);
  assert.equal(err.code, 'ERR_COREPOOL_WORKER_EXIT', where);
  assert.equal(typeof err.threadId, 'number', where);
  // Thread 0 is the main thread: a worker's id is a positive integer.
  assert.ok(Number.isInteger(err.threadId) && err.threadId >= 1, `${where}threadId ${err.threadId}`);
  switch (crash.kind) {
    case 'exit':
      assert.equal(err.exitCode, crash.code, `${where}exitCode`);
      assert.match(err.message, new RegExp(`exited with code ${crash.code}\\b`), where);
      break;
    case 'timer':
      assert.equal(err.exitCode, 1, `${where}exitCode`);
      assert.ok(err.cause instanceof Error, `${where}cause`);
      assert.equal(err.cause.message, TIMER_MESSAGE, `${where}cause`);
      break;
    case 'oom':
      assert.equal(err.exitCode, 1, `${where}exitCode`);
      assert.equal((err.cause as { code?: unknown } | undefined)?.code, 'ERR_WORKER_OUT_OF_MEMORY', `${where}cause`);
      assert.match(
        err.message,
        /ran out of memory under options\.resourceLimits \{"maxOldGenerationSizeMb":32,"maxYoungGenerationSizeMb":4\} and was stopped \(exit code 1\)/,
        where,
      );
      assert.doesNotMatch(err.message, /code 0\b/, where);
      break;
  }
  return err.threadId;
}

/**
 * Proves that `pool` runs `n` workers at once: a burst of `n` tasks that each
 * wait at a gate all arrive before it opens. Returns their thread ids, which
 * are distinct and not among `dead`.
 */
async function assertFullStrength(pool: Pool, n: number, dead: readonly number[] = []): Promise<number[]> {
  const gate = newGate();
  const burst = Promise.all(Array.from({ length: n }, () => pool.apply(faultTasks.gatedThreadId, [gate])));
  burst.catch(() => {}); // awaited below, after the gate opens
  try {
    await waitAtLeast(gate, ARRIVED, n);
  } finally {
    openGate(gate);
  }
  const ids = await settles(burst, 'the gated burst');
  assert.equal(new Set(ids).size, n, `distinct workers served the burst: ${ids.join(', ')}`);
  for (const id of ids) assert.ok(!dead.includes(id), `thread ${id} died, yet it ran a task`);
  return ids;
}

function newPool(options: PoolOptions = {}): Pool {
  return new Pool({ processes: PROCESSES, resourceLimits, ...options });
}

// ---- the acceptance test ----------------------------------------------------

const TOTAL = 1000;
const PER_KIND = 50; // 5% of TOTAL, for each of the three ways to die
const SEED = 0x5eed_c0de;
/** The acceptance run takes seconds; this only turns a hang into a failure before the test's own timeout. */
const ACCEPTANCE_GUARD_MS = 240_000;

/** Which of TOTAL tasks crash and how: exactly PER_KIND of each kind, at places a seeded PRNG picks. */
function makePlan(seed: number): Plan[] {
  const random = prng(seed);
  const order = Array.from({ length: TOTAL }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const plans: Plan[] = Array.from({ length: TOTAL }, () => ({ kind: 'ok' }));
  order.slice(0, PER_KIND).forEach((i) => {
    plans[i] = { kind: 'exit', code: 1 + Math.floor(random() * 125) };
  });
  order.slice(PER_KIND, 2 * PER_KIND).forEach((i) => {
    plans[i] = { kind: 'timer' };
  });
  order.slice(2 * PER_KIND, 3 * PER_KIND).forEach((i) => {
    plans[i] = { kind: 'oom' };
  });
  return plans;
}

test(`${TOTAL} tasks, ${PER_KIND} of each crash kind (seed ${SEED.toString(16)}): crashes reject with WorkerExitError, the rest resolve`, {
  timeout: 300_000,
}, async (t: TestContext) => {
  const plans = makePlan(SEED);
  const count = (kind: Plan['kind']): number => plans.filter((p) => p.kind === kind).length;
  assert.deepEqual(
    [count('exit'), count('timer'), count('oom'), count('ok')],
    [PER_KIND, PER_KIND, PER_KIND, TOTAL - 3 * PER_KIND],
  );

  const pool = newPool();
  const started = performance.now();
  try {
    const outcomes = await settles(
      Promise.allSettled(plans.map((plan, i) => submit(pool, plan, i))),
      `${TOTAL} tasks`,
      ACCEPTANCE_GUARD_MS,
    );
    const elapsed = performance.now() - started;
    const deadThreads: number[] = [];
    outcomes.forEach((outcome, i) => {
      const plan = plans[i] as Plan;
      const where = `task ${i} (${plan.kind}): `;
      if (plan.kind === 'ok') {
        assert.equal(outcome.status, 'fulfilled', `${where}${outcome.status === 'rejected' ? outcome.reason : ''}`);
        assert.equal(outcome.value, expected(i), where);
      } else {
        assert.equal(outcome.status, 'rejected', where);
        deadThreads.push(assertWorkerExit(outcome.reason, plan, where));
      }
    });
    // Each crash killed its own worker: a thread id is never reused.
    assert.equal(new Set(deadThreads).size, 3 * PER_KIND, 'every crash reports a distinct thread');
    t.diagnostic(`${TOTAL} tasks with ${3 * PER_KIND} worker deaths settled in ${Math.round(elapsed)} ms`);

    // After 150 deaths the pool still runs PROCESSES fresh workers, then drains and joins.
    await assertFullStrength(pool, PROCESSES, deadThreads);
    pool.close();
    await settles(pool.join(), 'join() after the crashes');
  } finally {
    await pool.terminate();
  }
});

// ---- each crash kind alone ----------------------------------------------------

test('process.exit(n) inside a task rejects it with WorkerExitError carrying n', T, async () => {
  await using pool = newPool();
  for (const code of [1, 3, 42, 255]) {
    await assert.rejects(pool.apply(faultTasks.exitWith, [code]), (err: unknown) => {
      assertWorkerExit(err, { kind: 'exit', code }, `exit(${code}): `);
      return true;
    });
  }
  assert.equal(await pool.apply(faultTasks.compute, [5]), expected(5));
});

test('process.exit(0) mid-task still rejects the task: a clean exit is a death too', T, async () => {
  await using pool = newPool();
  await assert.rejects(pool.apply(faultTasks.exitWith, [0]), (err: unknown) => {
    assertWorkerExit(err, { kind: 'exit', code: 0 });
    return true;
  });
  assert.equal(await pool.apply(faultTasks.compute, [6]), expected(6));
});

test('an uncaught error thrown from a timer while the task is pending rejects it with WorkerExitError', T, async () => {
  await using pool = newPool();
  await assert.rejects(pool.apply(faultTasks.throwInTimer, []), (err: unknown) => {
    assertWorkerExit(err, { kind: 'timer' });
    assert.match((err as Error).message, new RegExp(TIMER_MESSAGE));
    return true;
  });
  assert.equal(await pool.apply(faultTasks.compute, [7]), expected(7));
});

test('running out of memory under resourceLimits rejects the task with WorkerExitError', T, async () => {
  await using pool = newPool();
  await assert.rejects(pool.apply(faultTasks.exhaustMemory, []), (err: unknown) => {
    assertWorkerExit(err, { kind: 'oom' });
    return true;
  });
  assert.equal(await pool.apply(faultTasks.compute, [8]), expected(8));
});

test('the WorkerExitError names the thread that ran the task', T, async () => {
  await using pool = newPool({ processes: 1 });
  const before = await pool.apply(faultTasks.threadId, []);
  const err = await pool.apply(faultTasks.exitWith, [9]).then(
    () => assert.fail('the task resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof WorkerExitError);
  assert.equal(err.threadId, before);
  // The replacement is a new thread.
  assert.notEqual(await pool.apply(faultTasks.threadId, []), before);
});

test('errorCallback receives the WorkerExitError; callback is not called', T, async () => {
  await using pool = newPool();
  const seen: unknown[] = [];
  const r = pool.applyAsync(faultTasks.exitWith, [17], {
    callback: () => seen.push('callback'),
    errorCallback: (e) => seen.push(e),
  });
  await settles(r.wait(), 'the crashed task');
  assert.equal(r.successful(), false);
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(seen.length, 1);
  assertWorkerExit(seen[0], { kind: 'exit', code: 17 });
});

// ---- the pool replaces its workers ---------------------------------------------

for (const crash of [{ kind: 'exit', code: 4 }, { kind: 'timer' }, { kind: 'oom' }] as const) {
  test(`after a ${crash.kind} crash, ${PROCESSES} distinct live workers serve a gated burst`, T, async () => {
    await using pool = newPool();
    await assertFullStrength(pool, PROCESSES);
    const dead = await submit(pool, crash, 0).then(
      () => assert.fail('the crashing task resolved'),
      (err: unknown) => assertWorkerExit(err, crash),
    );
    await assertFullStrength(pool, PROCESSES, [dead]);
  });
}

test('every worker dying at once: the pool comes back to full strength', T, async () => {
  await using pool = newPool();
  const crashes: Crash[] = [{ kind: 'oom' }, { kind: 'timer' }, { kind: 'exit', code: 5 }, { kind: 'oom' }];
  const dead = await Promise.all(
    crashes.map((crash) =>
      submit(pool, crash, 0).then(
        () => assert.fail('a crashing task resolved'),
        (err: unknown) => assertWorkerExit(err, crash),
      ),
    ),
  );
  assert.equal(new Set(dead).size, crashes.length);
  await assertFullStrength(pool, PROCESSES, dead);
});

test('twenty deaths in a row do not wear the pool down', T, async () => {
  await using pool = newPool();
  const dead: number[] = [];
  for (let i = 0; i < 20; i++) {
    const crash: Crash = i % 2 === 0 ? { kind: 'exit', code: 1 + i } : { kind: 'timer' };
    dead.push(
      await submit(pool, crash, 0).then(
        () => assert.fail('a crashing task resolved'),
        (err: unknown) => assertWorkerExit(err, crash, `death ${i}: `),
      ),
    );
  }
  await assertFullStrength(pool, PROCESSES, dead);
});

test('tasks queued behind a crash run on the replacement worker', T, async () => {
  await using pool = newPool({ processes: 1 });
  const gate = newGate();
  // Hold the only worker so the crash and the tasks after it queue up in order.
  const held = pool.apply(faultTasks.gatedThreadId, [gate]);
  await waitAtLeast(gate, ARRIVED, 1);
  const crash = pool.apply(faultTasks.exitWith, [21]).then(
    () => assert.fail('the crashing task resolved'),
    (err: unknown) => err,
  );
  const after = Promise.all([1, 2, 3].map((i) => pool.apply(faultTasks.compute, [i])));
  after.catch(() => {}); // awaited below
  openGate(gate);
  await held;
  assertWorkerExit(await settles(crash, 'the crashing task'), { kind: 'exit', code: 21 });
  assert.deepEqual(await settles(after, 'the queued tasks'), [expected(1), expected(2), expected(3)]);
});

test('a worker dying inside a map chunk rejects the map with WorkerExitError; the pool keeps working', T, async () => {
  await using pool = newPool();
  const items = Array.from({ length: 40 }, (_, i) => i);
  await assert.rejects(settles(pool.map(faultTasks.exitOn13, items, { chunksize: 4 }), 'map'), (err: unknown) => {
    assertWorkerExit(err, { kind: 'exit', code: 13 });
    return true;
  });
  const fine = items.filter((i) => i !== 13);
  assert.deepEqual(await settles(pool.map(faultTasks.exitOn13, fine, { chunksize: 4 }), 'map'), fine);
});

test('close() and join() after crashes: queued work finishes, join resolves', T, async () => {
  const pool = newPool();
  try {
    const work = [
      pool.apply(faultTasks.exitWith, [2]),
      pool.apply(faultTasks.compute, [1]),
      pool.apply(faultTasks.exhaustMemory, []),
      pool.apply(faultTasks.compute, [2]),
      pool.apply(faultTasks.throwInTimer, []),
      pool.apply(faultTasks.compute, [3]),
    ];
    const settled = Promise.allSettled(work);
    pool.close();
    await settles(pool.join(), 'join()');
    const outcomes = await settled;
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(
      outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value),
      [expected(1), expected(2), expected(3)],
    );
  } finally {
    await pool.terminate();
  }
});

test('workers that die while starting (a heap too small to boot): every task settles, nothing hangs', T, async () => {
  const pool = new Pool({ processes: 2, resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } });
  try {
    for (let i = 0; i < 3; i++) {
      const outcome = await settles(
        pool.apply(faultTasks.compute, [i]).then(
          (v) => v,
          (err: unknown) => err,
        ),
        `task ${i} on a pool whose workers cannot start`,
        20_000,
      );
      assert.ok(outcome instanceof WorkerExitError, `task ${i}: expected a WorkerExitError, got ${String(outcome)}`);
    }
  } finally {
    await pool.terminate();
  }
});
