/**
 * Runs contenders in alternating rounds — A B, B A, A B, … — after a warm-up,
 * so that drift on a shared machine (frequency, a neighbour's load, GC debt)
 * falls on every contender alike and no one always goes first. A round during
 * which other processes took a share of the CPUs is run again (a few times at
 * most), so a neighbour's burst does not land in one contender's samples.
 *
 * @module
 */

import { performance } from 'node:perf_hooks';
import { watchNoise } from './noise.js';

/**
 * One peer of a comparison. `run()` does one measured round and resolves with its time in ms.
 *
 * @example
 * ```ts
 * const c: Contender = { name: 'piscina', run: () => timed(() => piscina.run({ kind: 'noop' })) };
 * ```
 */
export interface Contender {
  readonly name: string;
  run(): Promise<number>;
}

/**
 * How many rounds {@link alternate} runs, and what it reports.
 *
 * @example
 * ```ts
 * const options: RoundOptions = { warmup: 2, rounds: 8, disturbedPct: 25, maxReruns: 3 };
 * ```
 */
export interface RoundOptions {
  /** Unrecorded rounds of each contender first (JIT, worker start-up, caches). */
  readonly warmup: number;
  /** Recorded rounds of each contender. */
  readonly rounds: number;
  /** Called after each recorded round, e.g. to print progress. */
  readonly onRound?: (name: string, ms: number, round: number) => void;
  /**
   * A recorded round is run again when other processes used more than this
   * share of all CPUs during it (percent; default 25 — the OS counters tick
   * every 10 ms, so short rounds read a few percent either way).
   */
  readonly disturbedPct?: number;
  /** Reruns of one round at most (default 3); the last run is kept. */
  readonly maxReruns?: number;
  /** Called when a round is discarded as disturbed. */
  readonly onDisturbed?: (name: string, othersPct: number, round: number) => void;
}

/**
 * Times `fn` once, in ms.
 *
 * @example
 * ```ts
 * const t = await timed(() => Promise.all(tasks));
 * ```
 */
export async function timed(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Runs every contender `warmup` times, then `rounds` times each, alternating
 * the order every round (ABC, CBA, ABC, …), running a disturbed round again;
 * resolves with the recorded times per contender name.
 *
 * @example
 * ```ts
 * const times = await alternate(
 *   [{ name: 'corepool', run: runPool }, { name: 'piscina', run: runPiscina }],
 *   { warmup: 2, rounds: 8 },
 * );
 * median(times.get('corepool')!);
 * ```
 */
export async function alternate(
  contenders: readonly Contender[],
  options: RoundOptions,
): Promise<Map<string, number[]>> {
  const times = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let w = 0; w < options.warmup; w++) {
    for (const c of contenders) await c.run();
  }
  const disturbedPct = options.disturbedPct ?? 25;
  const maxReruns = options.maxReruns ?? 3;
  for (let r = 0; r < options.rounds; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      let ms: number;
      for (let rerun = 0; ; rerun++) {
        const stop = watchNoise();
        ms = await c.run();
        const { othersPct } = stop();
        if (othersPct <= disturbedPct || rerun >= maxReruns) break;
        options.onDisturbed?.(c.name, othersPct, r);
      }
      times.get(c.name)?.push(ms);
      options.onRound?.(c.name, ms, r);
    }
  }
  return times;
}

/**
 * Progress callbacks for {@link alternate} that print to stderr and count reruns.
 *
 * @example
 * ```ts
 * const progress: Progress = progressReporter(8);
 * await alternate(contenders, { warmup: 2, rounds: 8, ...progress });
 * ```
 */
export interface Progress {
  readonly onRound: (name: string, ms: number, round: number) => void;
  readonly onDisturbed: (name: string, othersPct: number, round: number) => void;
  /** Rounds run again because they were disturbed, so far. */
  reruns(): number;
}

/**
 * Prints each recorded round (`round 3/8 corepool 512 ms`) and each discarded
 * one to stderr, keeping stdout for the results.
 *
 * @example
 * ```ts
 * const progress = progressReporter(8);
 * await alternate(contenders, { warmup: 2, rounds: 8, ...progress });
 * console.log(`${progress.reruns()} disturbed rounds were run again`);
 * ```
 */
export function progressReporter(rounds: number, width = 16): Progress {
  let reruns = 0;
  return {
    onRound: (name, ms, round) =>
      process.stderr.write(`  round ${round + 1}/${rounds} ${name.padEnd(width)} ${ms.toFixed(1)} ms\n`),
    onDisturbed: (name, othersPct, round) => {
      reruns++;
      process.stderr.write(
        `  round ${round + 1}/${rounds} ${name.padEnd(width)} disturbed (others ${othersPct}% of CPUs): again\n`,
      );
    },
    reruns: () => reruns,
  };
}
