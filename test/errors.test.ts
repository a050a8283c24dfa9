/**
 * Errors that cross threads: a task's error arrives with the same `name`,
 * `message`, `code` and own properties, `instanceof` the built-in or corepool
 * class it was, with the worker's stack, its `cause` chain and an
 * AggregateError's `errors`; a thrown non-Error arrives as that value. Also
 * the error classes themselves, and the codec (`encodeError`/`decodeError`)
 * on fixed inputs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { types } from 'node:util';
import { decodeError, encodeError, type WireError, type WireThrown } from '../src/error-codec.js';
import * as corepool from '../src/index.js';
import { CorepoolError, DataCloneError, Pool, QueueEmpty, TimeoutError, WorkerExitError } from '../src/index.js';
import { EmptyInbox, errorTasks, type Maker, makers, ValidationError } from './fixtures/error-tasks.js';
import { settles } from './fixtures/fault-gate.js';

const T = { timeout: 60_000 };

/** The error class names API.md lists, each with its `ERR_COREPOOL_…` code. */
const apiErrorNames = [
  'TimeoutError',
  'QueueFull',
  'QueueEmpty',
  'QueueClosedError',
  'EOFError',
  'ConnectionStateError',
  'BufferTooShort',
  'BrokenBarrierError',
  'LockStateError',
  'PoolClosedError',
  'PoolStateError',
  'PoolTerminatedError',
  'WorkerExitError',
  'DataCloneError',
] as const;

type ApiErrorName = (typeof apiErrorNames)[number];
const errorClassByName: Record<ApiErrorName, new (message: string) => CorepoolError> = {
  TimeoutError,
  QueueFull: corepool.QueueFull,
  QueueEmpty,
  QueueClosedError: corepool.QueueClosedError,
  EOFError: corepool.EOFError,
  ConnectionStateError: corepool.ConnectionStateError,
  BufferTooShort: corepool.BufferTooShort,
  BrokenBarrierError: corepool.BrokenBarrierError,
  LockStateError: corepool.LockStateError,
  PoolClosedError: corepool.PoolClosedError,
  PoolStateError: corepool.PoolStateError,
  PoolTerminatedError: corepool.PoolTerminatedError,
  WorkerExitError,
  DataCloneError,
};

type Props = Record<string, unknown>;

/** Own enumerable properties, as `{ key: value }`. */
function own(value: object): Props {
  return Object.fromEntries(Object.keys(value).map((k) => [k, (value as Props)[k]]));
}

/** What `pool.apply(task, args)` rejected with; fails if it resolved. */
async function thrownBy(pool: Pool, task: keyof typeof errorTasks, args: unknown[]): Promise<unknown> {
  return settles(
    applyAny(pool, task, args).then(
      (v) => assert.fail(`the task resolved with ${String(v)}`),
      (err: unknown) => err,
    ),
    'the failing task',
  );
}

function applyAny(pool: Pool, task: keyof typeof errorTasks, args: unknown[]): Promise<unknown> {
  return pool.apply(errorTasks[task] as never, args as never);
}

/** Asserts that `arrived` is `made` rebuilt: same name, message, code and own properties, and class `base`. */
function assertSameError(arrived: unknown, made: Error, base: abstract new (...args: never[]) => Error): void {
  assert.ok(arrived instanceof base, `expected instanceof ${base.name}, got ${String(arrived)}`);
  assert.ok(arrived instanceof Error);
  assert.equal(arrived.name, made.name);
  assert.equal(arrived.message, made.message);
  assert.deepEqual((arrived as { code?: unknown }).code, (made as { code?: unknown }).code);
  const expected = own(made);
  const got = own(arrived);
  for (const [key, value] of Object.entries(expected)) {
    assert.ok(key in got, `own property ${key} is missing`);
    assert.deepEqual(got[key], value, `own property ${key}`);
  }
  // Nothing more arrives, except `code` made own when the class had it on its prototype.
  assert.deepEqual(
    Object.keys(got).filter((k) => !(k in expected) && k !== 'code'),
    [],
  );
}

// ---- across threads -----------------------------------------------------------

const sameErrorCases: [Maker, abstract new (...args: never[]) => Error][] = [
  ['coded', RangeError],
  ['validation', TypeError],
  ['narrower', RangeError],
  ['protoCoded', Error],
  ['renamed', Error],
];

for (const [which, base] of sameErrorCases) {
  test(`a thrown error (${which}) arrives with the same name, message, code and own properties`, T, async () => {
    await using pool = new Pool({ processes: 1 });
    assertSameError(await thrownBy(pool, 'throwMade', [which]), makers[which](), base);
    // Rejected from an async task, the same.
    assertSameError(await thrownBy(pool, 'rejectMade', [which]), makers[which](), base);
  });
}

test('a subclass of a built-in arrives instanceof the built-in, with its own name and fields', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const err = await thrownBy(pool, 'throwMade', ['validation']);
  assert.ok(err instanceof TypeError);
  assert.equal((err as TypeError).name, 'ValidationError');
  assert.equal((err as ValidationError).field, 'email');
  const narrow = await thrownBy(pool, 'throwMade', ['narrower']);
  assert.ok(narrow instanceof RangeError);
  assert.equal((narrow as RangeError).name, 'NarrowerError');
});

test('a rebuilt error is a native error: it can be sent on to another thread as an error', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const err = await thrownBy(pool, 'throwMade', ['coded']);
  assert.ok(types.isNativeError(err), 'util.types.isNativeError');
  // Forwarding it (postMessage to a logger thread, a Queue, a Process) must not reduce it to its own props.
  const forwarded = structuredClone(err);
  assert.ok(forwarded instanceof RangeError);
  assert.equal(forwarded.message, 'out of range');
  assert.match(forwarded.stack as string, /error-tasks\.[jt]s/);
});

test("the stack shows the worker's frames, not the caller's", T, async () => {
  await using pool = new Pool({ processes: 1 });
  for (const task of ['throwMade', 'rejectMade'] as const) {
    const err = await thrownBy(pool, task, ['coded']);
    const stack = (err as Error).stack;
    assert.equal(typeof stack, 'string');
    assert.match(stack as string, /error-tasks\.[jt]s/, `${task}: the fixture's file`);
    assert.doesNotMatch(stack as string, /errors\.test\.[jt]s/, `${task}: no frame of this test file`);
  }
  const sync = (await thrownBy(pool, 'throwMade', ['coded'])) as Error;
  assert.match(sync.stack as string, /throwDeepInWorker/, 'the named function that threw');
});

test('a cause chain survives, each link rebuilt, down to a cause that is not an Error', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const err = await thrownBy(pool, 'throwMade', ['caused']);
  assert.ok(err instanceof Error);
  assert.equal(err.message, 'outer');
  const middle = err.cause;
  assert.ok(middle instanceof TypeError);
  assert.equal(middle.message, 'middle');
  assert.equal((middle as { code?: unknown }).code, 'E_MIDDLE');
  assert.equal(middle.cause, 'the root cause');
  assert.match(middle.stack as string, /error-tasks\.[jt]s/);
});

test('an error that is its own cause arrives (the chain is cut, nothing loops)', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const err = await thrownBy(pool, 'throwCyclicCause', []);
  assert.ok(err instanceof Error);
  assert.equal(err.message, 'my own cause');
  let links = 0;
  for (let e: unknown = err; e instanceof Error && e.cause !== undefined; e = e.cause) {
    assert.equal((e as Error).message, 'my own cause');
    links++;
    assert.ok(links < 100, 'the cause chain is finite');
  }
});

test("an AggregateError's errors survive, each rebuilt", T, async () => {
  await using pool = new Pool({ processes: 1 });
  const err = await thrownBy(pool, 'throwMade', ['aggregate']);
  assert.ok(err instanceof AggregateError);
  assert.equal(err.message, 'several things failed');
  assert.equal(err.errors.length, 4);
  const [first, second, third, fourth] = err.errors as unknown[];
  assert.ok(first instanceof TypeError);
  assert.equal(first.message, 'first');
  assert.equal(second, 'second');
  assert.ok(third instanceof QueueEmpty);
  assert.equal(third.code, 'ERR_COREPOOL_QUEUE_EMPTY');
  assert.deepEqual(fourth, { fourth: 4 });
});

test('an own property named `errors` survives on an error that is not an AggregateError', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const err = await thrownBy(pool, 'throwMade', ['ownErrors']);
  assertSameError(err, makers.ownErrors(), Error);
  assert.deepEqual((err as { errors?: unknown }).errors, { name: 'required', age: 'too low' });
});

test('an error with an own property that cannot be cloned still arrives as that error', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const err = await thrownBy(pool, 'throwMade', ['uncloneableProp']);
  assert.ok(err instanceof Error);
  assert.equal(err.message, 'has a function');
  assert.equal((err as { code?: unknown }).code, 'E_FN');
  assert.ok('retry' in err, 'the property is kept, in some cloneable form');
  // The worker is fine: it answers the next task.
  assert.equal(await thrownBy(pool, 'throwValue', ['next']), 'next');
});

test('a thrown non-Error arrives as that value', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const values: unknown[] = [
    'plain string',
    '',
    42,
    0,
    -1.5,
    true,
    false,
    null,
    10n,
    [1, 'two'],
    { reason: 'x', n: 1 },
  ];
  for (const value of values) {
    assert.deepEqual(await thrownBy(pool, 'throwValue', [value]), value, `throw ${String(value)}`);
  }
  assert.equal(await thrownBy(pool, 'throwUndefined', []), undefined);
  const nan = await thrownBy(pool, 'throwValue', [Number.NaN]);
  assert.ok(Number.isNaN(nan));
});

test('a thrown corepool error arrives instanceof its class, with its code and fields', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const empty = await thrownBy(pool, 'throwMade', ['queueEmpty']);
  assert.ok(empty instanceof QueueEmpty);
  assert.ok(empty instanceof CorepoolError);
  assert.ok(empty instanceof Error);
  assert.equal(empty.name, 'QueueEmpty');
  assert.equal(empty.code, 'ERR_COREPOOL_QUEUE_EMPTY');
  assert.equal(empty.message, 'nothing there');

  const inbox = await thrownBy(pool, 'throwMade', ['inbox']);
  assert.ok(inbox instanceof QueueEmpty, 'a subclass arrives as its corepool base');
  assert.equal((inbox as QueueEmpty).code, 'ERR_COREPOOL_QUEUE_EMPTY');
  assert.equal((inbox as QueueEmpty).message, new EmptyInbox('inbox is empty').message);

  const clone = await thrownBy(pool, 'throwMade', ['dataClone']);
  assert.ok(clone instanceof DataCloneError);
  assert.equal(clone.path, 'args[3]');
  const exit = await thrownBy(pool, 'throwMade', ['workerExit']);
  assert.ok(exit instanceof WorkerExitError);
  assert.deepEqual([exit.exitCode, exit.threadId], [9, 77]);
  const short = await thrownBy(pool, 'throwMade', ['bufferTooShort']);
  assert.ok(short instanceof corepool.BufferTooShort);
  assert.deepEqual(short.data, new Uint8Array([1, 2, 3]));
});

test('every exported error class, thrown in a worker, arrives as that class with its code', T, async () => {
  await using pool = new Pool({ processes: 1 });
  for (const name of apiErrorNames) {
    const Ctor = errorClassByName[name];
    const err = await thrownBy(pool, 'throwCorepool', [name, `a ${name} from a worker`]);
    assert.ok(err instanceof Ctor, `${name}: instanceof`);
    assert.ok(err instanceof CorepoolError, `${name}: instanceof CorepoolError`);
    assert.equal(err.name, name);
    assert.equal(err.code, new Ctor('x').code);
    assert.equal(err.message, `a ${name} from a worker`);
  }
});

test('a user class that shares a corepool error name is not mistaken for it', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const err = await thrownBy(pool, 'throwMade', ['lookalike']);
  assert.ok(err instanceof Error);
  assert.ok(!(err instanceof TimeoutError), 'not corepool.TimeoutError');
  assert.ok(!(err instanceof CorepoolError));
  assert.equal(err.name, 'TimeoutError');
  assert.equal((err as { code?: unknown }).code, undefined);
});

test('a DOMException (an AbortError) arrives as a DOMException with its name and code', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const err = await thrownBy(pool, 'throwAbort', []);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'AbortError');
  assert.equal((err as DOMException).code, 20);
  assert.ok(err instanceof DOMException, 'instanceof DOMException, the built-in class it was');
});

test('an error thrown in a map chunk rejects the map, rebuilt', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const err = await settles(
    pool.map(errorTasks.failOdd, [0, 2, 4, 5, 6, 8], { chunksize: 2 }).then(
      () => assert.fail('the map resolved'),
      (e: unknown) => e,
    ),
    'map',
  );
  assert.ok(err instanceof TypeError);
  assert.equal(err.name, 'ValidationError');
  assert.equal(err.message, 'item 5 is odd');
  assert.equal((err as ValidationError).field, 'items[5]');
});

// ---- the classes ----------------------------------------------------------------

test('every exported error class has its name and an ERR_COREPOOL_… code, and is an Error and a CorepoolError', () => {
  type ErrorClass = new (message: string, options?: { cause?: unknown }) => CorepoolError;
  const exported = (Object.entries(corepool) as [string, unknown][]).filter(
    (entry): entry is [string, ErrorClass] =>
      typeof entry[1] === 'function' && (entry[1] as { prototype?: unknown }).prototype instanceof Error,
  );
  const names = exported.map(([name]) => name);
  for (const name of [...apiErrorNames, 'CorepoolError']) assert.ok(names.includes(name), `${name} is exported`);
  const codes = new Set<string>();
  for (const [name, Ctor] of exported) {
    assert.equal(Ctor.name, name, `${name}: the class's name`);
    assert.equal(Ctor.prototype.name, name, `${name}: the name its instances carry`);
    const cause = new Error('underneath');
    const err = new Ctor(`a ${name}`, { cause });
    assert.ok(err instanceof Error, name);
    assert.ok(err instanceof CorepoolError, name);
    assert.equal(err.name, name);
    assert.equal(err.message, `a ${name}`);
    assert.equal(err.cause, cause, `${name}: cause`);
    assert.equal(String(err), `${name}: a ${name}`);
    assert.match(err.stack as string, new RegExp(`^${name}: a ${name}`));
    assert.equal(typeof err.code, 'string');
    if (name === 'CorepoolError') {
      assert.match(err.code, /^ERR_COREPOOL/);
    } else {
      assert.match(err.code, /^ERR_COREPOOL_[A-Z0-9_]+$/, `${name}: code ${err.code}`);
      assert.ok(!codes.has(err.code), `${name}: code ${err.code} is unique`);
      codes.add(err.code);
    }
  }
});

test('error class fields: WorkerExitError, DataCloneError, BufferTooShort', () => {
  const exit = new WorkerExitError('gone');
  assert.equal(typeof exit.exitCode, 'number');
  assert.equal(typeof exit.threadId, 'number');
  assert.equal(typeof new DataCloneError('bad').path, 'string');
  assert.ok(new corepool.BufferTooShort('short').data instanceof Uint8Array);
});

// ---- the codec on fixed inputs ------------------------------------------------------

const fixedStack = 'RangeError: bad\n    at fixed (file:///fixed/where.js:1:2)';

function withStack<E extends Error>(err: E, stack: string): E {
  Object.defineProperty(err, 'stack', { value: stack, writable: true, configurable: true });
  return err;
}

test('encodeError flattens an Error to plain data', () => {
  const err = withStack(Object.assign(new RangeError('bad'), { code: 'E_BAD', limit: { max: 3 } }), fixedStack);
  const wire = encodeError(err);
  assert.deepEqual(wire, {
    kind: 'error',
    name: 'RangeError',
    message: 'bad',
    stack: fixedStack,
    base: 'RangeError',
    props: { code: 'E_BAD', limit: { max: 3 } },
  });
  assert.deepEqual(structuredClone(wire), wire, 'the wire form is structured-cloneable');
});

test('encodeError: the base is the nearest built-in or corepool class; subclasses keep their name', () => {
  const v = encodeError(new ValidationError('bad email', 'email')) as WireError;
  assert.equal(v.kind, 'error');
  assert.equal(v.base, 'TypeError');
  assert.equal(v.name, 'ValidationError');
  assert.deepEqual(v.props, { name: 'ValidationError', field: 'email' });

  const q = encodeError(new EmptyInbox('none')) as WireError;
  assert.equal(q.base, 'QueueEmpty');
  assert.equal(q.props.code, 'ERR_COREPOOL_QUEUE_EMPTY');

  const proto = encodeError(makers.protoCoded()) as WireError;
  assert.equal(proto.base, 'Error');
  assert.equal(proto.props.code, 'E_PROTO', 'a code on the prototype is sent too');

  assert.equal((encodeError(makers.lookalike()) as WireError).base, 'Error', 'a name alone does not make a class');
});

test('encodeError: a thrown non-Error travels as a value', () => {
  assert.deepEqual(encodeError('x'), { kind: 'value', value: 'x' });
  assert.deepEqual(encodeError(42), { kind: 'value', value: 42 });
  assert.deepEqual(encodeError(undefined), { kind: 'value', value: undefined });
  assert.deepEqual(encodeError({ a: [1] }), { kind: 'value', value: { a: [1] } });
  // What structured clone refuses still yields a cloneable wire form.
  const fn = encodeError(() => 1);
  assert.equal(fn.kind, 'value');
  assert.doesNotThrow(() => structuredClone(fn));
  assert.doesNotThrow(() => structuredClone(encodeError(Symbol('s'))));
});

test('encodeError: cause and AggregateError errors nest; an uncloneable own property does not break the wire form', () => {
  const caused = encodeError(makers.caused()) as WireError;
  assert.equal(caused.cause?.kind, 'error');
  const middle = caused.cause as WireError;
  assert.equal(middle.base, 'TypeError');
  assert.equal(middle.props.code, 'E_MIDDLE');
  assert.deepEqual(middle.cause, { kind: 'value', value: 'the root cause' });
  assert.equal('cause' in encodeError(new Error('no cause')), false);

  const agg = encodeError(makers.aggregate()) as WireError;
  assert.equal(agg.base, 'AggregateError');
  assert.deepEqual(
    agg.errors?.map((e) => (e.kind === 'error' ? e.base : e.value)),
    ['TypeError', 'second', 'QueueEmpty', { fourth: 4 }],
  );

  const fnProp = encodeError(makers.uncloneableProp());
  assert.doesNotThrow(() => structuredClone(fnProp));

  // A cause cycle is cut at a fixed depth.
  const cyclic = new Error('loop');
  (cyclic as { cause?: unknown }).cause = cyclic;
  let depth = 0;
  for (let w: WireThrown | undefined = encodeError(cyclic); w?.kind === 'error'; w = w.cause) depth++;
  assert.ok(depth > 1 && depth < 100, `depth ${depth}`);
});

test('decodeError rebuilds an error from fixed wire data', () => {
  const wire: WireError = {
    kind: 'error',
    name: 'ValidationError',
    message: 'bad email',
    stack: 'ValidationError: bad email\n    at check (file:///fixed/where.js:3:4)',
    base: 'TypeError',
    props: { field: 'email', code: 'E_VALID' },
    cause: { kind: 'value', value: 'root' },
  };
  const err = decodeError(wire);
  assert.ok(err instanceof TypeError);
  assert.equal(err.name, 'ValidationError');
  assert.equal(err.message, 'bad email');
  assert.equal(err.stack, wire.stack);
  assert.equal(err.cause, 'root');
  assert.deepEqual(own(err), { field: 'email', code: 'E_VALID' });
  // As on a real error, message, stack and cause are own but not enumerable.
  for (const key of ['message', 'stack', 'cause']) {
    assert.equal(Object.getOwnPropertyDescriptor(err, key)?.enumerable, false, key);
  }

  const q = decodeError({
    kind: 'error',
    name: 'QueueEmpty',
    message: 'm',
    stack: undefined,
    base: 'QueueEmpty',
    props: { code: 'ERR_COREPOOL_QUEUE_EMPTY' },
  });
  assert.ok(q instanceof QueueEmpty);
  assert.equal(q.name, 'QueueEmpty');
  assert.equal(q.code, 'ERR_COREPOOL_QUEUE_EMPTY');

  const unknownBase = decodeError({
    kind: 'error',
    name: 'Odd',
    message: 'm',
    stack: undefined,
    base: 'Nope',
    props: {},
  });
  assert.ok(unknownBase instanceof Error);
  assert.equal(Object.getPrototypeOf(unknownBase), Error.prototype);
  assert.equal((unknownBase as Error).name, 'Odd');

  const agg = decodeError({
    kind: 'error',
    name: 'AggregateError',
    message: 'two',
    stack: undefined,
    base: 'AggregateError',
    props: {},
    errors: [
      { kind: 'value', value: 1 },
      { kind: 'error', name: 'RangeError', message: 'r', stack: undefined, base: 'RangeError', props: {} },
    ],
  });
  assert.ok(agg instanceof AggregateError);
  assert.equal(agg.errors[0], 1);
  assert.ok(agg.errors[1] instanceof RangeError);

  const value = { any: 'thing' };
  assert.equal(decodeError({ kind: 'value', value }), value);
});

test('decodeError(encodeError(e)) through structured clone keeps name, message, code, own props and class', () => {
  const cases: [Maker, abstract new (...args: never[]) => Error][] = [
    ['coded', RangeError],
    ['validation', TypeError],
    ['narrower', RangeError],
    ['protoCoded', Error],
    ['renamed', Error],
    ['queueEmpty', QueueEmpty],
    ['dataClone', DataCloneError],
    ['workerExit', WorkerExitError],
    ['lookalike', Error],
  ];
  for (const [which, base] of cases) {
    const made = makers[which]();
    const arrived = decodeError(structuredClone(encodeError(made)));
    assertSameError(arrived, made, base);
    assert.equal((arrived as Error).stack, made.stack, `${which}: stack`);
  }
});
