/**
 * MPMC stress: 4 producers and 4 consumers on one queue, half of them Pool
 * workers and half plain Workers, sync and async forms mixed, messages of
 * seeded random sizes from 0 bytes to 4× the ring capacity in five shapes.
 * Every consumer checks each message byte by byte (guard values included);
 * the main thread then checks, per producer, that every sequence number
 * arrived exactly once and that each consumer saw a producer's messages in
 * increasing order — any loss, duplicate or reordering fails.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Pool, Queue } from '../src/index.js';
import { queueTasks, type Received } from './fixtures/queue-tasks.js';

const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const workerUrl = new URL(`./fixtures/queue-worker.${ext}`, import.meta.url);
const T = { timeout: 240_000 };

function runWorker<R>(data: Record<string, unknown>): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const worker = new Worker(workerUrl, { workerData: data });
    let value: R | undefined;
    let got = false;
    worker.on('message', (v: R) => {
      value = v;
      got = true;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (got ? resolve(value as R) : reject(new Error(`worker exited with ${code}`))));
  });
}

/** Checks what the consumers saw against `count` messages from each of `producers`. */
function verify(received: Received[], producers: number, count: number): void {
  const seen = Array.from({ length: producers }, () => new Uint8Array(count));
  for (const [c, list] of received.entries()) {
    const last = new Array<number>(producers).fill(-1);
    for (const [p, s] of list) {
      assert.ok(p >= 0 && p < producers && s >= 0 && s < count, `consumer ${c} got an unknown message ${p}:${s}`);
      const row = seen[p] as Uint8Array;
      assert.equal(row[s], 0, `message ${p}:${s} arrived twice`);
      row[s] = 1;
      assert.ok(s > (last[p] as number), `consumer ${c} got ${p}:${s} after ${p}:${last[p]}: reordered`);
      last[p] = s;
    }
  }
  for (let p = 0; p < producers; p++) {
    const missing = [...(seen[p] as Uint8Array).entries()].filter(([, v]) => v === 0).map(([s]) => s);
    assert.deepEqual(missing, [], `producer ${p} lost messages`);
  }
}

async function stress(seed: number, capacity: number, count: number, maxsize: number): Promise<void> {
  const q = new Queue<unknown>({ capacity, maxsize });
  const maxBytes = 4 * capacity;
  await using pool = new Pool({ processes: 4 });
  const consumers: Promise<Received>[] = [
    pool.apply(queueTasks.consume, [q, 'sync']),
    pool.apply(queueTasks.consume, [q, 'async']),
    runWorker<Received>({ role: 'consume', q, mode: 'sync' }),
    runWorker<Received>({ role: 'consume', q, mode: 'iterate' }),
  ];
  const producers: Promise<number>[] = [
    pool.apply(queueTasks.produce, [q, 0, count, seed, maxBytes, 'sync']),
    pool.apply(queueTasks.produce, [q, 1, count, seed, maxBytes, 'async']),
    runWorker<number>({ role: 'produce', q, p: 2, count, seed, maxBytes, mode: 'sync' }),
    runWorker<number>({ role: 'produce', q, p: 3, count, seed, maxBytes, mode: 'async' }),
  ];
  assert.deepEqual(await Promise.all(producers), [count, count, count, count]);
  q.close();
  const received = await Promise.all(consumers);
  verify(received, 4, count);
  assert.equal(q.qsize(), 0);
  assert.equal(
    received.reduce((n, r) => n + r.length, 0),
    4 * count,
  );
}

test('MPMC stress: 4 producers, 4 consumers, Pool and plain workers, sizes 0..4x the ring', T, async () => {
  await stress(0x5eed, 4096, 1000, 0);
});

test('MPMC stress on a bounded queue (maxsize 3) with a tiny ring', T, async () => {
  await stress(0xbeef, 256, 500, 3);
});
