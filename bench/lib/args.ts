/**
 * Command-line options shared by the benches: `--quick`, `--runs N`,
 * `--warmup N`, `--no-python`, `--json`, `--out DIR`, `--help`, plus each
 * bench's own options. A bad flag or value prints what was wrong and the usage
 * to stderr and exits with status 2.
 *
 * @module
 */

import { parseArgs } from 'node:util';

/**
 * The parsed command line of a bench.
 *
 * @example
 * ```ts
 * const args: BenchArgs = benchArgs('node dist/bench/speedup.js', { workers: 'pool widths' });
 * const widths = args.ints('workers', [1, 2]);
 * ```
 */
export interface BenchArgs {
  /** `--quick`: less work and fewer rounds, for a smoke run. */
  readonly quick: boolean;
  /** `--no-python`: skip the Python peer even when `python3` exists. */
  readonly python: boolean;
  /** `--json`: print the result as JSON on stdout instead of tables. */
  readonly json: boolean;
  /** `--out DIR` when given: where results are written instead of `bench/results/`. */
  readonly out: string | undefined;
  /** `--runs N` when given. */
  readonly runs: number | undefined;
  /** `--warmup N` when given. */
  readonly warmup: number | undefined;
  /** A bench-specific option's text, or `undefined` when not given. */
  string(name: string): string | undefined;
  /** A bench-specific option as a positive integer, or `fallback`. */
  int(name: string, fallback: number): number;
  /** A bench-specific option as a comma-separated list of positive integers, or `fallback`. */
  ints(name: string, fallback: readonly number[]): number[];
  /**
   * A bench-specific option as a comma-separated list of names, each one of
   * `allowed`, or `fallback`.
   */
  names<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): T[];
  /** Prints `message` and the usage to stderr and exits with status 2. */
  fail(message: string): never;
}

/**
 * Parses `process.argv`; prints `usage` and exits 0 on `--help`, exits 2 with
 * the usage on an unknown option or a bad value. `extra` names the bench's own
 * options (each takes a value) and describes them for the usage text.
 *
 * @example
 * ```ts
 * const args = benchArgs('node dist/bench/overhead.js', { tasks: 'tasks in flight per round (20000)' });
 * const tasks = args.int('tasks', args.quick ? 5_000 : 20_000);
 * ```
 */
export function benchArgs(usage: string, extra: Readonly<Record<string, string>> = {}): BenchArgs {
  const usageText = [
    `usage: ${usage} [options]`,
    '  --quick        less work and fewer rounds',
    '  --runs N       recorded rounds per peer',
    '  --warmup N     unrecorded rounds per peer first',
    '  --no-python    skip the Python peer',
    '  --json         print the result as JSON on stdout instead of tables',
    '  --out DIR      write results to DIR instead of bench/results/',
    ...Object.entries(extra).map(([k, d]) => `  --${`${k} X`.padEnd(12)} ${d}`),
    '  --help         this text',
  ].join('\n');
  const fail = (message: string): never => {
    process.stderr.write(`error: ${message}\n${usageText}\n`);
    process.exit(2);
  };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        'no-python': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        out: { type: 'string' },
        runs: { type: 'string' },
        warmup: { type: 'string' },
        help: { type: 'boolean', default: false },
        ...Object.fromEntries(Object.keys(extra).map((k) => [k, { type: 'string' as const }])),
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return fail((err as Error).message);
  }
  if (values.help === true) {
    console.log(usageText);
    process.exit(0);
  }
  const str = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const positive = (name: string, raw: string): number => {
    const n = Number(raw.trim().replace(/_/g, ''));
    if (raw.trim() === '' || !Number.isInteger(n) || n < 1) {
      return fail(`--${name} takes positive integers: received ${JSON.stringify(raw)}`);
    }
    return n;
  };
  const runs = str('runs');
  const warmup = str('warmup');
  return {
    quick: values.quick === true,
    python: values['no-python'] !== true,
    json: values.json === true,
    out: str('out'),
    runs: runs === undefined ? undefined : positive('runs', runs),
    warmup: warmup === undefined ? undefined : warmup.trim() === '0' ? 0 : positive('warmup', warmup),
    string: str,
    int(name, fallback) {
      const v = str(name);
      return v === undefined ? fallback : positive(name, v);
    },
    ints(name, fallback) {
      const v = str(name);
      return v === undefined ? [...fallback] : v.split(',').map((x) => positive(name, x));
    },
    names(name, allowed, fallback) {
      const v = str(name);
      if (v === undefined) return [...fallback];
      return v.split(',').map((raw) => {
        const x = raw.trim();
        if (!(allowed as readonly string[]).includes(x)) {
          return fail(`--${name} takes one or more of ${allowed.join(', ')}: received ${JSON.stringify(x)}`);
        }
        return x as (typeof allowed)[number];
      });
    },
    fail,
  };
}
