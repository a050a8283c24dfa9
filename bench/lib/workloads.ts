/**
 * The jobs of the speed-up benchmark: one CPU-bound kernel
 * (`workers/bench-algorithms.ts`) at a fixed total amount of work, cut into
 * `tasks` inputs. Every peer — the serial loop, corepool, raw piscina and
 * `bench/python/speedup.py` — runs the same inputs, and each task returns an
 * integer checksum whose sum over the tasks is the job's checksum, so the
 * peers can be checked against each other.
 *
 * A job is described by its `params` (numbers only, `tasks` included): Node
 * builds its inputs from them ({@link workloadFromParams}) and so does
 * `speedup.py --params`, with the same arithmetic.
 *
 * The sizes were calibrated by timing `serial()` at 128 tasks on a 2-core AMD
 * EPYC VM (Node 20.20, CPython 3.11); see {@link WorkloadSize}.
 *
 * @module
 */

import { compute, type KernelInput } from '../../workers/bench-algorithms.js';
import { splitRange } from './ranges.js';

/**
 * The kernels of the speed-up benchmark.
 *
 * @example
 * ```ts
 * for (const kernel of KERNEL_NAMES) console.log(workload(kernel, 'quick', 128).title);
 * ```
 */
export const KERNEL_NAMES = ['primes', 'mandelbrot', 'sha256', 'matmul'] as const;

/**
 * One of {@link KERNEL_NAMES}.
 *
 * @example
 * ```ts
 * const kernel: KernelName = 'mandelbrot';
 * ```
 */
export type KernelName = (typeof KERNEL_NAMES)[number];

/**
 * How much work a job is: `default` ≈ 500 ms of serial work in Node, `quick`
 * ≈ 60 ms; `python` ≈ 300 ms serial in CPython, `python-quick` ≈ 40 ms.
 * Measured: `serial()` at 128 tasks, median of 7 after a warm-up on an idle
 * machine, in ms, each ≈ N ms on a 2-core AMD EPYC VM (Node 20.20, CPython
 * 3.11; the `python` sizes timed by `speedup.py`'s functions):
 *
 * | size           | runs in | primes | mandelbrot | sha256 | matmul |
 * | -------------- | ------- | ------ | ---------- | ------ | ------ |
 * | `default`      | Node    | 500    | 510        | 520    | 490    |
 * | `quick`        | Node    | 62     | 64         | 62     | 66     |
 * | `python`       | CPython | 300    | 320        | 310    | 300    |
 * | `python-quick` | CPython | 40     | 43         | 41     | 35     |
 *
 * Python is far slower in pure loops (the same job takes CPython ~27× Node's
 * time for trial division, ~35× for Mandelbrot, ~50× for matmul; SHA-256
 * runs in OpenSSL in both, at the same speed), so it gets a narrower job of
 * its own: compare its speed-ups, not its times.
 *
 * @example
 * ```ts
 * const size: WorkloadSize = quick ? 'python-quick' : 'python';
 * ```
 */
export type WorkloadSize = 'default' | 'quick' | 'python' | 'python-quick';

const SIZES: readonly WorkloadSize[] = ['default', 'quick', 'python', 'python-quick'];

/**
 * A job: the inputs of one kernel at one size, cut into tasks.
 *
 * @example
 * ```ts
 * const job = workload('sha256', 'quick', 128);
 * const checksum = job.serial();
 * const sums = await pool.map(kernels.compute, job.inputs, { chunksize: 1 });
 * assert.equal(sums.reduce((a, b) => a + b, 0), checksum);
 * ```
 */
export interface Workload {
  readonly kernel: KernelName;
  /** One line naming the algorithm and the job, e.g. `primes in [10,000,000, 12,100,000) by trial division`. */
  readonly title: string;
  /** The size asked for (for {@link workloadFromParams}: see there). */
  readonly size: WorkloadSize;
  /**
   * The whole job's parameters, `tasks` included: JSON-able, and exactly what
   * `bench/python/speedup.py` takes as `--params`.
   */
  readonly params: Readonly<Record<string, number>>;
  /** The tasks actually made: `inputs.length` (a kernel may clamp the number asked for). */
  readonly tasks: number;
  /** The tasks' inputs, built once and reused every round. */
  readonly inputs: readonly KernelInput[];
  /** Mean bytes of typed-array data shipped per task: the buffer size for `sha256`, 0 for the others. */
  readonly bytesPerTask: number;
  /** `compute()` over every input on this thread: the job's checksum (the sum of the tasks' checksums). */
  serial(): number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** The sha256 buffers of one job together hold at most this much (Python keeps a copy of them too). */
const SHA256_BUFFER_BUDGET = 32 * MiB;
/** Hard limit on the sha256 buffers of a job rebuilt from params. */
const SHA256_BUFFER_LIMIT = 64 * MiB;
/** The smallest sha256 buffer: past `SHA256_BUFFER_BUDGET / 64` tasks, sha256 clamps `tasks`. */
const SHA256_MIN_BYTES = 64;

/** How one kernel's jobs are sized, cut and built. */
interface KernelPlan {
  /** Each size's job, before it is cut into tasks. */
  readonly sizes: Readonly<Record<WorkloadSize, Readonly<Record<string, number>>>>;
  /** The names of the params (all non-negative safe integers), `tasks` included. */
  readonly keys: readonly string[];
  /** The params of `job` cut into `tasks` tasks, clamped where the kernel cannot cut finer. */
  cut(job: Readonly<Record<string, number>>, tasks: number): Record<string, number>;
  /** Why these params cannot be built, or `undefined` when they can. */
  check(p: Readonly<Record<string, number>>): string | undefined;
  title(p: Readonly<Record<string, number>>): string;
  inputs(p: Readonly<Record<string, number>>): KernelInput[];
  bytesPerTask(p: Readonly<Record<string, number>>): number;
}

const num = (x: number): string => x.toLocaleString('en-US');
const bytes = (x: number): string =>
  x % MiB === 0 ? `${num(x / MiB)} MiB` : x % KiB === 0 ? `${num(x / KiB)} KiB` : `${num(x)} B`;
const get = (p: Readonly<Record<string, number>>, key: string): number => p[key] as number;

/**
 * Task `task`'s sha256 buffer: byte `i` is `(31·i + 17·task) & 255` (period
 * 256, different for every task), as `speedup.py` `pattern()` makes it. Each
 * buffer owns its `ArrayBuffer`: a view into a shared one would be cloned
 * whole with every task.
 */
function pattern(size: number, task: number): Uint8Array {
  const block = new Uint8Array(256);
  for (let i = 0; i < 256; i++) block[i] = (31 * i + 17 * task) & 255;
  const data = new Uint8Array(size);
  for (let at = 0; at < size; at += 256) data.set(size - at >= 256 ? block : block.subarray(0, size - at), at);
  return data;
}

const PLANS: Readonly<Record<KernelName, KernelPlan>> = {
  primes: {
    sizes: {
      default: { lo: 10_000_000, hi: 12_100_000 },
      quick: { lo: 10_000_000, hi: 10_270_000 },
      python: { lo: 10_000_000, hi: 10_052_000 },
      'python-quick': { lo: 10_000_000, hi: 10_007_000 },
    },
    keys: ['lo', 'hi', 'tasks'],
    cut: (job, tasks) => ({ lo: get(job, 'lo'), hi: get(job, 'hi'), tasks }),
    check: (p) => (get(p, 'hi') < get(p, 'lo') ? 'hi must be >= lo' : undefined),
    title: (p) => `primes in [${num(get(p, 'lo'))}, ${num(get(p, 'hi'))}) by trial division`,
    inputs: (p) =>
      splitRange(get(p, 'lo'), get(p, 'hi'), get(p, 'tasks')).map(([lo, hi]) => ({ kind: 'primes', lo, hi })),
    bytesPerTask: () => 0,
  },
  mandelbrot: {
    sizes: {
      default: { width: 1024, height: 1024, maxIter: 700 },
      quick: { width: 1024, height: 1024, maxIter: 76 },
      python: { width: 160, height: 1024, maxIter: 64 },
      'python-quick': { width: 34, height: 1024, maxIter: 32 },
    },
    keys: ['width', 'height', 'maxIter', 'tasks'],
    cut: (job, tasks) => ({ ...job, tasks: Math.min(tasks, get(job, 'height')) }),
    check: (p) =>
      get(p, 'tasks') > get(p, 'height') ? 'tasks must be <= height (one row at least per task)' : undefined,
    title: (p) =>
      `Mandelbrot escape counts of a ${num(get(p, 'width'))}×${num(get(p, 'height'))} image, ` +
      `≤ ${num(get(p, 'maxIter'))} iterations per pixel, rows dealt out cyclically`,
    inputs: (p) =>
      Array.from({ length: get(p, 'tasks') }, (_, t) => ({
        kind: 'mandelbrot',
        width: get(p, 'width'),
        height: get(p, 'height'),
        maxIter: get(p, 'maxIter'),
        rowStart: t,
        rowStep: get(p, 'tasks'),
      })),
    bytesPerTask: () => 0,
  },
  sha256: {
    // `hashed`: total bytes hashed by the job; `bytes`: the largest buffer per task.
    sizes: {
      default: { hashed: 800 * MiB, bytes: 256 * KiB },
      quick: { hashed: 96 * MiB, bytes: 256 * KiB },
      python: { hashed: 480 * MiB, bytes: 256 * KiB },
      'python-quick': { hashed: 64 * MiB, bytes: 256 * KiB },
    },
    keys: ['bytes', 'rounds', 'tasks'],
    cut: (job, asked) => {
      const tasks = Math.min(asked, SHA256_BUFFER_BUDGET / SHA256_MIN_BYTES);
      const hashed = get(job, 'hashed');
      // The fewest rounds that keep every buffer within its cap, then the
      // buffer that makes the bytes hashed `hashed` (exactly, for powers of two).
      const cap = Math.min(get(job, 'bytes'), Math.floor(SHA256_BUFFER_BUDGET / tasks));
      const rounds = Math.ceil(hashed / (tasks * cap));
      return { bytes: Math.max(1, Math.floor(hashed / (tasks * rounds))), rounds, tasks };
    },
    check: (p) =>
      get(p, 'bytes') < 1 || get(p, 'rounds') < 1
        ? 'bytes and rounds must be >= 1'
        : get(p, 'bytes') * get(p, 'tasks') > SHA256_BUFFER_LIMIT
          ? `bytes × tasks must be <= ${bytes(SHA256_BUFFER_LIMIT)}`
          : undefined,
    title: (p) =>
      `SHA-256 of ${num(get(p, 'tasks'))} buffers of ${bytes(get(p, 'bytes'))}, each fed ${num(get(p, 'rounds'))} times ` +
      `(${bytes(get(p, 'tasks') * get(p, 'bytes') * get(p, 'rounds'))} hashed)`,
    inputs: (p) =>
      Array.from({ length: get(p, 'tasks') }, (_, t) => ({
        kind: 'sha256',
        data: pattern(get(p, 'bytes'), t),
        rounds: get(p, 'rounds'),
      })),
    bytesPerTask: (p) => get(p, 'bytes'),
  },
  matmul: {
    sizes: {
      default: { rows: 24_000, n: 192 },
      quick: { rows: 3_000, n: 192 },
      python: { rows: 300, n: 192 },
      'python-quick': { rows: 128, n: 96 },
    },
    keys: ['rows', 'n', 'tasks'],
    cut: (job, tasks) => ({ rows: get(job, 'rows'), n: get(job, 'n'), tasks: Math.min(tasks, get(job, 'rows')) }),
    check: (p) => (get(p, 'tasks') > get(p, 'rows') ? 'tasks must be <= rows (one row at least per task)' : undefined),
    title: (p) =>
      `C = A×B for a ${num(get(p, 'rows'))}×${num(get(p, 'n'))} A and a ${num(get(p, 'n'))}×${num(get(p, 'n'))} B, Float64, dot products with Bᵀ`,
    inputs: (p) =>
      splitRange(0, get(p, 'rows'), get(p, 'tasks')).map(([row0, row1]) => ({
        kind: 'matmul',
        n: get(p, 'n'),
        row0,
        row1,
      })),
    bytesPerTask: () => 0,
  },
};

function plan(kernel: KernelName): KernelPlan {
  if (!Object.hasOwn(PLANS, kernel)) {
    throw new RangeError(`kernel must be one of ${KERNEL_NAMES.join(', ')}: received ${JSON.stringify(kernel)}`);
  }
  return PLANS[kernel];
}

/**
 * The job of `kernel` at `size`, cut into `tasks` tasks.
 *
 * The total work is the same whatever `tasks` is, within ±15% for 16 to
 * 1024 tasks: the cut changes, not the job. Where a kernel cannot cut finer,
 * it makes fewer tasks (`Workload.tasks`):
 * - `primes`: never clamps ([lo, hi) cut into `tasks` consecutive ranges);
 * - `mandelbrot`: at most `height` (1024) tasks, row `y` going to task `y mod tasks`;
 * - `matmul`: at most `rows` tasks (24,000 / 3,000 / 300 / 128 for default /
 *   quick / python / python-quick), consecutive row blocks;
 * - `sha256`: every task has its own buffer of at most
 *   `min(256 KiB, 32 MiB / tasks)` bytes (256 KiB up to 128 tasks, 32 KiB at
 *   1024; never more than 32 MiB in all), fed `rounds` times: the fewest
 *   rounds that respect that cap, then the buffer size that keeps the bytes
 *   hashed constant (exactly for powers of two, within `tasks × rounds`
 *   bytes otherwise); at most 524,288 tasks (64-byte buffers).
 *
 * @example
 * ```ts
 * const job = workload('matmul', 'default', 1024);
 * job.tasks;  // 750: one row each
 * job.params; // { n: 750, tasks: 750 }
 * ```
 * @throws {RangeError} when `tasks` is not a positive integer, or `kernel` or `size` is unknown.
 */
export function workload(kernel: KernelName, size: WorkloadSize, tasks: number): Workload {
  const p = plan(kernel);
  if (!SIZES.includes(size))
    throw new RangeError(`size must be one of ${SIZES.join(', ')}: received ${JSON.stringify(size)}`);
  if (!Number.isSafeInteger(tasks) || tasks < 1)
    throw new RangeError(`tasks must be a positive integer: received ${tasks}`);
  return build(kernel, p, p.cut(p.sizes[size], tasks), size);
}

/**
 * The job that `params` describe, as recorded in `Workload.params` (or sent
 * to `speedup.py`): used to check a Python checksum from Node. `size` is the
 * one given, else the size whose preset gives these very params, else
 * `'default'` (params made by hand).
 *
 * @example
 * ```ts
 * const py = await runPython<{ kernel: KernelName; params: Record<string, number>; checksum: number }>(
 *   python, 'speedup.py', ['--kernel', 'primes', '--params', JSON.stringify(job.params), '--workers', '1'],
 * );
 * assert.equal(py.checksum, workloadFromParams(py.kernel, py.params).serial());
 * ```
 * @throws {RangeError} when `kernel` is unknown, a param is missing, extra or not a non-negative safe
 *   integer, `tasks` is 0, or the params cannot be built (e.g. more matmul tasks than rows).
 */
export function workloadFromParams(
  kernel: KernelName,
  params: Readonly<Record<string, number>>,
  size?: WorkloadSize,
): Workload {
  const p = plan(kernel);
  const keys = Object.keys(params);
  for (const key of keys) {
    if (!p.keys.includes(key)) throw new RangeError(`params.${key} is not a ${kernel} param (${p.keys.join(', ')})`);
  }
  const exact: Record<string, number> = {};
  for (const key of p.keys) {
    const value = params[key];
    if (value === undefined || !Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`params.${key} must be a non-negative integer: received ${value}`);
    }
    exact[key] = value;
  }
  if (get(exact, 'tasks') < 1) throw new RangeError(`params.tasks must be a positive integer: received 0`);
  const problem = p.check(exact);
  if (problem !== undefined) throw new RangeError(`${kernel} params ${JSON.stringify(exact)}: ${problem}`);
  const same = (s: WorkloadSize): boolean =>
    p.keys.every((key) => p.cut(p.sizes[s], get(exact, 'tasks'))[key] === exact[key]);
  return build(kernel, p, exact, size ?? SIZES.find(same) ?? 'default');
}

function build(kernel: KernelName, p: KernelPlan, params: Record<string, number>, size: WorkloadSize): Workload {
  const inputs = p.inputs(params);
  return {
    kernel,
    title: p.title(params),
    size,
    params: Object.freeze(params),
    tasks: inputs.length,
    inputs: Object.freeze(inputs),
    bytesPerTask: p.bytesPerTask(params),
    serial(): number {
      let sum = 0;
      for (const input of inputs) sum += compute(input);
      return sum;
    },
  };
}
