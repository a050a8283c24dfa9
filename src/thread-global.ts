/**
 * A value shared by every copy of corepool loaded in this thread (ESM and
 * CommonJS instances of one module, or two installed copies), kept on
 * `globalThis` under a registered symbol.
 *
 * @module
 */

/**
 * The thread's value named `name`, made by `make` on first use.
 *
 * @example
 * ```ts
 * const registry = threadGlobal('corepool.tasks', () => new Map<string, Function>());
 * ```
 */
export function threadGlobal<T>(name: string, make: () => T): T {
  const slots = globalThis as Record<symbol, unknown>;
  const key = Symbol.for(name);
  if (!(key in slots)) slots[key] = make();
  return slots[key] as T;
}
