/**
 * `SharedValue` and `SharedArray`: CPython's `_TestValue` and `_TestArray`
 * ported (every type, get/set, ranges, the lock variants, arrays from a
 * length and from values, children writing what the parent reads), the
 * typecode aliases, and the ways a shared value reaches another thread: Pool
 * task arguments and results, a plain Worker's `workerData` (revived in place
 * by importing corepool), and `postMessage` + `revive`. Foreign or wrong-kind
 * memory is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Pool, RLock, revive, Semaphore, SharedArray, SharedValue, type TypeName } from '../src/index.js';
import type { SharedArrayState } from '../src/shared/array.js';
import type { SharedValueState } from '../src/shared/value.js';
import { Lock } from '../src/sync/lock.js';
import { CODES_VALUES, cumulate, type Seen, sharedTasks } from './fixtures/shared-tasks.js';

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const workerOptions = ext === 'ts' ? { execArgv: ['--import', 'tsx'] } : {};
const workerUrl = new URL(`./fixtures/shared-worker.${ext}`, import.meta.url);
const T = { timeout: 60_000 };

/** Element type, what it stands for, its least and greatest value. */
const TYPES: readonly (readonly [TypeName, string, number | bigint, number | bigint])[] = [
  ['i8', 'i8', -128, 127],
  ['b', 'i8', -128, 127],
  ['u8', 'u8', 0, 255],
  ['B', 'u8', 0, 255],
  ['i16', 'i16', -32768, 32767],
  ['h', 'i16', -32768, 32767],
  ['u16', 'u16', 0, 65535],
  ['H', 'u16', 0, 65535],
  ['i32', 'i32', -(2 ** 31), 2 ** 31 - 1],
  ['i', 'i32', -(2 ** 31), 2 ** 31 - 1],
  ['u32', 'u32', 0, 2 ** 32 - 1],
  ['I', 'u32', 0, 2 ** 32 - 1],
  ['i64', 'i64', -(2n ** 63n), 2n ** 63n - 1n],
  ['q', 'i64', -(2n ** 63n), 2n ** 63n - 1n],
  ['l', 'i64', -(2n ** 63n), 2n ** 63n - 1n],
  ['u64', 'u64', 0n, 2n ** 64n - 1n],
  ['Q', 'u64', 0n, 2n ** 64n - 1n],
  ['L', 'u64', 0n, 2n ** 64n - 1n],
];

const VIEWS: Record<string, new (n: number) => ArrayBufferView> = {
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  u16: Uint16Array,
  i32: Int32Array,
  u32: Uint32Array,
  i64: BigInt64Array,
  u64: BigUint64Array,
  f32: Float32Array,
  f64: Float64Array,
};

const isWide = (canonical: string): boolean => canonical === 'i64' || canonical === 'u64';
const plusOne = (x: number | bigint): number | bigint => (typeof x === 'bigint' ? x + 1n : x + 1);
const minusOne = (x: number | bigint): number | bigint => (typeof x === 'bigint' ? x - 1n : x - 1);
/** The marker structured clone makes of a shared object: `{ __corepool_shared__, state }`. */
const markerOf = <S>(o: object): { __corepool_shared__: string; state: S } =>
  structuredClone(o) as { __corepool_shared__: string; state: S };

/** Runs the plain Worker fixture; resolves with its first message. */
function startWorker(workerData: unknown): { worker: Worker; next<M>(): Promise<M> } {
  const worker = new Worker(workerUrl, { ...workerOptions, workerData });
  const next = <M>(): Promise<M> =>
    new Promise<M>((resolve, reject) => {
      const onMessage = (m: M): void => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number): void => reject(new Error(`worker exited with code ${code} before answering`));
      worker.once('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', onExit);
    });
  return { worker, next };
}

// ---- values: types and ranges -------------------------------------------

test('every type and typecode starts at zero and reads back both ends of its range', () => {
  for (const [type, canonical, min, max] of TYPES) {
    const v = new SharedValue(type);
    assert.equal(v.type, canonical, type);
    assert.equal(v.value, isWide(canonical) ? 0n : 0, `${type} starts at zero`);
    v.value = max;
    assert.equal(v.value, max, `${type} max`);
    v.value = min;
    assert.equal(v.value, min, `${type} min`);
    assert.equal(new SharedValue(type, max).value, max, `${type} init max`);
    assert.equal(new SharedValue(type, min).value, min, `${type} init min`);
  }
});

test('values outside the range are refused with a RangeError naming the type; the value is unchanged', () => {
  for (const [type, canonical, min, max] of TYPES) {
    const named = { name: 'RangeError', message: new RegExp(`SharedValue\\('${canonical}'\\) init .*${max}`) };
    assert.throws(() => new SharedValue(type, plusOne(max)), named, `${type} init max + 1`);
    assert.throws(() => new SharedValue(type, minusOne(min)), named, `${type} init min - 1`);
    const v = new SharedValue(type, max);
    assert.throws(
      () => {
        v.value = plusOne(max);
      },
      { name: 'RangeError', message: new RegExp(`SharedValue\\('${canonical}'\\)\\.value`) },
    );
    assert.equal(v.value, max, `${type} unchanged`);
  }
});

test('integer types refuse fractions and NaN (RangeError) and non-numbers (TypeError), take bigints', () => {
  for (const [type, canonical] of TYPES) {
    const v = new SharedValue(type, 5);
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => {
          v.value = bad;
        },
        RangeError,
        `${type} ${bad}`,
      );
    }
    for (const bad of ['1', null, {}, true]) {
      assert.throws(
        () => {
          v.value = bad as never;
        },
        { name: 'TypeError', message: new RegExp(`'${canonical}'.*must be an integer`) },
        `${type} ${String(bad)}`,
      );
    }
    v.value = 7n;
    assert.equal(v.value, isWide(canonical) ? 7n : 7);
    assert.equal(new SharedValue(type, -0).value, isWide(canonical) ? 0n : 0);
  }
});

test('64-bit types read bigints, take integer numbers, and keep values beyond 2^53 exact', () => {
  const q = new SharedValue('q', 2n ** 33n); // CPython codes_values
  assert.equal(q.value, 2n ** 33n);
  q.value = 2 ** 34;
  assert.equal(q.value, 2n ** 34n);
  q.value = 2n ** 62n + 1n;
  assert.equal(q.value, 2n ** 62n + 1n);
  const u = new SharedValue('u64', 2n ** 64n - 1n);
  assert.equal(u.value, 18446744073709551615n);
  assert.throws(() => new SharedValue('u64', -1), {
    name: 'RangeError',
    message: /'u64'.*from 0 to 18446744073709551615/,
  });
});

test('floats: f64 is exact, f32 rounds as Math.fround; NaN, ±Infinity and -0 are kept; beyond f32 is refused', () => {
  const d = new SharedValue('d', 3.625); // CPython codes_values
  assert.equal(d.type, 'f64');
  assert.equal(d.value, 3.625);
  d.value = -4.25;
  assert.equal(d.value, -4.25);
  d.value = 0.1;
  assert.equal(d.value, 0.1);
  const f = new SharedValue('f', 0.1);
  assert.equal(f.type, 'f32');
  assert.equal(f.value, Math.fround(0.1));
  for (const v of [d, f]) {
    v.value = Number.NaN;
    assert.ok(Number.isNaN(v.value));
    v.value = Number.NEGATIVE_INFINITY;
    assert.equal(v.value, Number.NEGATIVE_INFINITY);
    v.value = -0;
    assert.ok(Object.is(v.value, -0));
    assert.throws(
      () => {
        v.value = 1n as never;
      },
      { name: 'TypeError', message: /must be a number/ },
    );
    assert.equal(new SharedValue(v.type).value, 0);
  }
  assert.throws(() => new SharedValue('f32', 1e39), { name: 'RangeError', message: /'f32'.*out of range/ });
  assert.equal(new SharedValue('f32', 3.4028235e38).value, 3.4028234663852886e38, 'rounds down to the largest f32');
  assert.equal(new SharedValue('f64', 1e300).value, 1e300);
});

test('an unknown type is a TypeError listing the valid types and typecodes', () => {
  for (const bad of ['x', 'c', 'int32', 'I32', '', 5, undefined, null]) {
    assert.throws(
      () => new SharedValue(bad as never),
      (err: unknown) => {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, /^SharedValue\(type\) must be one of 'i8', 'u8', .*'f64'/);
        assert.match(err.message, /'q' = i64/);
        assert.match(err.message, /'l' = i64/);
        return true;
      },
      String(bad),
    );
    assert.throws(() => new SharedArray(bad as never, 1), { name: 'TypeError', message: /^SharedArray\(type\)/ });
  }
});

// ---- locks ----------------------------------------------------------------

test('getLock(): a new RLock by default, one per value, the same object on every call', () => {
  const a = new SharedValue('i', 5);
  const b = new SharedValue('i', 5, {});
  assert.ok(a.getLock() instanceof RLock);
  assert.equal(a.getLock(), a.getLock());
  assert.notEqual(a.getLock(), b.getLock());
  assert.ok(a.getLock().acquire({ blocking: false }));
  assert.ok(b.getLock().acquire({ blocking: false }), 'independent locks');
  a.getLock().release();
  b.getLock().release();
  const arr = new SharedArray('i', 3);
  assert.ok(arr.getLock() instanceof RLock);
  assert.equal(arr.getLock(), arr.getLock());
});

test('options.lock: the given Lock, RLock or Semaphore is the one returned; values can share one', () => {
  const lock = new Lock();
  const v1 = new SharedValue('i', 5, { lock });
  const v2 = new SharedValue('d', 1, { lock });
  const arr = new SharedArray('i', [1, 2], { lock });
  assert.equal(v1.getLock(), lock);
  assert.equal(v2.getLock(), lock);
  assert.equal(arr.getLock(), lock);
  const rlock = new RLock();
  assert.equal(new SharedValue('i', 0, { lock: rlock }).getLock(), rlock);
  const sem = new Semaphore(1);
  assert.equal(new SharedArray('i', 1, { lock: sem }).getLock(), sem);
  assert.equal(new SharedValue('i', 0, { lock: true }).getLock().constructor, RLock);
});

test('lock: false makes a raw value without a lock: getLock() throws a TypeError', () => {
  const v = new SharedValue('i', 5, { lock: false });
  assert.equal(v.value, 5);
  assert.throws(() => v.getLock(), {
    name: 'TypeError',
    message: /SharedValue\('i32'\) was created with \{ lock: false \}/,
  });
  const arr = new SharedArray('i', [0, 1, 2], { lock: false });
  assert.deepEqual([...arr], [0, 1, 2]);
  assert.throws(() => arr.getLock(), {
    name: 'TypeError',
    message: /SharedArray\('i32'\) was created with \{ lock: false \}/,
  });
});

test('an invalid lock or options argument is a TypeError naming it', () => {
  for (const bad of ['notalock', null, 1, {}, { acquire() {}, release() {} }]) {
    assert.throws(() => new SharedValue('i', 5, { lock: bad as never }), {
      name: 'TypeError',
      message: /^options\.lock/,
    });
    assert.throws(() => new SharedArray('i', 5, { lock: bad as never }), {
      name: 'TypeError',
      message: /^options\.lock/,
    });
  }
  assert.throws(() => new SharedValue('i', 5, { locked: true } as never), {
    name: 'TypeError',
    message: /^options\.locked is not a SharedValue option/,
  });
  assert.throws(() => new SharedArray('i', 5, 'x' as never), {
    name: 'TypeError',
    message: 'SharedArray: options must be an object: received the string "x"',
  });
});

test('options of SharedValue and SharedArray go through the shared checker: unknown keys named, non-objects shown (issue 10)', () => {
  for (const [make, kind] of [
    [(o: unknown) => new SharedValue('i', 0, o as never), 'SharedValue'],
    [(o: unknown) => new SharedArray('i', 2, o as never), 'SharedArray'],
  ] as const) {
    assert.throws(() => make({ locks: true }), {
      name: 'TypeError',
      message: `options.locks is not a ${kind} option (known: lock); did you mean lock?`,
    });
    for (const [bad, shown] of [
      [5, '5'],
      [null, 'null'],
      [[], 'an array of 0'],
      [false, 'false'],
    ] as const) {
      assert.throws(() => make(bad), {
        name: 'TypeError',
        message: `${kind}: options must be an object: received ${shown}`,
      });
    }
    assert.throws(() => make({ lock: 'yes' }), {
      name: 'TypeError',
      message:
        /^options\.lock must be true \(a new RLock\), false \(no lock\) or a Lock, RLock or other corepool lock: received the string "yes"$/,
    });
    assert.throws(() => make({ lock: new Map() }), { name: 'TypeError', message: /received an instance of Map$/ });
    make({});
    make(undefined);
  }
});

test('refused values show their type plainly: a string is called a string', () => {
  const v = new SharedValue('i', 1);
  assert.throws(
    () => {
      v.value = '4' as never;
    },
    {
      name: 'TypeError',
      message: `SharedValue('i32').value must be an integer (a number or a bigint): received the string "4"`,
    },
  );
  assert.throws(
    () => {
      v.value = { value: 4 } as never;
    },
    { name: 'TypeError', message: /received an object$/ },
  );
  assert.throws(() => new SharedValue('d', '1.5' as never), {
    name: 'TypeError',
    message: `SharedValue('f64') init must be a number: received the string "1.5"`,
  });
  assert.throws(() => new SharedValue('int' as never), { name: 'TypeError', message: /: received the string "int"$/ });
  assert.throws(() => new SharedArray(5 as never, 1), { name: 'TypeError', message: /: received 5$/ });
  assert.throws(() => new SharedArray('i', 'abc' as never), {
    name: 'TypeError',
    message: `SharedArray('i32') needs a length or an iterable of initial values: received the string "abc"`,
  });
  assert.throws(() => new SharedArray('i', { length: 3 } as never), {
    name: 'TypeError',
    message: /received an object$/,
  });
  assert.throws(() => new SharedArray('u8', [1, '2'] as never), {
    name: 'TypeError',
    message: `SharedArray('u8') values[1] must be an integer (a number or a bigint): received the string "2"`,
  });
  assert.throws(() => new SharedArray('i', 1.5), {
    name: 'RangeError',
    message: `SharedArray('i32') length must be an integer from 0 to 2147483647: received 1.5`,
  });
});

// ---- arrays ---------------------------------------------------------------

test('an array from a length is zero-filled (CPython issue #11675), with the typed array of its type', () => {
  for (let round = 0; round < 3; round++) {
    const arr = new SharedArray('i', 10);
    assert.equal(arr.length, 10);
    assert.deepEqual([...arr], new Array(10).fill(0));
    arr.array.set(Array.from({ length: 10 }, (_, i) => i));
    assert.deepEqual([...arr], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  }
  for (const [type, canonical] of [...TYPES, ['f', 'f32', 0, 0] as const, ['f64', 'f64', 0, 0] as const]) {
    const arr = new SharedArray(type, 3);
    assert.equal(arr.type, canonical);
    assert.ok(arr.array instanceof (VIEWS[canonical] as new (n: number) => ArrayBufferView), `${type} view`);
    assert.ok(arr.array.buffer instanceof SharedArrayBuffer, `${type} shared`);
    assert.deepEqual([...arr], new Array(3).fill(isWide(canonical) ? 0n : 0));
  }
  const empty = new SharedArray('d', 0);
  assert.equal(empty.length, 0);
  assert.deepEqual([...empty], []);
});

test('an array from values (CPython _TestArray.test_array): items, slices, writes through .array', () => {
  const seq = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831];
  const arr = new SharedArray('i', seq);
  assert.equal(arr.length, seq.length);
  assert.equal(arr.array[3], seq[3]);
  assert.deepEqual([...arr.array.subarray(2, 7)], seq.slice(2, 7));
  arr.array.set([1, 2, 3, 4], 4);
  seq.splice(4, 4, 1, 2, 3, 4);
  assert.deepEqual([...arr], seq);
  cumulate(seq);
  cumulate(arr.array);
  assert.deepEqual(Array.from(arr), seq);
  const wide = new SharedArray('q', [1n, 2, -(2n ** 63n)]);
  assert.deepEqual([...wide], [1n, 2n, -(2n ** 63n)]);
  const floats = new SharedArray('f', [0.1, Number.NaN]);
  assert.equal(floats.array[0], Math.fround(0.1));
  assert.ok(Number.isNaN(floats.array[1]));
});

test('an array from any iterable, and from a typed array of its type (copied, not aliased)', () => {
  function* gen(): Generator<number> {
    yield* [3, 1, 2];
  }
  assert.deepEqual([...new SharedArray('u8', gen())], [3, 1, 2]);
  assert.deepEqual([...new SharedArray('u8', new Set([9, 8]))], [9, 8]);
  assert.deepEqual([...new SharedArray('i16', new Float64Array([1, -2]))], [1, -2]);
  const source = new Float32Array([1.5, 2.5]);
  const arr = new SharedArray('f32', source);
  source[0] = 99;
  assert.deepEqual([...arr], [1.5, 2.5]);
  assert.notEqual(arr.array.buffer, source.buffer);
});

test('bad lengths and values are refused, naming the type and the index', () => {
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
    assert.throws(() => new SharedArray('i', bad), { name: 'RangeError', message: /SharedArray\('i32'\) length/ });
  }
  for (const bad of ['abc', 10n, undefined, null, { length: 3 }]) {
    assert.throws(() => new SharedArray('i', bad as never), {
      name: 'TypeError',
      message: /SharedArray\('i32'\) needs a length or an iterable/,
    });
  }
  assert.throws(() => new SharedArray('u8', [1, 2, 256]), {
    name: 'RangeError',
    message: /^SharedArray\('u8'\) values\[2\] must be an integer from 0 to 255: received 256/,
  });
  assert.throws(() => new SharedArray('i', [1, 'x'] as never), { name: 'TypeError', message: /values\[1\]/ });
  assert.throws(() => new SharedArray('d', [1, 2n] as never), {
    name: 'TypeError',
    message: /values\[1\] must be a number/,
  });
  assert.throws(() => new SharedArray('i', new Float64Array([0.5])), { name: 'RangeError', message: /values\[0\]/ });
});

test('inspect shows the type, the value and the lock', () => {
  assert.equal(inspect(new SharedValue('i', 3)), "SharedValue { type: 'i32', value: 3, lock: 'RLock' }");
  assert.equal(inspect(new SharedArray('B', 2, { lock: false })), "SharedArray { type: 'u8', length: 2, lock: false }");
});

// ---- across threads ---------------------------------------------------------

test('CPython _TestValue/_TestArray in Pool tasks: what a task writes, the main thread reads', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const values = CODES_VALUES.map(([code, init]) => new SharedValue(code, init));
  assert.deepEqual(
    values.map((v) => v.value),
    CODES_VALUES.map(([, init]) => init),
  );
  const arrived: Seen = await pool.apply(sharedTasks.writeValues, [values]);
  assert.deepEqual(arrived.classes, ['SharedValue', 'SharedValue', 'SharedValue', 'SharedValue']);
  assert.deepEqual(arrived.locks, ['RLock', 'RLock', 'RLock', 'RLock']);
  assert.deepEqual(
    values.map((v) => v.value),
    CODES_VALUES.map(([, , next]) => next),
  );

  const seq = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831];
  const arr = new SharedArray('i', seq);
  assert.deepEqual((await pool.apply(sharedTasks.cumulate, [arr])).classes, ['SharedArray']);
  cumulate(seq);
  assert.deepEqual([...arr], seq);
});

test("in a Pool task a value's lock is the same lock; a lock-less value has none there either", T, async () => {
  await using pool = new Pool({ processes: 1 });
  const v = new SharedValue('i', 0);
  const shared = new Lock();
  const arr = new SharedArray('d', 2, { lock: shared });
  v.getLock().acquire();
  shared.acquire();
  assert.equal(await pool.apply(sharedTasks.tryLock, [v]), false, 'held by the main thread');
  assert.equal(await pool.apply(sharedTasks.tryLock, [arr]), false, 'held by the main thread');
  v.getLock().release();
  shared.release();
  assert.equal(await pool.apply(sharedTasks.tryLock, [v]), true);
  assert.equal(await pool.apply(sharedTasks.tryLock, [arr]), true);
  assert.equal((v.getLock() as RLock).locked(), false, 'the task released it');
  assert.match(
    await pool.apply(sharedTasks.getLockError, [new SharedValue('h', 1, { lock: false })]),
    /^TypeError: .*SharedValue\('i16'\) was created with \{ lock: false \}/,
  );
  assert.equal(await pool.apply(sharedTasks.getLockError, [v]), 'no error');
});

test('a SharedValue made in a task comes back working, bound to the memory the task wrote', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const made = await pool.apply(sharedTasks.makeValue, [41]);
  assert.ok(made instanceof SharedValue);
  assert.equal(made.type, 'u32');
  assert.equal(made.value, 41);
  assert.ok(made.getLock() instanceof RLock);
  made.value = 42;
  assert.equal(await pool.apply(sharedTasks.read, [made]), 42);
});

test('a plain Worker: shared values in workerData arrive working (revived in place) and share memory', T, async () => {
  const values = CODES_VALUES.map(([code, init]) => new SharedValue(code, init));
  const seq = [3, 1, 4, 1, 5];
  const arr = new SharedArray('i', seq);
  const held = new SharedValue('i', 0, { lock: new Lock() });
  const bare = new SharedValue('u8', 1, { lock: false });
  held.getLock().acquire();
  // A marker of a kind no class registered is left alone; importing corepool does not fail over it.
  const unknown = { __corepool_shared__: 'NoSuchKind', state: {} };
  const { worker, next } = startWorker({ mode: 'workerData', values, arr, held, bare, unknown });
  try {
    const report = await next<{
      values: Seen;
      arr: Seen;
      heldFree: boolean;
      bareError: string;
      unknownKept: boolean;
    }>();
    assert.equal(report.unknownKept, true);
    assert.deepEqual(report.values.classes, ['SharedValue', 'SharedValue', 'SharedValue', 'SharedValue']);
    assert.deepEqual(report.values.locks, ['RLock', 'RLock', 'RLock', 'RLock']);
    assert.deepEqual(report.arr, { classes: ['SharedArray'], locks: ['RLock'] });
    assert.equal(report.heldFree, false, 'the lock in workerData is the lock the main thread holds');
    assert.match(report.bareError, /^TypeError: .*\{ lock: false \}/);
    assert.deepEqual(
      values.map((v) => v.value),
      CODES_VALUES.map(([, , next]) => next),
    );
    cumulate(seq);
    assert.deepEqual([...arr], seq);
  } finally {
    held.getLock().release();
    await worker.terminate();
  }
});

test('a plain Worker: shared values sent by postMessage work after revive(msg), in both directions', T, async () => {
  const values = CODES_VALUES.map(([code, init]) => new SharedValue(code, init));
  const arr = new SharedArray('i', [1, 1, 1]);
  const held = new SharedValue('i', 0);
  const bare = new SharedValue('i', 0, { lock: false });
  const { worker, next } = startWorker({ mode: 'message' });
  try {
    held.getLock().acquire();
    worker.postMessage({ values, arr, held, bare });
    const reply = await next<{ report: { values: Seen; heldFree: boolean; bareError: string }; made: unknown }>();
    held.getLock().release();
    assert.deepEqual(reply.report.values.locks, ['RLock', 'RLock', 'RLock', 'RLock']);
    assert.equal(reply.report.heldFree, false);
    assert.match(reply.report.bareError, /^TypeError/);
    assert.deepEqual(
      values.map((v) => v.value),
      CODES_VALUES.map(([, , next]) => next),
    );
    assert.deepEqual([...arr], [1, 2, 3]);
    // The worker's value arrives as a marker until revived here.
    assert.ok(!(reply.made instanceof SharedValue));
    const made = revive<SharedValue<'u32'>>(reply.made);
    assert.ok(made instanceof SharedValue);
    assert.equal(made.value, 7);
    made.value = 99;
    worker.postMessage('read');
    assert.equal(await next<number>(), 99, 'the worker reads what the main thread wrote');
  } finally {
    await worker.terminate();
  }
});

test('a SharedValue as the whole workerData: a warning says to wrap it; revive(workerData) works', T, async () => {
  const v = new SharedValue('i', 5);
  const { worker, next } = startWorker(v);
  try {
    const report = await next<{ warnings: string[]; markerKept: boolean; revived: boolean; value: number }>();
    assert.deepEqual(report.warnings, ['ERR_COREPOOL_WORKERDATA_SHARED']);
    assert.equal(report.markerKept, true);
    assert.equal(report.revived, true);
    assert.equal(report.value, 5);
    await new Promise((resolve) => worker.once('exit', resolve));
    assert.equal(v.value, 123, 'the worker wrote through the revived value');
  } finally {
    await worker.terminate();
  }
});

// ---- foreign memory -----------------------------------------------------------

test('foreign or wrong-kind memory is refused as an invalid handle', () => {
  const invalid = { name: 'TypeError', message: /^invalid handle/ };
  const value = markerOf<SharedValueState>(new SharedValue('i', 1, { lock: false })).state;
  const array = markerOf<SharedArrayState>(new SharedArray('i', 4, { lock: false })).state;
  const lock = markerOf<SharedValueState>(new Lock()).state;
  // The wrong kind of shared object.
  assert.throws(() => new SharedValue({ ...lock, lock: null }), invalid);
  assert.throws(() => new SharedValue(array), invalid);
  assert.throws(() => new SharedArray(value), invalid);
  assert.throws(() => new SharedArray({ ...lock, lock: null }), invalid);
  // Memory that is no shared object at all, or not shared.
  assert.throws(() => new SharedValue({ ...value, buffer: new SharedArrayBuffer(16) }), invalid);
  assert.throws(() => new SharedValue({ ...value, buffer: new ArrayBuffer(16) as never }), invalid);
  // Misaligned: the tag is read at byteOffset 4, which holds no tag.
  assert.throws(() => new SharedValue({ ...value, byteOffset: 4 }), invalid);
  // A corrupt type word.
  const corrupt = new SharedArrayBuffer(value.buffer.byteLength);
  new Uint8Array(corrupt).set(new Uint8Array(value.buffer));
  new Int32Array(corrupt)[1] = 99;
  assert.throws(() => new SharedValue({ ...value, buffer: corrupt }), {
    name: 'TypeError',
    message: /no valid element type/,
  });
  // An array whose length claims more memory than there is.
  const forged = new SharedArrayBuffer(array.buffer.byteLength);
  new Uint8Array(forged).set(new Uint8Array(array.buffer));
  new Int32Array(forged)[2] = 1000;
  assert.throws(() => new SharedArray({ ...array, buffer: forged }), {
    name: 'TypeError',
    message: /needs 4016 bytes/,
  });
  // A lock slot that holds another kind of shared object.
  const notALock = markerOf<unknown>(new SharedArray('i', 1, { lock: false }));
  assert.throws(() => new SharedValue({ ...value, lock: notALock as never }), {
    name: 'TypeError',
    message: /the lock of a SharedValue must be a corepool lock/,
  });
  // The same refusal on the way in from another thread.
  assert.throws(() => revive({ __corepool_shared__: 'SharedValue', state: { ...lock, lock: null } }), invalid);
  // And the real thing is accepted.
  assert.equal(new SharedValue(value).value, 1);
  assert.equal(new SharedArray(array).length, 4);
});
