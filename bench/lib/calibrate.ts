/**
 * Measures the costs that limit how far a pool scales, for the model of
 * `model.ts`: the main thread's time per task (its dispatch ceiling) and the
 * cost of shipping a task's data per MiB.
 *
 * Both are measured on one worker, where the main thread has a core of its
 * own even on a 2-core machine, and through `pool.map(…, { chunksize: 1 })`,
 * the path the speedup bench's tasks take. The main thread's own time is its
 * event loop's active time (`performance.eventLoopUtilization()`): what it
 * spent handing out and collecting tasks, not the time it sat waiting.
 *
 * @module
 */

import { performance } from 'node:perf_hooks';
import { Pool } from '../../src/index.js';
import { kernels } from '../../workers/bench-kernels.js';
import { fitLine } from './model.js';
import { median } from './stats.js';

const MIB = 1024 * 1024;

/**
 * The main thread's cost per task.
 *
 * @example
 * ```ts
 * const { mainMsPerTask, ceilingPerSecond } = await measureDispatch({ tasks: 20_000, rounds: 3 });
 * ```
 */
export interface DispatchCost {
  /** Tiny tasks per round. */
  readonly tasks: number;
  /** Median over rounds of the main thread's active time per task, ms (`d₀`). */
  readonly mainMsPerTask: number;
  /** `1 / d₀`: tasks per second the main thread could hand out and collect. */
  readonly ceilingPerSecond: number;
  /** Median wall time per task at one worker, ms: the round trip of an empty task. */
  readonly roundTripMs: number;
  /** Every round's main-thread ms per task. */
  readonly samples: number[];
}

/**
 * Data shipped with a task: its cost per MiB.
 *
 * @example
 * ```ts
 * const t: TransferCost = await measureTransfer({ sizesMiB: [0, 1, 4], totalMiB: 64, rounds: 3 });
 * t.msPerMiB; // e.g. 0.4: a task shipping 1 MiB takes 0.4 ms longer
 * ```
 */
export interface TransferCost {
  /** The payload sizes measured, MiB. */
  readonly sizesMiB: number[];
  /** Median wall time per task at each size, ms. */
  readonly perTaskMs: number[];
  /** Median main-thread time per task at each size, ms. */
  readonly mainPerTaskMs: number[];
  /** Slope of wall time per task against MiB: what a worker waits per MiB (`τ`). */
  readonly msPerMiB: number;
  /** Slope of the main thread's time per task against MiB (`τₘ`). */
  readonly mainMsPerMiB: number;
  /** `1 / msPerMiB` in GB/s (10⁹ bytes): one worker's effective transfer rate. */
  readonly gbPerSecond: number;
}

async function mainTime(fn: () => Promise<unknown>): Promise<{ wallMs: number; activeMs: number }> {
  const elu = performance.eventLoopUtilization();
  const start = performance.now();
  await fn();
  const wallMs = performance.now() - start;
  return { wallMs, activeMs: performance.eventLoopUtilization(elu).active };
}

/**
 * Floods one warm worker with `tasks` tiny `map` tasks (chunksize 1) per
 * round and reads the main thread's active time.
 *
 * @example
 * ```ts
 * const d = await measureDispatch({ tasks: 5_000, rounds: 2 });
 * console.log(`${Math.round(d.ceilingPerSecond)} tasks/s`);
 * ```
 */
export async function measureDispatch(options: {
  readonly tasks: number;
  readonly rounds: number;
  readonly onRound?: () => void;
}): Promise<DispatchCost> {
  const items = Array.from({ length: options.tasks }, (_, i) => i);
  const pool = new Pool({ processes: 1 });
  try {
    await pool.map(kernels.square, items.slice(0, 1000), { chunksize: 1 }); // warm-up
    const main: number[] = [];
    const wall: number[] = [];
    for (let r = 0; r < options.rounds; r++) {
      const t = await mainTime(() => pool.map(kernels.square, items, { chunksize: 1 }));
      main.push(t.activeMs / options.tasks);
      wall.push(t.wallMs / options.tasks);
      options.onRound?.();
    }
    const d = median(main);
    return {
      tasks: options.tasks,
      mainMsPerTask: d,
      ceilingPerSecond: 1000 / d,
      roundTripMs: median(wall),
      samples: main,
    };
  } finally {
    await pool.terminate();
  }
}

/**
 * Sends `Uint8Array`s of each size (16 bytes standing for 0) to one warm
 * worker, one per task, about `totalMiB` per size per round, and fits a line
 * through the per-task times.
 *
 * @example
 * ```ts
 * const t = await measureTransfer({ sizesMiB: [0, 0.25, 1, 4], totalMiB: 64, rounds: 3 });
 * console.log(`${t.gbPerSecond.toFixed(1)} GB/s`);
 * ```
 */
export async function measureTransfer(options: {
  readonly sizesMiB: readonly number[];
  readonly totalMiB: number;
  readonly rounds: number;
  readonly onRound?: () => void;
}): Promise<TransferCost> {
  const pool = new Pool({ processes: 1 });
  try {
    const perTaskMs: number[] = [];
    const mainPerTaskMs: number[] = [];
    for (const mib of options.sizesMiB) {
      const bytes = Math.max(16, Math.round(mib * MIB));
      const count = mib === 0 ? 512 : Math.max(8, Math.min(512, Math.floor(options.totalMiB / mib)));
      const buffers = Array.from({ length: count }, (_, i) => new Uint8Array(bytes).fill(i & 0xff));
      const run = (): Promise<number[]> => pool.map(kernels.byteLength, buffers, { chunksize: 1 });
      const got = await run(); // warm-up, and a check that every byte arrived
      if (got.some((n) => n !== bytes)) throw new Error(`transfer of ${bytes} bytes lost data: got ${got.join(',')}`);
      const wall: number[] = [];
      const main: number[] = [];
      for (let r = 0; r < options.rounds; r++) {
        const t = await mainTime(run);
        wall.push(t.wallMs / count);
        main.push(t.activeMs / count);
        options.onRound?.();
      }
      perTaskMs.push(median(wall));
      mainPerTaskMs.push(median(main));
    }
    const sizes = [...options.sizesMiB];
    const wallFit = fitLine(sizes.map((x, i) => ({ x, y: perTaskMs[i] as number })));
    const mainFit = fitLine(sizes.map((x, i) => ({ x, y: mainPerTaskMs[i] as number })));
    const msPerMiB = Math.max(0, wallFit.slope);
    return {
      sizesMiB: sizes,
      perTaskMs,
      mainPerTaskMs,
      msPerMiB,
      mainMsPerMiB: Math.max(0, mainFit.slope),
      gbPerSecond: msPerMiB === 0 ? Number.POSITIVE_INFINITY : MIB / 1e9 / (msPerMiB / 1000),
    };
  } finally {
    await pool.terminate();
  }
}
