/**
 * The arithmetic of bench/queue.ts's figures, apart from the threads so
 * that it can be tested: the plan of the stall figure and the rates over
 * windows of a round's item times, ratios (of medians, and of paired rounds)
 * and the verdict against a target.
 *
 * Item times ("stamps") are in ms since the round's start, `stamps[k - 1]`
 * being when the k-th item was taken; a window `(from, to]` holds the items
 * `from + 1` … `to` and is timed from the `from`-th item's arrival (from the
 * round's start when `from` is 0) to the `to`-th's.
 *
 * @module
 */

import { median } from './stats.js';

/**
 * The stall figure's round: `n` items, a pause of `ms` after the `after`-th,
 * the after-stall window `(from, n]` and the before-stall window
 * `(warm, after]`.
 *
 * @example
 * ```ts
 * const plan: StallPlan = { n: 400, after: 50, ms: 100, from: 60, warm: 10 };
 * ```
 */
export interface StallPlan {
  /** Items per round. */
  readonly n: number;
  /** The consumer pauses once, after taking this many. */
  readonly after: number;
  /** The pause, ms. */
  readonly ms: number;
  /** The after-stall window starts at this item (past what piled up during the pause). */
  readonly from: number;
  /** The before-stall window starts at this item (past the round's start-up). */
  readonly warm: number;
}

/**
 * The stall figure of the brief: 400 messages, 100 ms pause after the 50th,
 * after-stall rate over messages 61–400, before-stall over 11–50.
 *
 * @example
 * ```ts
 * STALL_PLAN.n - STALL_PLAN.from; // 340 messages in the after-stall window
 * ```
 */
export const STALL_PLAN: StallPlan = { n: 400, after: 50, ms: 100, from: 60, warm: 10 };

/**
 * Items per second over the window `(from, to]` of `stamps`; `Infinity`
 * when the window took no measurable time.
 *
 * @example
 * ```ts
 * windowRate([10, 20, 30, 40], 1, 4); // 3 items in 30 ms: 100
 * windowRate([10, 20, 30, 40], 0, 2); // 2 items in 20 ms from the start: 100
 * ```
 * @throws {RangeError} unless `0 <= from < to <= stamps.length`.
 */
export function windowRate(stamps: ArrayLike<number>, from: number, to: number): number {
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from < to && to <= stamps.length)) {
    throw new RangeError(`window (${from}, ${to}] is not within ${stamps.length} stamps`);
  }
  const t0 = from === 0 ? 0 : (stamps[from - 1] as number);
  const ms = (stamps[to - 1] as number) - t0;
  return ms > 0 ? ((to - from) / ms) * 1000 : Number.POSITIVE_INFINITY;
}

/**
 * The rates of one round of the stall figure, items per second (MiB/s for
 * 1 MiB items).
 *
 * @example
 * ```ts
 * const { before, after, fromResume, items }: StallRates = stallRates(stamps, STALL_PLAN, reply.resumedMs);
 * ```
 */
export interface StallRates {
  /** Over `(warm, after]`: before the pause. */
  readonly before: number;
  /**
   * Over `(from, items]`: after the pause, past what piled up during it.
   * When the round was cut at or before item `from`, {@link fromResume}.
   */
  readonly after: number;
  /**
   * Items `after + 1` … `items` over the time from the resumption (or, in a
   * round without a pause, from the `after`-th item) to the last: the
   * backlog included; 0 when the round has none.
   */
  readonly fromResume: number;
  /** Items the round took: `plan.n`, or fewer when it was cut short. */
  readonly items: number;
}

/**
 * The rates of a round from its stamps; `resumedMs` is when the consumer
 * resumed after its pause (ms since the start), absent for a round without
 * one. A round cut short (fewer than `plan.n` stamps) is measured over the
 * items it took.
 *
 * @example
 * ```ts
 * const plan = { n: 6, after: 2, ms: 100, from: 3, warm: 0 };
 * stallRates([1, 2, 103, 104, 105, 106], plan, 102);
 * // { before: 1000, after: 1000, fromResume: 1000, items: 6 }
 * ```
 * @throws {RangeError} when `stamps` holds fewer than `plan.after` items (the pause never came)
 *   or the plan is not `warm < after <= from < n`.
 */
export function stallRates(stamps: ArrayLike<number>, plan: StallPlan, resumedMs?: number): StallRates {
  if (!(plan.warm < plan.after && plan.after <= plan.from && plan.from < plan.n)) {
    throw new RangeError(`stall plan needs warm < after <= from < n: ${JSON.stringify(plan)}`);
  }
  const items = Math.min(stamps.length, plan.n);
  if (items < plan.after) throw new RangeError(`${stamps.length} stamps: the round ended before item ${plan.after}`);
  const last = stamps[items - 1] as number;
  const resumed = resumedMs ?? (stamps[plan.after - 1] as number);
  const fromResume =
    items === plan.after
      ? 0
      : last > resumed
        ? ((items - plan.after) / (last - resumed)) * 1000
        : Number.POSITIVE_INFINITY;
  return {
    before: windowRate(stamps, plan.warm, plan.after),
    after: items > plan.from ? windowRate(stamps, plan.from, items) : fromResume,
    fromResume,
    items,
  };
}

/**
 * `median(a) / median(b)`: how a peer compares with its baseline of the same run.
 *
 * @example
 * ```ts
 * ratioOfMedians([90, 100, 110], [200, 190, 210]); // 0.5
 * ```
 * @throws {RangeError} when either is empty.
 */
export function ratioOfMedians(a: readonly number[], b: readonly number[]): number {
  return median(a) / median(b);
}

/**
 * `a[i] / b[i]` for the rounds both have: rounds `i` of two peers ran side
 * by side (alternating), so their ratio cancels slow drift.
 *
 * @example
 * ```ts
 * pairedRatios([1, 2, 3], [2, 4]); // [0.5, 0.5]
 * ```
 */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.min(a.length, b.length);
  return Array.from({ length: n }, (_, i) => (a[i] as number) / (b[i] as number));
}

/**
 * `'met'` when `measured` reaches `target` (at least, or at most), else `'MISSED'`.
 *
 * @example
 * ```ts
 * verdict(0.93, 0.9);            // 'met'
 * verdict(12, 10, 'atMost');     // 'MISSED'
 * ```
 */
export function verdict(
  measured: number,
  target: number,
  direction: 'atLeast' | 'atMost' = 'atLeast',
): 'met' | 'MISSED' {
  return (direction === 'atLeast' ? measured >= target : measured <= target) ? 'met' : 'MISSED';
}

/**
 * A ratio as printed: two decimals and an `x`.
 *
 * @example
 * ```ts
 * ratioText(0.9349); // '0.93x'
 * ```
 */
export function ratioText(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}x` : String(x);
}
