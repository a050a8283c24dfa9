/**
 * The common shape of everything that lives in shared memory (locks, events,
 * shared values, queues…): how it is allocated, how it is re-attached on
 * another thread, and how it travels.
 *
 * Every shared object is a view over `words` Int32 slots at `byteOffset` of a
 * SharedArrayBuffer. Word 0 holds the object's type tag, written once when the
 * memory is allocated; attaching to memory whose tag differs (a buffer of the
 * wrong kind, a wrong offset) is refused with "invalid handle".
 *
 * Travel: an instance has exactly two own enumerable properties, the marker
 * `__corepool_shared__` (its kind) and `state` (buffer, offset, the thread
 * registry, and whatever else it needs). So structured clone — a task argument,
 * `postMessage`, `workerData` — turns it into the plain marker object that
 * `revive()` (src/transfer.ts) rebuilds into a working instance of the same
 * class bound to the same memory. `prepare()` finds it through `[kShare]` and
 * does the same without relying on the clone.
 *
 * @module
 */

import { inspect } from 'node:util';
import { describe } from './check.js';
import { adoptRegistry, currentRegistry } from './sync/owners.js';
import { kShare, MARKER, type Shareable, type ShareDescriptor } from './transfer.js';

/** Where a shared object's memory is; every state extends this. */
export interface SharedState {
  readonly buffer: SharedArrayBuffer;
  readonly byteOffset: number;
  /** The thread registry (see sync/owners.ts) used to recover from dead holders. */
  readonly registry: SharedArrayBuffer;
}

/**
 * `kind` with its indefinite article, for messages: "a Lock", "an RLock", "an Event".
 *
 * @example
 * ```ts
 * withArticle('RLock'); // 'an RLock'
 * ```
 */
export function withArticle(kind: string): string {
  return `${/^(?:[AEIOU]|R[A-Z])/.test(kind) ? 'an' : 'a'} ${kind}`;
}

/** Slot of the type tag in every shared object. */
export const TAG_WORD = 0;

/**
 * Fresh zeroed memory for `words` Int32 slots with `tag` in slot 0.
 *
 * @example
 * ```ts
 * const state = allocate(LOCK_TAG, WORDS); // { buffer, byteOffset: 0, registry }
 * ```
 */
export function allocate(tag: number, words: number): SharedState {
  const buffer = new SharedArrayBuffer(words * Int32Array.BYTES_PER_ELEMENT);
  Atomics.store(new Int32Array(buffer), TAG_WORD, tag);
  return { buffer, byteOffset: 0, registry: currentRegistry() };
}

/**
 * The Int32 view of a shared object's memory after checking it is really a
 * `kind` (right buffer type, alignment, size and tag).
 *
 * @example
 * ```ts
 * const words = attach(state, LOCK_TAG, WORDS, 'Lock');
 * ```
 * @throws {TypeError} "invalid handle" when the memory is not a `kind`.
 */
export function attach(state: SharedState, tag: number, words: number, kind: string): Int32Array {
  const { buffer, byteOffset } = (state ?? {}) as Partial<SharedState>;
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(`invalid handle: ${withArticle(kind)} needs a SharedArrayBuffer, received ${describe(buffer)}`);
  }
  if (typeof byteOffset !== 'number' || !Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 4 !== 0) {
    throw new TypeError(
      `invalid handle: byteOffset must be a non-negative multiple of 4, received ${describe(byteOffset)}`,
    );
  }
  if (byteOffset + words * 4 > buffer.byteLength) {
    throw new TypeError(`invalid handle: ${withArticle(kind)} needs ${words * 4} bytes at byteOffset ${byteOffset}`);
  }
  const view = new Int32Array(buffer, byteOffset, words);
  if (Atomics.load(view, TAG_WORD) !== tag) {
    throw new TypeError(`invalid handle: the memory at byteOffset ${byteOffset} is not ${withArticle(kind)}`);
  }
  if (state.registry !== undefined) adoptRegistry(state.registry);
  return view;
}

/**
 * Base of every shared-memory class. Subclasses call `super(kind, state)` and
 * register a reviver for `kind` with `registerShareable` (src/transfer.ts).
 *
 * @example
 * ```ts
 * class Flag extends SharedObject {
 *   static { registerShareable('Flag', (s) => new Flag(s as SharedState)); }
 * }
 * ```
 */
export abstract class SharedObject<S extends SharedState = SharedState> implements Shareable {
  /** What the object is and where its memory is; the other side rebuilds it from this. */
  protected readonly state!: S;

  protected constructor(kind: string, state: S) {
    Object.defineProperty(this, MARKER, { value: kind, enumerable: true });
    Object.defineProperty(this, 'state', { value: state, enumerable: true });
  }

  /** @internal How {@link prepare} sends this object. */
  [kShare](): ShareDescriptor {
    return { kind: (this as unknown as Record<string, string>)[MARKER] as string, state: this.state };
  }

  /** A short description for `console.log`; subclasses add their live state. */
  protected describe(): Record<string, unknown> {
    return {};
  }

  /** @internal */
  [inspect.custom](depth: number, options: object): string {
    return `${this.constructor.name} ${inspect(this.describe(), { ...options, depth })}`;
  }
}
