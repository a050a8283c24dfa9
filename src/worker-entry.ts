/**
 * Starting corepool's own worker modules (the `Process` host, the channel
 * hub) from their URL, compiled or from source.
 *
 * Run from source, the module is TypeScript, and Node 20 does not carry a
 * loader given with `--import tsx` into worker threads: the thread then
 * registers tsx itself before importing the module (as task.ts does for task
 * modules).
 *
 * @module
 */

import { Worker, type WorkerOptions } from 'node:worker_threads';
import { findTsx } from './task.js';

/**
 * The URL of corepool's worker module `name` (under `workers/`), seen from
 * the module at `from` (an `import.meta.url` under `src/`, one folder deep or
 * `depth` folders deep): `.ts` when running from source, `.js` when compiled.
 *
 * @example
 * ```ts
 * const hostUrl = workerModule('process-host', import.meta.url);
 * ```
 */
export function workerModule(name: string, from: string, depth = 1): URL {
  const up = '../'.repeat(depth);
  return new URL(`${up}workers/${name}.${from.endsWith('.ts') ? 'ts' : 'js'}`, from);
}

/**
 * Starts a worker thread running the module at `url` (registering tsx first
 * when it is TypeScript). `what` names it in the error when no tsx is found.
 *
 * @example
 * ```ts
 * const worker = startModuleWorker(workerModule('hub', import.meta.url, 2), { workerData }, 'the channel hub');
 * ```
 * @throws {Error} when the module is TypeScript and no tsx is installed.
 */
export function startModuleWorker(url: URL, options: WorkerOptions, what: string): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const tsx = findTsx(url.href, `${what} ${url.href}`);
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
