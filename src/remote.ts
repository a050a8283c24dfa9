/**
 * comlink between corepool threads: typed remote objects and callbacks.
 *
 * Two uses, one wire format (comlink's, over a `MessagePort`):
 *
 * - **Callbacks into the caller.** An object or function marked with
 *   {@link proxy} and passed as a Pool task argument or a `Process` argument is
 *   not cloned: `prepare()` (transfer.ts) exposes it on a fresh
 *   `MessageChannel` here and sends the other port in its place; `revive()`
 *   wraps that port with comlink, so the task calls it through a proxy and the
 *   call runs in the caller's thread.
 * - **A child's object, called by the parent.** A `Process` child calls
 *   `expose(obj)`; the parent calls `await p.remote.method(…)` (process.ts).
 *
 * What corepool adds to comlink, and why:
 *
 * - **Liveness.** A `MessagePort` with a message listener keeps its thread
 *   alive, and comlink listens on both ends for as long as they are open. So a
 *   proxy here ({@link RemoteEndpoint}) holds its thread alive only while one
 *   of its calls waits for an answer, and an exposed callback does not hold the
 *   caller alive at all (the task or process that may call it does).
 * - **No hang when the other side is gone.** comlink alone waits forever for
 *   the answer to a call whose callee has exited. {@link RemoteEndpoint.fail}
 *   answers every unanswered call (after delivering the answers that did
 *   arrive) and every later call with an error, through a comlink transfer
 *   handler that never serializes anything and only rethrows ({@link EXITED}).
 * - **Errors as data.** comlink's `throw` handler keeps only `name`, `message`
 *   and `stack`. It is replaced in every thread that loads corepool by one
 *   that also sends corepool's flattened error (error-codec.ts), so the class,
 *   `code` and own properties survive; its wire form stays readable by a plain
 *   comlink on the other side, and it reads plain comlink's.
 *
 * @module
 */

import { MessageChannel, MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import type { Endpoint, ProxyMarked, Remote, TransferHandler } from 'comlink';
import {
  expose as comlinkExpose,
  proxy as comlinkProxy,
  releaseProxy as comlinkReleaseProxy,
  proxyMarker,
  transferHandlers,
  wrap,
} from 'comlink';
import { describe } from './check.js';
import { decodeError, encodeError, type WireThrown } from './error-codec.js';

export type { ProxyMarked, Remote };

/**
 * The `prepare()` marker kind of a proxied object in transit; its state is a `MessagePort`.
 *
 * @example
 * ```ts
 * { __corepool_shared__: PROXY_KIND, state: port }
 * ```
 */
export const PROXY_KIND = 'corepool.comlink';

/** Name of the transfer handler that turns a synthetic answer into a rejection. */
const EXITED = 'corepool.unanswered';

/**
 * The key of the method that releases a comlink proxy: `remote[releaseProxy]()`
 * closes its channel (comlink's own symbol). Releasing `p.remote` lets a child
 * that only serves its exposed object end.
 *
 * @example
 * ```ts
 * p.remote[releaseProxy]();
 * await p.join(); // the child's port closed; it ends when it has nothing left to do
 * ```
 */
export const releaseProxy: typeof comlinkReleaseProxy = comlinkReleaseProxy;

/**
 * Marks `value` (a function or an object) to be passed *by reference*: handed
 * to a Pool task or a `Process` as an argument, it stays in this thread and
 * the other side calls it through a comlink proxy, each call answered by a
 * Promise. Returns `value` itself, marked (comlink's `proxy()`).
 *
 * A proxy handed to a Pool task is released when that task finishes; one
 * handed to a `Process` lives as long as the child. It does not keep this
 * thread alive by itself.
 *
 * @example
 * ```ts
 * // tasks.ts: the task declares what it calls
 * export const { work } = defineTasks(import.meta.url, {
 *   async work(n: number, report: Callback<(done: number) => void>) {
 *     for (let i = 1; i <= n; i++) await report(i);
 *   },
 * });
 * // main.ts
 * await pool.apply(work, [3, proxy((done: number) => console.log(`${done}/3`))]);
 * ```
 * @throws {TypeError} when `value` is neither an object nor a function.
 */
export function proxy<T extends object>(value: T): T & ProxyMarked {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
    throw new TypeError(`proxy(value) must be an object or a function: received ${describe(value)}`);
  }
  return comlinkProxy(value);
}

/**
 * How a task (or a `Process` target) declares a parameter that its caller
 * passes as `proxy(fn)`: callable with `fn`'s arguments; in the task it
 * answers with a Promise, so `await` it. The caller's plain `fn` fits it.
 *
 * @example
 * ```ts
 * async function work(n: number, report: Callback<(done: number) => void>) { await report(n); }
 * ```
 */
export type Callback<F extends (...args: never[]) => unknown> = (
  ...args: Parameters<F>
) => ReturnType<F> | Promise<Awaited<ReturnType<F>>>;

/**
 * Whether `value` was marked by comlink's `proxy()`.
 *
 * @example
 * ```ts
 * isProxyMarked(proxy(() => 1)); // true
 * ```
 */
export function isProxyMarked(value: object): boolean {
  try {
    return (value as Partial<ProxyMarked>)[proxyMarker] === true;
  } catch {
    // A released comlink proxy throws on any property read: it is no marked object.
    return false;
  }
}

/**
 * Exposes `value` on a fresh channel and returns the port to send in its
 * place. The local port does not keep this thread alive; it closes when the
 * other side closes or releases its proxy.
 *
 * @example
 * ```ts
 * const port = exposeOnChannel(onProgress);
 * worker.postMessage({ port }, [port]); // there: wrapPort(port)
 * ```
 */
export function exposeOnChannel(value: object): MessagePort {
  const { port1, port2 } = new MessageChannel();
  comlinkExpose(value, port1 as unknown as Endpoint);
  port1.unref();
  return port2;
}

/**
 * Serves `value` on `port` (a `Process` child's channel to its parent). The
 * port keeps this thread alive until it is closed.
 *
 * @example
 * ```ts
 * serveOn({ add: (a: number, b: number) => a + b }, channelPort);
 * ```
 */
export function serveOn(value: object, port: MessagePort): void {
  comlinkExpose(value, port as unknown as Endpoint);
}

/**
 * A comlink proxy over a port that arrived from another thread, as `revive()`
 * makes for a {@link PROXY_KIND} marker. A call pending when the channel closes
 * rejects.
 *
 * @example
 * ```ts
 * const report = wrapPort(marker.state) as Remote<(n: number) => void>;
 * await report(1);
 * ```
 * @throws {TypeError} when `port` is not a MessagePort.
 */
export function wrapPort(port: unknown): Remote<unknown> {
  if (!(port instanceof MessagePort)) {
    throw new TypeError(`invalid handle: a proxied object travels as a MessagePort, received ${describe(port)}`);
  }
  const endpoint = new RemoteEndpoint(
    port,
    (what) =>
      new Error(`${what} cannot be answered: the proxied object's channel was closed (its owner released it or ended)`),
  );
  return wrap(endpoint as unknown as Endpoint);
}

/**
 * Releases proxies made by `revive()` (errors from already released ones are ignored).
 *
 * @example
 * ```ts
 * try { await task(...reviveCollecting(args, remotes)); } finally { releaseRemotes(remotes); }
 * ```
 */
export function releaseRemotes(remotes: readonly unknown[]): void {
  for (const remote of remotes) {
    try {
      (remote as Remote<unknown>)[comlinkReleaseProxy]();
    } catch {
      // Released already.
    }
  }
}

/** A comlink request as posted by a proxy. */
interface Call {
  readonly id?: unknown;
  readonly type?: unknown;
  readonly path?: readonly unknown[];
}

/**
 * Says which call a comlink message is, for error messages.
 *
 * @example
 * ```ts
 * describeCall({ id: 'x', type: 'APPLY', path: ['add'] }); // 'the call remote.add()'
 * ```
 */
export function describeCall(message: unknown, root = 'remote'): string {
  const call = (message ?? {}) as Call;
  const path = [root, ...(call.path ?? []).map(String)].join('.');
  switch (call.type) {
    case 'APPLY':
      return `the call ${path}()`;
    case 'CONSTRUCT':
      return `the construction new ${path}()`;
    case 'SET':
      return `the assignment ${path} = …`;
    case 'ENDPOINT':
      return `the endpoint request on ${path}`;
    default:
      return `the read of ${path}`;
  }
}

type Listener = (event: { data: unknown }) => void;

/**
 * The comlink endpoint corepool gives its proxies: a `MessagePort` that keeps
 * its thread alive only while a call waits for its answer, and that can be
 * declared dead ({@link fail}) so that no call waits forever.
 *
 * @example
 * ```ts
 * const endpoint = new RemoteEndpoint(port1);
 * const remote = remoteOf<Api>(endpoint);
 * worker.once('exit', () => endpoint.fail((what) => new Error(`${what}: the worker exited`)));
 * ```
 */
export class RemoteEndpoint {
  readonly #port: MessagePort;
  /** Unanswered calls by id (releases are not counted: nobody waits for them). */
  readonly #pending = new Map<string, unknown>();
  readonly #listeners = new Map<Listener, Listener>();
  #gone: ((what: string) => Error) | undefined;
  /** The port has closed: every message sent to it was delivered before its 'close' event. */
  #closed = false;

  /** `onClose`: fail the calls still waiting when the port closes, with this error. */
  constructor(port: MessagePort, onClose?: (what: string, pending: boolean) => Error) {
    this.#port = port;
    port.once('close', () => {
      this.#closed = true;
      if (onClose !== undefined) this.fail(onClose);
    });
  }

  postMessage(message: unknown, transfer?: readonly MessagePort[]): void {
    const { id, type } = (message ?? {}) as Call;
    const awaited = typeof id === 'string' && type !== 'RELEASE';
    if (this.#gone !== undefined) {
      if (awaited) {
        const err = this.#gone(describeCall(message));
        queueMicrotask(() => this.#answer(id, err));
      }
      return;
    }
    if (awaited) {
      this.#pending.set(id, message);
      if (this.#pending.size === 1) this.#port.ref();
    }
    // Two calls, not one with an optional list: newer @types/node give
    // postMessage a required transfer list in one overload and options in the other.
    if (transfer === undefined) this.#port.postMessage(message);
    else this.#port.postMessage(message, transfer as MessagePort[]);
  }

  addEventListener(type: string, listener: Listener): void {
    if (type !== 'message' || this.#listeners.has(listener)) return;
    const wrapped: Listener = (event) => {
      this.#settled(event.data);
      listener(event);
    };
    this.#listeners.set(listener, wrapped);
    this.#port.addEventListener('message', wrapped as unknown as (event: Event) => void);
    // Adding a message listener refs the port; only waiting calls should.
    if (this.#pending.size === 0) this.#port.unref();
  }

  removeEventListener(type: string, listener: Listener): void {
    const wrapped = this.#listeners.get(listener);
    if (type !== 'message' || wrapped === undefined) return;
    this.#listeners.delete(listener);
    this.#port.removeEventListener('message', wrapped as unknown as (event: Event) => void);
  }

  start(): void {
    this.#port.start();
  }

  /**
   * The other side is gone. Delivers the answers that arrived, then answers
   * every call still waiting, and every later one, with `error(what)`
   * (`what` names the call); closes the port.
   */
  fail(error: (what: string, pending: boolean) => Error): void {
    if (this.#gone !== undefined) return;
    // Node 20 crashes reading a port from its own 'close' handler; a closed port has delivered everything anyway.
    if (!this.#closed) {
      for (let m = receiveMessageOnPort(this.#port); m !== undefined; m = receiveMessageOnPort(this.#port)) {
        for (const listener of [...this.#listeners.values()]) listener({ data: m.message });
      }
    }
    this.#gone = (what) => error(what, false);
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const [id, message] of pending) this.#answer(id, error(describeCall(message), true));
    if (!this.#closed) this.#port.close();
  }

  #settled(data: unknown): void {
    const id = (data as Call | null)?.id;
    if (typeof id === 'string' && this.#pending.delete(id) && this.#pending.size === 0) this.#port.unref();
  }

  /** Hands comlink an answer to call `id` that rethrows `err` when comlink reads it. */
  #answer(id: string, err: Error): void {
    const data = { id, type: 'HANDLER', name: EXITED, value: err };
    for (const listener of [...this.#listeners.values()]) listener({ data });
  }
}

// ---- comlink transfer handlers --------------------------------------------------

const rethrow: TransferHandler<never, Error> = {
  canHandle: (_value: unknown): _value is never => false,
  serialize: () => {
    throw new Error('corepool: the unanswered-call handler never serializes');
  },
  deserialize: (err: Error): never => {
    throw err;
  },
};

interface ThrownWire {
  readonly isError: boolean;
  readonly value: unknown;
  /** corepool's flattened error, beside comlink's own fields. */
  readonly corepool?: WireThrown;
}

const kWrapped = Symbol.for('corepool.comlink.throw');
const original = transferHandlers.get('throw') as TransferHandler<{ value: unknown }, ThrownWire> | undefined;
if (original !== undefined && !(kWrapped in original)) {
  const handler: TransferHandler<{ value: unknown }, ThrownWire> & { [kWrapped]: true } = {
    [kWrapped]: true,
    canHandle: original.canHandle,
    serialize(thrown) {
      const [wire, transfer] = original.serialize(thrown);
      return thrown.value instanceof Error
        ? [{ ...wire, corepool: encodeError(thrown.value) }, transfer]
        : [wire, transfer];
    },
    deserialize(wire) {
      if (wire.corepool !== undefined) throw decodeError(wire.corepool);
      return original.deserialize(wire);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
}
transferHandlers.set(EXITED, rethrow as TransferHandler<unknown, unknown>);

/**
 * A typed comlink proxy over `endpoint` (a `Process`'s channel to its child).
 *
 * @example
 * ```ts
 * const remote = remoteOf<Api>(new RemoteEndpoint(port));
 * ```
 */
export function remoteOf<T>(endpoint: RemoteEndpoint): Remote<T> {
  return wrap<T>(endpoint as unknown as Endpoint);
}
