/**
 * `Queue`, `SimpleQueue`, `JoinableQueue`: Python's `_TestQueue` semantics
 * (every block/timeout combination, QueueFull/QueueEmpty, qsize/empty/full,
 * close and drain, JoinableQueue), unbounded buffering, large and empty
 * messages, every codec kind, shared objects inside messages, and the async
 * forms (the event loop keeps running, the process stays alive).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { queueRing } from '../src/channel/queue.js';
import { READERS_SLEEPING } from '../src/channel/ring.js';
import {
  JoinableQueue,
  Pool,
  Queue,
  QueueClosedError,
  QueueEmpty,
  QueueFull,
  SharedArray,
  SimpleQueue,
} from '../src/index.js';
import { Lock } from '../src/sync/lock.js';
import { revive } from '../src/transfer.js';
import { type Outcome, within } from './fixtures/queue-call.js';
import { queueTasks } from './fixtures/queue-tasks.js';

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const workerUrl = new URL(`./fixtures/queue-worker.${ext}`, import.meta.url);
const keepAliveScript = fileURLToPath(new URL(`./fixtures/queue-keepalive.${ext}`, import.meta.url));
const execFileAsync = promisify(execFile);

const T = { timeout: 60_000 };
/** Timeouts of the timing cases (Python's TIMEOUT1..3 are 0.1, 0.1, 0.3 s). */
const TIMEOUT1 = 100;
const TIMEOUT2 = 100;
const TIMEOUT3 = 300;
/** "At once": far above any real cost, far below any timeout that would be waited out by mistake. */
const AT_ONCE_MS = 1_000;

function timed<R>(fn: () => R): { result?: R; error?: unknown; ms: number } {
  const start = performance.now();
  try {
    const result = fn();
    return { result, ms: performance.now() - start };
  } catch (error) {
    return { error, ms: performance.now() - start };
  }
}

function assertThrowsIn(fn: () => unknown, cls: new (...a: never[]) => Error, min: number, max: number): void {
  const r = timed(fn);
  assert.ok(r.error instanceof cls, `expected ${cls.name}, got ${String(r.error ?? r.result)}`);
  assert.ok(r.ms >= min - 1, `returned after ${r.ms} ms, before ${min} ms`);
  assert.ok(r.ms < max, `returned after ${r.ms} ms, expected under ${max} ms`);
}

/** Runs queue-worker.ts with `role` and resolves with what it posts. */
function runWorker<R = unknown>(role: string, data: Record<string, unknown>): { worker: Worker; result: Promise<R> } {
  const worker = new Worker(workerUrl, { workerData: { role, ...data } });
  const result = new Promise<R>((resolve, reject) => {
    let value: R;
    let got = false;
    worker.on('message', (v: R) => {
      value = v;
      got = true;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (got) resolve(value);
      else reject(new Error(`worker ${role} exited with ${code} without a result`));
    });
  });
  return { worker, result };
}

test('put: every block/timeout combination on a bounded queue (Python test_put)', T, async () => {
  const MAXSIZE = 6;
  const q = new Queue<number>({ maxsize: MAXSIZE });
  assert.equal(q.empty(), true);
  assert.equal(q.full(), false);
  q.put(1);
  q.put(2, { block: true });
  q.put(3, { block: true, timeout: undefined });
  q.put(4, { block: false });
  q.put(5, { block: false, timeout: undefined });
  q.putNowait(6);
  assert.equal(q.empty(), false);
  assert.equal(q.full(), true);
  assert.equal(q.qsize(), 6);

  assertThrowsIn(() => q.put(7, { block: false }), QueueFull, 0, AT_ONCE_MS);
  assertThrowsIn(() => q.putNowait(7), QueueFull, 0, AT_ONCE_MS);
  assertThrowsIn(() => q.put(7, { block: true, timeout: TIMEOUT1 }), QueueFull, TIMEOUT1, TIMEOUT1 + 20_000);
  // block: false ignores the timeout, as in Python.
  assertThrowsIn(() => q.put(7, { block: false, timeout: TIMEOUT2 }), QueueFull, 0, AT_ONCE_MS);
  assertThrowsIn(() => q.put(7, { timeout: TIMEOUT3 }), QueueFull, TIMEOUT3, TIMEOUT3 + 20_000);
  await assert.rejects(q.putAsync(7, { timeout: TIMEOUT1 }), QueueFull);
  await assert.rejects(q.putAsync(7, { block: false }), QueueFull);
  assert.equal(q.qsize(), 6);

  // A consumer in another thread takes all six; the queue is then empty and not full.
  const consumer = runWorker<number[]>('getN', { q, n: 6 });
  assert.deepEqual(await consumer.result, [1, 2, 3, 4, 5, 6]);
  assert.equal(q.empty(), true);
  assert.equal(q.full(), false);
});

test('put blocked on a full queue resumes when another thread gets', T, async () => {
  const q = new Queue<number>({ maxsize: 2 });
  q.put(1);
  q.put(2);
  const getter = runWorker<number>('get', { q });
  // Blocks until the worker's get frees a slot (well within the timeout).
  q.put(3, { timeout: 20_000 });
  assert.equal(await getter.result, 1);
  assert.deepEqual([q.get(), q.get()], [2, 3]);
  await getter.worker.terminate();
});

test('get: every block/timeout combination (Python test_get)', T, async () => {
  const q = new Queue<number>();
  assert.equal(q.empty(), true);
  const producer = runWorker<number>('putAll', { q, items: [2, 3, 4, 5] });
  assert.equal(await producer.result, 4);
  assert.equal(q.empty(), false);
  assert.equal(q.get({ block: true, timeout: undefined }), 2);
  assert.equal(q.get({ block: true }), 3);
  assert.equal(q.get({ timeout: 1000 }), 4);
  assert.equal(q.getNowait(), 5);
  assert.equal(q.empty(), true);

  assertThrowsIn(() => q.get({ block: false }), QueueEmpty, 0, AT_ONCE_MS);
  assertThrowsIn(() => q.get({ block: false, timeout: undefined }), QueueEmpty, 0, AT_ONCE_MS);
  assertThrowsIn(() => q.getNowait(), QueueEmpty, 0, AT_ONCE_MS);
  assertThrowsIn(() => q.get({ block: true, timeout: TIMEOUT1 }), QueueEmpty, TIMEOUT1, TIMEOUT1 + 20_000);
  assertThrowsIn(() => q.get({ block: false, timeout: TIMEOUT2 }), QueueEmpty, 0, AT_ONCE_MS);
  assertThrowsIn(() => q.get({ timeout: TIMEOUT3 }), QueueEmpty, TIMEOUT3, TIMEOUT3 + 20_000);
  const start = performance.now();
  await assert.rejects(q.getAsync({ timeout: 200 }), QueueEmpty);
  assert.ok(performance.now() - start >= 199, 'getAsync waited out its timeout'); // Python test_timeout
  await assert.rejects(q.getAsync({ block: false }), QueueEmpty);
});

test('a get waiting in one thread is satisfied by a put from another', T, async () => {
  const q = new Queue<string>();
  const getter = runWorker<string>('get', { q });
  q.put('hello');
  assert.equal(await getter.result, 'hello');
});

test('qsize counts puts minus gets (Python test_qsize)', T, () => {
  const q = new Queue<number>();
  assert.equal(q.qsize(), 0);
  q.put(1);
  assert.equal(q.qsize(), 1);
  q.put(5);
  assert.equal(q.qsize(), 2);
  q.get();
  assert.equal(q.qsize(), 1);
  q.get();
  assert.equal(q.qsize(), 0);
});

test('options are checked', T, () => {
  assert.throws(() => new Queue({ maxsize: -1 }), { name: 'RangeError', message: /options\.maxsize/ });
  assert.throws(() => new Queue({ maxsize: 1.5 }), RangeError);
  assert.throws(() => new Queue({ capacity: 1000 }), { name: 'RangeError', message: /options\.capacity/ });
  assert.throws(() => new Queue({ capacity: 32 }), RangeError);
  assert.throws(() => new Queue({ bogus: 1 } as never), { name: 'TypeError', message: /options\.bogus/ });
  assert.throws(() => new SimpleQueue({ maxsize: 3 } as never), { name: 'TypeError', message: /options\.maxsize/ });
  assert.equal(new Queue({ maxsize: Number.POSITIVE_INFINITY }).maxsize, 0);
  const q = new Queue();
  assert.throws(() => q.put(1, { timeout: -1 }), { name: 'RangeError', message: /timeout/ });
  assert.throws(() => q.get({ block: 'no' as never }), { name: 'TypeError', message: /block/ });
  assert.throws(() => q.put(() => 1), { name: 'DataCloneError', message: /item/ });
  assert.throws(() => q.put({ a: [1, Symbol('s')] }), { name: 'DataCloneError', message: /item\.a\[1\]/ });
  assert.equal(q.qsize(), 0, 'a refused item takes no slot');
  assert.throws(() => new Queue({ buffer: new SharedArrayBuffer(8), byteOffset: 0 } as never), /invalid handle/);
});

/** Issue 10: a call that would wait for good never hangs a test; `GUARD_MS` bounds the wait instead. */
const CHECKS = { timeout: 30_000 };
const GUARD_MS = 10_000;

/** Makes `q[method](...args)` in a worker (it may block for good there) and resolves with its outcome. */
async function callInWorker(q: Queue, method: string, args: unknown[]): Promise<Outcome> {
  const { worker, result } = runWorker<Outcome>('call', { q, method, args });
  try {
    return await within(result, GUARD_MS, `${method}() in a worker`);
  } finally {
    await worker.terminate();
  }
}

/** Asserts that `outcome` is a TypeError with exactly `message`, thrown at once. */
function assertRefused(outcome: Outcome, message: string): void {
  assert.deepEqual({ name: outcome.name, message: outcome.message }, { name: 'TypeError', message });
  assert.ok(outcome.ms < AT_ONCE_MS, `refused after ${outcome.ms} ms`);
}

test(
  'put with an unknown option on a full queue throws TypeError naming it at once, not blocking',
  CHECKS,
  async () => {
    const q = new Queue<number>({ maxsize: 1 });
    q.put(1);
    try {
      assertRefused(
        await callInWorker(q, 'put', [2, { blok: false }]),
        'options.blok is not a Queue.put() option (known: block, timeout); did you mean block?',
      );
      await assert.rejects(within(q.putAsync(2, { blok: false } as never), GUARD_MS, 'putAsync()'), {
        name: 'TypeError',
        message: 'options.blok is not a Queue.putAsync() option (known: block, timeout); did you mean block?',
      });
      assert.throws(() => q.put(2, { block: false, timout: 5 } as never), {
        name: 'TypeError',
        message: /^options\.timout is not a Queue\.put\(\) option .*did you mean timeout\?$/,
      });
      assert.throws(() => q.put(2, 'fast' as never), {
        name: 'TypeError',
        message: 'Queue.put(): options must be an object: received the string "fast"',
      });
      assert.throws(() => q.put(2, null as never), { name: 'TypeError', message: /received null$/ });
      assert.throws(() => q.put(2, [] as never), { name: 'TypeError', message: /received an array of 0$/ });
      assert.equal(q.qsize(), 1, 'a refused put takes no slot');
    } finally {
      q.close();
    }
  },
);

test(
  'get with an unknown option on an empty queue throws TypeError naming it at once, not blocking',
  CHECKS,
  async () => {
    for (const q of [new Queue<number>(), new SimpleQueue<number>(), new JoinableQueue<number>()]) {
      try {
        assertRefused(
          await callInWorker(q, 'get', [{ blok: false }]),
          'options.blok is not a Queue.get() option (known: block, timeout); did you mean block?',
        );
        await assert.rejects(within(q.getAsync({ timeot: 5 } as never), GUARD_MS, 'getAsync()'), {
          name: 'TypeError',
          message: 'options.timeot is not a Queue.getAsync() option (known: block, timeout); did you mean timeout?',
        });
        assert.throws(() => q.get(42 as never), { name: 'TypeError', message: /received 42/ });
      } finally {
        q.close();
      }
    }
  },
);

test(
  'methods that take no options refuse one at once: getNowait, putNowait, join, joinAsync, close…',
  CHECKS,
  async () => {
    const q = new JoinableQueue<number>();
    q.put(1); // one unfinished task: join() would wait for good
    try {
      assertRefused(
        await callInWorker(q, 'join', [{ timeout: 100 }]),
        'options.timeout is not a JoinableQueue.join() option (known: none)',
      );
      await assert.rejects(within(q.joinAsync({ timeout: 100 } as never), GUARD_MS, 'joinAsync()'), {
        name: 'TypeError',
        message: 'options.timeout is not a JoinableQueue.joinAsync() option (known: none)',
      });
      assert.throws(() => q.taskDone(1 as never), {
        name: 'TypeError',
        message: 'JoinableQueue.taskDone() takes no options: received 1',
      });
      assert.equal(q.get(), 1);
      assert.throws(() => q.getNowait({ block: true, timeout: 100 } as never), {
        name: 'TypeError',
        message: /^options\.block is not a Queue\.getNowait\(\) option \(known: none\)$/,
      });
      assert.throws(() => q.putNowait(2, { block: true } as never), { name: 'TypeError', message: /putNowait/ });
      assert.equal(q.qsize(), 0, 'the refused putNowait put nothing');
      assert.throws(() => q.joinThread(5 as never), { name: 'TypeError', message: /^Queue\.joinThread\(\) takes no/ });
      await assert.rejects(q.joinThreadAsync(5 as never), { name: 'TypeError', message: /joinThreadAsync/ });
      assert.throws(() => q.close('now' as never), {
        name: 'TypeError',
        message: 'Queue.close() takes no options: received the string "now"',
      });
      assert.equal(q.closed, false, 'a refused close() closes nothing');
      assert.throws(() => q.getNowait({} as never), QueueEmpty, 'an empty object is no options');
      q.taskDone();
    } finally {
      q.close();
    }
  },
);

test("Python's positional forms are refused with the object to write instead", CHECKS, () => {
  const q = new Queue<number>({ maxsize: 1 });
  q.put(1);
  assert.throws(() => q.put(2, false as never), {
    name: 'TypeError',
    message:
      "Queue.put(): options must be an object, such as { block: false }: received false (Python's positional form)",
  });
  assert.throws(() => q.put(2, true as never, 5 as never), {
    name: 'TypeError',
    message:
      "Queue.put(): options must be an object, such as { block: true, timeout: 5 }: received true (Python's positional form; timeouts are in milliseconds)",
  });
  assert.throws(() => q.get(true as never, 5 as never), { message: /such as \{ block: true, timeout: 5 \}/ });
  assert.throws(() => q.get(5 as never), { name: 'TypeError', message: /such as \{ timeout: 5 \}/ });
  assert.throws(() => q.put(2, {}, 5 as never), {
    name: 'TypeError',
    message: 'Queue.put() takes no argument after options: received 5',
  });
  assert.throws(() => new Queue(8 as never), {
    name: 'TypeError',
    message: "Queue: options must be an object, such as { maxsize: 8 }: received 8 (Python's positional form)",
  });
  assert.throws(() => new JoinableQueue(8 as never), {
    name: 'TypeError',
    message: /^JoinableQueue: .*\{ maxsize: 8 \}/,
  });
  assert.equal(q.qsize(), 1);
  q.close();
});

test(
  'constructor options: unknown keys with a suggestion; wrong types show the received value with its type',
  CHECKS,
  () => {
    assert.throws(() => new Queue({ maxsiz: 3 } as never), {
      name: 'TypeError',
      message: 'options.maxsiz is not a Queue option (known: maxsize, capacity); did you mean maxsize?',
    });
    assert.throws(() => new SimpleQueue({ maxsize: 3 } as never), {
      name: 'TypeError',
      message: 'options.maxsize is not a SimpleQueue option (known: capacity)',
    });
    assert.throws(() => new JoinableQueue({ capacty: 4096 } as never), {
      name: 'TypeError',
      message: 'options.capacty is not a JoinableQueue option (known: maxsize, capacity); did you mean capacity?',
    });
    assert.throws(() => new Queue({ maxsize: '4' } as never), {
      name: 'TypeError',
      message: /^options\.maxsize must be an integer .*: received the string "4"$/,
    });
    assert.throws(() => new Queue({ capacity: '4096' } as never), {
      name: 'TypeError',
      message: /^options\.capacity must be a power of two .*: received the string "4096"$/,
    });
    assert.throws(() => new SimpleQueue('big' as never), {
      name: 'TypeError',
      message: 'SimpleQueue: options must be an object: received the string "big"',
    });
    const q = new Queue();
    assert.throws(() => q.put(1, { timeout: '5' } as never), {
      name: 'TypeError',
      message: 'Queue.put(options.timeout) must be a non-negative number of milliseconds: received the string "5"',
    });
    assert.throws(() => q.get({ block: 'no' } as never), {
      name: 'TypeError',
      message: 'Queue.get(options.block) must be a boolean: received the string "no"',
    });
    assert.throws(() => q.get({ timeout: Number.NaN }), { name: 'RangeError', message: /received NaN$/ });
    assert.equal(q.qsize(), 0);
    q.close();
  },
);

test('close: put throws, get drains then throws, for await ends; waiters wake', T, async () => {
  const q = new Queue<number>();
  q.put(1);
  q.put(2);
  q.close();
  assert.equal(q.closed, true);
  assert.throws(() => q.put(3), QueueClosedError);
  await assert.rejects(q.putAsync(3), QueueClosedError);
  assert.equal(q.get(), 1);
  assert.equal(q.get(), 2);
  assert.throws(() => q.get(), QueueClosedError);
  assert.throws(() => q.getNowait(), QueueClosedError);
  await assert.rejects(q.getAsync(), QueueClosedError);
  q.close(); // idempotent

  const q2 = new Queue<number>();
  for (let i = 0; i < 5; i++) q2.put(i);
  const seen: number[] = [];
  const iterating = (async () => {
    for await (const x of q2) seen.push(x);
  })();
  // A waiting getter (the iterator, once drained) wakes when the queue closes.
  while (seen.length < 5) await new Promise((r) => setImmediate(r));
  q2.close();
  await iterating;
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);

  // A getter asleep in another thread wakes with QueueClosedError.
  const q3 = new Queue<string>();
  const getter = runWorker<string>('get', { q: q3 });
  const words = queueRing(q3).words;
  while (Atomics.load(words, READERS_SLEEPING) === 0) await new Promise((r) => setImmediate(r));
  q3.close();
  await assert.rejects(getter.result, { name: 'QueueClosedError' });

  // A putter waiting on a full queue wakes with QueueClosedError.
  const q4 = new Queue<number>({ maxsize: 1 });
  q4.put(1);
  const pending = q4.putAsync(2);
  q4.close();
  await assert.rejects(pending, QueueClosedError);
});

test('JoinableQueue: taskDone/join, too many taskDone (Python test_task_done)', T, async () => {
  const q = new JoinableQueue<number | null>();
  q.join(); // nothing unfinished
  await q.joinAsync();
  assert.throws(() => q.taskDone(), { name: 'RangeError', message: 'task_done() called too many times' });

  await using pool = new Pool({ processes: 4 });
  const workers = Array.from({ length: 4 }, () => pool.apply(queueTasks.drainJoinable, [q]));
  for (let i = 0; i < 10; i++) q.put(i);
  await q.joinAsync();
  assert.equal(q.qsize(), 0);
  for (let i = 0; i < 4; i++) q.put(null);
  const counts = await Promise.all(workers);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    10,
  );
  q.join();
  assert.throws(() => q.taskDone(), RangeError);

  // join blocks a worker-free thread until the last taskDone.
  const q2 = new JoinableQueue<string>();
  q2.put('a');
  let joined = false;
  const joining = q2.joinAsync().then(() => {
    joined = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(joined, false);
  q2.get();
  q2.taskDone();
  await joining;
  assert.equal(joined, true);
});

test(
  'an unbounded put never throws QueueFull and never blocks for good: many times the ring, no consumer',
  T,
  async () => {
    const q = new Queue<Uint8Array | string>({ capacity: 4096 });
    const n = 300;
    for (let i = 0; i < n; i++) {
      q.put(i % 2 === 0 ? new Uint8Array(1000).fill(i & 0xff) : `message ${i}`.repeat(20));
    }
    for (let i = n; i < 2 * n; i++) await q.putAsync(`async ${i}`);
    assert.equal(q.qsize(), 2 * n);
    for (let i = 0; i < n; i++) {
      const got = q.get();
      if (i % 2 === 0) assert.deepEqual(got, new Uint8Array(1000).fill(i & 0xff));
      else assert.equal(got, `message ${i}`.repeat(20));
    }
    for (let i = n; i < 2 * n; i++) assert.equal(await q.getAsync(), `async ${i}`);
    assert.equal(q.qsize(), 0);
    assert.throws(() => q.getNowait(), QueueEmpty);
  },
);

test('a 16 MiB message passes both ways across threads, and within one thread', T, async () => {
  const n = 2 * 1024 * 1024; // Float64: 16 MiB
  const q = new Queue<Float64Array | number>();
  const out = new Queue<number>();
  await using pool = new Pool({ processes: 1 });
  const echo = pool.apply(queueTasks.echoSum, [q, out]);
  const big = new Float64Array(n);
  for (let i = 0; i < n; i++) big[i] = i;
  await q.putAsync(big);
  assert.equal(await out.getAsync(), (n * (n - 1)) / 2);
  assert.equal(await echo, n);

  const producer = runWorker<number>('bigProduce', { q, n });
  const got = (await q.getAsync()) as Float64Array;
  assert.equal(got.length, n);
  for (let i = 0; i < n; i += 4099) assert.equal(got[i], i);
  assert.equal(got[n - 1], n - 1);
  assert.equal(await producer.result, n);

  q.put(big);
  const again = q.get() as Float64Array;
  assert.deepEqual(again, big);
});

test('empty messages and message boundaries are kept', T, () => {
  const q = new Queue<unknown>({ capacity: 64 });
  const items: unknown[] = [
    '',
    'a',
    '',
    new Uint8Array(0),
    new Float64Array(0),
    new ArrayBuffer(0),
    [],
    {},
    '',
    Buffer.alloc(0),
    'bc',
  ];
  for (const x of items) q.put(x);
  for (const x of items) assert.deepEqual(q.get(), x);
  assert.equal(q.qsize(), 0);
});

test('every codec kind round-trips exactly', T, async () => {
  const q = new Queue<unknown>({ capacity: 1024 });
  const big = `é€😀${'ü'.repeat(3000)}\u{10ffff}`;
  const cyclic: Record<string, unknown> = { name: 'self' };
  cyclic.self = cyclic;
  const shared = { a: 1 };
  // biome-ignore lint/suspicious/noSparseArray: a hole on purpose
  const sparse = [1, , 3];
  const extra = Object.assign([1, 2], { tag: 'x' });
  const values: unknown[] = [
    0,
    -0,
    1,
    -1,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    2 ** 53 + 2,
    0.1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.MIN_VALUE,
    true,
    false,
    null,
    undefined,
    '',
    'plain',
    big,
    'lone \ud800 surrogate',
    'x'.repeat(5000),
    123n,
    { id: 1, name: 'a' },
    { nested: { deep: [1, 'two', { three: null }] }, n: -0 },
    [1, 2, 3],
    [undefined, null],
    sparse,
    extra,
    cyclic,
    [shared, shared],
    new Map<unknown, unknown>([
      [1, 'a'],
      ['k', { v: [1] }],
    ]),
    new Set([1, 'two', 3]),
    new Date(1_700_000_000_000),
    /ab+c/gi,
    new Error('boom'),
    new TypeError('bad type'),
    { when: new Date(0), list: new Set([1]) },
  ];
  for (const v of values) {
    q.put(v);
    const got = q.get();
    if (typeof v === 'number') assert.ok(Object.is(got, v), `${v} came back as ${got}`);
    else if (v instanceof Error) {
      assert.ok(got instanceof (v.constructor as ErrorConstructor));
      assert.equal((got as Error).message, v.message);
    } else if (v === cyclic) {
      assert.equal((got as Record<string, unknown>).self, got);
    } else if (v === values[30]) {
      const [a, b] = got as object[];
      assert.equal(a, b, 'a repeated reference stays one object');
    } else assert.deepStrictEqual(got, v);
  }
  // A null-prototype object arrives as a plain one, as structured clone makes it.
  q.put(Object.assign(Object.create(null), { a: 1 }));
  const plain = q.get() as object;
  assert.equal(Object.getPrototypeOf(plain), Object.prototype);
  assert.deepEqual(plain, { a: 1 });
  const views = [
    new Int8Array([-1, 2]),
    new Uint8Array([1, 255]),
    new Uint8ClampedArray([0, 255]),
    new Int16Array([-300, 300]),
    new Uint16Array([65535]),
    new Int32Array([-(2 ** 31), 5]),
    new Uint32Array([2 ** 32 - 1]),
    new Float32Array([1.5, Number.NaN]),
    new Float64Array([-0, Number.NaN, 1e300]),
    new BigInt64Array([-(2n ** 63n), 7n]),
    new BigUint64Array([2n ** 64n - 1n]),
    new Float64Array(new ArrayBuffer(64), 8, 3).fill(2.5), // a view with an offset
    new Uint8Array(10_000).map((_, i) => i * 7), // larger than the ring
  ];
  for (const v of views) {
    q.put(v);
    const got = q.get() as ArrayBufferView;
    assert.equal(got.constructor, v.constructor);
    assert.deepStrictEqual(got, v);
    assert.equal(got.byteOffset, 0, 'aligned: a fresh buffer of its own');
    assert.ok(!(got.buffer instanceof SharedArrayBuffer), 'not shared');
  }
  const dv = new DataView(new ArrayBuffer(6));
  dv.setInt16(2, -2);
  q.put(dv);
  const gotDv = q.get() as DataView;
  assert.ok(gotDv instanceof DataView);
  assert.equal(gotDv.getInt16(2), -2);
  const ab = new Uint8Array([9, 8, 7]).buffer;
  q.put(ab);
  assert.deepEqual(new Uint8Array(q.get() as ArrayBuffer), new Uint8Array([9, 8, 7]));
  q.put(Buffer.from('buffer'));
  const gotBuf = q.get();
  assert.ok(Buffer.isBuffer(gotBuf));
  assert.equal(String(gotBuf), 'buffer');
  // A view of shared memory is copied; the SharedArrayBuffer itself is shared.
  const sab = new SharedArrayBuffer(8);
  q.put(new Int32Array(sab));
  assert.ok(!((q.get() as Int32Array).buffer instanceof SharedArrayBuffer));
  q.put({ sab });
  const gotSab = (q.get() as { sab: SharedArrayBuffer }).sab;
  new Int32Array(gotSab)[0] = 41;
  assert.equal(new Int32Array(sab)[0], 41, 'the same memory');
  // The same through the async forms.
  for (const v of [1.5, 'async', { k: [1] }, new Map([[1, 2]])]) {
    await q.putAsync(v);
    assert.deepStrictEqual(await q.getAsync(), v);
  }
});

test('a queue carries a Lock and a second Queue to a worker that uses both', T, async () => {
  const q = new Queue<unknown>();
  const reply = new Queue<string>();
  const lock = new Lock();
  const carrier = runWorker<string>('carry', { q });
  q.put({ lock, reply });
  assert.equal(await reply.getAsync(), 'locked');
  assert.equal(lock.locked(), true, 'the worker holds this very lock');
  assert.equal(lock.acquire({ blocking: false }), false);
  q.put('release');
  assert.equal(await reply.getAsync(), 'released');
  assert.equal(lock.locked(), false);
  assert.equal(await carrier.result, 'done');

  // A SharedArray (whose state holds its own lock) and a queue, nested, through a pool task.
  const arr = new SharedArray('i32', 4);
  await using pool = new Pool({ processes: 1 });
  const inner = new Queue<number>();
  const echo = pool.apply(queueTasks.echoSum, [q, inner]);
  q.put(new Float64Array([1, 2, 3]));
  assert.equal(await inner.getAsync(), 6);
  await echo;
  q.put({ arr, queues: [inner] });
  const got = q.get() as { arr: SharedArray<'i32'>; queues: Queue<number>[] };
  got.arr.array[1] = 5;
  assert.equal(arr.array[1], 5);
  got.queues[0]?.put(9);
  assert.equal(inner.get(), 9);
  assert.ok(got.arr.getLock().acquire({ blocking: false }));
  assert.equal(arr.getLock().acquire({ blocking: false }), true, 'an RLock re-enters on the same thread');
  arr.getLock().release();
  got.arr.getLock().release();
});

test('getAsync never blocks the event loop: a timer keeps ticking while it waits', T, async () => {
  const q = new Queue<string>();
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    if (ticks === 5) q.put('after five ticks');
  }, 5);
  try {
    assert.equal(await q.getAsync(), 'after five ticks');
    assert.ok(ticks >= 5);
  } finally {
    clearInterval(timer);
  }
  // putAsync on a full queue, likewise.
  const b = new Queue<number>({ maxsize: 1 });
  b.put(0);
  ticks = 0;
  const timer2 = setInterval(() => {
    ticks++;
    if (ticks === 5) b.get();
  }, 5);
  try {
    await b.putAsync(1);
    assert.ok(ticks >= 5);
    assert.equal(b.get(), 1);
  } finally {
    clearInterval(timer2);
  }
});

test('a pending getAsync or putAsync keeps the process alive until a worker satisfies it', T, async () => {
  const got = await execFileAsync(process.execPath, [keepAliveScript, 'get'], { timeout: 30_000 });
  assert.equal(got.stdout.trim(), 'got late');
  const put = await execFileAsync(process.execPath, [keepAliveScript, 'put'], { timeout: 30_000 });
  assert.equal(put.stdout.trim(), 'put done');
});

test('SimpleQueue is an unbounded queue', T, () => {
  const q = new SimpleQueue<string>();
  assert.equal(q.empty(), true);
  q.put('x');
  assert.equal(q.empty(), false);
  assert.equal(q.get(), 'x');
  q.close();
  assert.throws(() => q.put('y'), QueueClosedError);
  assert.ok(q instanceof Queue);
});

test('queues revive as their own class on another thread', T, async () => {
  const q = new Queue<unknown>();
  const kinds = runWorker<string[]>('kinds', { q });
  q.put([new Queue(), new JoinableQueue(), new SimpleQueue(), new Lock()]);
  assert.deepEqual(await kinds.result, ['Queue', 'JoinableQueue', 'SimpleQueue', 'Lock']);
});

/** Resolves once `words[index]` is not 0 (read from shared memory, polling the event loop). */
async function until(words: Int32Array, index: number): Promise<void> {
  const end = Date.now() + 20_000;
  while (Atomics.load(words, index) === 0) {
    if (Date.now() > end) throw new Error(`word ${index} stayed 0`);
    const r = Atomics.waitAsync(words, index, 0, 20);
    if (r.async) await r.value;
  }
}

/**
 * Every way a producer can die in the middle of a put, holding the writer
 * mutex: before reserving its slot, after reserving, after publishing (or
 * posting to the hub) but before clearing its marks. In each, what it put
 * before arrives, the halted item arrives exactly when it was published,
 * `qsize()` never counts what cannot arrive, other producers go on, and
 * consumers finish after `close()`.
 */
for (const viaHub of [false, true]) {
  for (const at of ['before-reserve', 'reserved', 'published'] as const) {
    test(
      `a producer that dies mid-put (${viaHub ? 'to the hub' : 'direct'}, ${at}) does not stop the queue`,
      T,
      async () => {
        const q = new Queue<unknown>({ capacity: 4096 });
        const gate = new Int32Array(new SharedArrayBuffer(8));
        const before = ['a', 'b', 'c'];
        const halted = runWorker('haltMidPut', { q, gate, before, item: 'halted', at, viaHub });
        await until(gate, 0);
        await halted.worker.terminate();
        await assert.rejects(halted.result);
        const arrives = at === 'published';
        // Another producer takes the mutex over (repairing), and the queue goes on.
        await q.putAsync('after');
        assert.equal(q.qsize(), before.length + (arrives ? 1 : 0) + 1);
        q.close();
        const got: unknown[] = [];
        for await (const x of q) got.push(x);
        // Per producer, in order; between the two producers, any order.
        assert.deepEqual(
          got.filter((x) => x !== 'after'),
          [...before, ...(arrives ? ['halted'] : [])],
        );
        assert.equal(got.filter((x) => x === 'after').length, 1);
        assert.equal(q.qsize(), 0);
      },
    );
  }
}

test(
  'a producer dead mid-put is repaired by a consumer waiting after close() (no producer comes back)',
  T,
  async () => {
    const q = new Queue<unknown>({ capacity: 4096 });
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const halted = runWorker('haltMidPut', { q, gate, before: [1, 2], item: 3, at: 'reserved', viaHub: false });
    await until(gate, 0);
    q.close();
    const drained = (async () => {
      const got: unknown[] = [];
      for await (const x of q) got.push(x);
      return got;
    })();
    await halted.worker.terminate();
    await assert.rejects(halted.result);
    assert.deepEqual(await drained, [1, 2]);
    assert.equal(q.qsize(), 0);
  },
);

test('a consumer that dies holding the reader mutex: the next consumer takes it over, nothing is lost', T, async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w.message);
  };
  process.on('warning', onWarning);
  after(() => process.off('warning', onWarning));
  const q = new Queue<unknown>({ capacity: 4096 });
  q.put('first');
  q.put('second');
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const halted = runWorker('haltMidGet', { q, gate });
  await until(gate, 0);
  await halted.worker.terminate();
  await assert.rejects(halted.result);
  assert.equal(await q.getAsync({ timeout: 20_000 }), 'first');
  assert.equal(q.get({ timeout: 20_000 }), 'second');
  assert.equal(q.qsize(), 0);
  await new Promise((r) => setImmediate(r));
  assert.ok(
    warnings.some((m) => /^the reader lock of a Queue was held by thread \d+, which exited/.test(m)),
    `the warning names the queue's lock: ${warnings.join(' | ')}`,
  );
});

test('a consumer that dies after consuming a record, before counting it: qsize stops counting it', T, async () => {
  const q = new Queue<unknown>({ capacity: 4096 });
  q.put('lost with the consumer');
  q.put('second');
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const halted = runWorker('haltMidGet', { q, gate, consumed: true });
  await until(gate, 0);
  await halted.worker.terminate();
  await assert.rejects(halted.result);
  assert.equal(await q.getAsync({ timeout: 20_000 }), 'second');
  assert.equal(q.qsize(), 0, 'the consumed record counts as taken');
  q.close();
  const rest: unknown[] = [];
  for await (const x of q) rest.push(x);
  assert.deepEqual(rest, []);
});

test('a producer that blocks forever after its puts (event loop never turning) still delivers them', T, async () => {
  const q = new Queue<unknown>({ capacity: 4096 });
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const producer = runWorker('halfPut', { q, gate, bytes: 20_000, after: 'after' });
  await until(gate, 0); // its 20 kB message went to a slab; it blocks without ever running its event loop
  const got = (await q.getAsync({ timeout: 20_000 })) as Uint8Array;
  assert.equal(got.length, 20_000);
  assert.ok(got.every((b) => b === 7));
  Atomics.store(gate, 1, 1);
  Atomics.notify(gate, 1);
  assert.equal(await q.getAsync({ timeout: 20_000 }), 'after');
  assert.equal(await producer.result, 'let go');
});

test('items in the overflow of a hub that died with its worker are counted as lost, with a warning', T, async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }): void => {
    if (w.code === 'ERR_COREPOOL_QUEUE_LOST') warnings.push(w.message);
  };
  process.on('warning', onWarning);
  after(() => process.off('warning', onWarning));
  const maker = runWorker<unknown>('hubOverflow', {});
  const q = revive<Queue<unknown>>(await maker.result); // the worker has exited: its hub is gone
  assert.equal(q.qsize(), 2, 'only the two items in the ring can still arrive');
  assert.equal(q.get({ timeout: 10_000 }), 'item 0 of twenty');
  assert.equal(q.get({ timeout: 10_000 }), 'item 1 of twenty');
  await new Promise((r) => setImmediate(r));
  assert.equal(warnings.length, 1, warnings.join(' | '));
  assert.match(warnings[0] as string, /^a Queue lost 8 buffered item\(s\): the hub thread that held them exited/);
  // The queue goes on with a new hub and a new overflow chain.
  for (let i = 0; i < 10; i++) q.put(i);
  const got: unknown[] = [];
  for (let i = 0; i < 10; i++) got.push(await q.getAsync({ timeout: 10_000 }));
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  q.close();
  assert.throws(() => q.get(), { name: 'QueueClosedError' });
});

test(
  'the hub dies with the worker that started it: in-flight shared objects are reported lost, then it restarts',
  T,
  async () => {
    const starter = runWorker<unknown>('hubStarter', {});
    const q = revive<Queue<unknown>>(await starter.result); // the worker has exited: its hub is gone
    assert.throws(() => q.get({ timeout: 10_000 }), { code: 'ERR_COREPOOL_SHARED_LOST', message: /lost/ });
    const lock = new Lock();
    q.put({ lock }); // this thread starts a new hub
    const got = (await q.getAsync()) as { lock: Lock };
    assert.ok(got.lock.acquire({ blocking: false }));
    assert.equal(lock.locked(), true, 'the same lock');
    got.lock.release();
  },
);
