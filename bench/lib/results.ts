/**
 * Writes a bench's result as JSON to
 * `bench/results/<YYYY-MM-DD>-<hostname>-<bench>.json`. Every run gets a file
 * of its own: a rerun the same day is saved as `…-2.json`, `…-3.json`, so
 * nothing measured is overwritten.
 *
 * @module
 */

import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MachineInfo } from './machine.js';
import { repoRoot } from './paths.js';

/**
 * The code a result was measured on.
 *
 * @example
 * ```ts
 * const { commit, modified }: SourceState = sourceState();
 * ```
 */
export interface SourceState {
  /** `git rev-parse HEAD`, or `null` outside a git checkout. */
  readonly commit: string | null;
  /** Files under `src/` and `workers/` that differ from that commit (uncommitted work was measured). */
  readonly modified: string[];
}

/**
 * The commit and the uncommitted changes under `src/` and `workers/`.
 *
 * @example
 * ```ts
 * sourceState(); // { commit: '19db5fc…', modified: ['src/pool.ts'] }
 * ```
 */
export function sourceState(): SourceState {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git('rev-parse', 'HEAD').trim();
    const modified = git('status', '--porcelain', '--', 'src', 'workers')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.slice(3));
    return { commit, modified };
  } catch {
    return { commit: null, modified: [] };
  }
}

/**
 * How a result was measured, when it is not a full, clean run: such a result
 * goes to a file of its own (`…-quick.json`, `…-disturbed.json`) and never
 * replaces the full, clean one.
 *
 * @example
 * ```ts
 * writeResult('speedup', machine, result, { quick: args.quick, disturbed: noise.othersPct > DISTURBED_PCT });
 * ```
 */
export interface WriteOptions {
  /** A `--quick` (smoke) run. */
  readonly quick?: boolean;
  /** Other processes used the CPUs during the run. */
  readonly disturbed?: boolean;
  /** The directory to write to (`--out`); default `bench/results/` of the repository. */
  readonly dir?: string | undefined;
  /** The file's base name instead of `<date>-<host>-<bench>` (tags are still appended). */
  readonly baseName?: string;
  /** More tags for the file name, e.g. `custom` for a run with non-default options. */
  readonly tags?: readonly string[];
  /** Write to this path, taken earlier with {@link reserveResult}, instead of reserving one. */
  readonly path?: string;
}

/**
 * The first choice of a result's path, without writing:
 * `<dir>/<base>[-quick][-disturbed][-tags].<ext>`; {@link reserveResult}
 * appends `-2`, `-3`, … when it is taken.
 *
 * @example
 * ```ts
 * resultPath('speedup', machine, { baseName: '2026-12-01-vm' }, 'svg'); // …/bench/results/2026-12-01-vm.svg
 * ```
 */
export function resultPath(bench: string, machine: MachineInfo, options: WriteOptions = {}, ext = 'json'): string {
  const dir = options.dir ?? join(repoRoot(), 'bench', 'results');
  const day = machine.date.slice(0, 10);
  const host = machine.hostname.replace(/[^A-Za-z0-9._-]/g, '_');
  const base = options.baseName ?? [day, host, bench].join('-');
  const tags = [options.quick ? 'quick' : '', options.disturbed ? 'disturbed' : '', ...(options.tags ?? [])].filter(
    (t) => t !== '',
  );
  return join(dir, `${[base, ...tags].join('-')}.${ext}`);
}

/**
 * Takes the result's file for this run: the first of `resultPath(…)`,
 * `…-2.json`, `…-3.json`, … that does not exist, and whose `siblings` (other
 * extensions to be written beside it, such as `svg`) do not exist either. It
 * is created empty and exclusively, so two runs at once cannot take the same
 * name; returns its path, to pass to {@link writeResult} as `options.path`.
 *
 * @example
 * ```ts
 * const json = reserveResult('speedup', machine, { quick: true }, ['svg']); // …/2026-12-01-vm-speedup-quick-2.json
 * writeFileSync(json.replace(/\.json$/, '.svg'), svg);
 * writeResult('speedup', machine, result, { quick: true, path: json });
 * ```
 * @throws {Error} when the directory cannot be created or the file cannot be created.
 */
export function reserveResult(
  bench: string,
  machine: MachineInfo,
  options: WriteOptions = {},
  siblings: readonly string[] = [],
): string {
  const first = resultPath(bench, machine, options);
  const stem = first.slice(0, -'.json'.length);
  mkdirSync(dirname(first), { recursive: true });
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? stem : `${stem}-${i}`;
    if (siblings.some((ext) => existsSync(`${candidate}.${ext}`))) continue;
    try {
      closeSync(openSync(`${candidate}.json`, 'wx'));
      return `${candidate}.json`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Saves `result` with the machine and the code ({@link sourceState}) it was
 * measured on, to a file of its own ({@link reserveResult}, unless
 * `options.path` names one already taken); returns the file's path.
 *
 * @example
 * ```ts
 * const path = writeResult('overhead', machine, { peers });
 * console.log(`wrote ${path}`);
 * ```
 * @throws {Error} when the file cannot be written.
 */
export function writeResult(
  bench: string,
  machine: MachineInfo,
  result: Record<string, unknown>,
  options: WriteOptions = {},
): string {
  const path = options.path ?? reserveResult(bench, machine, options);
  writeFileSync(path, `${JSON.stringify({ bench, machine, source: sourceState(), ...result }, null, 2)}\n`);
  return path;
}
