import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adoptRegistry, isDead, markDead, REGISTRY_TAG } from '../src/sync/owners.js';

/** A registry made the way another thread would make one: same size, tagged. */
function foreignRegistry(like: SharedArrayBuffer): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(like.byteLength);
  Atomics.store(new Int32Array(buffer), 0, REGISTRY_TAG);
  return buffer;
}

test('a death observed before a registry was met is recorded in it when it is adopted', () => {
  const mine = adoptRegistry(foreignRegistry(new SharedArrayBuffer((2 + (1 << 21) / 32) * 4)));
  const deadId = 12_345;
  markDead(deadId);
  assert.equal(isDead(mine, deadId + 1), true, 'known registry: recorded at once');
  const late = adoptRegistry(foreignRegistry(mine.buffer as SharedArrayBuffer));
  assert.equal(isDead(late, deadId + 1), true, 'registry met later: recorded on adoption');
  assert.equal(isDead(late, deadId + 2), false, 'other threads stay alive');
});

test('a buffer that is not a registry is refused', () => {
  assert.throws(() => adoptRegistry(new SharedArrayBuffer(16)), /invalid handle/);
});
