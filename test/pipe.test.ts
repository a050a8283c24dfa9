/**
 * `Pipe` and `Connection`: CPython's `_TestConnection` and `_TestPoll`
 * semantics (duplex and one-way, every kind of value, 16 MiB and empty
 * messages, bytes with offsets, BufferTooShort, poll with and without
 * timeout, EOF), Python's fd semantics across threads (ends held by several
 * threads, a thread's exit closes its handles, the tutorial's
 * consumer-until-EOFError), and the async forms (the event loop keeps
 * running, the process stays alive).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inspect, promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { connectionRing } from '../src/channel/pipe.js';
import { READERS_SLEEPING } from '../src/channel/ring.js';
import {
  BufferTooShort,
  type Connection,
  ConnectionStateError,
  EOFError,
  Lock,
  Pipe,
  Pool,
  Process,
  Queue,
  SharedArray,
  WorkerExitError,
} from '../src/index.js';
import { pipeTasks } from './fixtures/pipe-tasks.js';
import { type Outcome, within } from './fixtures/queue-call.js';

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const workerUrl = new URL(`./fixtures/pipe-worker.${ext}`, import.meta.url);
const lateUrl = new URL(`./fixtures/pipe-late.${ext}`, import.meta.url);
const keepAliveScript = fileURLToPath(new URL(`./fixtures/pipe-keepalive.${ext}`, import.meta.url));
const execFileAsync = promisify(execFile);

const T = { timeout: 60_000 };
/** Python's TIMEOUT1. */
const TIMEOUT1 = 100;
/** "At once": far above any real cost, far below a timeout waited out by mistake. */
const AT_ONCE_MS = 1_000;

/** Runs pipe-worker.ts with `role`; resolves with what it posts once it exited. */
function runWorker(role: string, data: Record<string, unknown>): { worker: Worker; result: Promise<unknown> } {
  const worker = new Worker(workerUrl, { workerData: { role, ...data } });
  return { worker, result: settled(worker) };
}

function settled(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let value: unknown;
    worker.on('message', (v) => {
      value = v;
    });
    worker.on('error', reject);
    worker.on('exit', () => resolve(value));
  });
}

/** Receives (async) until EOFError. */
async function drainAsync(conn: Connection): Promise<unknown[]> {
  const got: unknown[] = [];
  for await (const m of conn) got.push(m);
  return got;
}

/** `[1, <hole>, 3]`: not plain JSON. */
function holey(): unknown[] {
  const a: unknown[] = new Array(3);
  a[0] = 1;
  a[2] = 3;
  return a;
}

function elapsed<R>(fn: () => R): [R, number] {
  const start = performance.now();
  const r = fn();
  return [r, performance.now() - start];
}

const VALUES: unknown[] = [
  0,
  -0,
  1,
  -1,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31,
  2.25,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MIN_VALUE,
  '',
  'hello world',
  'ünïcödé ✓ 😀',
  '\ud800 lone surrogate',
  'x'.repeat(100_000),
  true,
  false,
  null,
  undefined,
  12345678901234567890n,
  [],
  [1, 2.25, null],
  {},
  { id: 1, name: 'a', nested: { list: [1, 'two', [3]] } },
  holey(),
  new Map<unknown, unknown>([
    [1, 'a'],
    ['b', { c: 2 }],
  ]),
  new Set([1, 'two', 3]),
  new Date(1_700_000_000_000),
  /ab+c/gi,
  new RangeError('boom'),
  new Int8Array([-1, 2]),
  new Uint8Array([1, 2, 3]),
  new Uint8ClampedArray([255]),
  new Int16Array([-300]),
  new Uint16Array([65535]),
  new Int32Array([-7, 8]),
  new Uint32Array([2 ** 32 - 1]),
  new Float32Array([1.5]),
  new Float64Array([Math.PI, -0]),
  new BigInt64Array([-5n]),
  new BigUint64Array([5n]),
  new Uint8Array(0),
  new ArrayBuffer(5),
  new DataView(new ArrayBuffer(3)),
  Buffer.from('buffer'),
];

test('send/recv of every kind of value, both directions, order kept (Python test_connection)', T, () => {
  const [a, b] = Pipe({ capacity: 1 << 20 });
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    for (const v of VALUES) from.send(v);
    for (const v of VALUES) {
      const got = to.recv();
      if (v instanceof Error) {
        assert.ok(got instanceof RangeError);
        assert.equal((got as Error).message, 'boom');
      } else {
        assert.deepStrictEqual(got, v);
        if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
          assert.equal(Object.getPrototypeOf(got), Object.getPrototypeOf(v));
        }
      }
    }
    assert.equal(to.poll(), false);
  }
  const cyclic: Record<string, unknown> = { name: 'self' };
  cyclic.self = cyclic;
  a.send(cyclic);
  const back = b.recv() as Record<string, unknown>;
  assert.equal(back.self, back);
  a.close();
  b.close();
});

test('empty messages keep their boundaries (Python test_empty_string, test_dont_merge)', T, async () => {
  const [a, b] = Pipe();
  assert.equal(a.poll(), false);
  b.sendBytes(Buffer.alloc(0));
  assert.equal(a.poll(), true);
  assert.equal(a.poll(), true);
  b.send('');
  b.sendBytes(new Uint8Array(0));
  b.send(new Uint8Array(0));
  assert.deepEqual(a.recvBytes(), Buffer.alloc(0));
  assert.equal(a.recv(), '');
  assert.deepEqual(a.recv(), Buffer.alloc(0));
  assert.deepEqual(a.recv(), new Uint8Array(0));
  assert.equal(a.poll(), false);

  // Across threads: three messages, never merged.
  await using pool = new Pool({ processes: 1 });
  const [c, d] = Pipe();
  assert.equal(c.poll(0), false);
  assert.equal(c.poll(TIMEOUT1), false);
  const done = pool.apply(pipeTasks.dontMerge, [d]);
  d.close();
  assert.deepEqual(await c.recvBytesAsync(), Buffer.from('a'));
  assert.equal(await c.pollAsync(10_000), true);
  assert.equal(await c.pollAsync(10_000), true);
  assert.deepEqual(await c.recvBytesAsync(), Buffer.from('b'));
  assert.equal(await c.pollAsync(10_000), true);
  assert.deepEqual(await c.recvBytesAsync(), Buffer.from('cd'));
  await done;
  await assert.rejects(c.recvBytesAsync(), EOFError);
  for (const x of [a, b, c]) x.close();
});

test(
  'one-way pipe: a receives, b sends; the wrong end throws ConnectionStateError (Python test_duplex_false)',
  T,
  async () => {
    const [r, w] = Pipe({ duplex: false });
    assert.equal(r.readable, true);
    assert.equal(r.writable, false);
    assert.equal(w.readable, false);
    assert.equal(w.writable, true);
    w.send(1);
    w.sendBytes(Buffer.from('x'));
    assert.equal(r.recv(), 1);
    assert.deepEqual(r.recvBytes(), Buffer.from('x'));
    assert.throws(() => r.send(1), ConnectionStateError);
    assert.throws(() => r.sendBytes(Buffer.from('x')), ConnectionStateError);
    await assert.rejects(r.sendAsync(1), ConnectionStateError);
    assert.throws(() => w.recv(), ConnectionStateError);
    assert.throws(() => w.recvBytes(), ConnectionStateError);
    assert.throws(() => w.recvBytesInto(new Uint8Array(4)), ConnectionStateError);
    assert.throws(() => w.poll(), ConnectionStateError);
    await assert.rejects(w.recvAsync(), ConnectionStateError);
    await assert.rejects(w.pollAsync(), ConnectionStateError);
    w.close();
    assert.throws(() => r.recv(), EOFError);
    r.close();
  },
);

test('sendBytes with offset and size; bad ones throw RangeError (Python test_sendbytes)', T, () => {
  const msg = Buffer.from('abcdefghijklmnopqrstuvwxyz');
  const [a, b] = Pipe();
  a.sendBytes(msg);
  assert.deepEqual(b.recvBytes(), msg);
  a.sendBytes(msg, 5);
  assert.deepEqual(b.recvBytes(), msg.subarray(5));
  a.sendBytes(msg, 7, 8);
  assert.deepEqual(b.recvBytes(), msg.subarray(7, 15));
  a.sendBytes(msg, 26);
  assert.deepEqual(b.recvBytes(), Buffer.alloc(0));
  a.sendBytes(msg, 26, 0);
  assert.deepEqual(b.recvBytes(), Buffer.alloc(0));
  for (const [offset, size] of [
    [27, undefined],
    [22, 5],
    [26, 1],
    [-1, undefined],
    [4, -1],
    [1.5, undefined],
    [0, Number.NaN],
  ] as const) {
    assert.throws(() => a.sendBytes(msg, offset, size), RangeError, `offset ${offset}, size ${size}`);
  }
  assert.throws(() => a.sendBytes('text' as never), TypeError);
  // Offsets count bytes whatever the view: bytes 4..12 of an Int32Array are elements 1 and 2.
  a.sendBytes(new Int32Array([1, 2, 3, 4]), 4, 8);
  assert.deepEqual(new Int32Array(new Uint8Array(b.recvBytes()).buffer), new Int32Array([2, 3]));
  assert.equal(b.poll(), false);
  a.close();
  b.close();
});

test('recvBytesInto with offsets; BufferTooShort carries the message; maxlength (Python test_connection)', T, () => {
  const [a, b] = Pipe();
  const arr = new Int32Array([0, 1, 2, 3]);
  let buffer = new Int32Array(10);
  a.sendBytes(arr);
  assert.equal(b.recvBytesInto(buffer), 16);
  assert.deepEqual([...buffer], [0, 1, 2, 3, 0, 0, 0, 0, 0, 0]);
  buffer = new Int32Array(10);
  a.sendBytes(arr);
  assert.equal(b.recvBytesInto(buffer, 3 * 4), 16);
  assert.deepEqual([...buffer], [0, 0, 0, 0, 1, 2, 3, 0, 0, 0]);

  const longmsg = Buffer.from('hello world'.repeat(10));
  a.sendBytes(longmsg);
  const short = Buffer.alloc(40, 0x20);
  const err = (() => {
    try {
      b.recvBytesInto(short);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof BufferTooShort);
  assert.deepEqual(Buffer.from(err.data), longmsg);
  assert.deepEqual(short, Buffer.alloc(40, 0x20)); // untouched
  assert.equal(b.poll(), false); // the message was taken

  // Fits exactly at the end; too short by one byte with an offset.
  a.sendBytes(Buffer.from('xyz'));
  assert.equal(b.recvBytesInto(new Uint8Array(5), 2), 3);
  a.sendBytes(Buffer.from('xyz'));
  assert.throws(() => b.recvBytesInto(new Uint8Array(5), 3), BufferTooShort);
  // A message longer than the ring, into a buffer that fits it, and into one that does not.
  const [c, d] = Pipe({ capacity: 64 });
  const big = Buffer.alloc(40, 7);
  assert.throws(() => b.recvBytesInto(new Uint8Array(4), 5), RangeError);
  assert.throws(() => b.recvBytesInto(new Uint8Array(4), -1), RangeError);
  assert.throws(() => b.recvBytes(-1), RangeError);
  c.sendBytes(big);
  const into = new Uint8Array(48);
  assert.equal(d.recvBytesInto(into, 8), 40);
  assert.deepEqual(Buffer.from(into.subarray(8)), big);

  // maxlength: a longer message is refused and left first in the pipe.
  a.sendBytes(Buffer.from('0123456789'));
  assert.throws(
    () => b.recvBytes(4),
    (e: unknown) => e instanceof ConnectionStateError && /10 bytes/.test(e.message),
  );
  assert.deepEqual(b.recvBytes(10), Buffer.from('0123456789'));
  // A message that is not bytes is left for recv().
  a.send({ not: 'bytes' });
  assert.throws(() => b.recvBytes(), TypeError);
  assert.throws(() => b.recvBytesInto(new Uint8Array(64)), TypeError);
  assert.deepEqual(b.recv(), { not: 'bytes' });
  // Bytes sent with send() are bytes too; sendBytes arrives as a Buffer through recv().
  a.send(new Uint16Array([1, 2]));
  assert.deepEqual(b.recvBytes(), Buffer.from(new Uint16Array([1, 2]).buffer));
  a.sendBytes(Buffer.from('raw'));
  const raw = b.recv();
  assert.ok(Buffer.isBuffer(raw));
  assert.equal(raw.toString(), 'raw');
  for (const x of [a, b, c, d]) x.close();
});

test('poll with and without timeout (Python test_connection, _TestPoll)', T, async () => {
  const [a, b] = Pipe();
  let [ready, ms] = elapsed(() => a.poll());
  assert.equal(ready, false);
  assert.ok(ms < AT_ONCE_MS);
  [ready, ms] = elapsed(() => a.poll(-1));
  assert.equal(ready, false);
  assert.ok(ms < AT_ONCE_MS);
  [ready, ms] = elapsed(() => a.poll(TIMEOUT1));
  assert.equal(ready, false);
  assert.ok(ms >= TIMEOUT1 - 1, `poll(${TIMEOUT1}) returned after ${ms} ms`);
  const start = performance.now();
  assert.equal(await a.pollAsync(TIMEOUT1), false);
  assert.ok(performance.now() - start >= TIMEOUT1 - 1);
  assert.throws(() => a.poll(Number.NaN), RangeError);
  assert.throws(() => a.poll('1' as never), TypeError); // not a number: a TypeError, as checkTimeout's
  b.send(null);
  [ready, ms] = elapsed(() => a.poll(TIMEOUT1));
  assert.equal(ready, true);
  assert.ok(ms < AT_ONCE_MS);
  assert.equal(a.recv(), null);

  // poll(Infinity) and pollAsync wake when another thread sends; poll is true at EOF.
  const { worker, result } = runWorker('echo', { conn: b });
  b.close();
  const waiting = a.pollAsync(Number.POSITIVE_INFINITY);
  a.send('ping');
  assert.equal(await waiting, true);
  assert.equal(a.recv(), 'ping');
  a.send('ping2');
  assert.equal(a.poll(Number.POSITIVE_INFINITY), true);
  assert.equal(a.recv(), 'ping2');
  const ended = a.pollAsync(Number.POSITIVE_INFINITY);
  a.close(); // the echo sees EOF and ends
  await assert.rejects(ended, ConnectionStateError); // closed by this thread while it waited
  assert.equal(await result, 2);
  await worker.terminate();
});

test('poll does not pull half a message; the next reader gets it whole (Python test_boundaries)', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const [r, w] = Pipe({ duplex: false });
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const polled = pool.apply(pipeTasks.boundaries, [r, gate]);
  while (Atomics.load(gate, 0) === 0) await Atomics.waitAsync(gate, 0, 0, 1000).value;
  for (const m of ['first', 'second']) w.sendBytes(Buffer.from(m));
  w.close();
  assert.equal(await polled, true);
  assert.deepEqual(r.recvBytes(), Buffer.from('first'));
  assert.deepEqual(r.recvBytes(), Buffer.from('second'));
  assert.throws(() => r.recvBytes(), EOFError);
  r.close();
});

test('a 16 MiB message (and one of each kind larger than the ring) through an echo thread', T, async () => {
  const [a, b] = Pipe();
  const { result } = runWorker('echo', { conn: b });
  b.close();
  const really = Buffer.alloc(16 * 1024 * 1024, 'X');
  really.write('start', 0);
  really.write('end', really.length - 3);
  a.sendBytes(really);
  const back = await a.recvBytesAsync();
  assert.equal(back.length, really.length);
  assert.ok(back.equals(really));
  const floats = new Float64Array(3 * 65536).map((_, i) => i / 3);
  await a.sendAsync(floats);
  assert.deepStrictEqual(await a.recvAsync(), floats);
  const text = 'ü'.repeat(200_000);
  a.send(text);
  assert.equal(a.recv(), text);
  const data = { rows: Array.from({ length: 20_000 }, (_, i) => ({ i, s: `row ${i}` })) };
  a.send(data);
  assert.deepStrictEqual(a.recv(), data);
  a.close();
  assert.equal(await result, 4);
});

test('EOFError after the peer closes, after draining every message', T, () => {
  const [a, b] = Pipe();
  a.send(1);
  a.sendBytes(Buffer.from('two'));
  a.send({ three: 3 });
  a.close();
  assert.equal(b.poll(), true);
  assert.equal(b.recv(), 1);
  assert.deepEqual(b.recvBytes(), Buffer.from('two'));
  assert.deepEqual(b.recv(), { three: 3 });
  assert.equal(b.poll(), true); // recv would not block: it throws
  assert.throws(() => b.recv(), EOFError);
  assert.throws(() => b.recvBytes(), EOFError);
  assert.throws(() => b.recvBytesInto(new Uint8Array(8)), EOFError);
  // Sending to a closed peer: a broken pipe.
  assert.throws(
    () => b.send(1),
    (e: unknown) => e instanceof ConnectionStateError && /broken pipe/.test(e.message),
  );
  b.close();
});

test('a closed connection throws ConnectionStateError everywhere; close is idempotent', T, async () => {
  const [a, b] = Pipe();
  a.close();
  a.close();
  assert.equal(a.closed, true);
  assert.equal(b.closed, false);
  const calls: (() => unknown)[] = [
    () => a.send(1),
    () => a.sendBytes(Buffer.from('x')),
    () => a.recv(),
    () => a.recvBytes(),
    () => a.recvBytesInto(new Uint8Array(1)),
    () => a.poll(),
  ];
  for (const call of calls) assert.throws(call, ConnectionStateError);
  for (const call of [a.sendAsync(1), a.recvAsync(), a.pollAsync(), a.recvBytesAsync()]) {
    await assert.rejects(call, ConnectionStateError);
  }
  // A closed connection cannot be sent.
  await assert.rejects(async () => b.send(a as never), ConnectionStateError);
  b.close();
  // Closing while this thread waits rejects the wait.
  const [c, d] = Pipe();
  const waiting = d.recvAsync();
  d.close();
  await assert.rejects(waiting, ConnectionStateError);
  c.close();
});

test(
  'a blocking receive while a recvAsync of the same thread is pending throws instead of deadlocking',
  T,
  async () => {
    const [a, b] = Pipe();
    const pending = b.recvAsync();
    assert.throws(() => b.recv(), ConnectionStateError);
    assert.equal(b.poll(), false); // polling is fine
    a.send('x');
    assert.equal(await pending, 'x');
    assert.equal(b.poll(), false);
    a.send('y');
    assert.equal(b.recv(), 'y');
    // Async receives of one thread are served in call order.
    const three = [b.recvAsync(), b.recvAsync(), b.recvAsync()];
    for (const x of [1, 2, 3]) a.send(x);
    assert.deepEqual(await Promise.all(three), [1, 2, 3]);
    a.close();
    b.close();
  },
);

test(
  'the tutorial: both ends to a child Process, which reads until EOFError; every item in order (example 8)',
  T,
  async () => {
    const [conn1, conn2] = Pipe<number>();
    const [results, out] = Pipe({ duplex: false });
    const p = new Process({ target: pipeTasks.consumer, args: [[conn1, conn2], out] });
    p.start();
    out.close();
    conn1.close(); // output pipe close 1
    const arr = [1, 2, 3, 4, 5];
    for (const item of arr) conn2.send(item);
    conn2.close(); // input pipe close 2
    assert.deepEqual(await results.recvAsync(), arr);
    await p.join();
    assert.equal(p.exitCode, 0);
    await assert.rejects(results.recvAsync(), EOFError);
    results.close();
  },
);

test('the same with plain Workers and a Pool task holding copies of both ends', T, async () => {
  // Plain Worker: workerData carries both ends.
  const [conn1, conn2] = Pipe<number>();
  const [results, out] = Pipe({ duplex: false });
  const { result: exited } = runWorker('consumer', { pipe: [conn1, conn2], out });
  out.close();
  conn1.close();
  for (const item of [10, 20, 30]) conn2.send(item);
  conn2.close();
  assert.deepEqual(await results.recvAsync(), [10, 20, 30]);
  await exited;
  results.close();

  // Pool task: the pool worker outlives the task, so the task closes its copies itself.
  await using pool = new Pool({ processes: 1 });
  const [c1, c2] = Pipe<number>();
  const [res2, out2] = Pipe({ duplex: false });
  const task = pool.apply(pipeTasks.consumer, [[c1, c2], out2]);
  out2.close();
  c1.close();
  for (const item of [7, 8]) c2.send(item);
  c2.close();
  assert.deepEqual(await res2.recvAsync(), [7, 8]);
  await task;
  res2.close();
});

test("an end handed to a worker and closed at once here still counts the worker's copy (no early EOF)", T, async () => {
  const [a, b] = Pipe<string>();
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(lateUrl, { workerData: { conn: b, gate, item: 'late hello' } });
  const exited = settled(worker);
  b.close(); // the worker has not even loaded corepool yet
  assert.equal(a.poll(), false, 'EOF before the worker revived its copy');
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  assert.equal(await a.recvAsync(), 'late hello');
  await assert.rejects(a.recvAsync(), EOFError);
  assert.equal(await exited, 'sent');
  a.close();
});

test('an end sent to several threads in one turn counts every copy until each closes', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const [a, b] = Pipe<[number, number, string]>();
  // One worker: the second and third tasks revive their copy only after the first closed its own.
  const tasks = [0, 1, 2].map((p) => pool.apply(pipeTasks.produce, [b, p, 5, 7, 10]));
  const late = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(lateUrl, { workerData: { conn: b, gate: late, item: [3, 0, ''] } });
  const exited = settled(worker);
  b.close();
  const got = drainAsync(a);
  await Promise.all(tasks);
  Atomics.store(late, 0, 1);
  Atomics.notify(late, 0);
  const items = (await got) as [number, number, string][];
  assert.deepEqual(
    items.map(([p, s]) => `${p}.${s}`).sort(),
    [...['0', '1', '2'].flatMap((p) => [0, 1, 2, 3, 4].map((s) => `${p}.${s}`)), '3.0'].sort(),
  );
  assert.equal(await exited, 'sent');
  a.close();
});

test('EOFError when the peer thread exits without closing: a Worker that returns, one terminated', T, async () => {
  {
    const [a, b] = Pipe();
    const { result } = runWorker('sendAndExit', { conn: b, items: [1, 2, 3] });
    b.close();
    assert.deepEqual(await drainAsync(a), [1, 2, 3]);
    assert.equal(await result, 'exiting');
    a.close();
  }
  {
    const [a, b] = Pipe();
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const { worker, result } = runWorker('sendAndHold', { conn: b, items: ['x', 'y'], gate });
    b.close();
    assert.equal(await a.recvAsync(), 'x');
    while (Atomics.load(gate, 0) === 0) await Atomics.waitAsync(gate, 0, 0, 1000).value;
    const eof = drainAsync(a);
    await worker.terminate();
    assert.deepEqual(await eof, ['y']);
    await result;
    // A sender whose peer died gets a broken pipe.
    assert.throws(() => a.send(1), ConnectionStateError);
    a.close();
  }
});

test('EOFError when a Pool task holding the end calls process.exit', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const [a, b] = Pipe();
  const failed = assert.rejects(pool.apply(pipeTasks.sendThenExit, [b, ['p', 'q'], 3]), WorkerExitError);
  b.close();
  assert.deepEqual(await drainAsync(a), ['p', 'q']);
  await failed;
  a.close();
});

test(
  'several threads share one end: every message arrives, per-producer order kept, EOF after all close',
  T,
  async () => {
    await using pool = new Pool({ processes: 2 });
    const [a, b] = Pipe<[number, number, string]>({ capacity: 4096 });
    const N = 300;
    const producers = [0, 1, 2].map((p) => pool.apply(pipeTasks.produce, [b, p, N, 42, 6000]));
    b.close();
    const next = [0, 0, 0];
    for await (const [p, s, filler] of a) {
      assert.equal(s, next[p], `producer ${p}: got ${s}, expected ${next[p]}`);
      next[p] = s + 1;
      assert.equal(typeof filler, 'string');
    }
    assert.deepEqual(next, [N, N, N]);
    assert.deepEqual(await Promise.all(producers), [N, N, N]);
    a.close();
  },
);

test('shared objects inside messages arrive working, a Connection included', T, async () => {
  const [a, b] = Pipe();
  const lock = new Lock();
  const q = new Queue<string>();
  const counts = new SharedArray('i32', 2) as SharedArray;
  const [inner1, inner2] = Pipe<string>();
  a.send({ lock, q, counts, conn: inner2 });
  const got = b.recv() as { lock: Lock; q: Queue<string>; counts: SharedArray; conn: Connection<string> };
  assert.ok(got.lock instanceof Lock);
  assert.equal(got.lock.acquire({ blocking: false }), true);
  assert.equal(lock.locked(), true);
  got.lock.release();
  got.q.put('via queue');
  assert.equal(q.get(), 'via queue');
  got.counts.array[1] = 9;
  assert.equal(counts.array[1], 9);
  // Same thread: the same end arrives as the same object (one handle per thread).
  assert.equal(got.conn, inner2);
  inner2.send('inner');
  assert.equal(inner1.recv(), 'inner');

  // To another thread: the echo worker gets a connection inside a message and answers on it.
  const { result } = runWorker('echo', { conn: b });
  b.close();
  const [c, d] = Pipe<string>();
  a.send(d);
  d.close();
  const echoed = (await a.recvAsync()) as Connection<string>;
  assert.notEqual(echoed, d); // d was closed here: the copy that came back is a new handle
  assert.equal(echoed.closed, false);
  echoed.send('round trip');
  assert.equal(await c.recvAsync(), 'round trip');
  a.close();
  await result;
  echoed.close();
  await assert.rejects(c.recvAsync(), EOFError);
  for (const x of [c, inner1, inner2]) x.close();
});

test('recvAsync does not block the event loop, and a blocked sender wakes for a slow reader', T, async () => {
  const [a, b] = Pipe<string>();
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const { result } = runWorker('wakeAfterSleep', { conn: b, gate, item: 'woke' });
  b.close();
  const got = a.recvAsync();
  // The worker sends only once this event loop has run a timer while the receive waits.
  setTimeout(() => {
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
  }, 10);
  assert.equal(await got, 'woke');
  assert.equal(await result, 'sent');
  a.close();

  // sendAsync of 4 MiB through a 4 KiB ring: the event loop keeps ticking while the echo drains it.
  const [c, d] = Pipe({ capacity: 4096 });
  const echo = runWorker('echo', { conn: d });
  d.close();
  const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => i & 0xff);
  const sending = c.sendAsync(big);
  const receiving = c.recvAsync();
  await sending;
  // Had sendAsync blocked this thread, the echo would have filled the other ring and both would hang.
  assert.deepEqual(await receiving, big);
  c.close();
  assert.equal(await echo.result, 1);
});

test('a process whose only pending thing is recvAsync() stays alive until a worker sends (exits 0)', T, async () => {
  const execArgv = ext === 'ts' ? process.execArgv : [];
  const { stdout } = await execFileAsync(process.execPath, [...execArgv, keepAliveScript], { timeout: 30_000 });
  assert.equal(stdout.trim(), 'got late');
});

test('options are checked', () => {
  assert.throws(() => Pipe({ duplex: 1 as never }), TypeError);
  assert.throws(() => Pipe({ size: 4 } as never), /options.size is not a Pipe option/);
  assert.throws(() => Pipe(null as never), TypeError);
  assert.throws(() => Pipe({ capacity: 1000 }), RangeError);
  const [a, b] = Pipe({ duplex: true, capacity: 64 });
  a.send('x'.repeat(40));
  assert.equal(b.recv(), 'x'.repeat(40));
  a.close();
  b.close();
});

/** Issue 10: a call that would wait for good never hangs a test; `GUARD_MS` bounds the wait instead. */
const CHECKS = { timeout: 30_000 };
const GUARD_MS = 10_000;

/** Makes `conn[method](...args)` in a worker (it may block for good there) and resolves with its outcome. */
async function callInWorker(conn: Connection, method: string, args: unknown[]): Promise<Outcome> {
  const { worker, result } = runWorker('call', { conn, method, args });
  try {
    return (await within(result, GUARD_MS, `${method}() in a worker`)) as Outcome;
  } finally {
    await worker.terminate();
  }
}

test('Connection methods refuse options at once instead of waiting for a message', CHECKS, async () => {
  const [a, b] = Pipe();
  try {
    const outcome = await callInWorker(b, 'recv', [{ timeout: 100 }]);
    assert.deepEqual(
      { name: outcome.name, message: outcome.message },
      { name: 'TypeError', message: 'options.timeout is not a Connection.recv() option (known: none)' },
    );
    assert.ok(outcome.ms < AT_ONCE_MS, `refused after ${outcome.ms} ms`);
    await assert.rejects(within(b.recvAsync({ timeout: 100 } as never), GUARD_MS, 'recvAsync()'), {
      name: 'TypeError',
      message: 'options.timeout is not a Connection.recvAsync() option (known: none)',
    });
    await assert.rejects(within(b.recvBytesAsync(10, { timeout: 100 } as never), GUARD_MS, 'recvBytesAsync()'), {
      name: 'TypeError',
      message: 'options.timeout is not a Connection.recvBytesAsync() option (known: none)',
    });
    await assert.rejects(
      within(b.recvBytesIntoAsync(new Uint8Array(8), 0, 5 as never), GUARD_MS, 'recvBytesIntoAsync()'),
      { name: 'TypeError', message: 'Connection.recvBytesIntoAsync() takes no options: received 5' },
    );
    assert.throws(() => b.recvBytes({ maxlength: 10 } as never), {
      name: 'TypeError',
      message: 'Connection.recvBytes(maxlength) must be a non-negative integer: received an object',
    });
    assert.throws(() => b.poll({ timeout: 100 } as never), {
      name: 'TypeError',
      message: 'Connection.poll(timeout) must be a number of milliseconds: received an object',
    });
    await assert.rejects(b.pollAsync(0, { timeout: 100 } as never), { name: 'TypeError', message: /pollAsync/ });
    // Sends are refused before anything is sent.
    assert.throws(() => a.send('x', { timeout: 5 } as never), {
      name: 'TypeError',
      message: 'options.timeout is not a Connection.send() option (known: none)',
    });
    await assert.rejects(a.sendAsync('x', true as never), {
      name: 'TypeError',
      message: 'Connection.sendAsync() takes no options: received true',
    });
    assert.throws(() => a.sendBytes(Buffer.from('abc'), 0, 3, { block: false } as never), {
      name: 'TypeError',
      message: /^options\.block is not a Connection\.sendBytes\(\) option/,
    });
    assert.throws(() => a.close(false as never), {
      name: 'TypeError',
      message: 'Connection.close() takes no options: received false',
    });
    assert.equal(a.closed, false, 'a refused close() closes nothing');
    assert.equal(b.poll(), false, 'nothing was sent');
  } finally {
    a.close();
    b.close();
  }
});

test(
  'Pipe options and Connection arguments: suggestions, Python forms, received values with their type',
  CHECKS,
  () => {
    assert.throws(() => Pipe({ duplx: false } as never), {
      name: 'TypeError',
      message: 'options.duplx is not a Pipe option (known: duplex, capacity); did you mean duplex?',
    });
    assert.throws(() => Pipe(false as never), {
      name: 'TypeError',
      message: "Pipe: options must be an object, such as { duplex: false }: received false (Python's positional form)",
    });
    assert.throws(() => Pipe(null as never), {
      name: 'TypeError',
      message: 'Pipe: options must be an object: received null',
    });
    assert.throws(() => Pipe({ duplex: 'no' } as never), {
      name: 'TypeError',
      message: 'options.duplex must be a boolean: received the string "no"',
    });
    assert.throws(() => Pipe({ capacity: '4096' } as never), {
      name: 'TypeError',
      message: /^options\.capacity must be a power of two .*: received the string "4096"$/,
    });
    const [a, b] = Pipe();
    const msg = Buffer.from('abc');
    assert.throws(() => a.sendBytes('text' as never), {
      name: 'TypeError',
      message: /^Connection\.sendBytes\(buf\) must be an ArrayBuffer, .*: received the string "text"$/,
    });
    assert.throws(() => a.sendBytes(msg, '1' as never), {
      name: 'TypeError',
      message: 'Connection.sendBytes(offset) must be an integer from 0 to 3: received the string "1"',
    });
    assert.throws(() => a.sendBytes(msg, 0, '2' as never), { name: 'TypeError', message: /size.*the string "2"$/ });
    assert.throws(() => b.recvBytes('4' as never), {
      name: 'TypeError',
      message: 'Connection.recvBytes(maxlength) must be a non-negative integer: received the string "4"',
    });
    assert.throws(() => b.recvBytesInto(new Uint8Array(4), '0' as never), {
      name: 'TypeError',
      message: 'Connection.recvBytesInto(offset) must be an integer from 0 to 4: received the string "0"',
    });
    assert.throws(() => b.poll('1' as never), {
      name: 'TypeError',
      message: 'Connection.poll(timeout) must be a number of milliseconds: received the string "1"',
    });
    assert.throws(() => b.poll(null as never), {
      name: 'TypeError',
      message: /received null \(Python's None: use Infinity to wait for good\)$/,
    });
    assert.throws(() => b.recvBytes(-1), { name: 'RangeError', message: /received -1$/ });
    assert.equal(b.poll(), false, 'nothing was sent');
    a.close();
    b.close();
  },
);

test('a Connection inspects, and its end is found under its reader', () => {
  const [a, b] = Pipe({ duplex: false });
  assert.match(inspect(a), /Connection .*end: 'a'.*readable: true, writable: false/s);
  assert.ok(connectionRing(a, 'in') !== undefined);
  assert.equal(connectionRing(a, 'out'), undefined);
  assert.equal(
    Atomics.load((connectionRing(b, 'out') as NonNullable<ReturnType<typeof connectionRing>>).words, READERS_SLEEPING),
    0,
  );
  a.close();
  b.close();
});
