/**
 * The speed-up benchmark's kernels and jobs: known values, the same checksum
 * however a job is cut, bad input refused, the same answer from `compute`,
 * the raw-piscina handler, corepool and piscina threads, and Python's
 * `bench/python/speedup.py` (when `python3` is present). Work totals are
 * checked by counting work, never by timing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Piscina } from 'piscina';
import { workerUrl } from '../bench/lib/paths.js';
import { findPython, runPython } from '../bench/lib/python.js';
import { KERNEL_NAMES, type KernelName, workload, workloadFromParams } from '../bench/lib/workloads.js';
import { Pool } from '../src/index.js';
import { compute, type KernelInput } from '../workers/bench-algorithms.js';
import { kernels } from '../workers/bench-kernels.js';
import handle, { type BenchPayload } from '../workers/bench-piscina.js';

const T = { timeout: 30_000 };
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Small jobs of every kernel, with awkward cuts (uneven ranges, a tail shorter than the 256-byte period). */
const TINY: Readonly<Record<KernelName, Readonly<Record<string, number>>>> = {
  primes: { lo: 1_000_000, hi: 1_003_000, tasks: 7 },
  mandelbrot: { width: 120, height: 90, maxIter: 100, tasks: 7 },
  sha256: { bytes: 1000, rounds: 3, tasks: 5 },
  matmul: { rows: 37, n: 23, tasks: 4 },
};

test('primes: 25 primes below 100, however the range is cut', T, () => {
  assert.equal(compute({ kind: 'primes', lo: 0, hi: 100 }), 25);
  for (const tasks of [1, 3, 16]) assert.equal(workloadFromParams('primes', { lo: 0, hi: 100, tasks }).serial(), 25);
});

test('mandelbrot: a 2×2 image counted by hand; rows dealt out with any step sum to the whole', T, () => {
  // Row 0 (im = -1.25): c = -2 - 1.25i escapes after 1 step, c = -0.75 - 1.25i after 3.
  // Row 1 (im = 0): c = -2 and c = -0.75 never escape (maxIter each).
  const pixel = (rowStart: number): number =>
    compute({ kind: 'mandelbrot', width: 2, height: 2, maxIter: 50, rowStart, rowStep: 2 });
  assert.equal(pixel(0), 1 + 3);
  assert.equal(pixel(1), 50 + 50);
  const whole = compute({ kind: 'mandelbrot', width: 64, height: 48, maxIter: 100, rowStart: 0, rowStep: 1 });
  for (const step of [2, 3, 7, 48, 100]) {
    let total = 0;
    for (let start = 0; start < step; start++) {
      total += compute({ kind: 'mandelbrot', width: 64, height: 48, maxIter: 100, rowStart: start, rowStep: step });
    }
    assert.equal(total, whole, `rowStep ${step}`);
  }
});

test('sha256: the first 4 bytes of the digest of data fed `rounds` times, big-endian', T, () => {
  const abc = new TextEncoder().encode('abc');
  assert.equal(compute({ kind: 'sha256', data: abc, rounds: 1 }), 0xba7816bf); // FIPS 180-2 "abc"
  const digest = createHash('sha256').update('abcabcabc').digest();
  assert.equal(compute({ kind: 'sha256', data: abc, rounds: 3 }), digest.readUInt32BE(0));

  // The job's buffers: byte i of task t is (31i + 17t) & 255, as speedup.py builds them.
  const { bytes, rounds, tasks } = TINY.sha256 as { bytes: number; rounds: number; tasks: number };
  let expected = 0;
  for (let t = 0; t < tasks; t++) {
    const data = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) data[i] = (31 * i + 17 * t) & 255;
    const hash = createHash('sha256');
    for (let r = 0; r < rounds; r++) hash.update(data);
    expected += hash.digest().readUInt32BE(0);
  }
  const job = workloadFromParams('sha256', TINY.sha256);
  assert.equal(job.serial(), expected);
  assert.equal(job.bytesPerTask, bytes);
  for (const input of job.inputs) {
    assert.ok(input.kind === 'sha256');
    assert.equal(input.data.buffer.byteLength, bytes, 'every buffer owns its ArrayBuffer');
  }
});

test('matmul: row blocks of A×B, weighted, agree with a naive triple loop', T, () => {
  const n = 7;
  const a = (i: number, j: number): number => ((i * n + j) % 17) - 8;
  const b = (i: number, j: number): number => ((i * 3 + j * 5) % 13) - 6;
  const rowSum = (i: number): number => {
    let s = 0;
    for (let j = 0; j < n; j++) {
      let c = 0;
      for (let k = 0; k < n; k++) c += a(i, k) * b(k, j);
      s += c * (((i + 2 * j) % 7) + 1);
    }
    return s;
  };
  for (const [row0, row1] of [
    [0, 7],
    [0, 1],
    [3, 5],
    [6, 7],
    [4, 4],
    [5, 16], // A has more rows than columns: rows past n are made the same way
  ] as const) {
    let expected = 0;
    for (let i = row0; i < row1; i++) expected += rowSum(i);
    assert.equal(compute({ kind: 'matmul', n, row0, row1 }), expected, `rows [${row0}, ${row1})`);
  }
  assert.equal(compute({ kind: 'matmul', n: 2, row0: 0, row1: 2 }), 69 - 3 * 6 + 2 * 51 - 4 * 4);
});

test('a job has the same checksum however many tasks it is cut into', T, () => {
  for (const kernel of KERNEL_NAMES) {
    if (kernel === 'sha256') continue; // its buffers depend on the task: checked below
    const checksums = [1, 3, 16].map((tasks) => workloadFromParams(kernel, { ...TINY[kernel], tasks }).serial());
    assert.deepEqual(checksums, [checksums[0], checksums[0], checksums[0]], kernel);
  }
  const one = workloadFromParams('sha256', { bytes: 256, rounds: 4, tasks: 1 }).serial();
  const fed = createHash('sha256');
  const data = Buffer.from(Array.from({ length: 256 }, (_, i) => (31 * i) & 255));
  for (let r = 0; r < 4; r++) fed.update(data);
  assert.equal(one, fed.digest().readUInt32BE(0));
});

test('workload(): the same total work at 16, 128 and 1024 tasks; clamped where a kernel cannot cut finer', T, () => {
  const hashed = (p: Readonly<Record<string, number>>): number =>
    (p.bytes as number) * (p.rounds as number) * (p.tasks as number);
  for (const size of ['default', 'quick', 'python', 'python-quick'] as const) {
    const jobs = [16, 128, 1024].map((tasks) => workload('sha256', size, tasks));
    const base = hashed(jobs[1]!.params);
    for (const job of jobs) {
      assert.ok(Math.abs(hashed(job.params) / base - 1) <= 0.15, `${size} ${job.title}`);
      assert.ok(job.bytesPerTask * job.tasks <= 64 * 1024 * 1024, `${size}: at most 64 MiB of buffers`);
    }
    assert.ok(jobs[1]!.bytesPerTask >= 128 * 1024, `${size}: at least 128 KiB per task at 128 tasks`);
    for (const tasks of [3, 109, 3000]) {
      const job = workload('sha256', size, tasks);
      assert.ok(Math.abs(hashed(job.params) / base - 1) <= 0.01, `${size} ${job.title}`);
    }
    for (const kernel of ['primes', 'mandelbrot', 'matmul'] as const) {
      const [a, b, c] = [16, 128, 1024].map((tasks) => workload(kernel, size, tasks));
      const { tasks: _a, ...job } = a!.params;
      for (const other of [b!, c!]) {
        const { tasks: _o, ...rest } = other.params;
        assert.deepEqual(rest, job, `${kernel} ${size}`);
        assert.equal(other.size, size);
      }
      assert.equal(b!.tasks, 128, `${kernel} ${size}: 128 tasks are not clamped`);
      assert.equal(c!.tasks, c!.inputs.length);
      assert.equal(c!.params.tasks, c!.tasks);
    }
  }
  const matmul = workload('matmul', 'python-quick', 1024);
  assert.equal(matmul.tasks, matmul.params.rows, 'matmul: one row per task at most');
  assert.equal(workload('mandelbrot', 'default', 5000).tasks, workload('mandelbrot', 'default', 1).params.height);
  assert.equal(workload('primes', 'quick', 16).bytesPerTask, 0);
  const rebuilt = workloadFromParams('matmul', matmul.params);
  assert.equal(rebuilt.size, 'python-quick');
  assert.equal(rebuilt.title, matmul.title);
  assert.equal(workloadFromParams('primes', TINY.primes).size, 'default', 'hand-made params fall back to default');
});

test('bad input is refused', T, () => {
  assert.throws(() => workload('primes', 'quick', 0), {
    name: 'RangeError',
    message: /tasks must be a positive integer: received 0/,
  });
  assert.throws(() => workload('primes', 'quick', 1.5), RangeError);
  assert.throws(() => workload('nope' as KernelName, 'quick', 4), {
    name: 'RangeError',
    message: /kernel must be one of/,
  });
  assert.throws(() => workload('primes', 'huge' as 'quick', 4), { name: 'RangeError', message: /size must be one of/ });
  assert.throws(() => workloadFromParams('nope' as KernelName, { tasks: 1 }), RangeError);
  assert.throws(() => workloadFromParams('primes', { lo: 0, hi: 10, tasks: 0 }), /params.tasks/);
  assert.throws(() => workloadFromParams('primes', { lo: 0, tasks: 1 }), /params.hi/);
  assert.throws(() => workloadFromParams('primes', { lo: 0, hi: 10, tasks: 1, extra: 2 }), /params.extra/);
  assert.throws(() => workloadFromParams('primes', { lo: 10, hi: 0, tasks: 1 }), /hi must be >= lo/);
  assert.throws(() => workloadFromParams('matmul', { rows: 4, n: 8, tasks: 5 }), /tasks must be <= rows/);
  assert.throws(() => workloadFromParams('mandelbrot', { width: 4, height: 4, maxIter: 9, tasks: 5 }), /tasks/);
  assert.throws(() => workloadFromParams('sha256', { bytes: 1 << 20, rounds: 1, tasks: 65 }), /64 MiB/);
  const bogus = { kind: 'nope' } as unknown as KernelInput;
  assert.throws(() => compute(bogus), { name: 'TypeError', message: /unknown kernel input kind: "nope"/ });
  assert.throws(() => handle(bogus as unknown as BenchPayload), TypeError);
});

test('the raw-piscina handler and compute agree, on this thread and in piscina and corepool workers', T, async () => {
  const jobs = KERNEL_NAMES.map((kernel) => workloadFromParams(kernel, TINY[kernel]));
  for (const job of jobs) {
    for (const input of job.inputs) assert.equal(handle(input), compute(input), job.title);
  }
  assert.equal(handle({ kind: 'noop' }), undefined);
  assert.deepEqual(handle({ kind: 'square', items: [1, 2, 3] }), [1, 4, 9]);
  assert.equal(handle({ kind: 'bytes', data: new Uint8Array(4096) }), 4096);

  const piscina = new Piscina<BenchPayload, number>({
    filename: workerUrl('bench-piscina'),
    minThreads: 2,
    maxThreads: 2,
  });
  const pool = new Pool({ processes: 2 });
  try {
    for (const job of jobs) {
      const expected = job.serial();
      assert.equal(
        sum(await Promise.all(job.inputs.map((input) => piscina.run(input)))),
        expected,
        `piscina ${job.title}`,
      );
      assert.equal(
        sum(await pool.map(kernels.compute, job.inputs, { chunksize: 1 })),
        expected,
        `corepool ${job.title}`,
      );
    }
    assert.equal(await pool.apply(kernels.byteLength, [new Uint8Array(1 << 16)]), 1 << 16);
    assert.equal(await piscina.run({ kind: 'bytes', data: new Uint8Array(1 << 16) }), 1 << 16);
  } finally {
    await pool.terminate();
    await piscina.destroy();
  }
});

interface PythonSpeedup {
  readonly kernel: KernelName;
  readonly params: Record<string, number>;
  readonly tasks: number;
  readonly checksum: number;
  readonly serial_ms: number[];
  readonly pool_ms: Record<string, number[]>;
}

const pythonJobs: [KernelName, Readonly<Record<string, number>>][] = [
  ...KERNEL_NAMES.map((kernel): [KernelName, Readonly<Record<string, number>>] => [kernel, TINY[kernel]]),
  ['mandelbrot', workload('mandelbrot', 'python-quick', 16).params],
];
for (const [kernel, params] of pythonJobs) {
  test(`speedup.py ${kernel} ${JSON.stringify(params)}: the checksum of workloadFromParams()`, T, async (t) => {
    const python = await findPython();
    if (python === undefined) {
      t.skip('python3 not found');
      return;
    }
    const args = [
      '--kernel',
      kernel,
      '--params',
      JSON.stringify(params),
      '--workers',
      '1',
      '--warmup',
      '0',
      '--runs',
      '1',
    ];
    const out = await runPython<PythonSpeedup>(python, 'speedup.py', args, 25_000);
    const job = workloadFromParams(out.kernel, out.params);
    assert.equal(out.kernel, kernel);
    assert.deepEqual(out.params, params);
    assert.equal(out.tasks, job.tasks);
    assert.equal(out.checksum, job.serial());
    assert.equal(out.serial_ms.length, 1);
    assert.equal(out.pool_ms['1']?.length, 1);
  });
}
