/**
 * `SharedValue`: one number in shared memory, Python's
 * `multiprocessing.Value`, with the lock that guards it.
 *
 * Layout (Int32 words at the object's byteOffset, which is a multiple of 8):
 *
 * | word       | bytes | written by         | meaning                                           |
 * |------------|-------|--------------------|---------------------------------------------------|
 * | `TAG_WORD` | 0–3   | creator, once      | {@link VALUE_TAG}: refuses foreign memory          |
 * | `TYPE`     | 4–7   | creator, once      | element type code (shared/types.ts); never 0       |
 * | `DATA`     | 8–15  | any thread, `.value =` | the value, in the first `bytes` of the slot    |
 *
 * The slot is 8 bytes and 8-aligned whatever the type, so that the same
 * layout holds a `BigInt64Array` or `Float64Array` view of one element.
 *
 * Invariants: `TAG_WORD` and `TYPE` are written before the object is ever
 * handed to another thread (the `postMessage` that carries it orders those
 * writes before the receiver's reads), and never again; so the type a thread
 * reads when it attaches is the type every thread uses.
 *
 * Access: integer types (8 to 64 bits) read and write `DATA` with
 * `Atomics.load`/`Atomics.store`, so a read never sees half a write and every
 * thread sees writes in one order. `f32`/`f64` use plain aligned accesses,
 * since `Atomics` has no float operations: V8 compiles them to single aligned
 * loads and stores on x64 and arm64, but the language does not promise that a
 * plain access racing with a write cannot tear, nor orders it. Either way,
 * `v.value = v.value + 1` is a read *then* a write: hold `getLock()` around
 * it (as in Python). Accesses inside the critical section are ordered by the
 * lock's own atomic operations, for floats too.
 *
 * The lock lives in its own shared memory and travels inside this object's
 * state (see shared/lock-option.ts).
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
  type ElementInfo,
  type ElementInput,
  type ElementValue,
  elementInfo,
  type FloatView,
  type IntView,
  infoOfCode,
  type TypeName,
  toElement,
  type WideView,
} from './types.js';

export type { ElementType, Typecode, TypeName } from './types.js';

const TYPE = 1;
const DATA = 2;
const DATA_WORDS = 2;
const WORDS = DATA + DATA_WORDS;
const DATA_BYTES = DATA * Int32Array.BYTES_PER_ELEMENT;
/** Type tag of a SharedValue's memory. */
export const VALUE_TAG = 0x4350566c; // 'CPVl'

/** Options of {@link SharedValue}; `L` is the type of the lock given. */
export interface SharedValueOptions<L extends LockLike = LockLike> {
  /**
   * `true` (default): a new `RLock` guards the value, as in Python; a `Lock`,
   * `RLock` or other corepool lock: that one does; `false`: no lock.
   */
  lock?: boolean | L;
}

/** Where a SharedValue's memory is, and its lock: what another thread rebuilds it from. */
export interface SharedValueState extends SharedState {
  readonly lock: LockSlot;
}

/** What {@link attachValue} finds in memory. */
interface Attached {
  readonly info: ElementInfo;
  readonly ints: IntView | undefined;
  readonly wide: WideView | undefined;
  readonly floats: FloatView | undefined;
}

function attachValue(state: SharedValueState): Attached {
  const words = attach(state, VALUE_TAG, WORDS, 'SharedValue');
  const info = infoOfCode(Atomics.load(words, TYPE));
  if (info === undefined) {
    throw new TypeError(`invalid handle: the SharedValue at byteOffset ${state.byteOffset} has no valid element type`);
  }
  if (state.byteOffset % 8 !== 0) {
    throw new TypeError(
      `invalid handle: a SharedValue's byteOffset must be a multiple of 8: received ${describe(state.byteOffset)}`,
    );
  }
  const view = new info.View(state.buffer, state.byteOffset + DATA_BYTES, 1);
  return {
    info,
    ints: info.kind === 'int' ? (view as IntView) : undefined,
    wide: info.kind === 'wide' ? (view as WideView) : undefined,
    floats: info.kind === 'float' ? (view as FloatView) : undefined,
  };
}

/** The keys of the options object. */
const knownOptions = ['lock'] as const;

/**
 * A number (a bigint for 64-bit integer types) in shared memory that every
 * thread it is handed to reads and writes, with a lock to guard
 * read-modify-write sequences. Python's `multiprocessing.Value`.
 *
 * `type` is an element type name (`'i8'`, `'u8'`, `'i16'`, `'u16'`, `'i32'`,
 * `'u32'`, `'i64'`, `'u64'`, `'f32'`, `'f64'`) or a Python typecode standing
 * for one: `b B h H i I l L q Q f d` (`l`/`L` are 64-bit, as on Linux).
 *
 * @example
 * ```ts
 * const counter = new SharedValue('i32', 0);            // guarded by a new RLock
 * await pool.starmap(countWords, files.map((f) => [f, counter]));
 * // in the task: counter.getLock().run(() => { counter.value += words; });
 * console.log(counter.value);
 *
 * const big = new SharedValue('q', 2n ** 40n, { lock: false });
 * big.value = 5;                                       // read back as 5n
 * ```
 */
export class SharedValue<
  T extends TypeName = TypeName,
  L extends LockLike = LockLike,
> extends SharedObject<SharedValueState> {
  readonly #info: ElementInfo;
  readonly #ints: IntView | undefined;
  readonly #wide: WideView | undefined;
  readonly #floats: FloatView | undefined;
  readonly #lock: LockLike | null;
  /** How `.value =` errors name the target. */
  readonly #what: string;

  /**
   * A new value of `type` holding `init` (default 0) in fresh shared memory.
   *
   * @example
   * ```ts
   * const v = new SharedValue('f64', 3.625);
   * const shared = new SharedValue('i', 0, { lock: existingLock });
   * ```
   * @throws {TypeError} listing the valid types when `type` is not one; when `init` has the
   *   wrong JavaScript type; when `options` is not an object, has an unknown key (named in the
   *   message), or an `options.lock` that is neither a boolean nor a corepool lock.
   * @throws {RangeError} naming the type and its range when `init` is outside it.
   */
  constructor(type: T, init?: ElementInput<T>, options?: SharedValueOptions<L>);
  /**
   * The SharedValue another thread made, bound to the same memory (what a
   * reviver calls; users get working instances without it).
   *
   * @example
   * ```ts
   * const again = new SharedValue(structuredClone(v).state);
   * ```
   * @throws {TypeError} "invalid handle" when `state` does not locate a SharedValue.
   */
  constructor(state: SharedValueState);
  constructor(typeOrState: T | SharedValueState, init?: ElementInput<T>, options?: SharedValueOptions<L>) {
    let state: SharedValueState;
    let first: number | bigint | undefined;
    if (typeof typeOrState === 'object' && typeOrState !== null) {
      const s = typeOrState as SharedValueState;
      state = {
        buffer: s.buffer,
        byteOffset: s.byteOffset,
        registry: s.registry,
        lock: reviveLock(s.lock, 'SharedValue'),
      };
    } else {
      const info = elementInfo(typeOrState, 'SharedValue(type)');
      const { lock } = checkOptions(options, knownOptions, 'SharedValue');
      if (init !== undefined) first = toElement(info, init, `SharedValue('${info.name}') init`);
      const base = allocate(VALUE_TAG, WORDS);
      Atomics.store(new Int32Array(base.buffer), TYPE, info.code);
      state = { ...base, lock: makeLock(lock, 'options.lock') };
    }
    super('SharedValue', state);
    const { info, ints, wide, floats } = attachValue(state);
    this.#info = info;
    this.#ints = ints;
    this.#wide = wide;
    this.#floats = floats;
    this.#lock = state.lock as LockLike | null;
    this.#what = `SharedValue('${info.name}').value`;
    if (first !== undefined) this.#store(first);
  }

  /**
   * The element type (`'i32'`, `'f64'`, …; a typecode given to the
   * constructor reads as the type it stands for).
   *
   * @example
   * ```ts
   * new SharedValue('d').type; // 'f64'
   * ```
   */
  get type(): Canonical<T> {
    return this.#info.name as Canonical<T>;
  }

  /**
   * The current value: a number, or a bigint for `i64`/`u64`. Setting it
   * checks the range of the type; 64-bit types also take integer numbers.
   *
   * @example
   * ```ts
   * v.value = 42;
   * using _ = v.getLock().hold();
   * v.value = v.value + 1;             // a read-modify-write: hold the lock
   * ```
   * @throws {TypeError} (on set) when the value has the wrong JavaScript type.
   * @throws {RangeError} (on set) naming the type and its range when the value is outside it.
   */
  get value(): ElementValue<T> {
    if (this.#ints !== undefined) return Atomics.load(this.#ints, 0) as ElementValue<T>;
    if (this.#wide !== undefined) return Atomics.load(this.#wide, 0) as ElementValue<T>;
    return (this.#floats as FloatView)[0] as ElementValue<T>;
  }

  set value(value: ElementInput<T>) {
    this.#store(toElement(this.#info, value, this.#what));
  }

  /**
   * The lock that guards this value: a new `RLock` by default, the lock given
   * as `options.lock` (and typed as it), the same on every thread.
   *
   * @example
   * ```ts
   * v.getLock().run(() => { v.value = v.value * 2; });
   * ```
   * @throws {TypeError} when the value was created with `{ lock: false }`.
   */
  getLock(): L {
    return requireLock(this.#lock, `this SharedValue('${this.#info.name}')`) as L;
  }

  #store(x: number | bigint): void {
    if (this.#ints !== undefined) Atomics.store(this.#ints, 0, x as number);
    else if (this.#wide !== undefined) Atomics.store(this.#wide, 0, x as bigint);
    else (this.#floats as FloatView)[0] = x as number;
  }

  protected override describe(): Record<string, unknown> {
    return { type: this.#info.name, value: this.value, lock: this.#lock?.constructor.name ?? false };
  }

  static {
    registerShareable('SharedValue', (state) => new SharedValue(state as SharedValueState));
  }
}
