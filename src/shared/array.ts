/**
 * `SharedArray`: a fixed-length array of numbers in shared memory, Python's
 * `multiprocessing.Array`, with the lock that guards it.
 *
 * Layout (at the object's byteOffset, which is a multiple of 8):
 *
 * | word       | bytes       | written by       | meaning                                     |
 * |------------|-------------|------------------|---------------------------------------------|
 * | `TAG_WORD` | 0–3         | creator, once    | {@link ARRAY_TAG}: refuses foreign memory    |
 * | `TYPE`     | 4–7         | creator, once    | element type code (shared/types.ts); never 0 |
 * | `LENGTH`   | 8–11        | creator, once    | number of elements                          |
 * | `PAD`      | 12–15       | nobody           | 0; keeps the elements 8-aligned             |
 * | elements   | 16–…        | any thread       | `LENGTH` elements of the type, packed       |
 *
 * Invariants: the header is written before the object is handed to another
 * thread and never again; the buffer holds at least
 * `HEADER_BYTES + LENGTH * bytesPerElement` bytes past byteOffset (checked on
 * attach, so a forged length cannot make a view past the memory).
 *
 * Access: `.array` is a typed array over the elements — plain reads and
 * writes, as Python's raw `Array` gives; `Atomics` works on it directly for
 * the integer types. A sequence of accesses that must not interleave with
 * another thread's (a read-modify-write, a consistent snapshot) holds
 * `getLock()`, as in Python, whose synchronized wrapper takes the lock per
 * item access. The lock's own atomic operations order every access inside
 * the critical section, floats included.
 *
 * @module
 */

import { checkOptions, describe } from '../check.js';
import { allocate, attach, SharedObject, type SharedState } from '../shared-object.js';
import type { LockLike } from '../sync/lock-like.js';
import { registerShareable } from '../transfer.js';
import { type LockSlot, makeLock, requireLock, reviveLock } from './lock-option.js';
import {
  type Canonical,
  type ElementArray,
  type ElementInfo,
  type ElementInput,
  type ElementValue,
  elementInfo,
  infoOfCode,
  type TypeName,
  toElement,
} from './types.js';

const TYPE = 1;
const LENGTH = 2;
const HEADER_WORDS = 4;
const HEADER_BYTES = HEADER_WORDS * Int32Array.BYTES_PER_ELEMENT;
/** The longest array `LENGTH` can record. */
const MAX_LENGTH = 0x7fffffff;
/** Type tag of a SharedArray's memory. */
export const ARRAY_TAG = 0x43504172; // 'CPAr'

/** Options of {@link SharedArray}; `L` is the type of the lock given. */
export interface SharedArrayOptions<L extends LockLike = LockLike> {
  /**
   * `true` (default): a new `RLock` guards the array, as in Python; a `Lock`,
   * `RLock` or other corepool lock: that one does; `false`: no lock.
   */
  lock?: boolean | L;
}

/** Where a SharedArray's memory is, and its lock: what another thread rebuilds it from. */
export interface SharedArrayState extends SharedState {
  readonly lock: LockSlot;
}

/** The keys of the options object. */
const knownOptions = ['lock'] as const;

/** The elements to start with: a length (zeros) or checked values. */
type Initial = { readonly length: number; readonly values: ArrayLike<number | bigint> | undefined };

function initial(info: ElementInfo, lengthOrValues: unknown): Initial {
  const what = `SharedArray('${info.name}')`;
  if (typeof lengthOrValues === 'number') {
    if (!Number.isInteger(lengthOrValues) || lengthOrValues < 0 || lengthOrValues > MAX_LENGTH) {
      throw new RangeError(
        `${what} length must be an integer from 0 to ${MAX_LENGTH}: received ${describe(lengthOrValues)}`,
      );
    }
    return { length: lengthOrValues, values: undefined };
  }
  if (lengthOrValues instanceof info.View) {
    // Same element type: nothing to check, copied as is.
    return { length: lengthOrValues.length, values: lengthOrValues as ArrayLike<number | bigint> };
  }
  if (
    typeof lengthOrValues !== 'object' ||
    lengthOrValues === null ||
    typeof (lengthOrValues as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(
      `${what} needs a length or an iterable of initial values: received ${describe(lengthOrValues)}`,
    );
  }
  const values: (number | bigint)[] = [];
  for (const v of lengthOrValues as Iterable<unknown>) {
    values.push(toElement(info, v, `${what} values[${values.length}]`));
    if (values.length > MAX_LENGTH) throw new RangeError(`${what} cannot hold more than ${MAX_LENGTH} values`);
  }
  return { length: values.length, values };
}

/**
 * A fixed-length array of numbers (bigints for 64-bit integer types) in
 * shared memory that every thread it is handed to reads and writes through
 * `.array`, with a lock to guard sequences of accesses. Python's
 * `multiprocessing.Array`.
 *
 * `type` is an element type name or a Python typecode, as for
 * {@link SharedValue}; `lengthOrValues` is a length (the array starts
 * zeroed) or an iterable of initial values (each checked against the type).
 *
 * @example
 * ```ts
 * const hist = new SharedArray('u32', 256);                 // 256 zeros, guarded by a new RLock
 * await pool.map(countBytes, chunks.map((c) => [c, hist])); // tasks: Atomics.add(hist.array, b, 1)
 * const seq = new SharedArray('d', [0.5, 1.5, 2.5], { lock: false });
 * console.log([...seq], seq.length);                         // [0.5, 1.5, 2.5] 3
 * ```
 */
export class SharedArray<
  T extends TypeName = TypeName,
  L extends LockLike = LockLike,
> extends SharedObject<SharedArrayState> {
  readonly #info: ElementInfo;
  readonly #view: ElementArray<T>;
  readonly #lock: LockLike | null;

  /**
   * A new array of `type` in fresh shared memory: `lengthOrValues` zeros, or
   * a copy of the values it iterates.
   *
   * @example
   * ```ts
   * new SharedArray('i', 10);                       // ten zeros
   * new SharedArray('i64', [1n, 2n, 3]);            // BigInt64Array [1n, 2n, 3n]
   * new SharedArray('f32', new Float32Array(1024)); // copied as is
   * ```
   * @throws {TypeError} listing the valid types when `type` is not one; when `lengthOrValues` is
   *   neither a number nor an iterable; when a value has the wrong JavaScript type; when
   *   `options` is not an object, has an unknown key (named in the message), or an
   *   `options.lock` that is neither a boolean nor a corepool lock.
   * @throws {RangeError} when the length is not an integer from 0 to 2^31 - 1; naming the type,
   *   its range and the index when a value is outside it.
   */
  constructor(type: T, lengthOrValues: number | Iterable<ElementInput<T>>, options?: SharedArrayOptions<L>);
  /**
   * The SharedArray another thread made, bound to the same memory (what a
   * reviver calls; users get working instances without it).
   *
   * @example
   * ```ts
   * const again = new SharedArray(structuredClone(arr).state);
   * ```
   * @throws {TypeError} "invalid handle" when `state` does not locate a SharedArray.
   */
  constructor(state: SharedArrayState);
  constructor(
    typeOrState: T | SharedArrayState,
    lengthOrValues?: number | Iterable<ElementInput<T>>,
    options?: SharedArrayOptions<L>,
  ) {
    let state: SharedArrayState;
    let values: ArrayLike<number | bigint> | undefined;
    if (typeof typeOrState === 'object' && typeOrState !== null) {
      const s = typeOrState as SharedArrayState;
      state = {
        buffer: s.buffer,
        byteOffset: s.byteOffset,
        registry: s.registry,
        lock: reviveLock(s.lock, 'SharedArray'),
      };
    } else {
      const info = elementInfo(typeOrState, 'SharedArray(type)');
      const { lock } = checkOptions(options, knownOptions, 'SharedArray');
      const start = initial(info, lengthOrValues);
      values = start.values;
      const words = HEADER_WORDS + Math.ceil((start.length * info.bytes) / Int32Array.BYTES_PER_ELEMENT);
      const base = allocate(ARRAY_TAG, words);
      const header = new Int32Array(base.buffer, 0, HEADER_WORDS);
      Atomics.store(header, TYPE, info.code);
      Atomics.store(header, LENGTH, start.length);
      state = { ...base, lock: makeLock(lock, 'options.lock') };
    }
    super('SharedArray', state);
    const header = attach(state, ARRAY_TAG, HEADER_WORDS, 'SharedArray');
    const info = infoOfCode(Atomics.load(header, TYPE));
    const length = Atomics.load(header, LENGTH);
    if (info === undefined || length < 0) {
      throw new TypeError(`invalid handle: the SharedArray at byteOffset ${state.byteOffset} has a corrupt header`);
    }
    if (state.byteOffset % 8 !== 0) {
      throw new TypeError(
        `invalid handle: a SharedArray's byteOffset must be a multiple of 8: received ${describe(state.byteOffset)}`,
      );
    }
    if (state.byteOffset + HEADER_BYTES + length * info.bytes > state.buffer.byteLength) {
      throw new TypeError(
        `invalid handle: a SharedArray of ${length} ${info.name} needs ${HEADER_BYTES + length * info.bytes} bytes at byteOffset ${state.byteOffset}`,
      );
    }
    this.#info = info;
    this.#view = new info.View(state.buffer, state.byteOffset + HEADER_BYTES, length) as ElementArray<T>;
    this.#lock = state.lock as LockLike | null;
    if (values !== undefined) (this.#view as { set(values: ArrayLike<number | bigint>): void }).set(values);
  }

  /**
   * A typed array over the shared elements (`Int32Array` for `'i32'`,
   * `BigInt64Array` for `'q'`, …): writes through it are seen by every
   * thread holding this array. Always the same view.
   *
   * @example
   * ```ts
   * arr.array[3] = 7;
   * Atomics.add(arr.array, 0, 1);   // integer types
   * arr.array.fill(0);
   * ```
   */
  get array(): ElementArray<T> {
    return this.#view;
  }

  /**
   * The number of elements.
   *
   * @example
   * ```ts
   * new SharedArray('u8', 16).length; // 16
   * ```
   */
  get length(): number {
    return this.#view.length;
  }

  /**
   * The element type (`'i32'`, `'f64'`, …; a typecode reads as the type it
   * stands for).
   *
   * @example
   * ```ts
   * new SharedArray('B', 4).type; // 'u8'
   * ```
   */
  get type(): Canonical<T> {
    return this.#info.name as Canonical<T>;
  }

  /**
   * The lock that guards this array: a new `RLock` by default, the lock
   * given as `options.lock` (and typed as it), the same on every thread.
   *
   * @example
   * ```ts
   * const snapshot = arr.getLock().run(() => [...arr]);
   * ```
   * @throws {TypeError} when the array was created with `{ lock: false }`.
   */
  getLock(): L {
    return requireLock(this.#lock, `this SharedArray('${this.#info.name}')`) as L;
  }

  /**
   * Iterates the elements (plain reads: hold `getLock()` for a consistent
   * snapshot).
   *
   * @example
   * ```ts
   * for (const x of arr) total += x;
   * const copy = [...arr];
   * ```
   */
  [Symbol.iterator](): IterableIterator<ElementValue<T>> {
    return (this.#view as unknown as Iterable<ElementValue<T>>)[Symbol.iterator]() as IterableIterator<ElementValue<T>>;
  }

  protected override describe(): Record<string, unknown> {
    return { type: this.#info.name, length: this.#view.length, lock: this.#lock?.constructor.name ?? false };
  }

  static {
    registerShareable('SharedArray', (state) => new SharedArray(state as SharedArrayState));
  }
}
