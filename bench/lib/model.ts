/**
 * What limits parallel speedup, as numbers: efficiency, Amdahl's law fitted to
 * measured speedups, and the cost model that predicts speedup on machines
 * wider than the one the bench ran on.
 *
 * ## The model
 *
 * A job of `N` equal tasks, each taking `c` ms of compute on one core, runs on
 * `p` workers of a machine with `C` cores. The serial loop takes `W = N·c`.
 *
 * - Each task also costs its worker `o` ms of per-task overhead: the round
 *   trip through the pool, (de)serialising the task and its result, copying
 *   its data. `o` is measured at each task size as `(T₁ − W) / N`, where `T₁`
 *   is the pool's time at one worker.
 * - The main thread hands out and collects every task, `d` ms of its own time
 *   per task (`1/d` is its dispatch ceiling, tasks/s). `d = d₀ + b·τₘ` grows
 *   with the `b` MiB of data a task ships (`τₘ`: the main thread's share of the
 *   transfer cost per MiB).
 * - Tasks go out in `⌈N/p⌉` rounds. When the workers and the main thread's
 *   busy share `u` need more than `C` cores, each runs at `C/(p+u)` speed.
 *
 *     T(p) = s + max(⌈N/p⌉ · (c + o) · max(1, (p + u)/C),  N·d)
 *     S(p) = W / T(p)
 *
 * with `u = min(1, N·d / T(p))` (one fixed-point step) and `s` any serial
 * time outside the tasks (0 by default). Efficiency is `S(p)/p`.
 *
 * With many tasks per worker (`N ≫ p`), efficiency ≥ `e` needs
 * `c ≥ o·e/(1−e)` (overhead) and `c ≥ p·d/e` (dispatch), so the smallest task
 * that keeps 90 % efficiency at width `p` is `max(9·o, p·d/0.9)`.
 *
 * What the model leaves out: memory bandwidth and caches shared between cores,
 * SMT siblings counted as cores, frequency scaling, NUMA, and any growth of
 * `d` with the number of workers. Each shows up as the model over-predicting;
 * the bench checks the model against every width it measured.
 *
 * @module
 */

/**
 * A measured point: speedup over the serial loop at a pool width.
 *
 * @example
 * ```ts
 * const p: SpeedupPoint = { workers: 2, speedup: 1.93 };
 * ```
 */
export interface SpeedupPoint {
  readonly workers: number;
  readonly speedup: number;
}

function checkPositive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`${name} must be a positive number: received ${value}`);
}

function checkNonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`${name} must be a finite number >= 0: received ${value}`);
  }
}

/**
 * Parallel efficiency: speedup per worker (1 is ideal).
 *
 * @example
 * ```ts
 * efficiency(1.8, 2); // 0.9
 * ```
 * @throws {RangeError} when `workers` is not a positive integer or `speedup` is not finite.
 */
export function efficiency(speedup: number, workers: number): number {
  if (!(Number.isInteger(workers) && workers > 0)) {
    throw new RangeError(`workers must be a positive integer: received ${workers}`);
  }
  if (!Number.isFinite(speedup)) throw new RangeError(`speedup must be finite: received ${speedup}`);
  return speedup / workers;
}

/**
 * Amdahl's law: the speedup at `workers` of a job whose `serialFraction`
 * cannot run in parallel.
 *
 * @example
 * ```ts
 * amdahlSpeedup(0, 8);   // 8
 * amdahlSpeedup(0.1, 8); // 4.71
 * amdahlSpeedup(0.1, Infinity); // 10 (the limit, 1/f)
 * ```
 * @throws {RangeError} when `serialFraction` is outside [0, 1] or `workers` < 1.
 */
export function amdahlSpeedup(serialFraction: number, workers: number): number {
  if (!(serialFraction >= 0 && serialFraction <= 1)) {
    throw new RangeError(`serialFraction must be within [0, 1]: received ${serialFraction}`);
  }
  if (!(workers >= 1)) throw new RangeError(`workers must be >= 1: received ${workers}`);
  return 1 / (serialFraction + (1 - serialFraction) / workers);
}

/**
 * The Amdahl fit of a set of measured speedups.
 *
 * @example
 * ```ts
 * const fit: AmdahlFit = fitAmdahl([{ workers: 2, speedup: 1.9 }]);
 * fit.serialFraction; // 0.0526
 * ```
 */
export interface AmdahlFit {
  /** The fitted serial fraction `f`, clamped to [0, 1]. */
  readonly serialFraction: number;
  /** The speedup limit `1/f` (Infinity when `f` is 0). */
  readonly limit: number;
  /** Root-mean-square of (fitted − measured) speedup over the points used. */
  readonly rmsError: number;
  /** How many points had `workers > 1` and informed the fit. */
  readonly points: number;
}

/**
 * Fits Amdahl's law `S(p) = 1 / (f + (1 − f)/p)` to measured speedups by least
 * squares on `1/S`, which is linear in `f`: `1/S − 1/p = f·(1 − 1/p)`, so
 * `f = Σxy / Σx²` with `x = 1 − 1/p` and `y = 1/S − 1/p`. Points at one
 * worker carry no information about `f` (x = 0). Pass only widths up to the
 * machine's core count: Amdahl's law assumes a processor per worker.
 *
 * @example
 * ```ts
 * fitAmdahl([{ workers: 1, speedup: 1 }, { workers: 2, speedup: 1.6 }, { workers: 4, speedup: 2.29 }]).serialFraction; // ≈ 0.25
 * ```
 * @throws {RangeError} when no point has `workers > 1`, or a point is not finite and positive.
 */
export function fitAmdahl(points: readonly SpeedupPoint[]): AmdahlFit {
  let sxy = 0;
  let sxx = 0;
  let used = 0;
  for (const { workers, speedup } of points) {
    checkPositive('workers', workers);
    checkPositive(`speedup at ${workers} workers`, speedup);
    if (workers <= 1) continue;
    const x = 1 - 1 / workers;
    const y = 1 / speedup - 1 / workers;
    sxy += x * y;
    sxx += x * x;
    used++;
  }
  if (used === 0) throw new RangeError('fitAmdahl needs a speedup measured at more than one worker');
  const f = Math.min(1, Math.max(0, sxy / sxx));
  let sq = 0;
  for (const { workers, speedup } of points) {
    if (workers > 1) sq += (amdahlSpeedup(f, workers) - speedup) ** 2;
  }
  return {
    serialFraction: f,
    limit: f === 0 ? Number.POSITIVE_INFINITY : 1 / f,
    rmsError: Math.sqrt(sq / used),
    points: used,
  };
}

/**
 * The inputs of the cost model (see the module's documentation), in ms.
 *
 * @example
 * ```ts
 * const job: JobModel = { tasks: 128, taskMs: 3.9, overheadMs: 0.03, dispatchMs: 0.012 };
 * ```
 */
export interface JobModel {
  /** `N`: tasks in the job. */
  readonly tasks: number;
  /** `c`: compute per task on one core (serial time / tasks). */
  readonly taskMs: number;
  /** `o`: the worker's per-task overhead (round trip, (de)serialising, copying). */
  readonly overheadMs: number;
  /** `d`: the main thread's time per task (hand out + collect), transfer included. */
  readonly dispatchMs: number;
  /** `s`: serial time outside the tasks (default 0). */
  readonly serialMs?: number;
}

function checkJob(job: JobModel): void {
  if (!(Number.isInteger(job.tasks) && job.tasks > 0)) {
    throw new RangeError(`job.tasks must be a positive integer: received ${job.tasks}`);
  }
  checkPositive('job.taskMs', job.taskMs);
  checkNonNegative('job.overheadMs', job.overheadMs);
  checkNonNegative('job.dispatchMs', job.dispatchMs);
  checkNonNegative('job.serialMs', job.serialMs ?? 0);
}

/**
 * The model's wall time `T(p)` of `job` on `workers` workers of a machine
 * with `cores` cores, in ms.
 *
 * @example
 * ```ts
 * predictTime({ tasks: 128, taskMs: 4, overheadMs: 0, dispatchMs: 0 }, 16, 16);   // 32 (8 rounds of 4 ms)
 * predictTime({ tasks: 1024, taskMs: 0.5, overheadMs: 0, dispatchMs: 0.02 }, 128, 128); // 20.48 (dispatch-bound)
 * ```
 * @throws {RangeError} on a malformed job, or `workers`/`cores` not positive integers.
 */
export function predictTime(job: JobModel, workers: number, cores: number): number {
  checkJob(job);
  if (!(Number.isInteger(workers) && workers > 0)) {
    throw new RangeError(`workers must be a positive integer: received ${workers}`);
  }
  if (!(Number.isInteger(cores) && cores > 0))
    throw new RangeError(`cores must be a positive integer: received ${cores}`);
  const rounds = Math.ceil(job.tasks / workers);
  const perTask = job.taskMs + job.overheadMs;
  const mainMs = job.tasks * job.dispatchMs;
  const time = (share: number): number => Math.max(rounds * perTask * share, mainMs);
  const first = time(Math.max(1, workers / cores));
  const mainShare = Math.min(1, mainMs / first);
  return (job.serialMs ?? 0) + time(Math.max(1, (workers + mainShare) / cores));
}

/**
 * The model's speedup `S(p) = W / T(p)` over the serial loop (`W = N·c`).
 *
 * @example
 * ```ts
 * predictSpeedup({ tasks: 128, taskMs: 4, overheadMs: 0.04, dispatchMs: 0.01 }, 64, 64); // ≈ 63.4
 * ```
 * @throws {RangeError} as {@link predictTime}.
 */
export function predictSpeedup(job: JobModel, workers: number, cores: number): number {
  return (job.tasks * job.taskMs) / predictTime(job, workers, cores);
}

/**
 * The smallest per-task compute time (ms) that keeps efficiency at or above
 * `target` on `workers` workers, given enough tasks per worker:
 * `max(o·e/(1−e), p·d/e)`.
 *
 * @example
 * ```ts
 * minTaskMs(0.03, 0.01, 128);      // 1.42 (dispatch-bound: 128 × 0.01 / 0.9)
 * minTaskMs(0.03, 0.01, 2);        // 0.27 (overhead-bound: 9 × 0.03)
 * ```
 * @throws {RangeError} when `target` is not within (0, 1) or a cost is negative.
 */
export function minTaskMs(overheadMs: number, dispatchMs: number, workers: number, target = 0.9): number {
  if (!(target > 0 && target < 1)) throw new RangeError(`target must be within (0, 1): received ${target}`);
  checkNonNegative('overheadMs', overheadMs);
  checkNonNegative('dispatchMs', dispatchMs);
  checkPositive('workers', workers);
  return Math.max((overheadMs * target) / (1 - target), (workers * dispatchMs) / target);
}

/**
 * The per-task overhead `o` from the pool's time `T` at `workers` workers
 * (within the machine's cores) and the serial time `W` of the same `N`-task
 * job, in ms: `T = ⌈N/p⌉·(c + o)` with `c = W/N`, so at one worker
 * `o = (T₁ − W) / N`. Never below 0 (noise can put `T₁` under `W`).
 *
 * @example
 * ```ts
 * overheadPerTask(512, 500, 128);    // 0.09375
 * overheadPerTask(258, 500, 128, 2); // 0.125 (64 rounds of 3.906 + 0.125 ms)
 * ```
 * @throws {RangeError} when `tasks` or `workers` is not a positive integer or a time is not positive.
 */
export function overheadPerTask(timeMs: number, serialMs: number, tasks: number, workers = 1): number {
  checkPositive('timeMs', timeMs);
  checkPositive('serialMs', serialMs);
  if (!(Number.isInteger(tasks) && tasks > 0))
    throw new RangeError(`tasks must be a positive integer: received ${tasks}`);
  if (!(Number.isInteger(workers) && workers > 0)) {
    throw new RangeError(`workers must be a positive integer: received ${workers}`);
  }
  return Math.max(0, timeMs / Math.ceil(tasks / workers) - serialMs / tasks);
}

/**
 * A per-unit cost from a straight-line fit `y = a + b·x` by least squares,
 * e.g. the transfer cost per MiB from times of tasks shipping 0, 1 and 4 MiB.
 *
 * @example
 * ```ts
 * fitLine([{ x: 0, y: 0.02 }, { x: 1, y: 0.32 }, { x: 4, y: 1.22 }]); // { intercept: 0.02, slope: 0.3 }
 * ```
 * @throws {RangeError} with fewer than two distinct `x`.
 */
export function fitLine(points: readonly { readonly x: number; readonly y: number }[]): {
  intercept: number;
  slope: number;
} {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (!(n >= 2 && sxx > 0)) throw new RangeError('fitLine needs at least two points with different x');
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope };
}
