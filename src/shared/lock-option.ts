/**
 * The `lock` option of {@link SharedValue} and {@link SharedArray}, as
 * Python's `Value(..., lock=True)` / `Array(..., lock=True)` take it:
 *
 * - `true` (the default): a new {@link RLock} guards the value, as in Python;
 * - a lock-like object (`Lock`, `RLock`, `Semaphore`…): that one guards it,
 *   so several values can share one lock;
 * - `false`: no lock; `getLock()` throws (Python returns a raw ctypes object
 *   without `get_lock()`).
 *
 * The lock travels inside the value's state as a shared object of its own;
 * `revive()` does not look inside a marker's state, so {@link reviveLock}
 * rebuilds it on the receiving side.
 *
 * @module
 */

import { describe } from '../check.js';
import { LockLike } from '../sync/lock-like.js';
import { RLock } from '../sync/rlock.js';
import { MARKER, revive } from '../transfer.js';

/** A lock as it sits in a value's state: the live instance, its marker after a clone, or null for none. */
export type LockSlot = LockLike | { readonly [MARKER]: string; readonly state: unknown } | null;

/**
 * The lock that `options.lock` asks for (null for `false`).
 *
 * @example
 * ```ts
 * const lock = makeLock(options.lock, 'SharedValue(options.lock)'); // an RLock by default
 * ```
 * @throws {TypeError} naming `what` when the option is neither a boolean nor a lock-like object.
 */
export function makeLock(option: unknown, what: string): LockLike | null {
  if (option === undefined || option === true) return new RLock();
  if (option === false) return null;
  if (option instanceof LockLike) return option;
  throw new TypeError(
    `${what} must be true (a new RLock), false (no lock) or a Lock, RLock or other corepool lock: received ${describe(option)}`,
  );
}

/**
 * The working lock for a lock slot of a state that may have crossed threads.
 *
 * @example
 * ```ts
 * this.#lock = reviveLock(state.lock, 'SharedValue');
 * ```
 * @throws {TypeError} "invalid handle" when the slot holds something other than a lock.
 */
export function reviveLock(slot: unknown, kind: string): LockLike | null {
  if (slot === null || slot === undefined) return null;
  if (slot instanceof LockLike) return slot;
  const lock = typeof slot === 'object' && MARKER in slot ? revive<unknown>(slot) : slot;
  if (!(lock instanceof LockLike)) {
    throw new TypeError(`invalid handle: the lock of a ${kind} must be a corepool lock`);
  }
  return lock;
}

/**
 * `lock`, or the TypeError of `getLock()` on a value made with `lock: false`.
 *
 * @example
 * ```ts
 * getLock() { return requireLock(this.#lock, "SharedValue('i32')"); }
 * ```
 * @throws {TypeError} when `lock` is null.
 */
export function requireLock(lock: LockLike | null, what: string): LockLike {
  if (lock !== null) return lock;
  throw new TypeError(
    `${what} was created with { lock: false }: it has no lock to get (create it with lock: true, or pass a Lock/RLock)`,
  );
}
