/**
 * The cross-thread value walker (`src/transfer.ts`): values that cannot cross
 * threads are refused with a `DataCloneError` naming their path before
 * anything is dispatched, and shareable objects (`[kShare]()` +
 * `registerShareable`) arrive as working instances over the same memory —
 * directly, nested, in `initargs`, in results, once per instance, through
 * cycles — without the caller's objects being touched.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { DataCloneError, Pool, WorkerExitError } from '../src/index.js';
import { MARKER, prepare, revive } from '../src/transfer.js';
import { settles } from './fixtures/fault-gate.js';
import { COUNTER_KIND, SharedCounter } from './fixtures/transfer-counter.js';
import { transferTasks } from './fixtures/transfer-tasks.js';

const T = { timeout: 60_000 };
/** How long a call that should fail at once may take before the test calls it hung. */
const SETTLE_GUARD_MS = 20_000;

/** A pool whose counted tasks add to `calls[0]` each time they run. */
function countingPool(processes = 2): { pool: Pool; calls: Int32Array } {
  const calls = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const pool = new Pool({ processes, initializer: transferTasks.setCalls, initargs: [calls] });
  return { pool, calls };
}

/** A validator for assert.throws/rejects: a DataCloneError whose path is `path`. */
function cloneError(path: string, what?: RegExp): (err: unknown) => true {
  return (err) => {
    assert.ok(err instanceof DataCloneError, `expected a DataCloneError, got ${String(err)}`);
    assert.equal(err.name, 'DataCloneError');
    assert.equal(err.code, 'ERR_COREPOOL_DATA_CLONE');
    assert.equal(err.path, path);
    assert.ok(err.message.startsWith(path), `the message starts with the path: ${err.message}`);
    if (what !== undefined) assert.match(err.message, what);
    return true;
  };
}

function deepFreeze<V>(value: V, seen = new Set<unknown>()): V {
  if (typeof value !== 'object' || value === null || seen.has(value) || ArrayBuffer.isView(value)) return value;
  seen.add(value);
  if (value instanceof SharedCounter) return value;
  for (const v of Object.values(value)) deepFreeze(v, seen);
  return Object.freeze(value);
}

// ---- refused before dispatch ------------------------------------------------------

test('a non-cloneable argument is refused before dispatch with DataCloneError naming its path', T, async () => {
  const { port1, port2 } = new MessageChannel();
  const { pool, calls } = countingPool();
  try {
    const cases: [unknown[], string, RegExp][] = [
      [[() => 1], 'args[0]', /function/],
      [[1, { opts: { onDone() {} } }], 'args[1].opts.onDone', /function \(onDone\)/],
      [[Symbol('s')], 'args[0]', /symbol/],
      [[{ cache: new WeakMap() }], 'args[0].cache', /WeakMap/],
      [[{ seen: new WeakSet() }], 'args[0].seen', /WeakSet/],
      [[new WeakRef({})], 'args[0]', /WeakRef/],
      [[1, 2, Promise.resolve(3)], 'args[2]', /Promise/],
      [[[1, [2, () => 3]]], 'args[0][1][1]', /function/],
      [[{ 'not-an-identifier': () => 1 }], 'args[0]["not-an-identifier"]', /function/],
      [[new Set([1, () => 1])], 'args[0][1]', /function/],
      [[{ reply: port2 }], 'args[0].reply', /MessagePort/],
    ];
    for (const [args, path, what] of cases) {
      assert.throws(() => pool.applyAsync(transferTasks.countedArgs, args), cloneError(path, what), path);
      await assert.rejects(pool.apply(transferTasks.countedArgs, args), cloneError(path, what), path);
    }
    // A Map value is named under its key.
    assert.throws(
      () => pool.applyAsync(transferTasks.countedArgs, [new Map([['onDone', () => 1]])]),
      (err: unknown) => err instanceof DataCloneError && err.path.startsWith('args[0]') && /onDone/.test(err.path),
    );
    // None of those ran: only this call is counted.
    assert.deepEqual(await pool.apply(transferTasks.countedArgs, [1, 'ok']), [1, 'ok']);
    assert.equal(Atomics.load(calls, 0), 1);
  } finally {
    port1.close();
    await pool.terminate();
  }
});

test('a non-cloneable item in map/starmap is named by its index in the whole input; no chunk runs', T, async () => {
  const { pool, calls } = countingPool();
  try {
    const items: unknown[] = Array.from({ length: 12 }, (_, i) => i);
    items[7] = () => 7;
    for (const chunksize of [3, 1, 5]) {
      await assert.rejects(pool.map(transferTasks.countedItem, items, { chunksize }), cloneError('items[7]'));
    }
    await assert.rejects(pool.map(transferTasks.countedItem, items), cloneError('items[7]'), 'default chunksize');
    const nested = items.map((x, i) => (i === 7 ? { cb: x } : x));
    await assert.rejects(pool.map(transferTasks.countedItem, nested, { chunksize: 3 }), cloneError('items[7].cb'));
    await assert.rejects(
      pool.mapAsync(transferTasks.countedItem, items, { chunksize: 3 }).get(),
      cloneError('items[7]'),
      'mapAsync',
    );
    const starItems = Array.from({ length: 12 }, (_, i): unknown[] => [i, i === 7 ? Symbol('bad') : i]);
    await assert.rejects(
      pool.starmap(transferTasks.countedArgs, starItems, { chunksize: 3 }),
      cloneError('items[7][1]', /symbol/),
    );
    assert.equal(Atomics.load(calls, 0), 0, 'no chunk of a refused map ran');
    // The same input without the bad item maps fine.
    const good = items.map((x, i) => (i === 7 ? 7 : x));
    assert.deepEqual(await pool.map(transferTasks.countedItem, good, { chunksize: 3 }), good);
    assert.equal(Atomics.load(calls, 0), 12);
  } finally {
    await pool.terminate();
  }
});

test('imap names a non-cloneable item by its index in the whole input', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const items: unknown[] = Array.from({ length: 12 }, (_, i) => i);
  items[7] = () => 7;
  for (const ordered of [true, false]) {
    const it = ordered
      ? pool.imap(transferTasks.identity, items, { chunksize: 3 })
      : pool.imapUnordered(transferTasks.identity, items, { chunksize: 3 });
    await assert.rejects(
      (async () => {
        for await (const _ of it) {
          // drain
        }
      })(),
      cloneError('items[7]'),
    );
  }
});

test('a non-cloneable initarg is refused when the pool is made', () => {
  assert.throws(
    () => new Pool({ processes: 1, initializer: transferTasks.setCalls, initargs: [{ onReady: () => 1 }] }),
    cloneError('options.initargs[0].onReady'),
  );
});

test('a MessagePort not in `transfer` is refused; in `transfer`, it is moved and works', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const { port1, port2 } = new MessageChannel();
  try {
    assert.throws(() => pool.applyAsync(transferTasks.usePort, [port2, 'hello']), cloneError('args[0]', /transfer/));
    const heard = once(port1, 'message');
    assert.equal(await pool.apply(transferTasks.usePort, [port2, 'hello'], { transfer: [port2] }), 'sent');
    assert.deepEqual(await heard, ['hello']);
  } finally {
    port1.close();
  }
});

test('objects the walker misses but structured clone refuses are refused before dispatch, by path', T, async () => {
  const { pool, calls } = countingPool(1);
  try {
    const cases: [unknown[], string][] = [
      [[new Proxy({}, {})], 'args[0]'],
      [[1, { registry: new FinalizationRegistry(() => {}) }], 'args[1].registry'],
    ];
    for (const [args, path] of cases) {
      assert.throws(() => pool.applyAsync(transferTasks.countedArgs, args), cloneError(path), path);
    }
    assert.deepEqual(await pool.apply(transferTasks.countedArgs, ['ok']), ['ok']);
    assert.equal(Atomics.load(calls, 0), 1);
  } finally {
    await pool.terminate();
  }
});

test(
  'whatever structured clone refuses, the call settles with DataCloneError (it never hangs) and the pool lives',
  T,
  async () => {
    await using pool = new Pool({ processes: 1 });
    const refusedByCloneOnly: unknown[] = [
      new Intl.Collator(),
      (function* gen() {
        yield 1;
      })(),
      new Proxy([], {}),
    ];
    for (const value of refusedByCloneOnly) {
      const outcome = await settles(
        pool.apply(transferTasks.identity, [value]).then(
          () => 'resolved',
          (err: unknown) => err,
        ),
        `apply(identity, [${Object.prototype.toString.call(value)}])`,
        SETTLE_GUARD_MS,
      );
      assert.ok(outcome instanceof DataCloneError, `expected a DataCloneError, got ${String(outcome)}`);
    }
    assert.equal(await pool.apply(transferTasks.identity, [5]), 5);
    pool.close();
    await settles(pool.join(), 'join()', SETTLE_GUARD_MS);
  },
);

// ---- results that cannot cross ----------------------------------------------------------

test('a task returning a function rejects with DataCloneError, not a worker crash; the worker goes on', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const before = await pool.apply(transferTasks.threadId, []);
  await assert.rejects(pool.apply(transferTasks.returnFunction, []), (err: unknown) => {
    assert.ok(err instanceof DataCloneError, `expected a DataCloneError, got ${String(err)}`);
    assert.ok(!(err instanceof WorkerExitError));
    assert.equal(err.code, 'ERR_COREPOOL_DATA_CLONE');
    assert.match(err.path, /\.cb$/, 'the path names the function inside the result');
    assert.match(err.message, /returnFunction/, 'the message names the task');
    return true;
  });
  assert.equal(await pool.apply(transferTasks.threadId, []), before, 'the same worker, not a replacement');
  assert.deepEqual(await pool.apply(transferTasks.identity, [{ x: [1] }]), { x: [1] });
});

test(
  'a task returning a value only structured clone refuses rejects with DataCloneError; the worker goes on',
  T,
  async () => {
    await using pool = new Pool({ processes: 1 });
    const before = await pool.apply(transferTasks.threadId, []);
    for (const task of [transferTasks.returnProxy, transferTasks.returnGenerator]) {
      const outcome = await settles(
        pool.apply(task, []).then(
          () => 'resolved',
          (err: unknown) => err,
        ),
        'a task returning an uncloneable value',
      );
      assert.ok(outcome instanceof DataCloneError, `expected a DataCloneError, got ${String(outcome)}`);
    }
    assert.equal(await pool.apply(transferTasks.threadId, []), before, 'the same worker, not a replacement');
  },
);

// ---- shareables across threads ------------------------------------------------------------

test('a shareable passed directly arrives as a working instance over the same memory', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const counter = new SharedCounter(10);
  assert.deepEqual(await pool.apply(transferTasks.bumpAll, [counter]), { paths: ['$'], distinct: 1 });
  assert.equal(counter.value, 11, "the worker's increment is seen here");
  counter.increment(5);
  assert.equal(await pool.apply(transferTasks.read, [counter]), 16, 'and ours there');
});

test('shareables nested in objects, arrays, Maps (keys and values) and Sets arrive as instances', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const [a, b, c, d] = [new SharedCounter(), new SharedCounter(), new SharedCounter(), new SharedCounter()];
  const value = {
    a,
    list: [1, 'x', b, { deep: [c] }],
    byName: new Map<string, unknown>([
      ['b', b],
      ['n', 2],
    ]),
    byCounter: new Map([[d, 'd']]),
    set: new Set([c, 3]),
    plain: { n: 1, s: 's' },
  };
  const found = await pool.apply(transferTasks.bumpAll, [value]);
  assert.deepEqual(found.paths.toSorted(), [
    '$.a',
    '$.byCounter<key 0>',
    '$.byName.get(b)',
    '$.list[2]',
    '$.list[3].deep[0]',
    '$.set{0}',
  ]);
  assert.equal(found.distinct, 4, 'b and c appear twice each, yet arrive as one instance each');
  assert.deepEqual(
    [a, b, c, d].map((x) => x.value),
    [1, 1, 1, 1],
  );
});

test("the caller's objects are not mutated (not even frozen ones)", T, async () => {
  await using pool = new Pool({ processes: 1 });
  const counter = new SharedCounter();
  const inner = [counter, 2];
  const map = new Map<string, unknown>([['c', counter]]);
  const set = new Set<unknown>([counter]);
  const value = deepFreeze({ counter, inner, nested: { inner }, map, set });
  const args = deepFreeze([value, counter]);
  const found = await pool.apply(transferTasks.bumpAll, args as unknown as [unknown]);
  assert.equal(found.distinct, 1);
  assert.equal(counter.value, 1);
  assert.equal(value.counter, counter);
  assert.equal(value.inner, inner);
  assert.equal(value.nested.inner, inner);
  assert.equal(inner[0], counter);
  assert.equal(args[1], counter);
  assert.equal(map.get('c'), counter);
  assert.ok(set.has(counter) && set.size === 1);
  assert.deepEqual(Object.keys(value), ['counter', 'inner', 'nested', 'map', 'set']);
  for (const o of [value, inner, value.nested, counter]) assert.ok(!(MARKER in o), 'no marker written into it');
});

test('the same instance twice in one call arrives as one instance, revived once', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const counter = new SharedCounter();
  const before = await pool.apply(transferTasks.revivedHere, []);
  assert.equal(await pool.apply(transferTasks.sameInstance, [counter, counter]), true);
  assert.equal((await pool.apply(transferTasks.revivedHere, [])) - before, 1);
  assert.equal(await pool.apply(transferTasks.sameInstance, [counter, new SharedCounter()]), false);
});

test('shareables in initargs arrive in every worker as instances over the same memory', T, async () => {
  const counter = new SharedCounter();
  const pool = new Pool({
    processes: 2,
    initializer: transferTasks.initCounter,
    initargs: [{ nested: [counter], again: counter }],
  });
  try {
    const runs = await Promise.all(Array.from({ length: 8 }, () => pool.apply(transferTasks.bumpFromInit, [])));
    for (const found of runs) {
      assert.deepEqual(found.paths.toSorted(), ['$.again', '$.nested[0]']);
      assert.equal(found.distinct, 1);
    }
    assert.equal(counter.value, 8);
  } finally {
    await pool.terminate();
  }
});

test('a shareable returned from a task arrives here as an instance over the memory the worker made', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const counter = await pool.apply(transferTasks.makeCounter, [5]);
  assert.ok(counter instanceof SharedCounter);
  assert.equal(counter.value, 5);
  counter.increment();
  assert.equal(await pool.apply(transferTasks.read, [counter]), 6);

  const shared = await pool.apply(transferTasks.makeShared, [1]);
  assert.ok(shared.a instanceof SharedCounter);
  assert.equal(shared.list[0], shared.a, 'one instance, returned twice');
  assert.equal(shared.map.get('c'), shared.a);
});

test('a cyclic object holding a shareable keeps its cycle and its instance', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const counter = new SharedCounter();
  const o: { c: SharedCounter; self: unknown } = { c: counter, self: undefined };
  o.self = o;
  assert.deepEqual(await pool.apply(transferTasks.inspectCycle, [o as never]), {
    selfIsSelf: true,
    counter: true,
    counterViaSelf: true,
    sameCounter: true,
  });
  assert.equal(o.self, o, "the caller's cycle is intact");
});

test('a cyclic array holding a shareable keeps its cycle and its instance', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const a: unknown[] = [new SharedCounter()];
  a.push(a);
  assert.deepEqual(await pool.apply(transferTasks.inspectArrayCycle, [a]), {
    selfIsSelf: true,
    counter: true,
    counterViaSelf: true,
  });
  assert.equal(a[1], a, "the caller's cycle is intact");
});

test('a cyclic result holding a shareable keeps its cycle and its instance', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const back = await pool.apply(transferTasks.makeCyclic, [3]);
  assert.ok(back.c instanceof SharedCounter);
  assert.equal(back.c.value, 3);
  assert.equal(back.self, back, 'a returned cycle is kept');
});

test('cyclic structures without shareables cross as they are', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const o: { n: number; self: unknown } = { n: 1, self: undefined };
  o.self = o;
  assert.equal(await pool.apply(transferTasks.selfIsSelf, [o]), true);
});

// ---- prepare / revive on fixed values ------------------------------------------------------

test('prepare: a value without shareables is returned as the same reference, shared: false', () => {
  const values: unknown[] = [
    [1, 'two', null, undefined, 3n, true],
    { a: { b: [1, { c: 'd' }] } },
    new Map<unknown, unknown>([[1, { x: 1 }]]),
    new Set([1, [2]]),
    Array.from({ length: 10_000 }, (_, i) => i),
    new Uint8Array(4),
    new SharedArrayBuffer(8),
    new Date(0),
  ];
  for (const value of values) {
    const prepared = prepare(value, 'args');
    assert.equal(prepared.value, value);
    assert.equal(prepared.shared, false);
  }
  for (const primitive of [0, 'x', null, undefined, 1n, false]) {
    assert.deepEqual(prepare(primitive, 'args'), { value: primitive, shared: false });
  }
});

test('prepare: shareables become markers in copies; shared: true; the input is untouched', () => {
  const counter = new SharedCounter(4);
  const input = [1, { c: counter, keep: [5] }, counter];
  const { value, shared } = prepare(input, 'args');
  assert.equal(shared, true);
  assert.notEqual(value, input);
  const [one, obj, again] = value as [number, { c: Record<string, unknown>; keep: number[] }, unknown];
  assert.equal(one, 1);
  assert.equal(obj.c[MARKER], COUNTER_KIND);
  assert.deepEqual(obj.c, { [MARKER]: COUNTER_KIND, state: { buffer: counter.cells.buffer, byteOffset: 0 } });
  assert.equal(again, obj.c, 'one marker for one instance');
  assert.equal((input[1] as { c: unknown }).c, counter);
  assert.equal(input[2], counter);
});

test('prepare copies a value holding a shareable whole, leaves the original untouched (as transfer.ts documents)', () => {
  const keep = [5, { deep: [6] }];
  const untouched = { keep };
  const counter = new SharedCounter();
  const input = [{ c: counter, keep }, untouched];
  const { value, shared } = prepare(input, 'args');
  assert.equal(shared, true);
  const [holder, other] = value as [{ c: unknown; keep: unknown }, { keep: unknown }];
  assert.notEqual(holder, input[0], 'the container holding the shareable is copied');
  assert.deepEqual(holder.keep, keep, 'other branches keep their contents');
  assert.equal(other.keep, holder.keep, 'a shared reference stays shared in the copy');
  assert.equal((input[0] as { c: unknown }).c, counter, "the caller's objects are not changed");
  assert.equal(prepare(untouched, 'args').value, untouched, 'without shareables the value itself is passed on');
});

test('revive: markers become instances over the same memory; identity is kept; no markers -> same value', () => {
  const counter = new SharedCounter(7);
  const posted = structuredClone(prepare([counter, { again: counter }], 'args').value);
  const [revived, holder] = revive<[SharedCounter, { again: SharedCounter }]>(posted);
  assert.ok(revived instanceof SharedCounter);
  assert.notEqual(revived, counter);
  assert.equal(holder.again, revived);
  assert.equal(revived.value, 7);
  revived.increment();
  assert.equal(counter.value, 8, 'bound to the same memory');

  const plain = { a: [1, { b: 2 }] };
  assert.equal(revive(plain), plain);
  assert.ok(revive(structuredClone(prepare(counter, 'value').value)) instanceof SharedCounter);
});

test('revive: a marker of a kind never registered on this thread is a TypeError naming it', () => {
  assert.throws(() => revive([{ [MARKER]: 'no.such.Kind', state: null }]), {
    name: 'TypeError',
    message: /no\.such\.Kind/,
  });
});

test('prepare + revive keep a cycle that runs through a container holding a shareable', () => {
  const counter = new SharedCounter();
  const o: { c: SharedCounter; self: unknown } = { c: counter, self: undefined };
  o.self = o;
  const { value, shared } = prepare(o, 'value');
  assert.equal(shared, true);
  const copy = value as { c: unknown; self: unknown };
  assert.equal(copy.self, copy, 'the copy refers to itself, not to the original');
  const back = revive<{ c: unknown; self: { c: unknown } }>(structuredClone(value));
  assert.equal(back.self, back);
  assert.ok(back.c instanceof SharedCounter);
  assert.equal(back.self.c, back.c);
});

test('prepare: paths name the culprit; a chunk offset shifts only the first index', () => {
  const fn = function onDone(): void {};
  assert.throws(() => prepare(fn, 'value'), cloneError('value', /function \(onDone\)/));
  assert.throws(() => prepare([1, { opts: { onDone: fn } }], 'args'), cloneError('args[1].opts.onDone'));
  assert.throws(() => prepare([1, fn], 'items', undefined, 6), cloneError('items[7]'));
  assert.throws(() => prepare([[1, fn]], 'items', undefined, 6), cloneError('items[6][1]'));
  assert.throws(() => prepare([{ 'a b': fn }], 'args'), cloneError('args[0]["a b"]'));
  const { port1, port2 } = new MessageChannel();
  try {
    assert.throws(() => prepare([port1], 'args'), cloneError('args[0]', /MessagePort/));
    const ok = [port1];
    assert.deepEqual(prepare(ok, 'args', [port1]), { value: ok, shared: false });
  } finally {
    port1.close();
    port2.close();
  }
});
