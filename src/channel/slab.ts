/**
 * Slabs: messages too large to be one record in a ring travel in a
 * SharedArrayBuffer of their own, and the ring carries a small `KIND_SLAB`
 * record that says which slab and what it holds. Records are then always
 * small enough to be written whole, so a writer never holds the ring while
 * it waits, and a large message costs one copy in and one copy out (not a
 * stream of pieces through the ring).
 *
 * A slab's memory:
 *
 * | bytes     | written by                      | meaning                                   |
 * |-----------|---------------------------------|-------------------------------------------|
 * | 0–3       | writer (CAS 0→1), reader (→ 0)  | `STATE`: 0 free, 1 holds a message         |
 * | 4–15      | —                               | reserved                                  |
 * | 16…       | writer, then read by one reader | the message's payload                     |
 *
 * The `KIND_SLAB` record's payload (16 bytes and the id):
 *
 * | bytes | meaning                                             |
 * |-------|-----------------------------------------------------|
 * | 0–3   | inner kind, and its `sub` << 8 (codec.ts kinds)     |
 * | 4–7   | payload length                                      |
 * | 8–11  | inner `word0`                                       |
 * | 12–15 | reserved                                            |
 * | 16…   | the slab's id (oob.ts), UTF-8                        |
 *
 * A reader reaches a slab through the hub (oob.ts), once per slab and
 * thread: each thread keeps a small pool of slabs per channel, *pinned* at
 * the hub (held until the pool drops them), and reuses a slab once its
 * reader has set `STATE` back to 0 — so a stream of large messages costs no
 * hub round trip after the first few. When every pooled slab is in use, a
 * one-off slab is registered like any shared buffer (the hub forgets it once
 * it is fetched).
 *
 * Invariants: a writer owns a slab from its `STATE` CAS 0→1 until it
 * publishes the record that names it; the one reader that consumes that
 * record owns it until it stores `STATE` 0, after its last read of it. A
 * reader that dies in between leaves the slab at 1: it is never reused (the
 * message is lost with the reader, as a message a consumer had taken).
 *
 * @module
 */

import { threadGlobal } from '../thread-global.js';
import {
  decodePayload,
  fresh,
  KIND_BYTES,
  KIND_RAW,
  KIND_SHARED,
  KIND_SLAB,
  KIND_STRING,
  KIND_STRING16,
  type Outgoing,
  recordBytes,
} from './codec.js';
import { type Hub, slabId, unpackShared } from './oob.js';
import type { Waiting } from './ring.js';

/** Byte offset of a slab's payload. */
export const SLAB_DATA = 16;
/** Smallest slab: messages are slabbed only above a quarter of the ring, and slabs come in powers of two from here. */
const MIN_SLAB = 64 * 1024;
/** Slabs a thread keeps per channel for reuse. */
const POOL_SLABS = 8;
/** A pooled slab is reused only for messages of at least this fraction of it. */
const REUSE_FRACTION = 4;

/** One slab, as the thread that writes into it sees it. */
interface Slab {
  readonly sab: SharedArrayBuffer;
  readonly state: Int32Array;
  readonly bytes: Uint8Array;
  readonly id: string;
}

/** This thread's pooled slabs, per channel (its buffer and byte offset). */
const pools = threadGlobal('corepool.slab.pools', () => new WeakMap<SharedArrayBuffer, Map<number, Slab[]>>());

function poolOf(buffer: SharedArrayBuffer, offset: number): Slab[] {
  let byOffset = pools.get(buffer);
  if (byOffset === undefined) {
    byOffset = new Map();
    pools.set(buffer, byOffset);
  }
  let pool = byOffset.get(offset);
  if (pool === undefined) {
    pool = [];
    byOffset.set(offset, pool);
  }
  return pool;
}

function newSlab(size: number): Slab {
  let bytes = MIN_SLAB;
  while (bytes < size + SLAB_DATA) bytes *= 2;
  const sab = new SharedArrayBuffer(bytes);
  return { sab, state: new Int32Array(sab, 0, 1), bytes: new Uint8Array(sab), id: slabId(sab) };
}

/**
 * Puts the payload of `out` into a slab and returns the `KIND_SLAB` record
 * that names it, for the channel at (`buffer`, `offset`). Reuses a free
 * pooled slab; pins a new pooled one at the hub, or registers a one-off slab
 * when the pool is busy.
 *
 * @example
 * ```ts
 * const record = yield* toSlab(out, state.buffer, state.byteOffset, hub);
 * ```
 * @throws {Error} when the hub cannot be started.
 */
export function* toSlab(out: Outgoing, buffer: SharedArrayBuffer, offset: number, hub: Hub): Waiting<Outgoing> {
  const size = out.payload.length;
  const pool = poolOf(buffer, offset);
  let slab: Slab | undefined;
  for (const s of pool) {
    const room = s.sab.byteLength - SLAB_DATA;
    if (room >= size && room <= size * REUSE_FRACTION + MIN_SLAB && Atomics.compareExchange(s.state, 0, 0, 1) === 0) {
      slab = s;
      break;
    }
  }
  if (slab === undefined) {
    slab = newSlab(size);
    Atomics.store(slab.state, 0, 1);
    if (pool.length < POOL_SLABS) {
      yield* hub.pin(slab.id, slab.sab);
      pool.push(slab);
    } else {
      yield* hub.register({ bytes: Buffer.alloc(0), ids: [slab.id], buffers: [slab.sab] });
    }
  }
  slab.bytes.set(out.payload, SLAB_DATA);
  const id = Buffer.from(slab.id, 'utf8');
  const payload = Buffer.allocUnsafe(16 + id.length);
  payload.writeUInt32LE(out.kind | (out.sub << 8), 0);
  payload.writeUInt32LE(size, 4);
  payload.writeUInt32LE(out.word0 >>> 0, 8);
  payload.writeUInt32LE(0, 12);
  id.copy(payload, 16);
  return {
    kind: KIND_SLAB,
    sub: 0,
    word0: payload.length,
    payload,
    owned: true,
    total: recordBytes(KIND_SLAB, payload.length),
    shared: out.shared,
  };
}

/** What a `KIND_SLAB` record names. */
export interface SlabRef {
  readonly kind: number;
  readonly sub: number;
  readonly word0: number;
  readonly length: number;
  readonly id: string;
}

/**
 * Reads a `KIND_SLAB` record's payload.
 *
 * @example
 * ```ts
 * const ref = slabRef(deferred.data as Uint8Array);
 * ```
 * @throws {Error} on a corrupt payload.
 */
export function slabRef(payload: Uint8Array): SlabRef {
  if (payload.length < 17) throw new Error('corrupt channel stream: a slab record is too short');
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const meta = view.getUint32(0, true);
  return {
    kind: meta & 0xff,
    sub: (meta >>> 8) & 0xff,
    length: view.getUint32(4, true),
    word0: view.getUint32(8, true),
    id: Buffer.from(payload.buffer, payload.byteOffset + 16, payload.length - 16).toString('utf8'),
  };
}

/**
 * The value a slab holds: fetches the slab from the hub (or this thread's
 * cache), decodes its payload, and frees the slab for its writer.
 *
 * @example
 * ```ts
 * const value = yield* fromSlab(slabRef(data), hub);
 * ```
 * @throws {Error} when the hub lost the slab, or on a corrupt payload.
 */
export function* fromSlab(ref: SlabRef, hub: Hub): Waiting<unknown> {
  const sab = yield* hub.fetchOne(ref.id);
  if (sab.byteLength < SLAB_DATA + ref.length) throw new Error(`corrupt channel stream: slab ${ref.id} is too small`);
  const state = new Int32Array(sab, 0, 1);
  let value: unknown;
  let packet: Buffer | undefined;
  try {
    if (ref.kind === KIND_STRING || ref.kind === KIND_STRING16) {
      value = Buffer.from(sab, SLAB_DATA, ref.length).toString(ref.kind === KIND_STRING ? 'utf8' : 'utf16le');
    } else {
      const copy = fresh(ref.length);
      copy.set(new Uint8Array(sab, SLAB_DATA, ref.length));
      if (ref.kind === KIND_SHARED) packet = copy;
      else value = decodePayload(ref.kind, ref.sub, ref.word0, copy);
    }
  } finally {
    Atomics.store(state, 0, 0);
  }
  return packet === undefined ? value : yield* unpackShared(packet, hub);
}

/**
 * The bytes a slab holds, for a bytes receive (`Pipe#recvBytes`): a fresh
 * Buffer; frees the slab.
 *
 * @example
 * ```ts
 * const bytes = yield* slabBytes(ref, hub);
 * ```
 * @throws {Error} when the hub lost the slab.
 */
export function* slabBytes(ref: SlabRef, hub: Hub): Waiting<Buffer> {
  const sab = yield* hub.fetchOne(ref.id);
  const state = new Int32Array(sab, 0, 1);
  try {
    const copy = fresh(ref.length);
    copy.set(new Uint8Array(sab, SLAB_DATA, ref.length));
    return copy;
  } finally {
    Atomics.store(state, 0, 0);
  }
}

/**
 * Whether a slab record holds bytes (`KIND_BYTES` or `KIND_RAW`).
 *
 * @example
 * ```ts
 * if (!slabHoldsBytes(ref)) throw new TypeError('not bytes');
 * ```
 */
export function slabHoldsBytes(ref: SlabRef): boolean {
  return ref.kind === KIND_BYTES || ref.kind === KIND_RAW;
}
