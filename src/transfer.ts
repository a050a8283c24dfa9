/**
 * How values cross threads.
 *
 * Everything sent to another thread — task arguments and results, `initargs`,
 * and later `Process` arguments and channel messages — goes through
 * {@link prepare} on the sending side and, when `prepare` reported shared
 * objects, through {@link revive} on the receiving side. This is the one place
 * where that happens.
 *
 * `prepare` walks the value once and does two things:
 *
 * 1. It refuses what structured clone would refuse (functions, symbols,
 *    `WeakMap`s, promises, a `MessagePort` that is not transferred…) with a
 *    {@link DataCloneError} whose `path` names the culprit (`args[1].onDone`),
 *    before anything is dispatched.
 * 2. It replaces each *shareable* object — an instance whose class implements
 *    `[kShare]()`, such as a lock or a queue over shared memory — with a small
 *    marker `{ [MARKER]: kind, state }`. The `state` holds the
 *    `SharedArrayBuffer`s and offsets that locate the object's memory. A
 *    shareable's class registers a reviver under its `kind` with
 *    {@link registerShareable}; `revive` replaces each marker with the
 *    reviver's result, a working instance bound to the same memory.
 *
 * 3. When asked to (`{ proxies: true }`: task and `Process` arguments), it
 *    replaces each object or function marked by comlink's `proxy()` with a
 *    marker holding a `MessagePort` on which the object is exposed
 *    (remote.ts), and lists that port in the returned `transfer`, which the
 *    caller must pass as the transfer list. `revive` turns the marker into a
 *    comlink proxy of the object. Elsewhere a marked object is refused.
 *
 * A value without shareables (the common case) is passed on as it is: one
 * pass, no copy; primitives in arrays are skipped without allocation, so
 * large arrays of numbers cost one `typeof` per element. When the first pass
 * finds a shareable, a second pass copies the whole value, registering each
 * copy before walking into it, so that cycles and shared references keep
 * their shape in the copy; the caller's objects are never changed.
 *
 * @module
 */

import type { FileHandle } from 'node:fs/promises';
import { types } from 'node:util';
import { MessagePort } from 'node:worker_threads';
import { describe } from './check.js';
import { DataCloneError } from './errors.js';
import { exposeOnChannel, isProxyMarked, PROXY_KIND, wrapPort } from './remote.js';
import { threadGlobal } from './thread-global.js';

/** Method a shareable class implements to describe its shared memory. */
export const kShare: unique symbol = Symbol.for('corepool.share');

/** What `[kShare]()` returns: the reviver's kind and a structured-cloneable state. */
export interface ShareDescriptor {
  readonly kind: string;
  readonly state: unknown;
}

/** An object that can be rebuilt on another thread from shared memory. */
export interface Shareable {
  [kShare](): ShareDescriptor;
}

/** Property name that marks a shareable object in transit. */
export const MARKER = '__corepool_shared__';

type Reviver = (state: unknown) => object;
// One registry per thread, even if this module is loaded twice.
const revivers = threadGlobal('corepool.revivers', () => new Map<string, Reviver>());

/**
 * Registers how to rebuild shareables of `kind` on the receiving thread.
 * Classes call this once when their module loads; a second registration of
 * the same kind (the module loaded twice) replaces the first.
 *
 * @example
 * ```ts
 * registerShareable('Counter', (state) => Counter.fromState(state as CounterState));
 * ```
 */
export function registerShareable(kind: string, reviveFn: Reviver): void {
  revivers.set(kind, reviveFn);
}

/**
 * What a transfer list may hold: objects that move to the receiving thread
 * (the sender loses them) instead of being copied. A typed array is not one:
 * list its `.buffer`. (corepool's own type: newer `@types/node` no longer
 * exports `TransferListItem`.)
 */
export type TransferItem = ArrayBuffer | MessagePort | FileHandle | ReadableStream | WritableStream | TransformStream;

/**
 * Checks a transfer list given by a user: an array of {@link TransferItem}s.
 * Catches the usual mistakes with a message saying what to do.
 *
 * @example
 * ```ts
 * checkTransferList([bytes.buffer], 'options.transfer'); // fine
 * checkTransferList([bytes], 'options.transfer'); // TypeError: options.transfer[0] is a Uint8Array view…: list its .buffer
 * ```
 * @throws {TypeError} when `list` is not an array, or an entry is a view, a SharedArrayBuffer or not an object.
 */
export function checkTransferList(list: unknown, what: string): asserts list is readonly TransferItem[] | undefined {
  if (list === undefined) return;
  if (!Array.isArray(list)) {
    throw new TypeError(`${what} must be an array of ArrayBuffers or MessagePorts: received ${describe(list)}`);
  }
  for (const [i, item] of list.entries()) {
    if (ArrayBuffer.isView(item)) {
      throw new TypeError(
        `${what}[${i}] is a ${item.constructor.name} view, which cannot be transferred: list its .buffer (the ArrayBuffer under it) instead`,
      );
    }
    if (item instanceof SharedArrayBuffer) {
      throw new TypeError(
        `${what}[${i}] is a SharedArrayBuffer, which is shared, never transferred: leave it out of ${what}`,
      );
    }
    if ((typeof item !== 'object' && typeof item !== 'function') || item === null) {
      throw new TypeError(`${what}[${i}] must be an ArrayBuffer or a MessagePort: received ${describe(item)}`);
    }
  }
}

/** Result of {@link prepare}. */
export interface Prepared {
  /** The value to post: the input itself when it holds no shareables. */
  readonly value: unknown;
  /** Whether markers were written (the receiver must call {@link revive}). */
  readonly shared: boolean;
  /** Ports of proxied objects (`{ proxies: true }`), to pass as the transfer list; absent when none. */
  readonly transfer?: readonly MessagePort[];
}

/**
 * Options of {@link prepare}.
 *
 * @example
 * ```ts
 * const { value, shared, transfer } = prepare(args, 'args', undefined, 0, { proxies: true });
 * ```
 */
export interface PrepareOptions {
  /** Send objects marked by comlink's `proxy()` by reference (default: refuse them). */
  readonly proxies?: boolean;
}

class Walk {
  shared = false;
  readonly seen = new Map<object, unknown>();
  readonly keys: (string | number)[] = [];

  constructor(
    readonly transfer: ReadonlySet<unknown>,
    /** Added to the first index of the path: a chunk's position in its whole input. */
    readonly offset: number,
    /**
     * Copy every container (second pass, once a shareable was found): each copy
     * is registered before its contents are walked, so cycles and shared
     * references keep their shape in the copy.
     */
    readonly copyAll: boolean,
    /** Markers of the proxied objects met (shared by both passes); undefined when proxies are refused. */
    readonly proxied?: Map<object, { readonly [MARKER]: string; readonly state: MessagePort }>,
  ) {}

  fail(what: string, root: string): never {
    const segment = (k: string | number, i: number): string => {
      if (typeof k === 'number') return `[${i === 0 ? k + this.offset : k}]`;
      return /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
    };
    const path = root + this.keys.map(segment).join('');
    const err = new DataCloneError(`${path} cannot be sent to another thread: it is ${what}`);
    err.path = path;
    throw err;
  }

  value(v: unknown, root: string): unknown {
    switch (typeof v) {
      case 'number':
      case 'string':
      case 'boolean':
      case 'undefined':
      case 'bigint':
        return v;
      case 'function':
        if (isProxyMarked(v)) return this.object(v, root);
        return this.fail(`a function${v.name ? ` (${v.name})` : ''}`, root);
      case 'symbol':
        return this.fail('a symbol', root);
    }
    if (v === null) return v;
    return this.object(v as object, root);
  }

  object(o: object, root: string): unknown {
    if (this.seen.has(o)) return this.seen.get(o);
    // Before any property read: a proxy's traps would run (and structured clone refuses every proxy).
    if (types.isProxy(o)) return this.fail('a Proxy', root);
    if (isProxyMarked(o)) return this.proxy(o, root);
    if (typeof (o as Record<string, unknown>)[MARKER] === 'string' && !(kShare in o)) {
      // Already a marker (a shared object that arrived without being revived): pass it on.
      this.shared = true;
      this.seen.set(o, o);
      return o;
    }
    if (typeof (o as Partial<Shareable>)[kShare] === 'function') {
      const { kind, state } = (o as Shareable)[kShare]();
      this.shared = true;
      const marker = { [MARKER]: kind, state };
      this.seen.set(o, marker);
      return marker;
    }
    if (!this.copyAll) this.seen.set(o, o);
    if (Array.isArray(o)) return this.array(o, root);
    if (
      ArrayBuffer.isView(o) ||
      o instanceof ArrayBuffer ||
      o instanceof SharedArrayBuffer ||
      o instanceof Date ||
      o instanceof RegExp ||
      o instanceof Boolean ||
      o instanceof Number ||
      o instanceof String ||
      o instanceof Blob
    ) {
      return o;
    }
    if (o instanceof Map) return this.map(o, root);
    if (o instanceof Set) return this.set(o, root);
    if (o instanceof MessagePort) {
      return this.transfer.has(o) ? o : this.fail('a MessagePort that is not in the transfer list', root);
    }
    if (o instanceof Promise) return this.fail('a Promise (await it first)', root);
    if (o instanceof WeakMap || o instanceof WeakSet || o instanceof WeakRef) {
      return this.fail(`a ${o.constructor.name}`, root);
    }
    const refused = unclonable(o);
    if (refused !== undefined) return this.fail(refused, root);
    return this.plain(o as Record<string, unknown>, root);
  }

  /** A `proxy()`-marked object: exposed on a channel whose port travels in its place. */
  proxy(o: object, root: string): unknown {
    if (this.proxied === undefined) {
      return this.fail('a comlink proxy, which only Pool task and Process arguments can carry', root);
    }
    let marker = this.proxied.get(o);
    if (marker === undefined) {
      marker = { [MARKER]: PROXY_KIND, state: exposeOnChannel(o) };
      this.proxied.set(o, marker);
    }
    this.shared = true;
    this.seen.set(o, marker);
    return marker;
  }

  array(a: unknown[], root: string): unknown {
    let copy: unknown[] | undefined;
    if (this.copyAll) {
      copy = a.slice();
      this.seen.set(a, copy);
    }
    for (let i = 0; i < a.length; i++) {
      const item = a[i];
      if (typeof item !== 'object' && typeof item !== 'function' && typeof item !== 'symbol') continue;
      if (item === null) continue;
      this.keys.push(i);
      const out = this.value(item, root);
      this.keys.pop();
      if (out !== item) {
        copy ??= a.slice();
        copy[i] = out;
      }
    }
    if (copy === undefined) return a;
    this.seen.set(a, copy);
    return copy;
  }

  plain(o: Record<string, unknown>, root: string): unknown {
    let copy: Record<string, unknown> | undefined;
    if (this.copyAll) {
      copy = { ...o };
      this.seen.set(o, copy);
    }
    for (const k of Object.keys(o)) {
      const item = o[k];
      this.keys.push(k);
      const out = this.value(item, root);
      this.keys.pop();
      if (out !== item) {
        copy ??= { ...o };
        copy[k] = out;
      }
    }
    if (copy === undefined) return o;
    this.seen.set(o, copy);
    return copy;
  }

  map(m: Map<unknown, unknown>, root: string): unknown {
    let changed = false;
    const entries: [unknown, unknown][] = [];
    const early = this.copyAll ? new Map<unknown, unknown>() : undefined;
    if (early) this.seen.set(m, early);
    for (const [k, v] of m) {
      this.keys.push(`<key ${String(k)}>`);
      const nk = this.value(k, root);
      this.keys.pop();
      this.keys.push(typeof k === 'string' || typeof k === 'number' ? k : String(k));
      const nv = this.value(v, root);
      this.keys.pop();
      changed ||= nk !== k || nv !== v;
      entries.push([nk, nv]);
    }
    if (early) {
      for (const [k, v] of entries) early.set(k, v);
      return early;
    }
    if (!changed) return m;
    const copy = new Map(entries);
    this.seen.set(m, copy);
    return copy;
  }

  set(s: Set<unknown>, root: string): unknown {
    let changed = false;
    const items: unknown[] = [];
    const early = this.copyAll ? new Set<unknown>() : undefined;
    if (early) this.seen.set(s, early);
    let i = 0;
    for (const v of s) {
      this.keys.push(i++);
      const nv = this.value(v, root);
      this.keys.pop();
      changed ||= nv !== v;
      items.push(nv);
    }
    if (early) {
      for (const v of items) early.add(v);
      return early;
    }
    if (!changed) return s;
    const copy = new Set(items);
    this.seen.set(s, copy);
    return copy;
  }
}

/** What else structured clone refuses, in words for the error; undefined when `o` can be cloned. */
function unclonable(o: object): string | undefined {
  if (o instanceof FinalizationRegistry) return 'a FinalizationRegistry';
  if (types.isGeneratorObject(o)) return 'a generator object';
  if (types.isSymbolObject(o)) return 'a Symbol object';
  if (types.isArgumentsObject(o)) return 'an arguments object (spread it into an array)';
  if (types.isModuleNamespaceObject(o)) return 'a module namespace object';
  const tag = Object.prototype.toString.call(o);
  if (tag.startsWith('[object Intl.')) return `an ${tag.slice(8, -1)} object`;
  return undefined;
}

const noTransfer: ReadonlySet<unknown> = new Set();

/** Whether every element of `a` is a primitive that structured clone copies as it is (holes read as undefined). */
function primitivesOnly(a: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const t = typeof a[i];
    if ((t === 'object' && a[i] !== null) || t === 'function' || t === 'symbol') return false;
  }
  return true;
}

/**
 * Checks that `value` can be posted to another thread and replaces the
 * shareable objects in it with markers. `root` names the value in errors
 * (`args`, `items`); `indexOffset` is added to the first index in that
 * name, for a chunk cut from a longer input. With `{ proxies: true }`,
 * objects marked by comlink's `proxy()` are sent by reference and the ports
 * that carry them are returned in `transfer`.
 *
 * @example
 * ```ts
 * const { value, shared } = prepare([lock, 5], 'args');
 * port.postMessage({ value, shared });
 * ```
 * @throws {DataCloneError} naming the path of the first value that cannot cross threads.
 */
export function prepare(
  value: unknown,
  root: string,
  transfer?: readonly TransferItem[],
  indexOffset = 0,
  options?: PrepareOptions,
): Prepared {
  // Hot path (every applyAsync, map chunk and reply): a primitive, or an array
  // of primitives, holds nothing to check or replace; no walk, no allocation.
  if (typeof value !== 'object' || value === null) {
    if (typeof value !== 'function' && typeof value !== 'symbol') return { value, shared: false };
  } else if (Array.isArray(value) && primitivesOnly(value)) {
    return { value, shared: false };
  }
  if (options?.proxies === true) return withProxies(value, root, transfer, indexOffset);
  if (typeof value !== 'object' || value === null) {
    return { value: new Walk(noTransfer, 0, false).value(value, root), shared: false };
  }
  const moved = transfer && transfer.length > 0 ? new Set(transfer) : noTransfer;
  const walk = new Walk(moved, indexOffset, false);
  const out = walk.object(value, root);
  if (!walk.shared) return { value: out, shared: false };
  // Shareables found: copy the whole structure so cycles survive in the copy.
  return { value: new Walk(moved, indexOffset, true).object(value, root), shared: true };
}

/** {@link prepare} with `{ proxies: true }`: as without, plus the ports of the proxied objects. */
function withProxies(
  value: unknown,
  root: string,
  transfer: readonly TransferItem[] | undefined,
  indexOffset: number,
): Prepared {
  const proxied = new Map<object, { readonly [MARKER]: string; readonly state: MessagePort }>();
  const moved = transfer && transfer.length > 0 ? new Set(transfer) : noTransfer;
  let prepared: Prepared;
  try {
    const walk = new Walk(moved, indexOffset, false, proxied);
    const out = walk.value(value, root);
    prepared = !walk.shared
      ? { value: out, shared: false }
      : { value: new Walk(moved, indexOffset, true, proxied).value(value, root), shared: true };
  } catch (err) {
    // Nothing will be sent: close the channels opened for the proxies met before the failure.
    for (const { state } of proxied.values()) state.close();
    throw err;
  }
  if (proxied.size === 0) return prepared;
  return { ...prepared, transfer: Array.from(proxied.values(), (marker) => marker.state) };
}

/** Options of {@link revive}. */
export interface ReviveOptions {
  /** A marker whose class is not loaded on this thread: `'throw'` (default) or `'keep'` it as it is. */
  unknownKinds?: 'throw' | 'keep';
}

function reviveIn(v: unknown, seen: Map<object, unknown>, keepUnknown: boolean): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (seen.has(v)) return seen.get(v);
  const kind = (v as Record<string, unknown>)[MARKER];
  if (typeof kind === 'string') {
    if (kind === PROXY_KIND) {
      const remote = wrapPort((v as { state: unknown }).state);
      remotesSink?.push(remote);
      seen.set(v, remote);
      return remote;
    }
    const reviver = revivers.get(kind);
    if (reviver === undefined) {
      if (keepUnknown) return v;
      throw new TypeError(`cannot rebuild a shared ${kind} on this thread: its class was never loaded here`);
    }
    const obj = reviver((v as { state: unknown }).state);
    seen.set(v, obj);
    return obj;
  }
  seen.set(v, v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const item = v[i];
      if (typeof item === 'object' && item !== null) v[i] = reviveIn(item, seen, keepUnknown);
    }
  } else if (v instanceof Map) {
    const entries = [...v].map(([k, x]) => [reviveIn(k, seen, keepUnknown), reviveIn(x, seen, keepUnknown)] as const);
    v.clear();
    for (const [k, x] of entries) v.set(k, x);
  } else if (v instanceof Set) {
    const items = [...v].map((x) => reviveIn(x, seen, keepUnknown));
    v.clear();
    for (const x of items) v.add(x);
  } else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
    for (const k of Object.keys(v)) {
      (v as Record<string, unknown>)[k] = reviveIn((v as Record<string, unknown>)[k], seen, keepUnknown);
    }
  }
  return v;
}

/**
 * Replaces, in place, every marker written by {@link prepare} in a value that
 * arrived from another thread with a working instance. Returns the value (or
 * the instance, when the value itself was a marker).
 *
 * @example
 * ```ts
 * port.on('message', ({ value, shared }) => use(shared ? revive(value) : value));
 * ```
 * @throws {TypeError} when a marker's kind has no registered reviver on this thread
 *   (unless `unknownKinds: 'keep'`).
 */
export function revive<T = unknown>(value: unknown, options?: ReviveOptions): T {
  return reviveIn(value, new Map(), options?.unknownKinds === 'keep') as T;
}

/** Where {@link reviveCollecting} puts the proxies that the running revive makes. */
let remotesSink: unknown[] | undefined;

/**
 * {@link revive}, also pushing onto `remotes` every comlink proxy made from a
 * proxied object's marker, so that the caller can release them
 * (`releaseRemotes`, remote.ts) when the work they were sent for is done.
 *
 * @example
 * ```ts
 * const remotes: unknown[] = [];
 * const args = reviveCollecting<unknown[]>(msg.a, remotes);
 * try { await fn(...args); } finally { releaseRemotes(remotes); }
 * ```
 * @throws {TypeError} as {@link revive}.
 */
export function reviveCollecting<T = unknown>(value: unknown, remotes: unknown[]): T {
  const outer = remotesSink;
  remotesSink = remotes;
  try {
    return revive<T>(value);
  } finally {
    remotesSink = outer;
  }
}
