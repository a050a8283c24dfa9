/**
 * Element types of {@link SharedValue} and {@link SharedArray}: their names,
 * Python's typecodes for them, the typed array that views each, the code
 * stored in shared memory, and the range check of values written to them.
 *
 * | name  | Python typecodes | C type (Linux x86-64/arm64) | view           | JS value |
 * |-------|------------------|-----------------------------|----------------|----------|
 * | `i8`  | `b`              | signed char                 | Int8Array      | number   |
 * | `u8`  | `B`              | unsigned char               | Uint8Array     | number   |
 * | `i16` | `h`              | short                       | Int16Array     | number   |
 * | `u16` | `H`              | unsigned short              | Uint16Array    | number   |
 * | `i32` | `i`              | int                         | Int32Array     | number   |
 * | `u32` | `I`              | unsigned int                | Uint32Array    | number   |
 * | `i64` | `l`, `q`         | long (LP64), long long      | BigInt64Array  | bigint   |
 * | `u64` | `L`, `Q`         | unsigned long, unsigned long long | BigUint64Array | bigint |
 * | `f32` | `f`              | float                       | Float32Array   | number   |
 * | `f64` | `d`              | double                      | Float64Array   | number   |
 *
 * Python's `l`/`L` are C `long`, 64 bits on Linux and macOS (LP64) but 32 on
 * Windows; they map to the 64-bit types here, as on Linux.
 *
 * Writes are checked, where C (and ctypes) would wrap silently: an integer
 * type takes an integer number or a bigint within its range, a float type a
 * number (finite values beyond `f32`'s range are refused rather than turned
 * into Infinity; NaN and ±Infinity themselves are kept).
 *
 * @module
 */

import { describe } from '../check.js';

/** The element type names. */
export const ELEMENT_TYPES = ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64', 'f32', 'f64'] as const;

/** An element type by name: `'i32'`, `'f64'`, … */
export type ElementType = (typeof ELEMENT_TYPES)[number];

/** Python's `array`/`ctypes` typecodes and the element type each stands for. */
export const TYPECODES = {
  b: 'i8',
  B: 'u8',
  h: 'i16',
  H: 'u16',
  i: 'i32',
  I: 'u32',
  l: 'i64',
  L: 'u64',
  q: 'i64',
  Q: 'u64',
  f: 'f32',
  d: 'f64',
} as const satisfies Record<string, ElementType>;

/** A Python typecode: `'i'`, `'d'`, `'q'`, … */
export type Typecode = keyof typeof TYPECODES;

/** What the constructors take: an element type name or a Python typecode. */
export type TypeName = ElementType | Typecode;

/** The element type a name or typecode stands for. */
export type Canonical<T extends TypeName> = T extends Typecode ? (typeof TYPECODES)[T] : T;

type WideType = 'i64' | 'u64';

/** What reading an element of type `T` gives: a bigint for the 64-bit integers, else a number. */
export type ElementValue<T extends TypeName> = Canonical<T> extends WideType ? bigint : number;

/** What can be written to an element of type `T`: integer types take a number or a bigint. */
export type ElementInput<T extends TypeName> = Canonical<T> extends 'f32' | 'f64' ? number : number | bigint;

interface Views {
  i8: Int8Array;
  u8: Uint8Array;
  i16: Int16Array;
  u16: Uint16Array;
  i32: Int32Array;
  u32: Uint32Array;
  i64: BigInt64Array;
  u64: BigUint64Array;
  f32: Float32Array;
  f64: Float64Array;
}

/** The typed array that views elements of type `T`. */
export type ElementArray<T extends TypeName> = Views[Canonical<T>];

/** A view of integer elements that `Atomics` takes. */
export type IntView = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
/** A view of 64-bit integer elements. */
export type WideView = BigInt64Array | BigUint64Array;
/** A view of float elements (no `Atomics` operations exist for these). */
export type FloatView = Float32Array | Float64Array;

type ViewConstructor = new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => Views[ElementType];

/** Everything known about one element type. */
export interface ElementInfo {
  readonly name: ElementType;
  /** Stored in the shared memory's type word; never 0, so zeroed memory is refused. */
  readonly code: number;
  readonly bytes: number;
  /** `int`: number with Atomics; `wide`: bigint with Atomics; `float`: number, plain accesses. */
  readonly kind: 'int' | 'wide' | 'float';
  readonly View: ViewConstructor;
  /** Integer range, inclusive (bigints, so that 64-bit bounds are exact); undefined for floats. */
  readonly min: bigint | undefined;
  readonly max: bigint | undefined;
  /** The same range as numbers, for the fast check of 32-bit and narrower types (NaN for floats). */
  readonly lo: number;
  readonly hi: number;
}

function int(name: ElementType, code: number, bits: number, signed: boolean, View: ViewConstructor): ElementInfo {
  const span = 1n << BigInt(bits);
  const min = signed ? -(span >> 1n) : 0n;
  const max = signed ? (span >> 1n) - 1n : span - 1n;
  return {
    name,
    code,
    bytes: bits / 8,
    kind: bits === 64 ? 'wide' : 'int',
    View,
    min,
    max,
    lo: Number(min),
    hi: Number(max),
  };
}

function float(name: ElementType, code: number, bytes: number, View: ViewConstructor): ElementInfo {
  return { name, code, bytes, kind: 'float', View, min: undefined, max: undefined, lo: Number.NaN, hi: Number.NaN };
}

const INFO: Readonly<Record<ElementType, ElementInfo>> = {
  i8: int('i8', 1, 8, true, Int8Array),
  u8: int('u8', 2, 8, false, Uint8Array),
  i16: int('i16', 3, 16, true, Int16Array),
  u16: int('u16', 4, 16, false, Uint16Array),
  i32: int('i32', 5, 32, true, Int32Array),
  u32: int('u32', 6, 32, false, Uint32Array),
  i64: int('i64', 7, 64, true, BigInt64Array),
  u64: int('u64', 8, 64, false, BigUint64Array),
  f32: float('f32', 9, 4, Float32Array),
  f64: float('f64', 10, 8, Float64Array),
};

const BY_CODE = new Map<number, ElementInfo>(Object.values(INFO).map((info) => [info.code, info]));

const VALID = `${ELEMENT_TYPES.map((t) => `'${t}'`).join(', ')} or a Python typecode (${Object.entries(TYPECODES)
  .map(([code, name]) => `'${code}' = ${name}`)
  .join(', ')})`;

/**
 * The element type named by `type` (a name or a Python typecode).
 *
 * @example
 * ```ts
 * elementInfo('q', 'SharedValue(type)').name; // 'i64'
 * ```
 * @throws {TypeError} listing the valid names when `type` is not one.
 */
export function elementInfo(type: unknown, what: string): ElementInfo {
  if (typeof type === 'string') {
    if (Object.hasOwn(INFO, type)) return INFO[type as ElementType];
    if (Object.hasOwn(TYPECODES, type)) return INFO[TYPECODES[type as Typecode]];
  }
  throw new TypeError(`${what} must be one of ${VALID}: received ${describe(type)}`);
}

/**
 * The element type stored under `code` in shared memory, or undefined for
 * memory that holds none.
 *
 * @example
 * ```ts
 * infoOfCode(elementInfo('i32', 'type').code)?.name; // 'i32'
 * ```
 */
export function infoOfCode(code: number): ElementInfo | undefined {
  return BY_CODE.get(code);
}

/** The largest finite `f32`. */
const F32_MAX = 3.4028234663852886e38;

/**
 * Checks `value` for an element of type `info` and converts it to what its
 * view stores (a bigint for 64-bit types, else a number). `what` names the
 * place, type included, in errors: `SharedValue('i32') init`,
 * `SharedArray('u8') values[3]`.
 *
 * @example
 * ```ts
 * toElement(elementInfo('i64', 'type'), 5, 'value'); // 5n
 * toElement(elementInfo('u8', 'type'), 256, 'value'); // throws RangeError
 * ```
 * @throws {TypeError} when `value` is not a number (or, for an integer type, a bigint).
 * @throws {RangeError} naming the type and its range when `value` is not an integer of that type,
 *   or a finite float too large for `f32`.
 */
export function toElement(info: ElementInfo, value: unknown, what: string): number | bigint {
  // The hot path (`v.value = v.value + 1` on an i32) is this one comparison chain.
  if (info.kind === 'int' && typeof value === 'number' && value >= info.lo && value <= info.hi) {
    if (Number.isInteger(value)) return value;
    throw rangeError(info, value, what);
  }
  if (info.kind === 'float') {
    if (typeof value !== 'number') {
      throw new TypeError(`${what} must be a number: received ${describe(value)}`);
    }
    if (info.bytes === 4 && Number.isFinite(value) && !Number.isFinite(Math.fround(value))) {
      throw new RangeError(
        `${what} is out of range (largest finite magnitude ${F32_MAX}): received ${describe(value)}`,
      );
    }
    return value;
  }
  let big: bigint;
  if (typeof value === 'bigint') {
    big = value;
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw rangeError(info, value, what);
    big = BigInt(value);
  } else {
    throw new TypeError(`${what} must be an integer (a number or a bigint): received ${describe(value)}`);
  }
  if (big < (info.min as bigint) || big > (info.max as bigint)) throw rangeError(info, value, what);
  return info.kind === 'wide' ? big : Number(big);
}

function rangeError(info: ElementInfo, value: number | bigint, what: string): RangeError {
  return new RangeError(`${what} must be an integer from ${info.min} to ${info.max}: received ${describe(value)}`);
}
