import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ChunkSource,
  defaultChunksize,
  imapIterator,
  MAX_ADAPTIVE_CHUNK,
  nextChunksize,
  type PreparedChunk,
  TARGET_CHUNK_MS,
} from '../src/pool-map.js';

test("defaultChunksize follows Python's rule: ceil(n / (workers * 4))", () => {
  assert.equal(defaultChunksize(1_000_000, 2), 125_000);
  assert.equal(defaultChunksize(10, 2), 2); // divmod(10, 8) = (1, 2) -> 2
  assert.equal(defaultChunksize(8, 2), 1);
  assert.equal(defaultChunksize(1, 16), 1);
  assert.equal(defaultChunksize(0, 4), 1);
});

test('nextChunksize grows at most 4x the finished chunk', () => {
  assert.equal(nextChunksize(1, 0), 4);
  assert.equal(nextChunksize(1, 0.000_001), 4);
  assert.equal(nextChunksize(100, 0.01), 400);
});

test('nextChunksize aims at TARGET_CHUNK_MS of work per chunk', () => {
  const perItem = 0.125; // ms
  assert.equal(nextChunksize(64, 64 * perItem), Math.floor(TARGET_CHUNK_MS / perItem));
  assert.equal(nextChunksize(1, 10), 1, 'an item slower than the target keeps chunks of 1');
});

test('nextChunksize never exceeds MAX_ADAPTIVE_CHUNK', () => {
  assert.equal(nextChunksize(MAX_ADAPTIVE_CHUNK, 0), MAX_ADAPTIVE_CHUNK);
});

/** A ChunkSource that runs chunks on this thread and logs the order of run() and feeding() calls. */
function loggingSource(log: string[]): ChunkSource<PreparedChunk & { items: number[] }> {
  return {
    window: 2,
    prepare: (items, offset) => ({ size: items.length, offset, items: items as number[] }),
    run: (chunk) => {
      log.push(`run ${chunk.offset}+${chunk.size}`);
      return Promise.resolve({ values: chunk.items.map((x) => x * x), ms: 0 });
    },
    feeding: (_feeder, active) => log.push(`feeding ${active}`),
  };
}

for (const [label, input] of [
  ['a sync input', () => Array.from({ length: 10 }, (_, i) => i)],
  [
    'an async input',
    async function* () {
      for (let i = 0; i < 10; i++) yield i;
    },
  ],
] as const) {
  test(`imap over ${label} reports the end of its input only after launching the last chunk`, async () => {
    // join() stops the workers once no feeder and no task is left: an end
    // reported before the last chunk is launched lets it stop them under it.
    const log: string[] = [];
    const it = imapIterator(loggingSource(log), input(), { chunksize: 3 }, true, 'imap');
    const got: unknown[] = [];
    for await (const v of it) got.push(v);
    assert.deepEqual(
      got,
      Array.from({ length: 10 }, (_, i) => i * i),
    );
    assert.deepEqual(log.slice(-2), ['run 9+1', 'feeding false']);
    assert.equal(log.filter((l) => l === 'feeding false').length, 1);
  });
}

test('a draining imap reports the end of its input only after launching the last chunk', async () => {
  const log: string[] = [];
  const it = imapIterator(
    loggingSource(log),
    Array.from({ length: 10 }, (_, i) => i),
    { chunksize: 3 },
    true,
    'imap',
  );
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  (it as unknown as { drain(): void }).drain();
  const got: unknown[] = [0];
  for await (const v of it) got.push(v);
  assert.deepEqual(
    got,
    Array.from({ length: 10 }, (_, i) => i * i),
  );
  assert.deepEqual(log.slice(-2), ['run 9+1', 'feeding false']);
});
