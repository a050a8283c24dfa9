/**
 * The life of a `Pool`: close/terminate/join, `await using`, the number of
 * workers, initializer, maxTasksPerChild, maxQueue, and option checking.
 *
 * Tasks that must be "running" are blocked on a shared-memory gate and the
 * test learns they run from the gate's arrival counter, never from a sleep.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cpuCount,
  Pool,
  PoolClosedError,
  type PoolOptions,
  PoolStateError,
  PoolTerminatedError,
  QueueFull,
} from '../src/index.js';
import { countBy, Gate, range, sharedInts, turns } from './fixtures/pool-helpers.js';
import { poolTasks } from './fixtures/pool-tasks.js';
import { tasks } from './fixtures/tasks.js';

const T = { timeout: 30_000 };
const squares = (n: number): number[] => range(n).map((i) => i * i);

async function* generateAsync<X>(items: readonly X[]): AsyncGenerator<X> {
  for (const x of items) {
    await Promise.resolve();
    yield x;
  }
}

function isTerminated(err: unknown): boolean {
  assert.ok(err instanceof PoolTerminatedError, `expected PoolTerminatedError, got ${String(err)}`);
  assert.equal(err.code, 'ERR_COREPOOL_POOL_TERMINATED');
  return true;
}

/** Every way to submit work, each checked for PoolClosedError the way its form reports it. */
async function assertRefusesWork(pool: Pool): Promise<void> {
  const closed = (err: unknown): boolean => {
    assert.ok(err instanceof PoolClosedError, `expected PoolClosedError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_COREPOOL_POOL_CLOSED');
    return true;
  };
  // The synchronous forms throw at the call.
  assert.throws(() => pool.applyAsync(tasks.square, [1]), closed);
  assert.throws(() => pool.mapAsync(tasks.square, [1]), closed);
  assert.throws(() => pool.starmapAsync(tasks.add, [[1, 2]]), closed);
  assert.throws(() => pool.imap(tasks.square, [1]), closed);
  assert.throws(() => pool.imapUnordered(tasks.square, [1]), closed);
  // The promise forms reject (and do not throw).
  let apply: Promise<number> | undefined;
  let map: Promise<number[]> | undefined;
  let starmap: Promise<number[]> | undefined;
  assert.doesNotThrow(() => {
    apply = pool.apply(tasks.square, [1]);
    map = pool.map(tasks.square, [1]);
    starmap = pool.starmap(tasks.add, [[1, 2]]);
  });
  await assert.rejects(apply as Promise<number>, closed);
  await assert.rejects(map as Promise<number[]>, closed);
  await assert.rejects(starmap as Promise<number[]>, closed);
}

// ---- close / terminate / join ---------------------------------------------

test('after close(), every way to submit work fails with PoolClosedError', T, async () => {
  const pool = new Pool({ processes: 1 });
  try {
    assert.equal(await pool.apply(tasks.square, [3]), 9);
    pool.close();
    await assertRefusesWork(pool);
    pool.close(); // closing twice is harmless
    await pool.join();
    await assertRefusesWork(pool);
  } finally {
    await pool.terminate();
  }
});

test('after terminate(), every way to submit work fails with PoolClosedError', T, async () => {
  const pool = new Pool({ processes: 1 });
  try {
    await pool.terminate();
    await assertRefusesWork(pool);
    pool.close(); // close after terminate changes nothing
    await assertRefusesWork(pool);
  } finally {
    await pool.terminate();
  }
});

test('join() on a running pool rejects with PoolStateError and leaves the pool working', T, async () => {
  await using pool = new Pool({ processes: 1 });
  await assert.rejects(
    async () => pool.join(),
    (err: unknown) => {
      assert.ok(err instanceof PoolStateError);
      assert.equal(err.code, 'ERR_COREPOOL_POOL_STATE');
      assert.match(err.message, /close\(\)|terminate\(\)/);
      return true;
    },
  );
  assert.equal(await pool.apply(tasks.square, [4]), 16);
});

test('close() then join() with no work resolves; join() can be called again', T, async () => {
  const pool = new Pool({ processes: 2 });
  try {
    pool.close();
    await pool.join();
    await pool.join();
  } finally {
    await pool.terminate();
  }
});

test('join() waits for running work: it does not resolve while a task is blocked', T, async () => {
  const pool = new Pool({ processes: 2 });
  const gate = new Gate();
  try {
    const blocked = pool.applyAsync(poolTasks.hold, [gate.array, 1]);
    await gate.arrivals(1);
    pool.close();
    let joined = false;
    const joining = pool.join().then(() => {
      joined = true;
    });
    // Give a join that does not wait a chance to resolve (a timed wait on the
    // main thread, not a synchronisation with the worker).
    await blocked.wait(50);
    assert.equal(joined, false, 'join() resolved while a task was still running');
    gate.open();
    await joining;
    assert.equal(blocked.ready(), true);
    assert.equal(await blocked.get(), 1);
  } finally {
    gate.open();
    await pool.terminate();
  }
});

/** `promise`'s value, or the error it rejected with (handled at once, so never unhandled). */
function outcome<V>(promise: PromiseLike<V>): Promise<V | { rejected: unknown }> {
  return Promise.resolve(promise).then(
    (value) => value,
    (rejected: unknown) => ({ rejected }),
  );
}

function assertValue<V>(result: V | { rejected: unknown }, expected: V, label: string): void {
  if (typeof result === 'object' && result !== null && 'rejected' in result) {
    assert.fail(`${label} rejected: ${String(result.rejected)}`);
  }
  assert.deepEqual(result, expected, label);
}

test('close() then join() with two maps at once: the map still running when the other ends completes', T, async () => {
  const pool = new Pool({ processes: 1 });
  try {
    const first = outcome(pool.map(tasks.square, [1]));
    const second = outcome(pool.map(tasks.square, range(200), { chunksize: 1 }));
    pool.close();
    await pool.join();
    assertValue(await first, [1], 'first map');
    assertValue(await second, squares(200), 'second map');
  } finally {
    await pool.terminate();
  }
});

test('close() then join() after a burst of queued work loses nothing', T, async () => {
  const pool = new Pool({ processes: 2 });
  try {
    let callbacks = 0;
    const applies = range(2000).map((i) =>
      pool.applyAsync(tasks.square, [i], {
        callback: () => {
          callbacks++;
        },
      }),
    );
    const pairs = range(1000).map((i): [number, number] => [i, 2 * i]);
    const sums = pairs.map(([a, b]) => a + b);
    let mapsDone = 0;
    const track = <V>(p: PromiseLike<V>): Promise<V | { rejected: unknown }> =>
      outcome(p).then((v) => {
        mapsDone++;
        return v;
      });
    const maps = {
      map: track(pool.map(tasks.square, range(3000))),
      mapChunked: track(pool.map(tasks.square, range(1000), { chunksize: 1 })),
      mapAsync: track(pool.mapAsync(tasks.square, range(700))),
      starmap: track(pool.starmap(tasks.add, pairs)),
      starmapAsync: track(pool.starmapAsync(tasks.add, pairs)),
      mapOfAsyncInput: track(pool.map(tasks.square, generateAsync(range(500)))),
    };
    pool.close();
    await pool.join();

    assert.equal(mapsDone, 6, 'every map had settled when join() resolved');
    for (const [i, r] of applies.entries()) {
      assert.equal(r.ready(), true, `applyAsync #${i} not finished when join() resolved`);
      assert.equal(await r.get(), i * i);
    }
    await turns();
    assert.equal(callbacks, 2000);
    assertValue(await maps.map, squares(3000), 'map');
    assertValue(await maps.mapChunked, squares(1000), 'map with chunksize 1');
    assertValue(await maps.mapAsync, squares(700), 'mapAsync');
    assertValue(await maps.starmap, sums, 'starmap');
    assertValue(await maps.starmapAsync, sums, 'starmapAsync');
    assertValue(await maps.mapOfAsyncInput, squares(500), 'map of an async iterable');
  } finally {
    await pool.terminate();
  }
});

test(
  'join() runs the rest of a partly read imap without waiting for its reader; the results are read after',
  T,
  async () => {
    // The rounds repeat a race: join() once stopped the workers between the
    // input's end and the launch of its last chunk (100 items in chunks of 3).
    for (let round = 0; round < 25; round++) {
      const pool = new Pool({ processes: 2 });
      try {
        const it = pool.imap(tasks.square, range(100), { chunksize: 3 });
        const got: number[] = [];
        for (let i = 0; i < 10; i++) {
          const r = await it.next();
          assert.equal(r.done, false);
          got.push(r.value as number);
        }
        pool.close();
        await pool.join();
        for await (const v of it) got.push(v);
        assert.deepEqual(got, squares(100), `round ${round}`);
      } finally {
        await pool.terminate();
      }
    }
  },
);

test('close() then join() resolves after breaking out of an imap over an infinite generator', T, async () => {
  const pool = new Pool({ processes: 2 });
  try {
    function* naturals(): Generator<number> {
      for (let i = 0; ; i++) yield i;
    }
    let seen = 0;
    for await (const v of pool.imap(tasks.square, naturals(), { chunksize: 5 })) {
      assert.equal(v, seen * seen);
      if (++seen === 20) break;
    }
    pool.close();
    await pool.join();
  } finally {
    await pool.terminate();
  }
});

test(
  'terminate() rejects running and queued work with PoolTerminatedError, resolves, and join() resolves after',
  T,
  async () => {
    const pool = new Pool({ processes: 2 });
    const gate = new Gate();
    try {
      const running = [
        pool.applyAsync(poolTasks.hold, [gate.array, 1]),
        pool.applyAsync(poolTasks.hold, [gate.array, 2]),
      ];
      await gate.arrivals(2); // both workers are blocked
      const queued = range(5).map((i) => pool.applyAsync(poolTasks.hold, [gate.array, 10 + i]));
      const queuedSquares = range(5).map((i) => pool.applyAsync(tasks.square, [i]));
      // Expectations are attached now: a promise that rejects during terminate() is handled.
      const checks = [
        ...[...running, ...queued, ...queuedSquares].map((r) => assert.rejects(r.get(), isTerminated)),
        assert.rejects(pool.map(tasks.square, range(100)), isTerminated),
        assert.rejects(pool.mapAsync(tasks.square, range(10)).get(), isTerminated),
        assert.rejects(pool.imap(tasks.square, range(10)).next(), isTerminated),
      ];

      await pool.terminate();
      await Promise.all(checks);
      assert.equal(gate.arrived, 2, 'queued tasks never ran');
      await pool.join();
      await pool.terminate(); // again: resolves
    } finally {
      gate.open();
      await pool.terminate();
    }
  },
);

test('terminate() stops a task that never yields (a busy loop) and resolves', T, async () => {
  const pool = new Pool({ processes: 1 });
  const spinning = pool.applyAsync(tasks.spinForever, []);
  const after = pool.applyAsync(tasks.square, [2]);
  await pool.terminate();
  await assert.rejects(spinning.get(), isTerminated);
  await assert.rejects(after.get(), isTerminated);
});

test('terminate() while join() waits: both resolve and the blocked work rejects', T, async () => {
  const pool = new Pool({ processes: 1 });
  const gate = new Gate();
  try {
    const blocked = pool.applyAsync(poolTasks.hold, [gate.array, 1]);
    const queued = pool.applyAsync(tasks.square, [3]);
    await gate.arrivals(1);
    pool.close();
    const joining = pool.join();
    await pool.terminate();
    await joining;
    await assert.rejects(blocked.get(), isTerminated);
    await assert.rejects(queued.get(), isTerminated);
  } finally {
    gate.open();
    await pool.terminate();
  }
});

test('await using terminates the pool at the end of the block, even when the block throws', T, async () => {
  const gate = new Gate();
  try {
    let outer: Pool | undefined;
    let blocked: { ready(): boolean; get(): Promise<number> } | undefined;
    {
      await using pool = new Pool({ processes: 1 });
      outer = pool;
      blocked = pool.applyAsync(poolTasks.hold, [gate.array, 1]);
      await gate.arrivals(1);
    }
    assert.equal(blocked.ready(), true, 'disposal waited for terminate()');
    await assert.rejects(blocked.get(), isTerminated);
    assert.throws(() => outer?.applyAsync(tasks.square, [1]), PoolClosedError);
    await outer.join();

    let thrower: Pool | undefined;
    await assert.rejects(async () => {
      await using pool = new Pool({ processes: 1 });
      thrower = pool;
      throw new Error('boom');
    }, /boom/);
    assert.throws(() => thrower?.applyAsync(tasks.square, [1]), PoolClosedError);
  } finally {
    gate.open();
  }
});

// ---- workers ----------------------------------------------------------------

test('processes: N gives exactly N workers, all able to run at once', T, async () => {
  for (const n of [1, 3]) {
    await using pool = new Pool({ processes: n });
    assert.equal(pool.processes, n);
    const gate = new Gate();
    try {
      // N tasks that each wait until all N have arrived: they only finish if N run at once.
      const ids = await Promise.all(range(n).map(() => pool.apply(poolTasks.rendezvous, [gate.array, n])));
      assert.equal(new Set(ids).size, n, `distinct thread ids: ${ids}`);
      // Every later task runs on one of those N workers.
      const later = await Promise.all(range(10 * n).map(() => pool.apply(tasks.whoami, [])));
      for (const id of later) assert.ok(ids.includes(id), `thread ${id} is not one of the ${n} workers`);
    } finally {
      gate.open();
    }
  }
});

test('processes: N never runs more than N tasks at once', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const warm = new Gate();
  const gate = new Gate();
  try {
    // Both workers are up (a rendezvous of 2), so a third worker would show at once.
    await Promise.all(range(2).map(() => pool.apply(poolTasks.rendezvous, [warm.array, 2])));
    const held = range(3).map((i) => pool.applyAsync(poolTasks.hold, [gate.array, i]));
    await gate.arrivals(2);
    await (held[2] as { wait(t: number): Promise<void> }).wait(100);
    assert.equal(gate.arrived, 2, 'a third task started while two were running');
    gate.open();
    assert.deepEqual(await Promise.all(held.map((r) => r.get())), [0, 1, 2]);
  } finally {
    warm.open();
    gate.open();
  }
});

test('processes defaults to cpuCount()', T, async () => {
  await using pool = new Pool();
  assert.equal(pool.processes, cpuCount());
  assert.ok(cpuCount() >= 1);
  assert.equal(await pool.apply(tasks.square, [5]), 25);
});

// ---- initializer ------------------------------------------------------------

test('initializer runs once per worker, with initargs, before its first task', T, async () => {
  const counter = sharedInts(1);
  await using pool = new Pool({ processes: 2, initializer: poolTasks.countInit, initargs: [counter, 'ready'] });
  const gate = new Gate();
  try {
    // The first task of each worker: a rendezvous of 2, so both workers run one.
    const workers = await Promise.all(range(2).map(() => pool.apply(poolTasks.rendezvous, [gate.array, 2])));
    assert.equal(new Set(workers).size, 2);
    const infos = await Promise.all(range(200).map(() => pool.apply(poolTasks.initInfo, [])));
    for (const info of infos) {
      assert.ok(workers.includes(info.threadId));
      assert.equal(info.initCalls, 1, `thread ${info.threadId} ran the initializer ${info.initCalls} times`);
      assert.equal(info.runBeforeInit, 0, 'the initializer ran before the first task of its worker');
      assert.equal(info.label, 'ready');
    }
    assert.equal(Atomics.load(counter, 0), 2, 'one initializer call per worker');
  } finally {
    gate.open();
  }
});

test('initargs reach the initializer as sent (structured values)', T, async () => {
  const value = { deep: [1, 'two', { three: 3 }], when: new Date(0) };
  await using pool = new Pool({ processes: 1, initializer: tasks.init, initargs: [value] });
  assert.deepEqual(await pool.apply(tasks.initValue, []), value);
});

test('replacement workers (maxTasksPerChild) run the initializer too', T, async () => {
  const counter = sharedInts(1);
  await using pool = new Pool({
    processes: 2,
    maxTasksPerChild: 3,
    initializer: poolTasks.countInit,
    initargs: [counter, 'again'],
  });
  const infos = await Promise.all(range(30).map(() => pool.apply(poolTasks.initInfo, [])));
  const threads = new Set(infos.map((info) => info.threadId));
  for (const info of infos) {
    assert.equal(info.initCalls, 1);
    assert.equal(info.runBeforeInit, 0);
    assert.equal(info.label, 'again');
  }
  assert.ok(threads.size >= 10, `30 tasks at most 3 a worker need 10 workers, saw ${threads.size}`);
  assert.equal(Atomics.load(counter, 0), threads.size);
});

test('an initializer that throws rejects the tasks with its error', T, async () => {
  await using pool = new Pool({ processes: 1, initializer: tasks.failInit });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(pool.apply(tasks.square, [2]), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.equal(err.message, 'initializer failed');
      return true;
    });
  }
  await assert.rejects(pool.map(tasks.square, [1, 2, 3]), { message: 'initializer failed' });
});

// ---- maxTasksPerChild ---------------------------------------------------------

test('maxTasksPerChild: no worker runs more than N tasks, and every task completes', T, async () => {
  await using pool = new Pool({ processes: 2, maxTasksPerChild: 3 });
  const runs = await Promise.all(range(40).map(() => pool.apply(poolTasks.countRun, [])));
  assert.equal(runs.length, 40);
  const perThread = countBy(runs, ([threadId]) => threadId);
  for (const [threadId, count] of perThread) assert.ok(count <= 3, `thread ${threadId} ran ${count} tasks`);
  for (const [threadId, rank] of runs) assert.ok(rank <= 3, `thread ${threadId} counted ${rank} tasks`);
  assert.ok(perThread.size >= 14, `40 tasks, at most 3 a worker, need 14 workers: saw ${perThread.size}`);
});

test('maxTasksPerChild counts a map chunk as one task', T, async () => {
  await using pool = new Pool({ processes: 2, maxTasksPerChild: 2 });
  const ids = await pool.map(poolTasks.threadOf, range(100), { chunksize: 5 });
  assert.equal(ids.length, 100);
  const chunkThreads = range(20).map((c) => {
    const block = new Set(ids.slice(c * 5, c * 5 + 5));
    assert.equal(block.size, 1);
    return ids[c * 5] as number;
  });
  for (const [threadId, chunks] of countBy(chunkThreads, (id) => id)) {
    assert.ok(chunks <= 2, `thread ${threadId} ran ${chunks} chunks`);
  }
  assert.deepEqual(await pool.map(tasks.square, range(50), { chunksize: 1 }), squares(50));
});

test('maxTasksPerChild: 1 runs each task on a fresh worker', T, async () => {
  await using pool = new Pool({ processes: 2, maxTasksPerChild: 1 });
  const ids = await Promise.all(range(8).map(() => pool.apply(tasks.whoami, [])));
  assert.equal(new Set(ids).size, 8);
});

// ---- maxQueue ---------------------------------------------------------------

test('maxQueue: with one task running and maxQueue queued, applyAsync throws QueueFull', T, async () => {
  await using pool = new Pool({ processes: 1, maxQueue: 1 });
  const gate = new Gate();
  try {
    const running = pool.applyAsync(poolTasks.hold, [gate.array, 1]);
    await gate.arrivals(1);
    const queued = pool.applyAsync(tasks.square, [2]);
    assert.throws(
      () => pool.applyAsync(tasks.square, [3]),
      (err: unknown) => {
        assert.ok(err instanceof QueueFull);
        assert.equal(err.code, 'ERR_COREPOOL_QUEUE_FULL');
        return true;
      },
    );
    await assert.rejects(pool.apply(tasks.square, [3]), QueueFull);
    gate.open();
    assert.equal(await running.get(), 1);
    assert.equal(await queued.get(), 4);
    // Room again.
    assert.equal(await pool.applyAsync(tasks.square, [5]).get(), 25);
  } finally {
    gate.open();
  }
});

test('maxQueue: 0 refuses a task while the only worker is busy', T, async () => {
  await using pool = new Pool({ processes: 1, maxQueue: 0 });
  const gate = new Gate();
  try {
    const running = pool.applyAsync(poolTasks.hold, [gate.array, 1]);
    await gate.arrivals(1);
    assert.throws(() => pool.applyAsync(tasks.square, [3]), QueueFull);
    gate.open();
    assert.equal(await running.get(), 1);
    assert.equal(await pool.apply(tasks.square, [3]), 9);
  } finally {
    gate.open();
  }
});

test('maxQueue bounds what maps keep queued; their results are complete', T, async () => {
  await using pool = new Pool({ processes: 1, maxQueue: 0 });
  assert.deepEqual(await pool.map(tasks.square, range(30), { chunksize: 1 }), squares(30));
  const got: number[] = [];
  for await (const v of pool.imap(tasks.square, range(30), { chunksize: 2 })) got.push(v);
  assert.deepEqual(got, squares(30));
});

// ---- options ------------------------------------------------------------------

test('every invalid option throws TypeError or RangeError naming the option', () => {
  const plain = (n: number): number => n;
  const cases: [string, unknown, 'TypeError' | 'RangeError', RegExp][] = [
    ['processes 0', { processes: 0 }, 'RangeError', /options\.processes/],
    ['processes -1', { processes: -1 }, 'RangeError', /options\.processes/],
    ['processes 1.5', { processes: 1.5 }, 'RangeError', /options\.processes/],
    ['processes NaN', { processes: Number.NaN }, 'RangeError', /options\.processes/],
    ['processes Infinity', { processes: Number.POSITIVE_INFINITY }, 'RangeError', /options\.processes/],
    ["processes '2'", { processes: '2' }, 'TypeError', /options\.processes/],
    ['processes null', { processes: null }, 'TypeError', /options\.processes/],
    ['maxTasksPerChild 0', { maxTasksPerChild: 0 }, 'RangeError', /options\.maxTasksPerChild/],
    ['maxTasksPerChild -2', { maxTasksPerChild: -2 }, 'RangeError', /options\.maxTasksPerChild/],
    ['maxTasksPerChild 2.5', { maxTasksPerChild: 2.5 }, 'RangeError', /options\.maxTasksPerChild/],
    ["maxTasksPerChild '3'", { maxTasksPerChild: '3' }, 'TypeError', /options\.maxTasksPerChild/],
    ['maxQueue -1', { maxQueue: -1 }, 'RangeError', /options\.maxQueue/],
    ['maxQueue 0.5', { maxQueue: 0.5 }, 'RangeError', /options\.maxQueue/],
    ['maxQueue NaN', { maxQueue: Number.NaN }, 'RangeError', /options\.maxQueue/],
    ["maxQueue '1'", { maxQueue: '1' }, 'TypeError', /options\.maxQueue/],
    ['unknown key', { process: 2 }, 'TypeError', /options\.process\b/],
    ['misspelt key', { maxtasksperchild: 2 }, 'TypeError', /maxtasksperchild/],
    ['initializer a plain function', { initializer: plain }, 'TypeError', /options\.initializer/],
    ['initializer a string', { initializer: 'init' }, 'TypeError', /options\.initializer/],
    ['initializer an object', { initializer: {} }, 'TypeError', /options\.initializer/],
    ['initargs a string', { initializer: tasks.init, initargs: 'x' }, 'TypeError', /options\.initargs/],
    ['initargs an object', { initializer: tasks.init, initargs: { 0: 1 } }, 'TypeError', /options\.initargs/],
    ['initargs without initializer', { initargs: [1] }, 'TypeError', /options\.initargs/],
    ['resourceLimits a number', { resourceLimits: 5 }, 'TypeError', /options\.resourceLimits/],
    [
      'resourceLimits with a misspelt key',
      { resourceLimits: { maxOldGenSizeMb: 64 } },
      'TypeError',
      /options\.resourceLimits\.maxOldGenSizeMb is not a Pool resourceLimits option \(known: maxOldGenerationSizeMb/,
    ],
    [
      'resourceLimits with a string value',
      { resourceLimits: { maxOldGenerationSizeMb: '64' } },
      'TypeError',
      /options\.resourceLimits\.maxOldGenerationSizeMb must be a positive number of megabytes: received the string "64"/,
    ],
    [
      'resourceLimits with a negative value',
      { resourceLimits: { stackSizeMb: -1 } },
      'RangeError',
      /options\.resourceLimits\.stackSizeMb must be a positive number of megabytes: received -1/,
    ],
    [
      'resourceLimits an array',
      { resourceLimits: [64] },
      'TypeError',
      /options\.resourceLimits must be an object: received an array of 1/,
    ],
    ['options null', null, 'TypeError', /options/],
    ['options a number', 5, 'TypeError', /options/],
  ];
  for (const [label, options, name, message] of cases) {
    assert.throws(() => new Pool(options as PoolOptions), { name, message }, label);
  }
});

test('a received value is shown with its type: processes \'4\' is the string "4", not 4', () => {
  assert.throws(() => new Pool({ processes: '4' as unknown as number }), {
    name: 'TypeError',
    message: 'options.processes must be a positive integer: received the string "4"',
  });
  assert.throws(() => new Pool({ maxQueue: '1' as unknown as number }), {
    message: 'options.maxQueue must be a non-negative integer or Infinity: received the string "1"',
  });
  assert.throws(() => new Pool({ processes: 1, initializer: tasks.init, initargs: 'x' as unknown as unknown[] }), {
    message: 'options.initargs must be an array: received the string "x"',
  });
  assert.throws(() => new Pool([] as PoolOptions), {
    message: 'Pool: options must be an object: received an array of 0',
  });
  assert.throws(() => new Pool({ maxtasksperchild: 2 } as PoolOptions), {
    message: /options\.maxtasksperchild is not a Pool option \(known: .*\); did you mean maxTasksPerChild\?$/,
  });
});

test(
  'per-call options of every Pool method are checked: unknown keys and non-objects throw before anything runs',
  T,
  async () => {
    await using pool = new Pool({ processes: 1 });
    const bad = (o: unknown) => o as never;
    const sync: [string, () => unknown, RegExp][] = [
      [
        'applyAsync unknown',
        () => pool.applyAsync(tasks.square, [1], bad({ bogus: 1 })),
        /^options\.bogus is not a Pool\.apply\(\) option \(known: callback, errorCallback, transfer, signal, timeout\)$/,
      ],
      [
        'applyAsync misspelt',
        () => pool.applyAsync(tasks.square, [1], bad({ timout: 5 })),
        /options\.timout .*did you mean timeout\?/,
      ],
      [
        'applyAsync a number',
        () => pool.applyAsync(tasks.square, [1], bad(5)),
        /^Pool\.apply\(\): options must be an object: received 5$/,
      ],
      [
        'applyAsync null',
        () => pool.applyAsync(tasks.square, [1], bad(null)),
        /options must be an object: received null/,
      ],
      ['applyAsync a string', () => pool.applyAsync(tasks.square, [1], bad('fast')), /received the string "fast"/],
      [
        'mapAsync unknown',
        () => pool.mapAsync(tasks.square, [1], bad({ chunkSize: 2 })),
        /options\.chunkSize is not a Pool\.mapAsync\(\) option .*did you mean chunksize\?/,
      ],
      [
        'starmapAsync a number',
        () => pool.starmapAsync(tasks.add, [[1, 2]], bad(3)),
        /Pool\.starmapAsync\(\): options must be an object: received 3/,
      ],
      [
        'imap unknown',
        () => pool.imap(tasks.square, [1], bad({ ordered: false })),
        /options\.ordered is not a Pool\.imap\(\) option \(known: chunksize\)/,
      ],
      [
        'imapUnordered a boolean',
        () => pool.imapUnordered(tasks.square, [1], bad(true)),
        /options must be an object: received true/,
      ],
      [
        'signal not an AbortSignal',
        () => pool.applyAsync(tasks.square, [1], bad({ signal: {} })),
        /options\.signal must be an AbortSignal: received an object/,
      ],
    ];
    for (const [label, call, message] of sync) assert.throws(call, { name: 'TypeError', message }, label);
    const rejected: [string, () => Promise<unknown>, RegExp][] = [
      [
        'apply unknown',
        () => pool.apply(tasks.square, [1], bad({ bogus: true })),
        /options\.bogus is not a Pool\.apply\(\) option/,
      ],
      [
        'map unknown',
        () => pool.map(tasks.square, [1], bad({ chunk: 1 })),
        /options\.chunk is not a Pool\.map\(\) option \(known: chunksize, onProgress\)/,
      ],
      [
        'map a string',
        () => pool.map(tasks.square, [1], bad('x')),
        /Pool\.map\(\): options must be an object: received the string "x"/,
      ],
      [
        'starmap unknown',
        () => pool.starmap(tasks.add, [[1, 2]], bad({ callback: () => {} })),
        /options\.callback is not a Pool\.starmap\(\) option/,
      ],
    ];
    for (const [label, call, message] of rejected) await assert.rejects(call(), { name: 'TypeError', message }, label);
    // The pool still works and ran none of the refused calls.
    assert.equal(await pool.apply(tasks.square, [7]), 49);
  },
);

test('starmap with an item that is not an argument list rejects naming the item, before any task runs', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const items = [[1, 2], [3, 4], 5, [6, 7]] as unknown as [number, number][];
  for (const call of [() => pool.starmap(tasks.add, items), () => pool.starmapAsync(tasks.add, items).get()]) {
    await assert.rejects(call(), {
      name: 'TypeError',
      message:
        /^starmap(Async)?: item 2 must be an array of arguments for the task: received 5 \(for one argument per item, use map\)$/,
    });
  }
  await assert.rejects(pool.starmap(tasks.add, ['ab'] as unknown as [number, number][], { chunksize: 1 }), {
    message: /item 0 must be an array of arguments for the task: received the string "ab"/,
  });
});

test('a typed array in options.transfer is refused, saying to list its .buffer', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const bytes = new Uint8Array(8);
  assert.throws(() => pool.applyAsync(poolTasks.byteSum, [bytes.buffer], { transfer: [bytes as never] }), {
    name: 'TypeError',
    message: /^options\.transfer\[0\] is a Uint8Array view, which cannot be transferred: list its \.buffer/,
  });
  assert.throws(
    () => pool.applyAsync(poolTasks.byteSum, [bytes.buffer], { transfer: [new SharedArrayBuffer(8) as never] }),
    {
      message: /options\.transfer\[0\] is a SharedArrayBuffer, which is shared, never transferred/,
    },
  );
  assert.throws(() => pool.applyAsync(poolTasks.byteSum, [bytes.buffer], { transfer: bytes.buffer as never }), {
    message: /options\.transfer must be an array of ArrayBuffers or MessagePorts: received an instance of ArrayBuffer/,
  });
  assert.throws(() => pool.applyAsync(poolTasks.byteSum, [bytes.buffer], { transfer: [7 as never] }), {
    message: /options\.transfer\[0\] must be an ArrayBuffer or a MessagePort: received 7/,
  });
  assert.equal(bytes.buffer.byteLength, 8, 'nothing was moved');
  assert.deepEqual(await pool.apply(poolTasks.byteSum, [bytes.buffer], { transfer: [bytes.buffer] }), {
    sum: 0,
    length: 8,
  });
});

test('valid edge options are accepted', T, async () => {
  for (const options of [
    { processes: 1, maxQueue: 0 },
    { processes: 1, maxQueue: Number.POSITIVE_INFINITY },
    { processes: 1, maxTasksPerChild: 1 },
    { processes: 1, initializer: tasks.noop },
    { processes: 1, initializer: tasks.init, initargs: [] },
  ] satisfies PoolOptions[]) {
    await using pool = new Pool(options);
    assert.equal(await pool.apply(tasks.square, [3]), 9, JSON.stringify(options));
  }
});
