/**
 * Writes a bench's result as JSON to
 * `bench/results/<YYYY-MM-DD>-<hostname>-<bench>.json`, one file per bench,
 * machine and day (a rerun the same day replaces it).
 *
 * @module
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
}

/**
 * Saves `result` with the machine and the code ({@link sourceState}) it was
 * measured on; returns the file's path.
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
  const dir = join(repoRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const day = machine.date.slice(0, 10);
  const host = machine.hostname.replace(/[^A-Za-z0-9._-]/g, '_');
  const tags = [options.quick ? 'quick' : '', options.disturbed ? 'disturbed' : ''].filter((t) => t !== '');
  const path = join(dir, `${[day, host, bench, ...tags].join('-')}.json`);
  writeFileSync(path, `${JSON.stringify({ bench, machine, source: sourceState(), ...result }, null, 2)}\n`);
  return path;
}
