/**
 * Messages as records in a {@link Ring}: the framing, and how each kind of
 * value becomes bytes and back. A record is always written whole, with one
 * `HEAD` store (stream.ts): a message too large for that goes to a slab
 * (slab.ts) and its record names the slab.
 *
 * A record starts at a multiple of 8 in the stream and is
 *
 * | bytes      | field     | meaning                                                        |
 * |------------|-----------|----------------------------------------------------------------|
 * | 0–3        | `word0`   | payload length in bytes (u32); for `INT32` the value itself     |
 * | 4          | `kind`    | one of the `KIND_*` constants                                  |
 * | 5          | `sub`     | kind-specific: the view type of `KIND_BYTES`                   |
 * | 6–7        | reserved  | 0                                                              |
 * | 8…         | payload   | `word0` bytes (none for `INT32`, `TRUE`, `FALSE`, `NULL`, `UNDEFINED`) |
 * | …          | padding   | up to the next multiple of 8 (its content is unspecified)      |
 *
 * Because records and the ring capacity are multiples of 8, a header never
 * wraps around the end of the ring and a `FLOAT64` payload is 8-aligned and
 * whole (it may start at offset 0, after its header ended the ring); other
 * payloads may wrap (two copies). An empty message (`''`, an empty
 * typed array, empty raw bytes) is a record of its own, so message
 * boundaries always survive.
 *
 * Kinds, fastest first (the fast ones avoid a general serializer, which
 * costs 1–2 µs per small value):
 * - numbers: `INT32` (8-byte record) for int32 values other than -0, else
 *   `FLOAT64` (NaN, -0, Infinity and every double preserved);
 * - `TRUE`, `FALSE`, `NULL`, `UNDEFINED`: a header alone;
 * - strings: `STRING` (UTF-8, written in place with `Buffer#write`), or
 *   `STRING16` (UTF-16 code units) for strings with lone surrogates, which
 *   UTF-8 cannot carry;
 * - `BYTES`: typed arrays (all eleven), `DataView`, `ArrayBuffer` and `Buffer`,
 *   raw bytes with the view type in `sub`. The receiver gets a fresh,
 *   non-shared, aligned buffer of its own, with the same type; a view over
 *   shared memory is copied too (send the `SharedArray`, or the
 *   `SharedArrayBuffer` itself, to share);
 * - `RAW`: raw bytes from `Pipe#sendBytes`, received as a `Buffer`;
 * - `JSON`: small plain data — plain objects and arrays (no holes, no extra
 *   array properties, no repeated or cyclic references) of finite non-(-0)
 *   numbers, strings, booleans and null — as JSON text, which round-trips
 *   such values exactly and costs a fraction of a structured clone;
 * - `V8`: everything else structured clone accepts (Map, Set, Date, RegExp,
 *   Error, BigInt, sparse arrays, cycles, …) via `v8.serialize`, after
 *   `prepare()` (src/transfer.ts) has checked the value and found no shared
 *   objects;
 * - `SHARED`: a value holding shared objects or SharedArrayBuffers, sent
 *   through the hub of oob.ts;
 * - `SLAB`: a message of any other kind too large for a record, in a slab
 *   (slab.ts): the payload names the slab and the kind it holds.
 *
 * @module
 */

import { isProxy } from 'node:util/types';
import v8 from 'node:v8';
import { prepare } from '../transfer.js';
import { packShared, type SharedPacket } from './oob.js';
import type { Ring } from './ring.js';

/** An int32 number other than -0, in `word0`; no payload. */
export const KIND_INT32 = 1;
/** Any other number: 8 bytes, little-endian double. */
export const KIND_FLOAT64 = 2;
/** `true`; no payload. */
export const KIND_TRUE = 3;
/** `false`; no payload. */
export const KIND_FALSE = 4;
/** `null`; no payload. */
export const KIND_NULL = 5;
/** `undefined`; no payload. */
export const KIND_UNDEFINED = 6;
/** A well-formed string, UTF-8. */
export const KIND_STRING = 7;
/** A string with lone surrogates, UTF-16LE code units. */
export const KIND_STRING16 = 8;
/** A typed array, DataView, ArrayBuffer or Buffer: raw bytes, the view type in `sub`. */
export const KIND_BYTES = 9;
/** Raw bytes from `Pipe#sendBytes`, received as a Buffer. */
export const KIND_RAW = 10;
/** Small plain data as JSON text, UTF-8. */
export const KIND_JSON = 11;
/** Anything else structured clone takes: `v8.serialize` bytes. */
export const KIND_V8 = 12;
/** A value holding shared objects or SharedArrayBuffers: a packet of oob.ts. */
export const KIND_SHARED = 13;
/** A message too large for a record, in a slab (slab.ts): the payload says which slab and what it holds. */
export const KIND_SLAB = 14;

/** Bytes of a record header. */
export const HEADER_BYTES = 8;
/** Longest payload a record carries (u32 length, 8-byte padding). */
export const MAX_PAYLOAD = 2 ** 32 - 16;

type ViewCtor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

/** `sub` of `KIND_BYTES`: index into this table. 12–14 are DataView, ArrayBuffer, Buffer. */
const VIEW_TYPES: readonly (ViewCtor | undefined)[] = [
  undefined,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];
const SUB_DATAVIEW = 12;
const SUB_ARRAYBUFFER = 13;
const SUB_BUFFER = 14;
const subOfCtor = new Map<unknown, number>([
  ...VIEW_TYPES.flatMap((c, i) => (c === undefined ? [] : [[c, i] as [unknown, number]])),
  [DataView, SUB_DATAVIEW],
  [Buffer, SUB_BUFFER],
]);

/** Plain data larger than this many values goes through v8.serialize. */
const JSON_BUDGET = 256;
/** Plain data nested deeper than this goes through v8.serialize. */
const JSON_DEPTH = 16;

/**
 * Bytes a record takes in the ring: header, payload, padding.
 *
 * @example
 * ```ts
 * recordBytes(KIND_INT32, 7); // 8
 * recordBytes(KIND_STRING, 5); // 16
 * ```
 */
export function recordBytes(kind: number, word0: number): number {
  if (kind === KIND_INT32) return HEADER_BYTES;
  return HEADER_BYTES + (word0 <= 0x7ffffff0 ? (word0 + 7) & ~7 : Math.ceil(word0 / 8) * 8);
}

// ---- encoding ----

let jsonNodes = 0;
const jsonSeen: object[] = [];
let jsonSeenCount = 0;

function jsonLeaf(x: unknown, depth: number): boolean {
  if (++jsonNodes > JSON_BUDGET) return false;
  switch (typeof x) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(x) && (x !== 0 || 1 / x > 0);
    case 'object':
      return x === null || jsonObject(x, depth + 1);
    default:
      return false;
  }
}

function jsonObject(o: object, depth: number): boolean {
  if (depth > JSON_DEPTH) return false;
  for (let i = 0; i < jsonSeenCount; i++) if (jsonSeen[i] === o) return false;
  jsonSeen[jsonSeenCount++] = o;
  if (isProxy(o)) return false;
  const proto = Object.getPrototypeOf(o);
  if (Array.isArray(o)) {
    if (proto !== Array.prototype || o.length > JSON_BUDGET) return false;
    for (let i = 0; i < o.length; i++) if (!jsonLeaf(o[i], depth)) return false;
    // Holes read as undefined and were refused above; extra properties would be lost.
    return Object.keys(o).length === o.length;
  }
  if (proto !== Object.prototype && proto !== null) return false;
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    if (!jsonLeaf((o as Record<string, unknown>)[keys[i] as string], depth)) return false;
  }
  return true;
}

/**
 * The JSON text of `value` when it is small plain data that JSON carries
 * exactly (see the module comment), else undefined.
 *
 * @example
 * ```ts
 * plainJson({ id: 1, name: 'a' }); // '{"id":1,"name":"a"}'
 * plainJson({ d: new Date() });     // undefined
 * ```
 */
export function plainJson(value: object): string | undefined {
  jsonNodes = 0;
  jsonSeenCount = 0;
  const ok = jsonObject(value, 0);
  for (let i = 0; i < jsonSeenCount; i++) jsonSeen[i] = undefined as never;
  return ok ? JSON.stringify(value) : undefined;
}

function isWellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** The `sub` of a view or ArrayBuffer the BYTES kind carries exactly, else 0. */
function bytesSub(v: object): number {
  if (ArrayBuffer.isView(v)) return subOfCtor.get(v.constructor) ?? 0;
  if (v instanceof ArrayBuffer && !(v as ArrayBuffer & { resizable?: boolean }).resizable) return SUB_ARRAYBUFFER;
  return 0;
}

function bytesOf(v: object): Uint8Array {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  const view = v as ArrayBufferView;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function writeHeader(ring: Ring, head: number, word0: number, kind: number, sub: number): void {
  const pos = head & ring.mask;
  ring.view.setUint32(pos, word0, true);
  ring.view.setUint32(pos + 4, kind | (sub << 8), true);
}

function writeText(ring: Ring, head: number, s: string, kind: number): number {
  const pos = head & ring.mask;
  const most = HEADER_BYTES + 3 * s.length;
  if (most > ring.capacity - pos || ring.writable(head, most + 7) < most + 7) return 0;
  const n = s.length === 0 ? 0 : ring.text.write(s, pos + HEADER_BYTES, 'utf8');
  writeHeader(ring, head, n, kind, 0);
  return recordBytes(kind, n);
}

/**
 * Whether `value` is an object that only JSON could carry fast: the caller
 * computes {@link plainJson} for it *before* taking the writer's mutex, and
 * hands the text to {@link writeSmall}.
 *
 * @example
 * ```ts
 * const json = wantsJson(item) ? plainJson(item) : undefined;
 * ```
 */
export function wantsJson(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    !ArrayBuffer.isView(value) &&
    !(value instanceof ArrayBuffer) &&
    !(value instanceof SharedArrayBuffer)
  );
}

/**
 * Writes `value` as one record at the writer's position `head` when it is
 * a fast kind (number, boolean, null, undefined, a string that fits
 * contiguously, bytes that fit, or plain data whose JSON text `json` —
 * see {@link wantsJson} — fits contiguously) and the ring has room for all
 * of it. Returns the record's size — the caller publishes `head + size` —
 * or 0 when it wrote nothing.
 *
 * @example
 * ```ts
 * const head = ring.head();
 * const n = writeSmall(ring, head, 42);
 * if (n > 0) ring.publish(head + n);
 * ```
 */
export function writeSmall(ring: Ring, head: number, value: unknown, json?: string): number {
  switch (typeof value) {
    case 'number': {
      if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
        if (ring.writable(head, 8) < 8) return 0;
        writeHeader(ring, head, value | 0, KIND_INT32, 0);
        return 8;
      }
      if (ring.writable(head, 16) < 16) return 0;
      writeHeader(ring, head, 8, KIND_FLOAT64, 0);
      ring.view.setFloat64((head + HEADER_BYTES) & ring.mask, value, true);
      return 16;
    }
    case 'string':
      return isWellFormed(value) ? writeText(ring, head, value, KIND_STRING) : 0;
    case 'boolean':
      if (ring.writable(head, 8) < 8) return 0;
      writeHeader(ring, head, 0, value ? KIND_TRUE : KIND_FALSE, 0);
      return 8;
    case 'undefined':
      if (ring.writable(head, 8) < 8) return 0;
      writeHeader(ring, head, 0, KIND_UNDEFINED, 0);
      return 8;
    case 'object': {
      if (value === null) {
        if (ring.writable(head, 8) < 8) return 0;
        writeHeader(ring, head, 0, KIND_NULL, 0);
        return 8;
      }
      const sub = bytesSub(value);
      if (sub !== 0) {
        const src = bytesOf(value);
        const total = recordBytes(KIND_BYTES, src.length);
        if (ring.writable(head, total) < total) return 0;
        writeHeader(ring, head, src.length, KIND_BYTES, sub);
        ring.copyIn(head + HEADER_BYTES, src, 0, src.length);
        return total;
      }
      return json === undefined ? 0 : writeText(ring, head, json, KIND_JSON);
    }
    default:
      return 0;
  }
}

/** A message encoded for streaming: a header and its payload. */
export interface Outgoing {
  readonly kind: number;
  readonly sub: number;
  /** Payload length, or the value for `KIND_INT32`. */
  readonly word0: number;
  /** The payload (empty for header-only kinds). May view the caller's memory until {@link own} copies it. */
  payload: Uint8Array;
  /** Whether `payload` is this message's own memory (not the sender's typed array). */
  owned: boolean;
  /** Record size in the ring. */
  readonly total: number;
  /** For `KIND_SHARED`: the SharedArrayBuffers to hand to the hub before the record is written. */
  readonly shared: SharedPacket | undefined;
}

const EMPTY = new Uint8Array(0);

function outgoing(
  kind: number,
  sub: number,
  payload: Uint8Array,
  owned: boolean,
  shared?: SharedPacket,
  word0 = payload.length,
): Outgoing {
  if (payload.length > MAX_PAYLOAD) {
    throw new RangeError(`a message is limited to ${MAX_PAYLOAD} bytes: this one takes ${payload.length}`);
  }
  return { kind, sub, word0, payload, owned, total: recordBytes(kind, word0), shared };
}

function textOut(s: string, kind: number): Outgoing {
  return outgoing(kind, 0, Buffer.from(s, 'utf8'), true);
}

/**
 * Encodes any structured-cloneable value (and shared objects) for
 * streaming. `root` names the value in a {@link DataCloneError}.
 *
 * @example
 * ```ts
 * const out = encode(new Map([[1, 'a']]), 'item'); // KIND_V8
 * ```
 * @throws {DataCloneError} naming the path of a value that cannot cross threads.
 * @throws {RangeError} when the encoded message exceeds {@link MAX_PAYLOAD} bytes.
 */
export function encode(value: unknown, root: string): Outgoing {
  switch (typeof value) {
    case 'number': {
      if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
        return outgoing(KIND_INT32, 0, EMPTY, true, undefined, value | 0);
      }
      const payload = Buffer.allocUnsafe(8);
      payload.writeDoubleLE(value, 0);
      return outgoing(KIND_FLOAT64, 0, payload, true);
    }
    case 'string':
      return isWellFormed(value)
        ? textOut(value, KIND_STRING)
        : outgoing(KIND_STRING16, 0, Buffer.from(value, 'utf16le'), true);
    case 'boolean':
      return outgoing(value ? KIND_TRUE : KIND_FALSE, 0, EMPTY, true);
    case 'undefined':
      return outgoing(KIND_UNDEFINED, 0, EMPTY, true);
    case 'object': {
      if (value === null) return outgoing(KIND_NULL, 0, EMPTY, true);
      const sub = bytesSub(value);
      if (sub !== 0) return outgoing(KIND_BYTES, sub, bytesOf(value), false);
      if (value instanceof SharedArrayBuffer) {
        const packet = packShared(value);
        return outgoing(KIND_SHARED, 0, packet.bytes, true, packet);
      }
      const json = plainJson(value);
      if (json !== undefined) return textOut(json, KIND_JSON);
      break;
    }
  }
  const prepared = prepare(value, root);
  if (!prepared.shared) {
    try {
      return outgoing(KIND_V8, 0, v8.serialize(prepared.value), true);
    } catch (err) {
      // v8.serialize refuses SharedArrayBuffers; anything else prepare() would have named.
      if (!(err instanceof Error && /SharedArrayBuffer/.test(err.message))) throw err;
    }
  }
  const packet = packShared(prepared.value);
  return outgoing(KIND_SHARED, 0, packet.bytes, true, packet);
}

/**
 * Makes `out` independent of the sender's memory (before it is kept for later).
 *
 * @example
 * ```ts
 * spill.push(own(out));
 * ```
 */
export function own(out: Outgoing): Outgoing {
  if (!out.owned) {
    out.payload = Uint8Array.prototype.slice.call(out.payload);
    out.owned = true;
  }
  return out;
}

/**
 * Encodes raw bytes (`Pipe#sendBytes`) as a `KIND_RAW` message, viewing
 * `bytes` (not copied).
 *
 * @example
 * ```ts
 * const out = encodeRaw(new Uint8Array([1, 2, 3]));
 * ```
 * @throws {RangeError} when longer than {@link MAX_PAYLOAD}.
 */
export function encodeRaw(bytes: Uint8Array): Outgoing {
  return outgoing(KIND_RAW, 0, bytes, false);
}

/**
 * Writes record `out` whole at the writer's position `head` when the ring
 * has room for all of it now. Returns the record's size — the caller
 * publishes `head + size` — or 0 when it wrote nothing. Records are never
 * split: a message that must not wait for room goes to a slab (slab.ts) or
 * to a Queue's overflow chain (feeder.ts) instead.
 *
 * @example
 * ```ts
 * const n = writeOut(ring, head, encode(value, 'item'));
 * if (n > 0) ring.publish(head + n);
 * ```
 */
export function writeOut(ring: Ring, head: number, out: Outgoing): number {
  const total = out.total;
  if (total > ring.capacity || ring.writable(head, total) < total) return 0;
  writeHeader(ring, head, out.word0, out.kind, out.sub);
  if (out.payload.length > 0) ring.copyIn(head + HEADER_BYTES, out.payload, 0, out.payload.length);
  return total;
}

// ---- decoding ----

/** Where a record's header says it is and what it holds. */
export interface RecordHead {
  readonly kind: number;
  readonly sub: number;
  readonly word0: number;
  readonly total: number;
}

/**
 * Reads the header of the record at the reader's position `tail` (at least
 * 8 bytes must be readable).
 *
 * @example
 * ```ts
 * const h = readHead(ring, tail);
 * ```
 * @throws {Error} when the header is not a valid record (a corrupt stream).
 */
export function readHead(ring: Ring, tail: number): RecordHead {
  const pos = tail & ring.mask;
  const word0 = ring.view.getUint32(pos, true);
  const meta = ring.view.getUint32(pos + 4, true);
  const kind = meta & 0xff;
  if (kind < KIND_INT32 || kind > KIND_SLAB || meta >>> 16 !== 0) {
    throw new Error(`corrupt channel stream: bad record header at byte ${tail >>> 0} (kind ${kind})`);
  }
  return { kind, sub: (meta >>> 8) & 0xff, word0, total: recordBytes(kind, word0) };
}

/** {@link readSmall}'s answer when the whole record is not in the ring yet (a corrupt stream: records are whole). */
export const PARTIAL: unique symbol = Symbol('partial');

/**
 * A record taken out of the ring whose value is made after the reader lets
 * the ring go: JSON and V8 text or bytes, a shared packet (oob.ts) or a
 * slab reference (slab.ts).
 *
 * @example
 * ```ts
 * const v = readSmall(ring, tail, avail, size);
 * if (v instanceof Deferred) use(decodePayload(v.kind, v.sub, 0, v.data));
 * ```
 */
export class Deferred {
  constructor(
    readonly kind: number,
    readonly data: Uint8Array | string,
  ) {}
}

/**
 * A fresh, non-shared buffer of `length` bytes that owns its ArrayBuffer
 * from offset 0 (what a received payload must be).
 *
 * @example
 * ```ts
 * const payload = fresh(1024);
 * ```
 */
export function fresh(length: number): Buffer {
  return length >= 4096 ? Buffer.allocUnsafeSlow(length) : Buffer.from(new ArrayBuffer(length));
}

/**
 * Decodes the record at the reader's position `tail` (`avail` bytes
 * readable), without consuming it. Returns the value; a {@link Deferred}
 * when its payload was copied out and the value is made after the reader
 * lets the ring go (JSON, V8, SHARED, SLAB); {@link PARTIAL} when the record
 * is not complete. `size` receives the record's size.
 *
 * @example
 * ```ts
 * const size = { n: 0 };
 * const v = readSmall(ring, tail, avail, size);
 * if (v !== PARTIAL) ring.consume(tail + size.n);
 * ```
 * @throws {Error} on a corrupt record header.
 */
export function readSmall(ring: Ring, tail: number, avail: number, size: { n: number }): unknown {
  const pos = tail & ring.mask;
  const view = ring.view;
  const word0 = view.getUint32(pos, true);
  const meta = view.getUint32(pos + 4, true);
  const kind = meta & 0xff;
  switch (kind) {
    case KIND_INT32:
      size.n = 8;
      return word0 | 0;
    case KIND_FLOAT64:
      size.n = 16;
      return view.getFloat64((tail + HEADER_BYTES) & ring.mask, true);
    case KIND_TRUE:
      size.n = 8;
      return true;
    case KIND_FALSE:
      size.n = 8;
      return false;
    case KIND_NULL:
      size.n = 8;
      return null;
    case KIND_UNDEFINED:
      size.n = 8;
      return undefined;
  }
  const total = recordBytes(kind, word0);
  if (kind < KIND_INT32 || kind > KIND_SLAB || meta >>> 16 !== 0) readHead(ring, tail); // throws
  if (avail < total) return PARTIAL;
  size.n = total;
  const start = pos + HEADER_BYTES;
  const contiguous = start + word0 <= ring.capacity;
  switch (kind) {
    case KIND_STRING:
    case KIND_JSON: {
      const s = contiguous
        ? ring.text.toString('utf8', start, start + word0)
        : copyPayload(ring, tail, word0).toString('utf8');
      return kind === KIND_STRING ? s : new Deferred(KIND_JSON, s);
    }
    case KIND_STRING16:
      return copyPayload(ring, tail, word0).toString('utf16le');
    case KIND_BYTES:
    case KIND_RAW:
      return decodeBytes(kind, (meta >>> 8) & 0xff, copyPayload(ring, tail, word0));
    default:
      return new Deferred(kind, copyPayload(ring, tail, word0));
  }
}

/**
 * Copies `length` payload bytes of the record at `tail` into `dst` (at
 * least `length` long) from offset 0.
 *
 * @example
 * ```ts
 * payloadInto(ring, tail, head.word0, into);
 * ```
 */
export function payloadInto(ring: Ring, tail: number, length: number, dst: Uint8Array): void {
  if (length > 0) ring.copyOut(tail + HEADER_BYTES, dst, 0, length);
}

function copyPayload(ring: Ring, tail: number, length: number): Buffer {
  const out = fresh(length);
  payloadInto(ring, tail, length, out);
  return out;
}

function decodeBytes(kind: number, sub: number, payload: Buffer): unknown {
  if (kind === KIND_RAW || sub === SUB_BUFFER) return payload;
  const buffer = payload.buffer as ArrayBuffer;
  if (payload.byteOffset !== 0 || buffer.byteLength !== payload.length) {
    throw new Error('internal error: a received payload must own its ArrayBuffer');
  }
  if (sub === SUB_ARRAYBUFFER) return buffer;
  if (sub === SUB_DATAVIEW) return new DataView(buffer);
  const View = VIEW_TYPES[sub];
  if (View === undefined) throw new Error(`corrupt channel stream: unknown byte view type ${sub}`);
  const bpe = (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  return new View(buffer, 0, payload.length / bpe);
}

/**
 * The value of a record's payload, for every kind but `KIND_SHARED` and
 * `KIND_SLAB`, which stream.ts decodes (they need the hub).
 *
 * @example
 * ```ts
 * const value = decodePayload(head.kind, head.sub, head.word0, payload);
 * ```
 * @throws {Error} on a corrupt payload.
 */
export function decodePayload(kind: number, sub: number, word0: number, data: Uint8Array | string): unknown {
  switch (kind) {
    case KIND_INT32:
      return word0 | 0;
    case KIND_FLOAT64:
      return Buffer.from((data as Uint8Array).buffer, (data as Uint8Array).byteOffset, 8).readDoubleLE(0);
    case KIND_TRUE:
      return true;
    case KIND_FALSE:
      return false;
    case KIND_NULL:
      return null;
    case KIND_UNDEFINED:
      return undefined;
    case KIND_STRING:
      return (data as Buffer).toString('utf8');
    case KIND_STRING16:
      return (data as Buffer).toString('utf16le');
    case KIND_JSON:
      return JSON.parse(typeof data === 'string' ? data : (data as Buffer).toString('utf8'));
    case KIND_BYTES:
    case KIND_RAW:
      return decodeBytes(kind, sub, data as Buffer);
    case KIND_V8:
      return v8.deserialize(data as Uint8Array);
    default:
      throw new Error(`corrupt channel stream: record kind ${kind} cannot be decoded here`);
  }
}
