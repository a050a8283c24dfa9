/**
 * The bench's progress line: drawn in place on a terminal, silent otherwise.
 */

import assert from 'node:assert/strict';
import process from 'node:process';
import { test } from 'node:test';
import { createProgress } from '../bench/lib/progress.js';

const T = { timeout: 5_000 };

/** Runs `fn` with stderr's writes captured. */
function captureStderr(fn: () => void): string {
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return chunks.join('');
}

test('on a terminal: each step redraws one line with its share done; notes stay above it', T, () => {
  const out = captureStderr(() => {
    const progress = createProgress(4, true);
    progress.step('primes serial round 1/2');
    progress.note('  round disturbed: again');
    progress.step('primes corepool@2 round 1/2');
    progress.grow(4);
    progress.step('last');
    progress.done();
  });
  assert.match(out, /^\[ 25%\] primes serial round 1\/2 {2}~\d+s left/);
  assert.ok(
    out.includes('\r\x1b[2K  round disturbed: again\n[ 50%] primes corepool@2 round 1/2'),
    'the note clears the line, prints, and the next step draws below it',
  );
  assert.match(out, /\[ 38%\] last/, 'grow() adds to the total: 3 of 8');
  assert.ok(out.endsWith('\r\x1b[2K'), 'done() clears the line');
  assert.equal(out.split('\n').length, 2, 'only the note ends a line');
});

test('not on a terminal: nothing at all', T, () => {
  const out = captureStderr(() => {
    const progress = createProgress(2, false);
    progress.step('a');
    progress.note('b');
    progress.done();
  });
  assert.equal(out, '');
});
