/**
 * Measures one kernel for the speedup bench: the serial loop, corepool's
 * `Pool.map` and raw piscina at every width, the task-size sweep that the
 * model needs, and Python's `multiprocessing.Pool` on its own (narrower) job.
 *
 * @module
 */

import { Piscina } from 'piscina';
import { Pool } from '../../src/index.js';
import { kernels } from '../../workers/bench-kernels.js';
import type { BenchPayload } from '../../workers/bench-piscina.js';
import { workerUrl } from './paths.js';
import type { ProgressLine } from './progress.js';
import { type PythonInfo, runPython } from './python.js';
import { alternate, type Contender, timed } from './rounds.js';
import { type Summary, summarize } from './stats.js';
import { type KernelName, type Workload, type WorkloadSize, workload } from './workloads.js';

/** A peer of the comparison. */
export type Peer = 'serial' | 'corepool' | 'piscina' | 'python';

/**
 * The times of one peer at one width.
 *
 * @example
 * ```ts
 * const m: Measured = { peer: 'corepool', workers: 2, timesMs: [251, 249, 250], time: summarize([251, 249, 250]) };
 * ```
 */
export interface Measured {
  readonly peer: Peer;
  /** 0 for a serial loop. */
  readonly workers: number;
  readonly timesMs: number[];
  readonly time: Summary;
}

/**
 * One task count of the sweep: the serial loop and corepool at one worker and
 * at the widest width within the cores.
 *
 * @example
 * ```ts
 * const s: SweepMeasured = { tasks: 1024, bytesPerTask: 0, serial, corepool: [oneWorker, full] };
 * ```
 */
export interface SweepMeasured {
  readonly tasks: number;
  readonly bytesPerTask: number;
  readonly serial: Measured;
  /** corepool at every width measured for this task count (1 and full at least). */
  readonly corepool: Measured[];
}

/**
 * Python's run of a kernel, or why there was none.
 *
 * @example
 * ```ts
 * const p: PythonMeasured = { skipped: 'not found' };
 * ```
 */
export type PythonMeasured =
  | { readonly skipped: string }
  | {
      readonly version: string;
      readonly startMethod: string;
      readonly params: Readonly<Record<string, number>>;
      readonly tasks: number;
      readonly checksum: number;
      /** CPU seconds of the script and its pools' workers. */
      readonly cpuS: number;
      readonly serial: Measured;
      readonly pool: Measured[];
    };

/**
 * Everything measured for one kernel.
 *
 * @example
 * ```ts
 * const k: KernelMeasured = await measureKernel('primes', options);
 * k.rows.filter((r) => r.peer === 'corepool');
 * ```
 */
export interface KernelMeasured {
  readonly kernel: KernelName;
  readonly title: string;
  readonly params: Readonly<Record<string, number>>;
  readonly tasks: number;
  readonly bytesPerTask: number;
  readonly checksum: number;
  /** serial, corepool and piscina at every width. */
  readonly rows: Measured[];
  /** The default task count first, then the other counts of the sweep. */
  readonly sweep: SweepMeasured[];
  readonly python: PythonMeasured;
  /** Rounds run again because other processes disturbed them. */
  readonly reruns: number;
}

/**
 * How {@link measureKernel} runs.
 *
 * @example
 * ```ts
 * const options: KernelOptions = { size: 'default', tasks: 128, widths: [1, 2, 4], full: 2, sweepTasks: [16, 1024], warmup: 1, runs: 5, sweepRuns: 3, python: undefined, progress };
 * ```
 */
export interface KernelOptions {
  readonly size: WorkloadSize;
  /** Tasks the job is cut into for the width sweep. */
  readonly tasks: number;
  /** Pool widths, ascending. */
  readonly widths: readonly number[];
  /** The widest width within the machine's cores: the sweep runs there. */
  readonly full: number;
  /** Other task counts, run at 1 and `full` workers. */
  readonly sweepTasks: readonly number[];
  readonly warmup: number;
  readonly runs: number;
  readonly sweepRuns: number;
  /** The Python interpreter, or why it is skipped. */
  readonly python: PythonInfo | { readonly skipped: string };
  /** Rounds Python records (it runs its own loop). */
  readonly pythonRuns: number;
  readonly progress: ProgressLine;
  /** Pools of every width in `widths`, and of width 1 when the sweep runs. */
  readonly pools: Pools;
}

/**
 * Steps {@link measureKernel} reports to the progress line, for its total.
 *
 * @example
 * ```ts
 * const total = kernels.length * kernelSteps(options);
 * ```
 */
export function kernelSteps(o: Omit<KernelOptions, 'progress' | 'python' | 'pythonRuns' | 'pools'>): number {
  return o.runs * (1 + 2 * o.widths.length) + o.sweepTasks.length * 3 * o.sweepRuns + 1;
}

interface PythonAnswer {
  readonly tasks: number;
  readonly checksum: number;
  readonly start_method: string;
  readonly cpu_s: number;
  readonly serial_ms: number[];
  readonly pool_ms: Record<string, number[]>;
}

function measured(peer: Peer, workers: number, timesMs: number[] | undefined): Measured {
  if (timesMs === undefined || timesMs.length === 0) throw new Error(`no times recorded for ${peer}@${workers}`);
  return { peer, workers, timesMs, time: summarize(timesMs) };
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/**
 * A warm corepool `Pool` and a raw piscina pool of each width, shared by
 * every kernel: started once, closed with {@link closePools}.
 *
 * @example
 * ```ts
 * const pools = openPools([1, 2, 4]);
 * try { await measureKernel('primes', { ...options, pools }); } finally { await closePools(pools); }
 * ```
 */
export type Pools = ReadonlyMap<number, PoolPair>;

/**
 * The two pools of one width.
 *
 * @example
 * ```ts
 * const { pool, piscina }: PoolPair = pools.get(2)!;
 * ```
 */
export interface PoolPair {
  readonly pool: Pool;
  readonly piscina: Piscina<BenchPayload, number>;
}

/**
 * Starts the pools of {@link Pools}.
 *
 * @example
 * ```ts
 * const pools = openPools(options.widths);
 * ```
 */
export function openPools(widths: readonly number[]): Pools {
  return new Map(widths.map((w) => [w, { pool: new Pool({ processes: w }), piscina: newPiscina(w) }]));
}

/**
 * Terminates every pool of `pools`.
 *
 * @example
 * ```ts
 * await closePools(pools);
 * ```
 */
export async function closePools(pools: Pools): Promise<void> {
  await Promise.all([...pools.values()].flatMap(({ pool, piscina }) => [pool.terminate(), piscina.destroy()]));
}

function newPiscina(width: number): Piscina<BenchPayload, number> {
  return new Piscina<BenchPayload, number>({
    filename: workerUrl('bench-piscina'),
    minThreads: width,
    maxThreads: width,
    idleTimeout: Number.POSITIVE_INFINITY,
    concurrentTasksPerWorker: 1,
    recordTiming: false,
  });
}

/** Checks every peer's answer against the serial checksum, so a fast wrong answer cannot win. */
function checker(expected: number, kernel: string): (value: number, who: string) => void {
  return (value, who) => {
    if (value !== expected)
      throw new Error(`${kernel}: ${who} computed checksum ${value}, the serial loop ${expected}`);
  };
}

/**
 * Runs every peer of `kernel` as `options` say.
 *
 * @example
 * ```ts
 * const primes = await measureKernel('primes', { ...options, progress: createProgress(100) });
 * ```
 * @throws {Error} when a peer's checksum differs from the serial loop's.
 */
export async function measureKernel(kernel: KernelName, options: KernelOptions): Promise<KernelMeasured> {
  const { progress } = options;
  let reruns = 0;
  const rounds = (label: string, n: number) => ({
    warmup: options.warmup,
    rounds: n,
    onRound: (name: string, ms: number, r: number) =>
      progress.step(`${kernel} ${label}${name} round ${r + 1}/${n} ${ms.toFixed(0)} ms`),
    onDisturbed: (name: string, othersPct: number, r: number) => {
      reruns++;
      progress.note(`  ${kernel} ${name} round ${r + 1}: others used ${othersPct}% of the CPUs; run again`);
    },
  });

  const job = workload(kernel, options.size, options.tasks);
  const expected = job.serial();
  const check = checker(expected, kernel);
  type Check = (value: number, who: string) => void;
  const serialOf = (wl: Workload, chk: Check): Contender => ({
    name: 'serial',
    run: () => timed(() => chk(wl.serial(), 'serial')),
  });
  const mapOn = (pool: Pool, wl: Workload, chk: Check): (() => Promise<number>) => {
    const inputs = [...wl.inputs];
    return () => timed(async () => chk(sum(await pool.map(kernels.compute, inputs, { chunksize: 1 })), 'corepool'));
  };

  const times = new Map<string, number[]>();
  const poolsOf = (w: number): PoolPair => {
    const p = options.pools.get(w);
    if (p === undefined) throw new Error(`no pool of width ${w} was opened`);
    return p;
  };
  for (const w of options.widths) {
    const { pool, piscina } = poolsOf(w);
    const contenders: Contender[] = [
      { name: `corepool@${w}`, run: mapOn(pool, job, check) },
      {
        name: `piscina@${w}`,
        run: () =>
          timed(async () => check(sum(await Promise.all(job.inputs.map((i) => piscina.run(i)))), 'raw piscina')),
      },
    ];
    if (w === options.widths[0]) contenders.unshift(serialOf(job, check));
    for (const [name, t] of await alternate(contenders, rounds('', options.runs))) times.set(name, t);
  }
  const rows: Measured[] = [measured('serial', 0, times.get('serial'))];
  for (const w of options.widths) {
    rows.push(measured('corepool', w, times.get(`corepool@${w}`)));
    rows.push(measured('piscina', w, times.get(`piscina@${w}`)));
  }

  const sweep: SweepMeasured[] = [
    {
      tasks: job.tasks,
      bytesPerTask: job.bytesPerTask,
      serial: rows[0] as Measured,
      corepool: rows.filter((r) => r.peer === 'corepool'),
    },
  ];
  // A kernel may clamp a count (matmul to its rows): measure each count once.
  const seen = new Set([job.tasks]);
  const others = options.sweepTasks
    .map((n) => workload(kernel, options.size, n))
    .filter((wl) => !seen.has(wl.tasks) && seen.add(wl.tasks) !== undefined);
  if (others.length > 0) {
    const one = poolsOf(1).pool;
    const wide = poolsOf(options.full).pool;
    for (const wl of others) {
      // The same job, cut differently: the same checksum, except for sha256,
      // whose buffers are cut from the data differently.
      const own = wl.serial();
      if (kernel !== 'sha256' && own !== expected) {
        throw new Error(`${kernel}: the job cut into ${wl.tasks} tasks sums to ${own}, into ${job.tasks}: ${expected}`);
      }
      const checkOwn = checker(own, `${kernel} (${wl.tasks} tasks)`);
      const contenders: Contender[] = [serialOf(wl, checkOwn), { name: 'corepool@1', run: mapOn(one, wl, checkOwn) }];
      if (options.full > 1) contenders.push({ name: `corepool@${options.full}`, run: mapOn(wide, wl, checkOwn) });
      const t = await alternate(contenders, rounds(`${wl.tasks} tasks `, options.sweepRuns));
      sweep.push({
        tasks: wl.tasks,
        bytesPerTask: wl.bytesPerTask,
        serial: measured('serial', 0, t.get('serial')),
        corepool: [...new Set([1, options.full])].map((w) => measured('corepool', w, t.get(`corepool@${w}`))),
      });
    }
  }

  const python = await measurePython(kernel, options);
  progress.step(`${kernel} python ${'skipped' in python ? 'skipped' : 'done'}`);
  return {
    kernel,
    title: job.title,
    params: job.params,
    tasks: job.tasks,
    bytesPerTask: job.bytesPerTask,
    checksum: expected,
    rows,
    sweep,
    python,
    reruns,
  };
}

async function measurePython(kernel: KernelName, options: KernelOptions): Promise<PythonMeasured> {
  const py = options.python;
  if ('skipped' in py) return { skipped: py.skipped };
  const job = workload(kernel, options.size === 'quick' ? 'python-quick' : 'python', options.tasks);
  options.progress.note(`  ${kernel}: python ${py.version} multiprocessing.Pool on a narrower job …`);
  let answer: PythonAnswer;
  try {
    answer = await runPython<PythonAnswer>(py, 'speedup.py', [
      '--kernel',
      kernel,
      '--params',
      JSON.stringify(job.params),
      '--workers',
      options.widths.join(','),
      '--warmup',
      String(options.warmup),
      '--runs',
      String(options.pythonRuns),
    ]);
  } catch (err) {
    return { skipped: `failed: ${(err as Error).message.split('\n')[0]}` };
  }
  const expected = job.serial();
  if (answer.checksum !== expected) {
    throw new Error(`${kernel}: python computed checksum ${answer.checksum}, node ${expected} for the same job`);
  }
  return {
    version: py.version,
    startMethod: answer.start_method,
    params: job.params,
    tasks: answer.tasks,
    checksum: answer.checksum,
    cpuS: answer.cpu_s,
    serial: measured('python', 0, answer.serial_ms),
    pool: options.widths.map((w) => measured('python', w, answer.pool_ms[String(w)])),
  };
}
