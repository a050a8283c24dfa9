/**
 * Command-line options shared by the benches: `--quick`, `--runs N`,
 * `--warmup N`, `--no-python`, `--help`, plus each bench's own numeric or
 * list options.
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
  /** `--runs N` when given. */
  readonly runs: number | undefined;
  /** `--warmup N` when given. */
  readonly warmup: number | undefined;
  /** A bench-specific option as a positive integer, or `fallback`. */
  int(name: string, fallback: number): number;
  /** A bench-specific option as a comma-separated list of positive integers, or `fallback`. */
  ints(name: string, fallback: readonly number[]): number[];
}

function positive(name: string, raw: string): number {
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer: received ${raw}`);
  return n;
}

/**
 * Parses `process.argv`; prints `usage` and exits on `--help`. `extra` names
 * the bench's own options and describes them for the usage text.
 *
 * @example
 * ```ts
 * const args = benchArgs('node dist/bench/overhead.js', { tasks: 'tasks in flight per round (20000)' });
 * const tasks = args.int('tasks', args.quick ? 5_000 : 20_000);
 * ```
 * @throws {TypeError|RangeError} on an unknown option or a bad number.
 */
export function benchArgs(usage: string, extra: Readonly<Record<string, string>> = {}): BenchArgs {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'no-python': { type: 'boolean', default: false },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      help: { type: 'boolean', default: false },
      ...Object.fromEntries(Object.keys(extra).map((k) => [k, { type: 'string' as const }])),
    },
    strict: true,
  });
  if (values.help) {
    const lines = [
      `usage: ${usage} [options]`,
      '  --quick        less work and fewer rounds',
      '  --runs N       recorded rounds per peer',
      '  --warmup N     unrecorded rounds per peer first',
      '  --no-python    skip the Python peer',
      ...Object.entries(extra).map(([k, d]) => `  --${`${k} N`.padEnd(12)} ${d}`),
    ];
    console.log(lines.join('\n'));
    process.exit(0);
  }
  const str = (name: string): string | undefined => {
    const v = (values as Record<string, string | boolean | undefined>)[name];
    return typeof v === 'string' ? v : undefined;
  };
  const runs = str('runs');
  const warmup = str('warmup');
  return {
    quick: values.quick === true,
    python: values['no-python'] !== true,
    runs: runs === undefined ? undefined : positive('runs', runs),
    warmup: warmup === undefined ? undefined : Number(warmup) === 0 ? 0 : positive('warmup', warmup),
    int(name, fallback) {
      const v = str(name);
      return v === undefined ? fallback : positive(name, v);
    },
    ints(name, fallback) {
      const v = str(name);
      return v === undefined ? [...fallback] : v.split(',').map((x) => positive(name, x.trim()));
    },
  };
}
