/**
 * The error classes of corepool. Each has a stable `name` and a `code`
 * (`ERR_COREPOOL_…`, in the manner of Node's `ERR_*` codes) so that callers can
 * branch on them without string-matching messages, and each keeps a `cause`
 * where there is one.
 *
 * Errors thrown inside a worker cross back to the caller as data and are
 * rebuilt here (see `error-codec.ts`), so a task that throws one of these gets
 * the same class on the other side.
 *
 * @module
 */

/** Options shared by every corepool error constructor. */
export interface CorepoolErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Base class of every corepool error. Not thrown itself; use it to catch any
 * corepool error at once.
 *
 * @example
 * ```ts
 * try { await pool.apply(task, [1]); }
 * catch (err) { if (err instanceof CorepoolError) console.error(err.code); }
 * ```
 */
export class CorepoolError extends Error {
  /** A stable machine-readable code, `ERR_COREPOOL_…`. */
  readonly code: string = 'ERR_COREPOOL';

  constructor(message: string, options?: CorepoolErrorOptions) {
    super(message, options);
  }
}

Object.defineProperty(CorepoolError.prototype, 'name', { value: 'CorepoolError', writable: true, configurable: true });

function defineError<const N extends string>(name: N, code: string) {
  const cls = class extends CorepoolError {
    override readonly code: string = code;
  };
  Object.defineProperty(cls, 'name', { value: name });
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  return cls;
}

/**
 * A wait ran out of time: `AsyncResult.get(timeout)`, or a task run with the
 * `timeout` option (that task is stopped).
 *
 * @example
 * ```ts
 * try { await pool.applyAsync(slow, []).get(10); }
 * catch (err) { if (err instanceof TimeoutError) console.log('still running'); }
 * ```
 */
export class TimeoutError extends defineError('TimeoutError', 'ERR_COREPOOL_TIMEOUT') {}

/**
 * A bounded queue is full and the caller would not wait (also raised by
 * `Pool.applyAsync` when `maxQueue` tasks already wait for a worker).
 *
 * @example
 * ```ts
 * const pool = new Pool({ processes: 1, maxQueue: 0 });
 * pool.applyAsync(slow, []); // runs
 * await pool.apply(slow, []).catch((e) => e instanceof QueueFull); // true
 * ```
 */
export class QueueFull extends defineError('QueueFull', 'ERR_COREPOOL_QUEUE_FULL') {}

/**
 * A queue is empty and the caller would not wait.
 *
 * @example
 * ```ts
 * try { q.getNowait(); } catch (err) { if (err instanceof QueueEmpty) console.log('nothing yet'); }
 * ```
 */
export class QueueEmpty extends defineError('QueueEmpty', 'ERR_COREPOOL_QUEUE_EMPTY') {}

/**
 * A queue was closed: no more `put`, and `get` once it is drained.
 *
 * @example
 * ```ts
 * q.close();
 * try { q.put(1); } catch (err) { console.log(err instanceof QueueClosedError); } // true
 * ```
 */
export class QueueClosedError extends defineError('QueueClosedError', 'ERR_COREPOOL_QUEUE_CLOSED') {}

/**
 * The peer of a connection closed and nothing is left to read.
 *
 * @example
 * ```ts
 * for (;;) { try { console.log(conn.recv()); } catch (err) { if (err instanceof EOFError) break; throw err; } }
 * ```
 */
export class EOFError extends defineError('EOFError', 'ERR_COREPOOL_EOF') {}

/**
 * A connection was used after `close()`, or from the wrong end of a one-way pipe.
 *
 * @example
 * ```ts
 * a.close();
 * try { a.send(1); } catch (err) { console.log(err instanceof ConnectionStateError); } // true
 * ```
 */
export class ConnectionStateError extends defineError('ConnectionStateError', 'ERR_COREPOOL_CONNECTION_STATE') {}

/**
 * `recvBytesInto` was given a buffer too small for the message; the message is
 * kept on the error as `message` bytes (`data`).
 *
 * @example
 * ```ts
 * try { b.recvBytesInto(new Uint8Array(2)); } catch (err) { if (err instanceof BufferTooShort) use(err.data); }
 * ```
 */
export class BufferTooShort extends defineError('BufferTooShort', 'ERR_COREPOOL_BUFFER_TOO_SHORT') {
  /** The whole message that did not fit. */
  data: Uint8Array = new Uint8Array(0);
}

/**
 * A barrier was broken (aborted, reset, or a waiter timed out).
 *
 * @example
 * ```ts
 * try { barrier.wait(); } catch (err) { if (err instanceof BrokenBarrierError) barrier.reset(); }
 * ```
 */
export class BrokenBarrierError extends defineError('BrokenBarrierError', 'ERR_COREPOOL_BROKEN_BARRIER') {}

/**
 * A lock was used against its state: releasing an unlocked lock, releasing an
 * `RLock` owned by another thread, waiting on a `Condition` without its lock.
 *
 * @example
 * ```ts
 * try { new Lock().release(); } catch (err) { console.log(err instanceof LockStateError); } // true
 * ```
 */
export class LockStateError extends defineError('LockStateError', 'ERR_COREPOOL_LOCK_STATE') {}

/**
 * Work was submitted to a pool after `close()` or `terminate()`.
 *
 * @example
 * ```ts
 * pool.close();
 * try { pool.applyAsync(task, [1]); } catch (err) { console.log(err instanceof PoolClosedError); } // true
 * ```
 */
export class PoolClosedError extends defineError('PoolClosedError', 'ERR_COREPOOL_POOL_CLOSED') {}

/**
 * A pool or result was used in the wrong state: `join()` on a running pool,
 * `successful()` on a result that is not ready (Python's `ValueError`).
 *
 * @example
 * ```ts
 * await pool.join().catch((err) => err instanceof PoolStateError); // true: call close() first
 * ```
 */
export class PoolStateError extends defineError('PoolStateError', 'ERR_COREPOOL_POOL_STATE') {}

/**
 * A `Process` was used against its state (Python raises `AssertionError`
 * here): `start()` twice, `join()` or `terminate()` before `start()`, setting
 * `daemon` after `start()`, `expose()` outside a `Process` child, or a call on
 * `p.remote` after the child exited.
 *
 * @example
 * ```ts
 * const p = new Process({ target: work });
 * await p.join().catch((err) => err instanceof ProcessStateError); // true: "can only join a started process"
 * ```
 */
export class ProcessStateError extends defineError('ProcessStateError', 'ERR_COREPOOL_PROCESS_STATE') {}

/**
 * The pool was terminated before this task finished.
 *
 * @example
 * ```ts
 * const r = pool.applyAsync(slow, []);
 * await pool.terminate();
 * await r.get().catch((err) => err instanceof PoolTerminatedError); // true
 * ```
 */
export class PoolTerminatedError extends defineError('PoolTerminatedError', 'ERR_COREPOOL_POOL_TERMINATED') {}

/**
 * The worker running a task died before answering (`process.exit`, an uncaught
 * error outside the task, running out of memory under `resourceLimits`). The
 * pool replaces the worker; only this task fails.
 *
 * @example
 * ```ts
 * try { await pool.apply(crashes, []); }
 * catch (err) { if (err instanceof WorkerExitError) console.log(err.exitCode, err.threadId); }
 * ```
 */
export class WorkerExitError extends defineError('WorkerExitError', 'ERR_COREPOOL_WORKER_EXIT') {
  /** The worker's exit code. */
  exitCode = 1;
  /** The worker's thread id, as it was while it ran. */
  threadId = -1;
}

/**
 * A value cannot be sent to another thread (a function, a symbol, a `WeakMap`…).
 * `path` says where it was, e.g. `args[1].onDone`.
 *
 * @example
 * ```ts
 * try { pool.applyAsync(task, [() => 1]); }
 * catch (err) { if (err instanceof DataCloneError) console.log(err.path); } // 'args[0]'
 * ```
 */
export class DataCloneError extends defineError('DataCloneError', 'ERR_COREPOOL_DATA_CLONE') {
  /** Where the value that cannot be cloned sits, e.g. `args[0].fn`. */
  path = '';
}

/**
 * A pool or a process was started by the top-level code of a task module
 * while a worker imported it (most often: tasks defined in the entry script,
 * whose top level creates the `Pool`). Every worker would start its own
 * threads, without end; Python raises a `RuntimeError` about its
 * "bootstrapping phase" for the same mistake.
 *
 * @example
 * ```ts
 * // main.js — defines its tasks and makes a pool at top level: every worker throws BootstrapError
 * export const { square } = defineTasks(import.meta.url, { square: (n: number) => n * n });
 * if (isMainThread) console.log(await new Pool().map(square, [1, 2, 3])); // the guard that fixes it
 * ```
 */
export class BootstrapError extends defineError('BootstrapError', 'ERR_COREPOOL_BOOTSTRAP') {}

/** Every corepool error class by name, for rebuilding errors that crossed threads. */
export const errorClasses: ReadonlyMap<string, new (message: string) => CorepoolError> = new Map<
  string,
  new (
    message: string,
  ) => CorepoolError
>([
  ['CorepoolError', CorepoolError],
  ['TimeoutError', TimeoutError],
  ['QueueFull', QueueFull],
  ['QueueEmpty', QueueEmpty],
  ['QueueClosedError', QueueClosedError],
  ['EOFError', EOFError],
  ['ConnectionStateError', ConnectionStateError],
  ['BufferTooShort', BufferTooShort],
  ['BrokenBarrierError', BrokenBarrierError],
  ['LockStateError', LockStateError],
  ['PoolClosedError', PoolClosedError],
  ['PoolStateError', PoolStateError],
  ['PoolTerminatedError', PoolTerminatedError],
  ['ProcessStateError', ProcessStateError],
  ['WorkerExitError', WorkerExitError],
  ['DataCloneError', DataCloneError],
  ['BootstrapError', BootstrapError],
]);
