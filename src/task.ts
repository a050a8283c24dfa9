/**
 * Tasks: functions that a worker can find by reference. A reference is the URL
 * of the module that defines the function plus the function's name; the worker
 * imports the module (once) and looks the name up, first among the functions
 * that module registered through {@link defineTasks}, then among its exports.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe } from './check.js';
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
    throw new TypeError(`${what} must be a module URL such as import.meta.url: received ${describe(moduleUrl)}`);
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
    throw new TypeError(`defineTasks(fns) must be an object of functions: received ${describe(fns)}`);
  }
  for (const [name, fn] of Object.entries(fns)) {
    if (typeof fn !== 'function') {
      throw new TypeError(`defineTasks(fns).${name} must be a function: received ${describe(fn)}`);
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
    throw new TypeError(`taskRef(name) must be a non-empty string: received ${describe(name)}`);
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
    throw new TypeError(
      `${what} must be a task made by defineTasks() or taskRef(): received ${describe(value)}` +
        (typeof value === 'function' ? ' (a plain function cannot be found by a worker)' : ''),
    );
  }
  return location;
}

const loading = new Map<string, Promise<unknown>>();

/**
 * The target of a package's `exports` entry under the conditions an `import`
 * in Node matches (`import`, `node`, `default`), found as Node finds it: the
 * first matching key in the object's order, nested entries followed.
 */
function importTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  for (const [condition, value] of Object.entries(entry)) {
    if (condition !== 'import' && condition !== 'node' && condition !== 'default') continue;
    const target = importTarget(value);
    if (target !== undefined) return target;
  }
  return undefined;
}

/**
 * The URL of tsx's ESM API (`tsx/esm/api`) for a worker thread that must
 * load the TypeScript module `what` at `moduleUrl`. tsx is looked up as a
 * package that module imports, from the module's own directory up, so the
 * tsx installed in the user's project is the one used; then from corepool's
 * own directory (a clone of corepool run from its sources). A tsx that only
 * the main thread sees, such as a copy that `npx tsx` fetched without
 * installing it, is neither: on Node 20 its loader hooks stay in the main
 * thread.
 *
 * Node 20 resolves a bare name from another module's place only for
 * `require` (`import.meta.resolve` takes no parent without a flag), and
 * tsx's CommonJS build of this API registers a loader path that does not
 * exist, so the package is found by its package.json and the API's ESM file
 * read from its `exports`.
 *
 * @example
 * ```ts
 * const api = await import(findTsx(moduleUrl, `task module ${moduleUrl}`));
 * api.register(); // this thread now imports .ts modules
 * ```
 * @throws {Error} when neither place sees tsx; the message says how to install it.
 */
export function findTsx(moduleUrl: string, what: string): string {
  const places = [...(moduleUrl.startsWith('file:') ? [moduleUrl] : []), import.meta.url];
  let cause: unknown;
  for (const place of places) {
    try {
      const manifest = createRequire(place).resolve('tsx/package.json');
      const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, unknown> };
      const target = importTarget(exports?.['./esm/api']);
      if (target === undefined) throw new Error(`${manifest} exports no ./esm/api for import`);
      return pathToFileURL(join(dirname(manifest), target)).href;
    } catch (error) {
      cause ??= error;
    }
  }
  throw new Error(
    `${what} is TypeScript, and worker threads load tsx from the project's node_modules: none was found above ` +
      `${places.map((place) => dirname(fileURLToPath(place))).join(' or above ')}. A tsx run by \`npx tsx\` ` +
      'without installing it is not visible to worker threads. Install it in the project: ' +
      '`npm install --save-dev tsx`, or compile the module to JavaScript',
    { cause },
  );
}

let typescript: Promise<void> | undefined;

/**
 * Node 20 does not carry `--import tsx` loader hooks into worker threads, so
 * a worker asked for a TypeScript module registers tsx in its own thread
 * first (once; after a failure, a later module may find a tsx of its own).
 * With compiled tasks this never runs.
 */
function loadTypeScript(moduleUrl: string): Promise<void> {
  typescript ??= (async () => {
    const api = (await import(findTsx(moduleUrl, `task module ${moduleUrl}`))) as { register(): unknown };
    api.register();
  })().catch((error: unknown) => {
    typescript = undefined;
    throw error;
  });
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
