/**
 * `Pool.applyAsync` / `Pool.apply`: results, argument spreading, async tasks,
 * Python-style callbacks, `transfer`, `signal`, `timeout`, task references and
 * the errors for things that are not tasks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AsyncResult, Pool, TimeoutError, taskRef } from '../src/index.js';
import { Gate, turns } from './fixtures/pool-helpers.js';
import { poolTasks } from './fixtures/pool-tasks.js';
import { tasks } from './fixtures/tasks.js';

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const tasksUrl = new URL(`./fixtures/tasks.${ext}`, import.meta.url).href;
const plainUrl = new URL(`./fixtures/pool-plain.${ext}`, import.meta.url).href;
const T = { timeout: 30_000 };

test('apply resolves with the task result; applyAsync returns an AsyncResult', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.equal(await pool.apply(tasks.square, [7]), 49);
  const r = pool.applyAsync(tasks.square, [12]);
  assert.ok(r instanceof AsyncResult);
  assert.equal(await r.get(), 144);
  assert.equal(await pool.apply(tasks.noop, []), undefined);
  assert.deepEqual(await pool.apply(tasks.identity, [{ a: [1, 'two', null] }]), { a: [1, 'two', null] });
});

test('args is the argument list, spread into the task in order', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.equal(await pool.apply(tasks.add, [2, 3]), 5);
  assert.equal(await pool.apply(poolTasks.describe, [1, 'x', true]), 'number:1,string:x,boolean:true');
  // An array argument stays one argument.
  assert.deepEqual(await pool.apply(tasks.identity, [[1, 2, 3]]), [1, 2, 3]);
});

test('args that is not an array is refused with a TypeError', T, async () => {
  await using pool = new Pool({ processes: 1 });
  assert.throws(() => pool.applyAsync(tasks.square, 3 as never), { name: 'TypeError', message: /args/ });
});

test('many concurrent applyAsync calls each get their own result', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const results = Array.from({ length: 200 }, (_, i) => pool.applyAsync(tasks.square, [i]));
  const values = await Promise.all(results.map((r) => r.get()));
  assert.deepEqual(
    values,
    Array.from({ length: 200 }, (_, i) => i * i),
  );
});

test('an async task is awaited in the worker: its value resolves, its rejection rejects', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.equal(await pool.apply(poolTasks.double, [21]), 42);
  assert.equal(await pool.apply(tasks.slowDouble, [5]), 10);
  await assert.rejects(pool.apply(poolTasks.rejectLater, ['async failure']), (err: unknown) => {
    assert.ok(err instanceof RangeError);
    assert.equal(err.message, 'async failure');
    return true;
  });
});

test('a task that throws rejects apply with that error', T, async () => {
  await using pool = new Pool({ processes: 1 });
  await assert.rejects(pool.apply(tasks.failOn, [3, 3]), { name: 'Error', message: 'item 3 is bad' });
  // The worker survives a task's error.
  assert.equal(await pool.apply(tasks.failOn, [4, 3]), 4);
});

test('callback is called exactly once with the value; errorCallback is not called', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const values: number[] = [];
  const errors: unknown[] = [];
  const r = pool.applyAsync(tasks.square, [9], {
    callback: (v) => values.push(v),
    errorCallback: (e) => errors.push(e),
  });
  assert.equal(await r.get(), 81);
  await turns();
  assert.deepEqual(values, [81]);
  assert.deepEqual(errors, []);
});

test('errorCallback is called exactly once with the error; callback is not called', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const values: number[] = [];
  const errors: unknown[] = [];
  const r = pool.applyAsync(tasks.failOn, [1, 1], {
    callback: (v) => values.push(v),
    errorCallback: (e) => errors.push(e),
  });
  await r.wait();
  await turns();
  assert.deepEqual(values, []);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof Error);
  assert.equal(errors[0].message, 'item 1 is bad');
  // The result holds the same error.
  await assert.rejects(r.get(), (err: unknown) => err === errors[0]);
});

test(
  'a callback alone (no errorCallback) on a failing task is not called and leaves the error in the result',
  T,
  async () => {
    await using pool = new Pool({ processes: 1 });
    let calls = 0;
    const r = pool.applyAsync(tasks.failOn, [2, 2], {
      callback: () => {
        calls++;
      },
    });
    await assert.rejects(r.get(), { message: 'item 2 is bad' });
    await turns();
    assert.equal(calls, 0);
  },
);

test('apply also calls callback once', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const seen: number[] = [];
  assert.equal(await pool.apply(tasks.add, [1, 2], { callback: (v) => seen.push(v) }), 3);
  await turns();
  assert.deepEqual(seen, [3]);
});

test('callback that is not a function is refused with a TypeError naming it', T, async () => {
  await using pool = new Pool({ processes: 1 });
  assert.throws(() => pool.applyAsync(tasks.square, [1], { callback: 5 as never }), {
    name: 'TypeError',
    message: /callback/,
  });
  assert.throws(() => pool.applyAsync(tasks.square, [1], { errorCallback: 'x' as never }), {
    name: 'TypeError',
    message: /errorCallback/,
  });
});

test(
  'transfer moves an ArrayBuffer: the task sees its bytes, the caller is left with a detached buffer',
  T,
  async () => {
    await using pool = new Pool({ processes: 2 });
    const moved = new Uint8Array([1, 2, 3, 4, 250]).buffer;
    const result = await pool.apply(poolTasks.byteSum, [moved], { transfer: [moved] });
    assert.deepEqual(result, { sum: 260, length: 5 });
    assert.equal(moved.byteLength, 0, 'the transferred buffer is detached on the caller');

    // Without transfer the buffer is copied and stays usable here.
    const copied = new Uint8Array([5, 6]).buffer;
    assert.deepEqual(await pool.apply(poolTasks.byteSum, [copied]), { sum: 11, length: 2 });
    assert.equal(copied.byteLength, 2);
    assert.deepEqual([...new Uint8Array(copied)], [5, 6]);
  },
);

test('transfer of a typed array buffer nested in an argument', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const bytes = new Uint8Array(1024).fill(1);
  const sum = await pool.apply(tasks.sumBuffer, [bytes.buffer], { transfer: [bytes.buffer] });
  assert.equal(sum, 1024);
  assert.equal(bytes.byteLength, 0);
});

test('signal aborted before the call: the task rejects with signal.reason and never runs', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const gate = new Gate();
  const reason = new Error('cancelled before start');
  await assert.rejects(
    pool.apply(poolTasks.hold, [gate.array, 1], { signal: AbortSignal.abort(reason) }),
    (err: unknown) => err === reason,
  );
  assert.equal(await pool.apply(tasks.square, [3]), 9);
  assert.equal(gate.arrived, 0, 'the aborted task never ran');
});

test('signal aborted while the task waits in the queue: rejects with signal.reason, never runs', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const busy = new Gate();
  const never = new Gate();
  try {
    const first = pool.applyAsync(poolTasks.hold, [busy.array, 1]);
    await busy.arrivals(1); // the only worker is now blocked: the next task must queue
    const controller = new AbortController();
    const queued = pool.applyAsync(poolTasks.hold, [never.array, 2], { signal: controller.signal });
    const reason = new Error('cancelled in the queue');
    controller.abort(reason);
    await assert.rejects(queued.get(), (err: unknown) => err === reason);
    busy.open();
    assert.equal(await first.get(), 1);
    assert.equal(await pool.apply(tasks.square, [4]), 16);
    assert.equal(never.arrived, 0, 'the aborted task never reached a worker');
  } finally {
    busy.open();
    never.open();
  }
});

test(
  'signal aborted while the task runs: rejects with signal.reason; other tasks complete; the pool still works',
  T,
  async () => {
    await using pool = new Pool({ processes: 2 });
    const gate = new Gate();
    try {
      const controller = new AbortController();
      const stuck = pool.applyAsync(poolTasks.hold, [gate.array, 1], { signal: controller.signal });
      await gate.arrivals(1); // it is running, blocked on the gate
      const others = Array.from({ length: 20 }, (_, i) => pool.applyAsync(tasks.square, [i]));
      const reason = new RangeError('cancelled while running');
      controller.abort(reason);
      await assert.rejects(stuck.get(), (err: unknown) => err === reason);
      assert.deepEqual(
        await Promise.all(others.map((r) => r.get())),
        Array.from({ length: 20 }, (_, i) => i * i),
      );
      assert.equal(await pool.apply(tasks.add, [20, 22]), 42);
      assert.deepEqual(await pool.map(tasks.square, [1, 2, 3, 4, 5, 6]), [1, 4, 9, 16, 25, 36]);
    } finally {
      gate.open();
    }
  },
);

test('a signal that is never aborted does not affect the result', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const controller = new AbortController();
  assert.equal(await pool.apply(tasks.square, [6], { signal: controller.signal }), 36);
  controller.abort(new Error('too late'));
  assert.equal(await pool.apply(tasks.square, [5]), 25);
});

test('signal that is not an AbortSignal is refused with a TypeError', T, async () => {
  await using pool = new Pool({ processes: 1 });
  assert.throws(() => pool.applyAsync(tasks.square, [1], { signal: {} as never }), {
    name: 'TypeError',
    message: /signal/,
  });
});

test('timeout: a task that spins forever rejects with TimeoutError and the pool keeps working', T, async () => {
  await using pool = new Pool({ processes: 2 });
  await assert.rejects(pool.apply(tasks.spinForever, [], { timeout: 100 }), (err: unknown) => {
    assert.ok(err instanceof TimeoutError);
    assert.equal(err.code, 'ERR_COREPOOL_TIMEOUT');
    return true;
  });
  assert.equal(await pool.apply(tasks.square, [11]), 121);
  assert.deepEqual(await pool.map(tasks.square, [1, 2, 3, 4, 5, 6, 7]), [1, 4, 9, 16, 25, 36, 49]);
  // Both workers are still there: two tasks can run at the same time.
  const gate = new Gate();
  try {
    const both = [0, 1].map(() => pool.applyAsync(poolTasks.rendezvous, [gate.array, 2]));
    const ids = await Promise.all(both.map((r) => r.get()));
    assert.equal(new Set(ids).size, 2);
  } finally {
    gate.open();
  }
});

test('timeout on several spinning tasks at once: each rejects, the rest of the work completes', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const spinning = [0, 1, 2].map(() => pool.applyAsync(tasks.spinForever, [], { timeout: 100 }));
  const fine = Array.from({ length: 10 }, (_, i) => pool.applyAsync(tasks.square, [i], { timeout: 20_000 }));
  for (const r of spinning) await assert.rejects(r.get(), TimeoutError);
  assert.deepEqual(
    await Promise.all(fine.map((r) => r.get())),
    Array.from({ length: 10 }, (_, i) => i * i),
  );
});

test('timeout that does not run out leaves the result alone', T, async () => {
  await using pool = new Pool({ processes: 1 });
  assert.equal(await pool.apply(tasks.square, [8], { timeout: 20_000 }), 64);
});

test('timeout: Infinity (accepted as valid) means no time limit', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const gate = new Gate();
  try {
    const r = pool.applyAsync(poolTasks.hold, [gate.array, 5], { timeout: Number.POSITIVE_INFINITY });
    await gate.arrivals(1);
    // Give a wrongly armed timer (Node runs setTimeout(Infinity) after 1 ms) the
    // chance to fire before the gate opens: r.wait(50) returns after a 50 ms timer.
    await r.wait(50);
    gate.open();
    assert.equal(await r.get(), 5);
  } finally {
    gate.open();
  }
});

test('an invalid timeout is refused with a RangeError naming it', T, async () => {
  await using pool = new Pool({ processes: 1 });
  for (const bad of [-1, Number.NaN]) {
    assert.throws(() => pool.applyAsync(tasks.square, [1], { timeout: bad }), {
      name: 'RangeError',
      message: /timeout/,
    });
  }
});

test('taskRef to a task defined with defineTasks runs it', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const square = taskRef<(n: number) => number>(tasksUrl, 'square');
  assert.equal(await pool.apply(square, [13]), 169);
  const add = taskRef<typeof tasks.add>(tasksUrl, 'add');
  assert.equal(await pool.applyAsync(add, [40, 2]).get(), 42);
  assert.deepEqual(await pool.map(square, [1, 2, 3]), [1, 4, 9]);
});

test('taskRef to a plain named export of a module runs it', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const cube = taskRef<(n: number) => number>(plainUrl, 'cube');
  assert.equal(await pool.apply(cube, [3]), 27);
  assert.deepEqual(await pool.map(cube, [1, 2, 3, 4]), [1, 8, 27, 64]);
  const greet = taskRef<(name: string) => Promise<string>>(plainUrl, 'greet');
  assert.equal(await pool.apply(greet, ['corepool']), 'hello corepool');
});

test('an unknown task name rejects with a clear error; the pool still works', T, async () => {
  await using pool = new Pool({ processes: 1 });
  await assert.rejects(pool.apply(taskRef(tasksUrl, 'noSuchTask'), []), (err: unknown) => {
    assert.ok(err instanceof TypeError);
    assert.match(err.message, /noSuchTask/);
    assert.match(err.message, /not found/);
    assert.match(err.message, /fixtures\/tasks\./);
    return true;
  });
  await assert.rejects(pool.apply(taskRef(plainUrl, 'notATask'), []), (err: unknown) => {
    assert.ok(err instanceof TypeError);
    assert.match(err.message, /notATask/);
    return true;
  });
  assert.equal(await pool.apply(tasks.square, [2]), 4);
});

test('a task in a module that does not exist rejects naming the module; the pool still works', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const missing = new URL('./fixtures/pool-does-not-exist.js', import.meta.url).href;
  await assert.rejects(pool.apply(taskRef(missing, 'f'), []), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.match(err.message, /pool-does-not-exist/);
    return true;
  });
  assert.equal(await pool.apply(tasks.square, [5]), 25);
});

test('a plain function (not from defineTasks) is refused with a TypeError', T, async () => {
  await using pool = new Pool({ processes: 1 });
  function plainSquare(n: number): number {
    return n * n;
  }
  // Typed as a task to get past the compiler: the check under test is the runtime one.
  const disguised = plainSquare as unknown as typeof tasks.square;
  assert.throws(
    () => pool.applyAsync(disguised, [2]),
    (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.match(err.message, /defineTasks/);
      assert.match(err.message, /plainSquare/);
      return true;
    },
  );
  await assert.rejects(pool.apply(disguised, [2]), TypeError);
  await assert.rejects(pool.map(disguised, [2]), TypeError);
  assert.throws(() => pool.applyAsync('square' as unknown as typeof tasks.square, [2]), TypeError);
  assert.throws(() => pool.applyAsync(undefined as unknown as typeof tasks.square, [2]), TypeError);
  // Nothing was submitted: the pool still works.
  assert.equal(await pool.apply(tasks.square, [2]), 4);
});

test('taskRef refuses a module that is not a URL and an empty name', () => {
  assert.throws(() => taskRef('./fixtures/tasks.js', 'square'), { name: 'TypeError', message: /moduleUrl/ });
  assert.throws(() => taskRef(tasksUrl, ''), { name: 'TypeError', message: /name/ });
});
