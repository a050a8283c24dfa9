import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultChunksize, MAX_ADAPTIVE_CHUNK, nextChunksize, TARGET_CHUNK_MS } from '../src/pool-map.js';

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
