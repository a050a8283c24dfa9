/**
 * Tasks: functions that a worker can find by reference. A reference is the URL
 * of the module that defines the function plus the function's name; the worker
 * imports the module (once) and looks the name up, first among the functions
 * that module registered through {@link defineTasks}, then among its exports.
 *
 * @module
 */

import { BootstrapError } from './errors.js';
import { threadGlobal } from './thread-global.js';

const kTask: unique symbol = Symbol.for('corepool.task');

/** Where a task lives: its module's URL and its name there. */
export interface TaskLocation {
  readonly module: string;
  readonly name: string;
}

/** A function tagged with the module and name a worker finds it by. */
export type Task<F extends (...args: never[]) => unknown = (...args: never[]) => unknown> = F & {
  readonly [kTask]: TaskLocation;
};

declare const kSignature: unique symbol;

/** A reference to a task made without importing its module; `F` gives its type. */
export interface TaskRef<F extends (...args: never[]) => unknown = (...args: never[]) => unknown> {
  readonly [kTask]: TaskLocation;
  /** Phantom: carries the task's signature for type inference only; never set. */
  readonly [kSignature]?: F;
}

/** Anything a pool can run: a {@link Task} or a {@link TaskRef}. */
export interface Runnable {
  readonly [kTask]: TaskLocation;
}

/** The argument list of a runnable task. */
export type TaskArgs<T> = T extends (...args: infer A) => unknown
  ? A
  : T extends TaskRef<infer F>
    ? Parameters<F>
    : never;

/** The settled result of a runnable task (a returned Promise is unwrapped). */
export type TaskResult<T> = T extends (...args: never[]) => infer R
  ? Awaited<R>
  : T extends TaskRef<infer F>
    ? Awaited<ReturnType<F>>
    : never;

// One registry per thread, even if this module is loaded twice (as ESM and as
// CommonJS through a loader, or from two copies of corepool).
const registry = threadGlobal('corepool.tasks', () => new Map<string, (...args: unknown[]) => unknown>());

const key = (module: string, name: string): string => `${module}#${name}`;

function checkModuleUrl(moduleUrl: unknown, what: string): asserts moduleUrl is string {
  if (typeof moduleUrl !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(moduleUrl)) {
    throw new TypeError(
      `${what} must be a module URL such as import.meta.url: received ${typeof moduleUrl === 'string' ? JSON.stringify(moduleUrl) : typeof moduleUrl}`,
    );
  }
}

/**
 * Tags each function of `fns` with `moduleUrl` and its key, so a pool can run
 * it by reference, and returns the same functions (still callable in place).
 *
 * @example
 * ```ts
 * // tasks.ts
 * import { defineTasks } from 'corepool';
 * export const { square, sum } = defineTasks(import.meta.url, {
 *   square(n: number) { return n * n; },
 *   sum(a: number, b: number) { return a + b; },
 * });
 * // main.ts
 * const pool = new Pool();
 * await pool.apply(sum, [1, 2]); // 3, computed in a worker
 * ```
 * @throws {TypeError} when `moduleUrl` is not a URL or a member of `fns` is not a function.
 */
export function defineTasks<const T extends Record<string, (...args: never[]) => unknown>>(
  moduleUrl: string,
  fns: T,
): { [K in keyof T]: Task<T[K]> } {
  checkModuleUrl(moduleUrl, 'defineTasks(moduleUrl)');
  if (typeof fns !== 'object' || fns === null) {
    throw new TypeError(
      `defineTasks(fns) must be an object of functions: received ${fns === null ? 'null' : typeof fns}`,
    );
  }
  for (const [name, fn] of Object.entries(fns)) {
    if (typeof fn !== 'function') {
      throw new TypeError(`defineTasks(fns).${name} must be a function: received ${typeof fn}`);
    }
    const location: TaskLocation = { module: moduleUrl, name };
    Object.defineProperty(fn, kTask, { value: location });
    registry.set(key(moduleUrl, name), fn as (...args: unknown[]) => unknown);
  }
  return fns as { [K in keyof T]: Task<T[K]> };
}

/**
 * A reference to the task `name` of the module at `moduleUrl`, made without
 * importing that module here. The type parameter gives the task's signature.
 *
 * @example
 * ```ts
 * const fib = taskRef<(n: number) => number>(new URL('./math.js', import.meta.url).href, 'fib');
 * await pool.apply(fib, [20]); // 6765
 * ```
 * @throws {TypeError} when `moduleUrl` is not a URL or `name` is empty.
 */
export function taskRef<F extends (...args: never[]) => unknown = (...args: never[]) => unknown>(
  moduleUrl: string,
  name: string,
): TaskRef<F> {
  checkModuleUrl(moduleUrl, 'taskRef(moduleUrl)');
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`taskRef(name) must be a non-empty string: received ${JSON.stringify(name)}`);
  }
  return Object.freeze({ [kTask]: Object.freeze({ module: moduleUrl, name }) });
}

/**
 * The location of a runnable task, or a TypeError naming `what` when `value`
 * is not one.
 */
export function locate(value: unknown, what: string): TaskLocation {
  const location =
    (typeof value === 'function' || (typeof value === 'object' && value !== null)) &&
    (value as { [kTask]?: TaskLocation })[kTask];
  if (!location) {
    const shown = typeof value === 'function' ? `function ${value.name || '(anonymous)'}` : typeof value;
    throw new TypeError(
      `${what} must be a task made by defineTasks() or taskRef(): received ${shown}` +
        (typeof value === 'function' ? ' (a plain function cannot be found by a worker)' : ''),
    );
  }
  return location;
}

const loading = new Map<string, Promise<unknown>>();
let typescript: Promise<void> | undefined;

/**
 * Node 20 does not carry `--import tsx` loader hooks into worker threads, so
 * a worker asked for a TypeScript module registers tsx in its own thread
 * first (once). With Node >= 22 or compiled tasks this never runs.
 */
function loadTypeScript(moduleUrl: string): Promise<void> {
  typescript ??= import('tsx/esm/api' as string).then(
    (api: { register(): unknown }) => void api.register(),
    (cause: unknown) => {
      throw new Error(`task module ${moduleUrl} is TypeScript: install tsx or compile it to JavaScript`, { cause });
    },
  );
  return typescript;
}

/** Task modules this thread is importing now (their top-level code may be running). */
const importing = threadGlobal('corepool.importing', () => [] as string[]);

async function importModule(moduleUrl: string): Promise<unknown> {
  if (/\.[cm]?tsx?$/.test(new URL(moduleUrl).pathname)) await loadTypeScript(moduleUrl);
  importing.push(moduleUrl);
  try {
    return await import(moduleUrl);
  } finally {
    importing.splice(importing.lastIndexOf(moduleUrl), 1);
  }
}

/**
 * Throws {@link BootstrapError} when `what` (starting a pool or a process)
 * happens in the top-level code of a task module that a worker is importing:
 * that code runs again in every worker, so each would start threads of its
 * own, without end. Python's spawn start method raises its bootstrapping
 * `RuntimeError` for the same mistake. A pool or process started by a task
 * while it runs is not affected.
 *
 * @example
 * ```ts
 * checkNotBootstrapping('new Pool()'); // in a Pool's constructor
 * ```
 * @throws {BootstrapError} while this thread imports a task module.
 */
export function checkNotBootstrapping(what: string): void {
  const moduleUrl = importing[0];
  if (moduleUrl === undefined) return;
  throw new BootstrapError(
    `${what} was called while a worker thread was importing the task module ${moduleUrl}: ` +
      'the top-level code of a module that defines tasks runs again in every worker, so each worker would ' +
      'start threads of its own, without end. Define the tasks in a module of their own and import it from ' +
      "the main script, or run the main code only in the main thread: `if (isMainThread) { ... }` with isMainThread from 'node:worker_threads' " +
      "(Python's `if __name__ == '__main__':`)",
  );
}

/**
 * Finds the function for `location`, importing its module on first use. Runs
 * in workers.
 */
export async function resolveTask(location: TaskLocation): Promise<(...args: unknown[]) => unknown> {
  const k = key(location.module, location.name);
  const known = registry.get(k);
  if (known) return known;
  let mod = loading.get(location.module);
  if (!mod) {
    mod = importModule(location.module);
    loading.set(location.module, mod);
  }
  const exports = (await mod) as Record<string, unknown>;
  const fn = registry.get(k) ?? exports[location.name];
  if (typeof fn !== 'function') {
    throw new TypeError(
      `task "${location.name}" not found in ${location.module}: it is neither defined with defineTasks() nor exported`,
    );
  }
  registry.set(k, fn as (...args: unknown[]) => unknown);
  return fn as (...args: unknown[]) => unknown;
}
