/**
 * The arithmetic of `bench/queue.ts`'s figures (bench/lib/queue-figures.ts):
 * rates over windows of a round's item times, the stall figure's rates from
 * whole and cut-short rounds, ratios and verdicts. No threads and no timing
 * here: the figures themselves are measured in `bench/`.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  pairedRatios,
  ratioOfMedians,
  ratioText,
  STALL_PLAN,
  type StallPlan,
  stallRates,
  verdict,
  windowRate,
} from '../bench/lib/queue-figures.js';

test('windowRate: items (from, to] over the time from the from-th to the to-th', () => {
  const stamps = [10, 20, 30, 40];
  assert.equal(windowRate(stamps, 1, 4), 100); // 3 items in 30 ms
  assert.equal(windowRate(stamps, 0, 2), 100); // from the round's start: 2 items in 20 ms
  assert.equal(windowRate(new Float64Array([5, 5]), 1, 2), Number.POSITIVE_INFINITY);
});

test('windowRate: a window outside the stamps is a RangeError', () => {
  for (const [from, to] of [
    [2, 2],
    [3, 1],
    [-1, 2],
    [0, 5],
    [0.5, 2],
  ] as const) {
    assert.throws(() => windowRate([1, 2, 3, 4], from, to), RangeError, `(${from}, ${to}]`);
  }
});

const PLAN: StallPlan = { n: 10, after: 4, ms: 100, from: 6, warm: 1 };

/** Stamps of a round: 1 ms per item, a 100 ms pause after item `after`, then `afterMs` per item. */
function round(plan: StallPlan, afterMs: number, items = plan.n): number[] {
  const stamps: number[] = [];
  let t = 0;
  for (let k = 1; k <= items; k++) {
    t += k <= plan.after ? 1 : afterMs;
    if (k === plan.after + 1) t += plan.ms;
    stamps.push(t);
  }
  return stamps;
}

test('stallRates: before the pause, after it past the backlog, and from the resumption', () => {
  const stamps = round(PLAN, 2);
  const resumed = (stamps[PLAN.after - 1] as number) + PLAN.ms;
  const r = stallRates(stamps, PLAN, resumed);
  assert.equal(r.before, 1000); // items 2–4, 1 ms apart
  assert.equal(r.after, 500); // items 7–10, 2 ms apart
  assert.equal(r.fromResume, 500); // items 5–10 over 12 ms from the resumption
  assert.equal(r.items, PLAN.n);
});

test('stallRates: a round without the pause is timed from its after-th item', () => {
  const stamps = Array.from({ length: PLAN.n }, (_, i) => i + 1);
  const r = stallRates(stamps, PLAN);
  assert.deepEqual(r, { before: 1000, after: 1000, fromResume: 1000, items: PLAN.n });
});

test('stallRates: a round cut short is measured over the items it took', () => {
  const cut = stallRates(round(PLAN, 4, 8), PLAN, 104);
  assert.equal(cut.items, 8);
  assert.equal(cut.after, 250); // items 7–8, 4 ms apart
  const early = stallRates(round(PLAN, 4, 5), PLAN, 104);
  assert.equal(early.items, 5);
  assert.equal(early.after, early.fromResume); // nothing past `from`: the rate from the resumption
  assert.equal(early.fromResume, 250);
  assert.equal(stallRates(round(PLAN, 4, 4), PLAN, 104).fromResume, 0);
  assert.throws(() => stallRates(round(PLAN, 4, 3), PLAN, 104), /ended before item 4/);
});

test('stallRates: a plan whose windows do not fit is a RangeError', () => {
  assert.throws(() => stallRates(round(PLAN, 1), { ...PLAN, from: 2 }), RangeError);
  assert.throws(() => stallRates(round(PLAN, 1), { ...PLAN, warm: 4 }), RangeError);
  assert.throws(() => stallRates(round(PLAN, 1), { ...PLAN, from: 10 }), RangeError);
});

test('STALL_PLAN is the brief: 400 messages, 100 ms after the 50th, after-stall over 61–400', () => {
  assert.deepEqual(STALL_PLAN, { n: 400, after: 50, ms: 100, from: 60, warm: 10 });
});

test('ratios: of medians, of paired rounds, and as printed', () => {
  assert.equal(ratioOfMedians([90, 100, 110], [200, 190, 210]), 0.5);
  assert.throws(() => ratioOfMedians([], [1]), RangeError);
  assert.deepEqual(pairedRatios([1, 2, 3], [2, 4]), [0.5, 0.5]);
  assert.deepEqual(pairedRatios([], [1]), []);
  assert.equal(ratioText(0.9349), '0.93x');
  assert.equal(ratioText(Number.POSITIVE_INFINITY), 'Infinity');
});

test('verdict: met at or past the target, in either direction', () => {
  assert.equal(verdict(0.9, 0.9), 'met');
  assert.equal(verdict(0.89, 0.9), 'MISSED');
  assert.equal(verdict(10, 10, 'atMost'), 'met');
  assert.equal(verdict(12, 10, 'atMost'), 'MISSED');
});
