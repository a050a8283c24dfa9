/**
 * Runs the Python peers of the benchmarks (`bench/python/*.py`, standard
 * library only) and reads their one-line JSON answer.
 *
 * The interpreter is `$PYTHON` or `python3`. When there is none, a bench says
 * so (`python3: skipped (not found)`) and goes on.
 *
 * @module
 */

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/**
 * The interpreter found: its command and `--version` answer.
 *
 * @example
 * ```ts
 * const py: PythonInfo | undefined = await findPython(); // { command: 'python3', version: '3.11.7' }
 * ```
 */
export interface PythonInfo {
  readonly command: string;
  /** e.g. `3.11.7`. */
  readonly version: string;
}

let found: Promise<PythonInfo | undefined> | undefined;

function run(command: string, args: readonly string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

/**
 * The Python interpreter (`$PYTHON`, else `python3`), or `undefined` when it
 * cannot be run.
 *
 * @example
 * ```ts
 * const py = await findPython();
 * console.log(py ? `python ${py.version}` : 'python3: skipped (not found)');
 * ```
 */
export function findPython(): Promise<PythonInfo | undefined> {
  found ??= (async () => {
    const command = process.env.PYTHON || 'python3';
    try {
      const { stdout, stderr } = await run(command, ['--version'], 10_000);
      const version = /Python\s+(\S+)/.exec(`${stdout} ${stderr}`)?.[1];
      return version === undefined ? undefined : { command, version };
    } catch {
      return undefined;
    }
  })();
  return found;
}

/**
 * Runs `bench/python/<script>` with `args` in isolated mode (`python3 -I`)
 * and parses the last line it prints as JSON.
 *
 * @example
 * ```ts
 * const py = await findPython();
 * if (py) console.log(await runPython<{ rates: number[] }>(py, 'overhead.py', ['--tasks', '20000']));
 * ```
 * @throws {Error} when the script fails, times out or prints no JSON; the message carries its stderr.
 */
export async function runPython<T>(
  python: PythonInfo,
  script: string,
  args: readonly string[],
  timeoutMs = 300_000,
): Promise<T> {
  const path = join(repoRoot(), 'bench', 'python', script);
  let out: { stdout: string; stderr: string };
  try {
    // -I (isolated): no PYTHON* variables, no user site, and the script's own
    // directory is not on sys.path, so a sibling file named like a standard
    // module (bench/python/queue.py) cannot shadow it.
    out = await run(python.command, ['-I', path, ...args], timeoutMs);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`${python.command} ${script} failed: ${(err as Error).message}\n${stderr}`, { cause: err });
  }
  const line = out.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch (cause) {
    throw new Error(`${python.command} ${script} printed no JSON line: ${JSON.stringify(line.slice(0, 200))}`, {
      cause,
    });
  }
}
