/**
 * The byte ring (src/channel/ring.ts) and the record codec
 * (src/channel/codec.ts) on fixed inputs: counters, wrap-around copies,
 * the exact bytes of each record kind, whole records (written at once or not
 * at all), records between two threads under ring.ts's sleep protocol, and
 * the sync/async drivers of waiting steps.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import {
  Deferred,
  decodePayload,
  encode,
  encodeRaw,
  HEADER_BYTES,
  KIND_BYTES,
  KIND_FALSE,
  KIND_FLOAT64,
  KIND_INT32,
  KIND_JSON,
  KIND_NULL,
  KIND_RAW,
  KIND_SHARED,
  KIND_STRING,
  KIND_STRING16,
  KIND_TRUE,
  KIND_UNDEFINED,
  KIND_V8,
  own,
  PARTIAL,
  plainJson,
  readHead,
  readSmall,
  recordBytes,
  wantsJson,
  writeOut,
  writeSmall,
} from '../src/channel/codec.js';
import {
  checkCapacity,
  HEAD,
  READ_WAKE,
  READERS_SLEEPING,
  RING_HEADER_BYTES,
  Ring,
  runAsync,
  runSync,
  TAIL,
  type Waiting,
  WRITE_WAKE,
  WRITE_WANT,
  WRITERS_SLEEPING,
  waitStep,
} from '../src/channel/ring.js';
import { Lock } from '../src/sync/lock.js';
import { deadline } from '../src/sync/wait.js';

const T = { timeout: 60_000 };

function newRing(capacity: number, guard = 0): { ring: Ring; buffer: SharedArrayBuffer } {
  const buffer = new SharedArrayBuffer(RING_HEADER_BYTES + capacity + guard);
  return { ring: new Ring(buffer, 0, RING_HEADER_BYTES, capacity), buffer };
}

/** The record bytes at the reader's position, unwrapped. */
function recordAt(ring: Ring, tail: number, n: number): number[] {
  const out = new Uint8Array(n);
  ring.copyOut(tail, out, 0, n);
  return [...out];
}

/** Writes one record with writeSmall (or writeOut) and reads it back with readSmall. */
function roundTrip(ring: Ring, value: unknown): unknown {
  const head = ring.head();
  let n = writeSmall(ring, head, value, wantsJson(value) ? plainJson(value) : undefined);
  if (n > 0) {
    ring.publish(head + n);
  } else {
    // Not contiguous (a string at the end of the ring): the general encoding, in one piece.
    const out = encode(value, 'item');
    n = writeOut(ring, head, out);
    assert.equal(n, out.total, `${String(value)} fits`);
    ring.publish(head + n);
  }
  const tail = ring.tail();
  const size = { n: 0 };
  const v = readSmall(ring, tail, ring.readable(tail), size);
  assert.equal(size.n, n);
  ring.consume(tail + n);
  return v instanceof Deferred ? decodePayload(v.kind, 0, 0, v.data) : v;
}

test('capacity must be a power of two from 64 bytes to 1 GiB', () => {
  for (const bad of [0, 32, 100, 3000, 2 ** 31, 1.5, Number.NaN]) {
    assert.throws(() => checkCapacity(bad, 'options.capacity'), { name: 'RangeError', message: /options\.capacity/ });
  }
  assert.throws(() => checkCapacity(1000, 'options.capacity'), {
    name: 'RangeError',
    message: 'options.capacity must be a power of two from 64 to 1073741824 bytes: received 1000',
  });
  checkCapacity(64, 'x');
  checkCapacity(2 ** 30, 'x');
  assert.throws(() => new Ring(new SharedArrayBuffer(100), 0, 4, 64), RangeError);
});

test('a capacity that is not a number is a TypeError showing the received value with its type', () => {
  assert.throws(() => checkCapacity('4096', 'options.capacity'), {
    name: 'TypeError',
    message: 'options.capacity must be a power of two from 64 to 1073741824 bytes: received the string "4096"',
  });
  assert.throws(() => checkCapacity(null, 'options.capacity'), { name: 'TypeError', message: /received null$/ });
  assert.throws(() => checkCapacity(4096n, 'options.capacity'), { name: 'TypeError', message: /received 4096n$/ });
});

test('counters: writable/readable, publish/consume, copies that wrap keep the bytes around them', () => {
  const { ring, buffer } = newRing(64, 8);
  const after = new Uint8Array(buffer, RING_HEADER_BYTES + 64, 8).fill(0xee);
  assert.equal(ring.writable(ring.head()), 64);
  assert.equal(ring.readable(ring.tail()), 0);
  // Move both counters to 56 so the next 16 bytes wrap.
  ring.publish(56);
  ring.consume(56);
  const src = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  ring.copyIn(56, src, 0, 16);
  ring.publish(72);
  assert.equal(ring.readable(ring.tail()), 16);
  assert.equal(ring.writable(ring.head()), 48);
  assert.deepEqual([...ring.bytes.subarray(56, 64)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...ring.bytes.subarray(0, 8)], [9, 10, 11, 12, 13, 14, 15, 16]);
  const out = new Uint8Array(18).fill(0xaa);
  ring.copyOut(56, out, 1, 16);
  assert.deepEqual([...out], [0xaa, ...src, 0xaa]);
  ring.consume(72);
  assert.equal(ring.readable(ring.tail()), 0);
  assert.ok(
    after.every((b) => b === 0xee),
    'nothing written past the ring',
  );
});

test('counters wrap at 2^32 without a seam', () => {
  const { ring } = newRing(64);
  const start = 2 ** 32 - 24;
  Atomics.store(ring.words, HEAD, start | 0);
  Atomics.store(ring.words, TAIL, start | 0);
  for (let i = 0; i < 10; i++) {
    assert.equal(roundTrip(ring, i * 1000), i * 1000);
    assert.equal(roundTrip(ring, 'wrap'), 'wrap');
  }
  assert.ok(ring.head() > 0 && ring.head() < 1000, 'HEAD wrapped');
});

test('record bytes of each fast kind, exactly', () => {
  const { ring } = newRing(256);
  const cases: [unknown, number[]][] = [
    [7, [7, 0, 0, 0, KIND_INT32, 0, 0, 0]],
    [-2, [0xfe, 0xff, 0xff, 0xff, KIND_INT32, 0, 0, 0]],
    [true, [0, 0, 0, 0, KIND_TRUE, 0, 0, 0]],
    [false, [0, 0, 0, 0, KIND_FALSE, 0, 0, 0]],
    [null, [0, 0, 0, 0, KIND_NULL, 0, 0, 0]],
    [undefined, [0, 0, 0, 0, KIND_UNDEFINED, 0, 0, 0]],
    [1.5, [8, 0, 0, 0, KIND_FLOAT64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]],
    [-0, [8, 0, 0, 0, KIND_FLOAT64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]],
    ['hé', [3, 0, 0, 0, KIND_STRING, 0, 0, 0, 0x68, 0xc3, 0xa9]],
    ['', [0, 0, 0, 0, KIND_STRING, 0, 0, 0]],
    [new Uint16Array([0x0102]), [2, 0, 0, 0, KIND_BYTES, 5, 0, 0, 0x02, 0x01]],
    [{ a: 1 }, [7, 0, 0, 0, KIND_JSON, 0, 0, 0, ...Buffer.from('{"a":1}')]],
  ];
  for (const [value, bytes] of cases) {
    const head = ring.head();
    const n = writeSmall(ring, head, value, wantsJson(value) ? plainJson(value) : undefined);
    assert.equal(n, recordBytes(bytes[4] as number, bytes[0] as number), `size of ${String(value)}`);
    assert.equal(n % 8, 0);
    assert.deepEqual(recordAt(ring, head, bytes.length), bytes, `bytes of ${String(value)}`);
    ring.publish(head + n);
    ring.consume(head + n);
  }
  assert.equal(recordBytes(KIND_INT32, 123), 8);
  assert.equal(recordBytes(KIND_STRING, 0), 8);
  assert.equal(recordBytes(KIND_STRING, 1), 16);
  assert.equal(recordBytes(KIND_STRING, 8), 16);
  assert.equal(recordBytes(KIND_V8, 2 ** 32 - 16), 2 ** 32 - 8);
});

test('general encodings: kinds and payloads', () => {
  const kinds: [unknown, number][] = [
    [1, KIND_INT32],
    [2 ** 31, KIND_FLOAT64],
    ['x', KIND_STRING],
    ['\udc00', KIND_STRING16],
    [new Float32Array(2), KIND_BYTES],
    [{ a: [1, 'b', null] }, KIND_JSON],
    [{ a: undefined }, KIND_V8],
    [{ d: new Date(0) }, KIND_V8],
    [[1, -0], KIND_V8],
    [[Number.NaN], KIND_V8],
    [new Map(), KIND_V8],
    [10n, KIND_V8],
    [new SharedArrayBuffer(4), KIND_SHARED],
    [{ nested: { sab: new SharedArrayBuffer(4) } }, KIND_SHARED],
    [{ lock: new Lock() }, KIND_SHARED],
  ];
  for (const [value, kind] of kinds) assert.equal(encode(value, 'item').kind, kind, `kind of ${String(value)}`);
  assert.equal(encodeRaw(new Uint8Array(3)).kind, KIND_RAW);
  assert.equal(plainJson({ a: 1, b: ['x', true, null, { c: 2.5 }] }), '{"a":1,"b":["x",true,null,{"c":2.5}]}');
  const repeated = { a: 1 };
  // biome-ignore lint/suspicious/noSparseArray: a hole on purpose
  const holey = [1, , 2];
  for (const notPlain of [
    { r: [repeated, repeated] },
    { f: () => 1 },
    { n: Number.POSITIVE_INFINITY },
    holey,
    new Date(),
  ]) {
    assert.equal(plainJson(notPlain), undefined);
  }
  assert.throws(() => encode({ f: () => 1 }, 'item'), { name: 'DataCloneError', message: /item\.f/ });
  // A typed array payload views the sender's memory until owned.
  const src = new Uint8Array([1, 2, 3]);
  const out = encode(src, 'item');
  assert.equal(out.owned, false);
  own(out);
  src[0] = 9;
  assert.deepEqual([...out.payload], [1, 2, 3]);
});

test('fast kinds round-trip through the ring, including at the wrap', () => {
  const { ring } = newRing(64);
  const values = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, 0.1, Number.NaN, Number.NEGATIVE_INFINITY];
  for (let i = 0; i < 20; i++) {
    for (const v of values) assert.ok(Object.is(roundTrip(ring, v), v), `${v}`);
    assert.equal(roundTrip(ring, 'héllo'), 'héllo');
    assert.deepEqual(roundTrip(ring, { id: i, name: 'n' }), { id: i, name: 'n' });
    assert.deepEqual(roundTrip(ring, new Int16Array([i, -i])), new Int16Array([i, -i]));
  }
});

test('readSmall reports a record that is not complete yet, and a corrupt header', () => {
  const { ring } = newRing(64);
  const out = encode('x'.repeat(40), 'item');
  assert.equal(writeOut(ring, 0, out), 48);
  ring.publish(16); // only part of it visible
  const size = { n: 0 };
  assert.equal(readSmall(ring, 0, ring.readable(0), size), PARTIAL);
  const { ring: bad } = newRing(64);
  bad.view.setUint32(4, 99, true);
  bad.publish(8);
  assert.throws(() => readHead(bad, 0), /corrupt channel stream/);
  assert.throws(() => readSmall(bad, 0, 8, size), /corrupt channel stream/);
});

test('empty messages are records of their own: boundaries are kept', () => {
  const { ring } = newRing(64);
  const outs = [
    encode('', 'item'),
    encodeRaw(new Uint8Array(0)),
    encode(new Float64Array(0), 'item'),
    encodeRaw(new Uint8Array([1])),
  ];
  let written = 0;
  for (const out of outs) {
    assert.equal(out.total, out.payload.length === 0 ? HEADER_BYTES : 16);
    const n = writeOut(ring, ring.head(), out);
    ring.publish(ring.head() + n);
    written += n;
  }
  assert.equal(ring.readable(0), written);
  const got: unknown[] = [];
  const size = { n: 0 };
  for (let tail = 0; ring.readable(tail) > 0; tail += size.n) {
    got.push(readSmall(ring, tail, ring.readable(tail), size));
    ring.consume(tail + size.n);
  }
  assert.equal(got[0], '');
  assert.ok(Buffer.isBuffer(got[1]) && (got[1] as Buffer).length === 0, 'empty raw bytes arrive as an empty Buffer');
  assert.deepEqual(got[2], new Float64Array(0));
  assert.deepEqual([...(got[3] as Buffer)], [1]);
});

test('a record is written whole or not at all, header then payload, also where it wraps', () => {
  const { ring } = newRing(64);
  const big = encode('x'.repeat(100), 'item');
  assert.equal(writeOut(ring, 0, big), 0, 'larger than the ring: nothing written');
  assert.equal(ring.head(), 0);
  const payload = Uint8Array.from({ length: 21 }, (_, i) => i);
  const out = encode(payload, 'item');
  assert.equal(writeOut(ring, 40, out), 0, 'only 24 bytes free after 40 at TAIL 0: nothing written');
  ring.publish(40);
  ring.consume(40);
  assert.equal(writeOut(ring, 40, out), out.total);
  const header = [21, 0, 0, 0, KIND_BYTES, out.sub, 0, 0];
  assert.deepEqual(recordAt(ring, 40, 8 + 21), [...header, ...payload]);
  // At a position where the payload wraps.
  const { ring: other } = newRing(64);
  other.publish(56);
  other.consume(56);
  assert.equal(writeOut(other, 56, out), out.total);
  other.publish(56 + out.total);
  const size = { n: 0 };
  assert.deepEqual(readSmall(other, 56, other.readable(56), size), payload);
  assert.equal(size.n, out.total);
});

test('records cross between two threads under the ring protocol, both directions', T, async () => {
  const { ring, buffer } = newRing(256);
  const n = 20_000;
  const worker = new Worker(
    `
    const { workerData, parentPort } = require('node:worker_threads');
    const words = new Int32Array(workerData.buffer, 0, 48);
    const view = new DataView(workerData.buffer, workerData.offset, 256);
    // A plain reader following ring.ts's protocol: sleeps on READ_WAKE, publishes TAIL, wakes the writer.
    let tail = 0; let got = 0; let sum = 0;
    while (got < workerData.n) {
      const head = Atomics.load(words, ${HEAD});
      if (head === tail) {
        Atomics.add(words, ${READERS_SLEEPING}, 1);
        const seen = Atomics.load(words, ${READ_WAKE});
        if (Atomics.load(words, ${HEAD}) === head) Atomics.wait(words, ${READ_WAKE}, seen, 1000);
        Atomics.sub(words, ${READERS_SLEEPING}, 1);
        continue;
      }
      const v = view.getInt32(tail & 255, true);
      if (v !== got) { parentPort.postMessage('out of order: ' + v + ' for ' + got); process.exit(1); }
      sum += v; got++; tail = (tail + 8) | 0;
      Atomics.store(words, ${TAIL}, tail);
      if (Atomics.load(words, ${WRITERS_SLEEPING}) !== 0 && ((tail - Atomics.load(words, ${WRITE_WANT})) | 0) >= 0) {
        Atomics.add(words, ${WRITE_WAKE}, 1); Atomics.notify(words, ${WRITE_WAKE});
      }
    }
    parentPort.postMessage(sum);
    `,
    { eval: true, workerData: { buffer, offset: RING_HEADER_BYTES, n } },
  );
  const got = new Promise<unknown>((resolve) => worker.once('message', resolve));
  for (let i = 0; i < n; i++) {
    let head = ring.head();
    let w = writeSmall(ring, head, i);
    if (w === 0) {
      assert.ok((await runAsync(ring.untilWritable(8, deadline(20_000), {}))) >= 8, 'room within 20 s');
      head = ring.head();
      w = writeSmall(ring, head, i);
    }
    assert.equal(w, 8);
    ring.publish(head + 8);
  }
  assert.equal(await got, (n * (n - 1)) / 2);
  await worker.terminate();

  // And the reader side: a plain writer in a worker, readSmall here.
  const { ring: r2, buffer: b2 } = newRing(256);
  const writer = new Worker(
    `
    const { workerData } = require('node:worker_threads');
    const words = new Int32Array(workerData.buffer, 0, 48);
    const view = new DataView(workerData.buffer, workerData.offset, 256);
    let head = 0;
    for (let i = 0; i < workerData.n; i++) {
      for (;;) {
        const tail = Atomics.load(words, ${TAIL});
        if (256 - ((head - tail) >>> 0) >= 8) break;
        // ring.ts's protocol: count as a sleeper, say which TAIL frees 8 bytes, sleep on WRITE_WAKE.
        Atomics.add(words, ${WRITERS_SLEEPING}, 1);
        Atomics.store(words, ${WRITE_WANT}, (head + 8 - 256) | 0);
        const seen = Atomics.load(words, ${WRITE_WAKE});
        if (Atomics.load(words, ${TAIL}) === tail) Atomics.wait(words, ${WRITE_WAKE}, seen, 1000);
        Atomics.sub(words, ${WRITERS_SLEEPING}, 1);
      }
      view.setInt32(head & 255, i, true); view.setUint32((head & 255) + 4, ${KIND_INT32}, true);
      head = (head + 8) | 0;
      Atomics.store(words, ${HEAD}, head);
      if (Atomics.load(words, ${READERS_SLEEPING}) !== 0) { Atomics.add(words, ${READ_WAKE}, 1); Atomics.notify(words, ${READ_WAKE}); }
    }
    `,
    { eval: true, workerData: { buffer: b2, offset: RING_HEADER_BYTES, n } },
  );
  const size = { n: 0 };
  for (let i = 0; i < n; i++) {
    const tail = r2.tail();
    let avail = r2.readable(tail, 8);
    if (avail < 8) avail = await runAsync(r2.untilReadable(8, deadline(20_000), {}));
    assert.ok(avail >= 8, 'a record within 20 s');
    assert.equal(readSmall(r2, tail, avail, size), i);
    r2.consume(tail + size.n);
  }
  assert.equal(r2.readable(r2.tail()), 0);
  await writer.terminate();
});

test('untilReadable: times out, stops on request, wakes on publish from another thread', T, async () => {
  const { ring, buffer } = newRing(64);
  const start = performance.now();
  assert.equal(runSync(ring.untilReadable(8, deadline(50), {})), -1);
  assert.ok(performance.now() - start >= 49);
  assert.equal(runSync(ring.untilReadable(8, deadline(10_000), { stop: () => true })), -1);
  let looked = 0;
  assert.equal(
    runSync(
      ring.untilReadable(8, deadline(10_000), {
        beforeSleep: () => {
          if (looked++ > 0) return false;
          ring.publish(8); // progress made by the caller itself
          return true;
        },
      }),
    ),
    8,
  );
  ring.consume(8);
  const worker = new Worker(
    `
    const { workerData } = require('node:worker_threads');
    const words = new Int32Array(workerData.buffer, 0, 48);
    while (Atomics.load(words, ${READERS_SLEEPING}) === 0) Atomics.wait(words, ${READERS_SLEEPING}, 0, 5);
    Atomics.store(words, ${HEAD}, 24);
    Atomics.add(words, ${READ_WAKE}, 1); Atomics.notify(words, ${READ_WAKE});
    `,
    { eval: true, workerData: { buffer } },
  );
  assert.equal(await runAsync(ring.untilReadable(16, deadline(20_000), {})), 16);
  await new Promise((r) => worker.once('exit', r));
});

test('drivers: wait steps, sync and async, errors thrown into the algorithm', T, async () => {
  const word = new Int32Array(new SharedArrayBuffer(4));
  function* algo(): Waiting<string[]> {
    const seen: string[] = [];
    seen.push(String(yield waitStep(word, 0, 1, 5))); // not-equal
    seen.push(String(yield waitStep(word, 0, 0, 5))); // timed-out
    return seen;
  }
  assert.deepEqual(runSync(algo()), ['not-equal', 'timed-out']);
  assert.deepEqual(await runAsync(algo()), ['not-equal', 'timed-out']);
  function* failing(): Waiting<void> {
    yield waitStep(word, 0, 0, 1);
    throw new RangeError('from the algorithm');
  }
  assert.throws(() => runSync(failing()), RangeError);
  await assert.rejects(runAsync(failing()), RangeError);
});
