/**
 * `Pool`: Python's `multiprocessing.Pool` over piscina worker threads.
 *
 * piscina runs the workers and the task queue; the facade keeps what piscina
 * does not have or does differently:
 *
 * - Its own state machine (`running` → `closed` → joined, or → `terminated`),
 *   because a closed piscina accepts work again and its `close()` may reject
 *   queued tasks. Every submitted task is an entry in `#jobs` until it settles;
 *   `join()` waits for that set (and for map feeders) to empty, and only then
 *   destroys piscina. `terminate()` settles every entry itself, because piscina
 *   never settles tasks that were running on workers it destroys.
 * - Which worker runs which task: a load balancer of ours picks the worker and
 *   records its thread id on the job (through piscina's queue-options symbol,
 *   which piscina hands to the balancer). That gives `WorkerExitError` its
 *   thread id and exit code, and lets `maxTasksPerChild` retire a worker: it is
 *   given no more tasks after its N-th and is terminated when that one
 *   answers; piscina then starts a replacement.
 * - Between tasks a worker sleeps in `Atomics.wait` (piscina's default
 *   `atomics: 'sync'`, the fastest hand-off), so its event loop is paused:
 *   work a task leaves running after it returns (timers, un-awaited promises,
 *   a queue's buffered puts) resumes only with the worker's next task. Tasks
 *   await what they start (and call `queue.joinThread()` after unbounded puts).
 *   ('async' keeps the loop running but costs about a third of the
 *   per-task throughput here.)
 * - Errors: the runner answers every task with a reply (it never rejects), so
 *   a rejection from piscina always means the worker died or the task was
 *   aborted; both are classified here.
 *
 * @module
 */

import { availableParallelism } from 'node:os';
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AsyncResult, quiet } from './async-result.js';
import { checkFunction, checkOptions, describe, positiveInt } from './check.js';
import { decodeError } from './error-codec.js';
import {
  DataCloneError,
  PoolClosedError,
  PoolStateError,
  PoolTerminatedError,
  QueueFull,
  TimeoutError,
  WorkerExitError,
} from './errors.js';
import {
  type ChunkSource,
  type Feeder,
  type ImapOptions,
  imapIterator,
  type MapOptions,
  mapAll,
  type PreparedChunk,
} from './pool-map.js';
import { CallKind, type ReplyMessage, type RunnerData, type TaskMessage } from './protocol.js';
import { currentRegistry } from './sync/owners.js';
import {
  checkNotBootstrapping,
  locate,
  type Runnable,
  type TaskArgs,
  type TaskLocation,
  type TaskResult,
} from './task.js';
import { checkTimeout, MAX_TIMER_MS } from './timeout.js';
import { checkTransferList, prepare, revive, type TransferItem } from './transfer.js';

// piscina's entry (a CommonJS shim that imports workers/runner): built, it is
// JavaScript; run from source (through tsx), TypeScript.
const runnerUrl = new URL(`../workers/runner-entry.${import.meta.url.endsWith('.ts') ? 'cts' : 'cjs'}`, import.meta.url)
  .href;

/**
 * The number of CPUs this process may use (`os.availableParallelism()`),
 * Python's `cpu_count()`.
 *
 * @example
 * ```ts
 * const pool = new Pool({ processes: cpuCount() });
 * ```
 */
export function cpuCount(): number {
  return availableParallelism();
}

/** Options of {@link Pool}. */
export interface PoolOptions {
  /** Number of worker threads; default {@link cpuCount}(). Exactly this many run. */
  processes?: number;
  /** A task run once in each worker before its first task. */
  initializer?: Runnable;
  /** Arguments of `initializer`. */
  initargs?: readonly unknown[];
  /** Replace a worker after it has run this many tasks (default: never). */
  maxTasksPerChild?: number;
  /** At most this many tasks wait for a worker; `applyAsync` beyond it throws `QueueFull` (default: unbounded). */
  maxQueue?: number;
  /** Heap limits of each worker, as `new Worker()` takes them. */
  resourceLimits?: ResourceLimits;
}

/**
 * `unknown` for a task that can be called with one argument, as `map`,
 * `imap` and `imapUnordered` call it (one item each); otherwise a type no
 * task matches, whose key says to use `starmap`: a task of two parameters
 * given to `map` would run with the second one `undefined`.
 */
export type OneArgument<F> =
  [TaskArgs<F>[0]] extends TaskArgs<F>
    ? unknown
    : {
        readonly 'map, imap and imapUnordered call the task with one argument per item: use starmap for a task of several parameters': never;
      };

/** Per-call options of {@link Pool.applyAsync} and {@link Pool.apply}. */
export interface ApplyOptions<R> {
  /** Called with the result on success (as Python's `callback`). */
  callback?: (value: R) => void;
  /** Called with the error on failure (as Python's `error_callback`). */
  errorCallback?: (error: unknown) => void;
  /** Objects in `args` to move rather than copy (ArrayBuffers, MessagePorts). */
  transfer?: readonly TransferItem[];
  /** Aborting cancels the task (a running one has its worker replaced); it rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Stop the task after this many ms; it rejects with `TimeoutError` (its worker is replaced). */
  timeout?: number;
}

/** Options of {@link Pool.mapAsync} and {@link Pool.starmapAsync}. */
export interface MapAsyncOptions<R> extends MapOptions {
  callback?: (value: R[]) => void;
  errorCallback?: (error: unknown) => void;
}

type PoolState = 'running' | 'closed' | 'terminated';

interface Job {
  /** The worker the balancer gave this job to. */
  thread: ThreadEntry | undefined;
  settled: boolean;
  resolve(reply: ReplyMessage): void;
  reject(err: unknown): void;
}

interface PoolChunk extends PreparedChunk {
  readonly message: TaskMessage;
  /** Ports of the proxied objects in the chunk (transfer.ts), moved with it. */
  readonly transfer: readonly TransferItem[] | undefined;
}

interface ThreadEntry {
  readonly threadId: number;
  readonly worker: Worker;
  readonly exit: Promise<number>;
  assigned: number;
  done: number;
}

const poolOptions = ['processes', 'initializer', 'initargs', 'maxTasksPerChild', 'maxQueue', 'resourceLimits'] as const;
const applyOptions = ['callback', 'errorCallback', 'transfer', 'signal', 'timeout'] as const;
const mapAsyncOptions = ['chunksize', 'onProgress', 'callback', 'errorCallback'] as const;
/** The keys of `new Worker()`'s `resourceLimits`: each a positive number of megabytes. */
const resourceLimitKeys = [
  'maxOldGenerationSizeMb',
  'maxYoungGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
] as const;
const kQueueOptions: symbol = Piscina.queueOptionsSymbol;
/** piscina.run() options of a task with no transfer list and no signal: one shared object, not three per task. */
const noRunOptions = Object.freeze({});

/** Checks `resourceLimits`: an object of known keys, each a positive number (Worker ignores others silently). */
function checkResourceLimits(limits: unknown): ResourceLimits | undefined {
  if (limits === undefined) return undefined;
  const checked = checkOptions(limits, resourceLimitKeys, 'Pool resourceLimits', 'options.resourceLimits');
  for (const key of resourceLimitKeys) {
    const value = checked[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new (typeof value === 'number' ? RangeError : TypeError)(
        `options.resourceLimits.${key} must be a positive number of megabytes: received ${describe(value)}`,
      );
    }
  }
  return limits as ResourceLimits;
}

/**
 * A pool of worker threads that run tasks, with the methods and semantics of
 * Python's `multiprocessing.Pool`.
 *
 * @example
 * ```ts
 * import { Pool } from 'corepool';
 * import { square } from './tasks.js'; // defineTasks(import.meta.url, { square(n: number) { return n * n; } })
 *
 * await using pool = new Pool({ processes: 4 });
 * console.log(await pool.map(square, [1, 2, 3])); // [1, 4, 9]
 * const r = pool.applyAsync(square, [12]);
 * console.log(await r.get()); // 144
 * pool.close();
 * await pool.join();
 * ```
 */
export class Pool {
  readonly #piscina: Piscina<TaskMessage, ReplyMessage>;
  readonly #processes: number;
  readonly #maxTasksPerChild: number;
  readonly #maxQueue: number;
  readonly #resourceLimits: ResourceLimits | undefined;
  #state: PoolState = 'running';
  readonly #jobs = new Set<Job>();
  readonly #feeders = new Set<Feeder>();
  #idleWaiters: (() => void)[] = [];
  readonly #threads = new Map<number, ThreadEntry>();
  readonly #retiring = new Set<number>();
  #terminating: Promise<void> | undefined;
  #joining: Promise<void> | undefined;
  /** Set when join() found no work left and destroys piscina: workers exiting from then on are expected. */
  #stopping = false;
  /** Set once a lost worker was not replaced (it died while starting): every unfinished and later task fails with it. */
  #broken: WorkerExitError | undefined;

  /**
   * Starts `processes` worker threads.
   *
   * @throws {TypeError|RangeError} naming the option when an option is invalid or unknown.
   * @throws {DataCloneError} when `initargs` cannot be sent to a worker.
   * @throws {BootstrapError} when called by a task module's top-level code while a worker imports it.
   */
  constructor(options: PoolOptions = {}) {
    checkNotBootstrapping('new Pool()');
    const { processes, initializer, initargs, maxTasksPerChild, maxQueue } = checkOptions(options, poolOptions, 'Pool');
    const resourceLimits = checkResourceLimits(options.resourceLimits);
    this.#resourceLimits = resourceLimits;
    this.#processes = processes === undefined ? cpuCount() : positiveInt(processes, 'options.processes');
    this.#maxTasksPerChild =
      maxTasksPerChild === undefined || maxTasksPerChild === null
        ? Number.POSITIVE_INFINITY
        : positiveInt(maxTasksPerChild, 'options.maxTasksPerChild');
    if (maxQueue === undefined || maxQueue === Number.POSITIVE_INFINITY) {
      this.#maxQueue = Number.POSITIVE_INFINITY;
    } else if (typeof maxQueue !== 'number' || !Number.isInteger(maxQueue) || maxQueue < 0) {
      throw new (typeof maxQueue === 'number' ? RangeError : TypeError)(
        `options.maxQueue must be a non-negative integer or Infinity: received ${describe(maxQueue)}`,
      );
    } else {
      this.#maxQueue = maxQueue;
    }
    let workerData: RunnerData = { registry: currentRegistry() };
    if (initializer !== undefined) {
      const where = locate(initializer, 'options.initializer');
      if (initargs !== undefined && !Array.isArray(initargs)) {
        throw new TypeError(`options.initargs must be an array: received ${describe(initargs)}`);
      }
      const prepared = prepare(initargs ?? [], 'options.initargs');
      workerData = {
        ...workerData,
        init: { m: where.module, n: where.name, a: prepared.value as unknown[], s: prepared.shared },
      };
    } else if (initargs !== undefined) {
      throw new TypeError('options.initargs is given without options.initializer');
    }
    this.#piscina = new Piscina<TaskMessage, ReplyMessage>({
      filename: runnerUrl,
      minThreads: this.#processes,
      maxThreads: this.#processes,
      idleTimeout: Number.POSITIVE_INFINITY,
      maxQueue: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
      recordTiming: false,
      workerData,
      loadBalancer: (task, workers) => this.#balance(task as unknown as Record<symbol, unknown>, workers),
      ...(resourceLimits === undefined ? {} : { resourceLimits }),
    });
    // A worker error with no task running (e.g. a timer left behind by an
    // earlier task) would otherwise crash the process through 'error'. The
    // worker is replaced by piscina; nothing is waiting on it.
    this.#piscina.on('error', () => {});
    // piscina does not replace a worker that dies before it is ready (it gives
    // up on workers that "fail during bootstrap"), and a task queued for a
    // worker that never comes waits forever. So once a removed worker is not
    // replaced, the pool is broken (as Python's BrokenProcessPool): every
    // unfinished task, and every later one, rejects.
    this.#piscina.on('workerDestroy', () => {
      setImmediate(() => {
        if (this.#state === 'terminated' || this.#stopping || this.#piscina.threads.length >= this.#processes) return;
        this.#broken ??= new WorkerExitError(
          'a worker of this pool exited while starting and is not replaced: the pool cannot run tasks',
        );
        for (const job of this.#jobs) job.reject(this.#broken);
      });
    });
  }

  /**
   * The number of worker threads.
   *
   * @example
   * ```ts
   * new Pool({ processes: 3 }).processes; // 3
   * ```
   */
  get processes(): number {
    return this.#processes;
  }

  /**
   * Runs `fn(...args)` in a worker. Returns at once with an {@link AsyncResult}.
   *
   * @example
   * ```ts
   * const r = pool.applyAsync(fib, [30], { callback: (v) => console.log(v) });
   * await r.get();
   * ```
   * @throws {PoolClosedError} after `close()` or `terminate()`.
   * @throws {QueueFull} when `maxQueue` tasks already wait.
   * @throws {DataCloneError} when an argument cannot be sent to a worker.
   * @throws {TypeError} when `fn` is not a task or an option is invalid.
   */
  applyAsync<F extends Runnable>(
    fn: F,
    args: TaskArgs<F>,
    options: ApplyOptions<TaskResult<F>> = {},
  ): AsyncResult<TaskResult<F>> {
    this.#checkOpen();
    const where = locate(fn, 'applyAsync(fn)');
    if (!Array.isArray(args))
      throw new TypeError(`applyAsync(args) must be an array of arguments: received ${describe(args)}`);
    const { callback, errorCallback, transfer, signal, timeout } = checkOptions(
      options,
      applyOptions,
      'Pool.apply()',
    ) as ApplyOptions<TaskResult<F>>;
    checkFunction(callback, 'options.callback');
    checkFunction(errorCallback, 'options.errorCallback');
    checkTransferList(transfer, 'options.transfer');
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw new TypeError(`options.signal must be an AbortSignal: received ${describe(signal)}`);
    checkTimeout(timeout, 'options.timeout');
    if (this.#jobs.size >= this.#processes + this.#maxQueue) {
      throw new QueueFull(
        `the pool's queue is full: ${this.#maxQueue} tasks already wait for a worker (options.maxQueue)`,
      );
    }
    const prepared = prepare(args, 'args', transfer, 0, { proxies: true });
    const message: TaskMessage = {
      m: where.module,
      n: where.name,
      a: prepared.value,
      k: CallKind.Apply,
      s: prepared.shared,
    };
    const moved = prepared.transfer === undefined ? transfer : [...(transfer ?? []), ...prepared.transfer];
    const promise = this.#run(message, moved, signal, timeout, unpack as (reply: ReplyMessage) => TaskResult<F>);
    return settleWith(promise, callback, errorCallback);
  }

  /**
   * Runs `fn(...args)` in a worker and resolves with its result (Python's
   * blocking `apply`, awaited).
   *
   * @example
   * ```ts
   * const n = await pool.apply(countPrimes, [[0, 1_000_000]]);
   * ```
   * @throws {PoolClosedError} (as a rejection) after `close()` or `terminate()`; see {@link applyAsync} for the others.
   */
  async apply<F extends Runnable>(
    fn: F,
    args: TaskArgs<F>,
    options?: ApplyOptions<TaskResult<F>>,
  ): Promise<TaskResult<F>> {
    return this.applyAsync(fn, args, options).get();
  }

  /**
   * Calls `fn(item)` for every item, in chunks spread over the workers, and
   * resolves with the results in input order. `iterable` may be async.
   * Without `chunksize`, Python's rule picks it: about four chunks per worker.
   *
   * @example
   * ```ts
   * const squares = await pool.map(square, range(1_000_000), {
   *   onProgress: (done, total) => process.stderr.write(`\r${done}/${total}`),
   * });
   * ```
   * @throws {PoolClosedError} (as a rejection) after `close()` or `terminate()`.
   * @throws {DataCloneError} (as a rejection, before anything runs) naming the item that cannot be sent.
   */
  async map<F extends Runnable>(
    fn: F & OneArgument<F>,
    iterable: Iterable<TaskArgs<F>[0]> | AsyncIterable<TaskArgs<F>[0]>,
    options: MapOptions = {},
  ): Promise<TaskResult<F>[]> {
    return this.#map(fn, iterable, options, CallKind.Map, 'map') as Promise<TaskResult<F>[]>;
  }

  /**
   * {@link map} returning an {@link AsyncResult}, with Python's callbacks.
   *
   * @example
   * ```ts
   * const r = pool.mapAsync(square, [1, 2, 3], { callback: (xs) => console.log(xs) });
   * await r.wait();
   * ```
   * @throws {PoolClosedError} after `close()` or `terminate()`.
   */
  mapAsync<F extends Runnable>(
    fn: F & OneArgument<F>,
    iterable: Iterable<TaskArgs<F>[0]> | AsyncIterable<TaskArgs<F>[0]>,
    options: MapAsyncOptions<TaskResult<F>> = {},
  ): AsyncResult<TaskResult<F>[]> {
    return this.#mapAsync(fn, iterable, options, CallKind.Map, 'mapAsync') as AsyncResult<TaskResult<F>[]>;
  }

  /**
   * Like {@link map}, but each item is an argument list: `fn(...item)`.
   *
   * @example
   * ```ts
   * await pool.starmap(add, [[1, 2], [3, 4]]); // [3, 7]
   * ```
   * @throws {PoolClosedError} (as a rejection) after `close()` or `terminate()`.
   */
  async starmap<F extends Runnable>(
    fn: F,
    iterable: Iterable<TaskArgs<F>> | AsyncIterable<TaskArgs<F>>,
    options: MapOptions = {},
  ): Promise<TaskResult<F>[]> {
    return this.#map(fn, iterable, options, CallKind.Starmap, 'starmap') as Promise<TaskResult<F>[]>;
  }

  /**
   * {@link starmap} returning an {@link AsyncResult}.
   *
   * @example
   * ```ts
   * const sums = await pool.starmapAsync(add, [[1, 2], [3, 4]]).get(); // [3, 7]
   * ```
   * @throws {PoolClosedError} after `close()` or `terminate()`.
   */
  starmapAsync<F extends Runnable>(
    fn: F,
    iterable: Iterable<TaskArgs<F>> | AsyncIterable<TaskArgs<F>>,
    options: MapAsyncOptions<TaskResult<F>> = {},
  ): AsyncResult<TaskResult<F>[]> {
    return this.#mapAsync(fn, iterable, options, CallKind.Starmap, 'starmapAsync') as AsyncResult<TaskResult<F>[]>;
  }

  /**
   * Lazily maps `fn` over `iterable` (sync or async, possibly endless) and
   * yields results in input order. Only a bounded number of chunks is in
   * flight; without `chunksize`, chunks grow from 1 until each takes about a
   * millisecond of work.
   *
   * @example
   * ```ts
   * for await (const n of pool.imap(square, naturals())) {
   *   if (n > 1000) break; // stops reading naturals()
   * }
   * ```
   * @throws {PoolClosedError} after `close()` or `terminate()`.
   */
  imap<F extends Runnable>(
    fn: F & OneArgument<F>,
    iterable: Iterable<TaskArgs<F>[0]> | AsyncIterable<TaskArgs<F>[0]>,
    options: ImapOptions = {},
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#imap(fn, iterable, options, true, 'imap') as AsyncIterableIterator<TaskResult<F>>;
  }

  /**
   * {@link imap}, yielding each result as soon as it is ready.
   *
   * @example
   * ```ts
   * for await (const n of pool.imapUnordered(slowSquare, [3, 1, 2])) console.log(n);
   * ```
   * @throws {PoolClosedError} after `close()` or `terminate()`.
   */
  imapUnordered<F extends Runnable>(
    fn: F & OneArgument<F>,
    iterable: Iterable<TaskArgs<F>[0]> | AsyncIterable<TaskArgs<F>[0]>,
    options: ImapOptions = {},
  ): AsyncIterableIterator<TaskResult<F>> {
    return this.#imap(fn, iterable, options, false, 'imapUnordered') as AsyncIterableIterator<TaskResult<F>>;
  }

  /**
   * Stops accepting work. Work already submitted still runs; `join()` waits
   * for it.
   *
   * @example
   * ```ts
   * pool.close();
   * await pool.join();
   * ```
   */
  close(): void {
    if (this.#state === 'running') this.#state = 'closed';
  }

  /**
   * Stops the workers now. Every task not finished rejects with
   * {@link PoolTerminatedError}. Resolves when the workers have exited.
   *
   * @example
   * ```ts
   * await pool.terminate();
   * ```
   */
  terminate(): Promise<void> {
    if (this.#terminating === undefined) {
      this.#state = 'terminated';
      const err = new PoolTerminatedError('the pool was terminated before this task finished');
      for (const job of this.#jobs) job.reject(err);
      this.#terminating = this.#piscina.destroy().then(() => this.#notifyIdle(true));
    }
    return this.#terminating;
  }

  /**
   * After `close()`: resolves when every submitted task has finished and the
   * workers have exited. After `terminate()`: when the workers have exited.
   *
   * @example
   * ```ts
   * pool.close();
   * await pool.join();
   * ```
   * @throws {PoolStateError} (as a rejection) when neither `close()` nor `terminate()` was called.
   */
  join(): Promise<void> {
    if (this.#state === 'running') {
      return Promise.reject(new PoolStateError('join() needs close() or terminate() first: the pool is still running'));
    }
    if (this.#terminating !== undefined) return this.#terminating;
    if (this.#joining === undefined) {
      // As Python's task handler does, read every open imap's input to the end.
      for (const feeder of this.#feeders) feeder.drain();
      this.#joining = this.#stopWhenIdle();
    }
    return this.#joining;
  }

  /**
   * `await using pool = new Pool()` terminates the pool at the end of the
   * block, as Python's `with Pool() as pool:` does.
   *
   * @example
   * ```ts
   * { await using pool = new Pool(); await pool.map(square, [1, 2]); } // terminated here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.terminate();
  }

  // ---- internals -------------------------------------------------------

  #checkOpen(): void {
    if (this.#state !== 'running') {
      throw new PoolClosedError(`the pool is ${this.#state}: it takes no new work`);
    }
  }

  /** Chunks a map keeps in flight: enough to keep workers fed, within maxQueue. */
  #window(): number {
    return Math.max(1, Math.min(this.#processes * 2, this.#processes + this.#maxQueue));
  }

  #source(where: TaskLocation, kind: CallKind, what: string): ChunkSource<PoolChunk> {
    return {
      window: this.#window(),
      prepare: (items, offset) => {
        if (kind === CallKind.Starmap) checkArgLists(items, offset, what);
        const prepared = prepare(items, 'items', undefined, offset, { proxies: true });
        const message: TaskMessage = { m: where.module, n: where.name, a: prepared.value, k: kind, s: prepared.shared };
        return { size: items.length, offset, message, transfer: prepared.transfer };
      },
      run: (chunk) => {
        if (this.#state === 'terminated') {
          return Promise.reject(new PoolTerminatedError('the pool was terminated before this task finished'));
        }
        return this.#run(chunk.message, chunk.transfer, undefined, undefined, (reply) => ({
          values: unpack(reply) as unknown[],
          ms: reply.ok ? (reply.d ?? 0) : 0,
        }));
      },
      feeding: (feeder, active) => {
        if (active) {
          this.#feeders.add(feeder);
          if (this.#joining !== undefined) feeder.drain();
        } else {
          this.#feeders.delete(feeder);
          this.#notifyIdle();
        }
      },
    };
  }

  #map(fn: Runnable, iterable: unknown, options: MapOptions, kind: CallKind, what: string): Promise<unknown[]> {
    try {
      this.#checkOpen();
      const where = locate(fn, `${what}(fn)`);
      return mapAll(this.#source(where, kind, what), iterable, options, this.#processes, what);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #mapAsync(
    fn: Runnable,
    iterable: unknown,
    options: MapAsyncOptions<never>,
    kind: CallKind,
    what: string,
  ): AsyncResult<unknown[]> {
    this.#checkOpen();
    const where = locate(fn, `${what}(fn)`);
    const { callback, errorCallback, ...mapOptions } = checkOptions(
      options,
      mapAsyncOptions,
      `Pool.${what}()`,
    ) as MapAsyncOptions<never>;
    checkFunction(callback, 'options.callback');
    checkFunction(errorCallback, 'options.errorCallback');
    const promise = mapAll(this.#source(where, kind, what), iterable, mapOptions, this.#processes, what);
    return settleWith(promise, callback as ((value: unknown[]) => void) | undefined, errorCallback);
  }

  #imap(
    fn: Runnable,
    iterable: unknown,
    options: ImapOptions,
    ordered: boolean,
    what: string,
  ): AsyncIterableIterator<unknown> {
    this.#checkOpen();
    const where = locate(fn, `${what}(fn)`);
    return imapIterator(this.#source(where, CallKind.Map, what), iterable, options, ordered, what);
  }

  /**
   * Posts one task message; settles with `accept(reply)`, called as the reply
   * arrives (no promise chained per task for it), or rejects.
   */
  #run<T>(
    message: TaskMessage,
    transfer: readonly TransferItem[] | undefined,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    accept: (reply: ReplyMessage) => T,
  ): Promise<T> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    let timer: NodeJS.Timeout | undefined;
    let effective = signal;
    if (timeout !== undefined && timeout <= MAX_TIMER_MS) {
      const controller = new AbortController();
      timer = setTimeout(() => {
        controller.abort(new TimeoutError(`task ${message.n} did not finish within ${timeout} ms and was stopped`));
      }, timeout);
      effective = signal === undefined ? controller.signal : AbortSignal.any([signal, controller.signal]);
    }
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        thread: undefined,
        settled: false,
        resolve: (reply) => {
          if (job.settled) return;
          job.settled = true;
          this.#finish(job);
          try {
            resolve(accept(reply));
          } catch (err) {
            reject(err);
          }
        },
        reject: (err) => {
          if (job.settled) return;
          job.settled = true;
          this.#finish(job);
          reject(err);
        },
      };
      if (timer !== undefined) {
        const t = timer;
        const clear = (): void => clearTimeout(t);
        job.resolve = wrapAfter(job.resolve, clear);
        job.reject = wrapAfter(job.reject, clear);
      }
      this.#jobs.add(job);
      const task = message as TaskMessage & Record<symbol, unknown>;
      task[kQueueOptions] = job;
      this.#piscina
        .run(
          task,
          transfer === undefined && effective === undefined
            ? noRunOptions
            : {
                ...(transfer === undefined ? {} : { transferList: transfer as TransferItem[] }),
                ...(effective === undefined ? {} : { signal: effective }),
              },
        )
        .then(
          (reply) => job.resolve(reply),
          (err: unknown) => this.#failed(job, err, message, effective),
        );
    });
  }

  /** piscina rejected a task: it was aborted, or its worker died. */
  #failed(job: Job, err: unknown, message: TaskMessage, signal: AbortSignal | undefined): void {
    if (job.settled) return;
    if (signal?.aborted) {
      job.reject(signal.reason);
      return;
    }
    const entry = job.thread;
    if (entry === undefined) {
      job.reject(err);
      return;
    }
    // piscina removes a dead worker before it rejects that worker's tasks. A
    // worker still listed is alive: posting the task to it failed (structured
    // clone refused something the walker let through), and no exit will come.
    if (this.#piscina.threads.includes(entry.worker)) {
      job.reject(postFailure(err, message));
      return;
    }
    void entry.exit.then((code) => {
      const outOfMemory = (err as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
      // Node stops a worker that reaches its heap limit with exit code 1; a
      // 0 seen here would misread as a clean exit, so it is never reported.
      const exitCode = outOfMemory && code === 0 ? 1 : code;
      const cause = err instanceof Error && !/^worker exited/.test(err.message) ? `: ${err.message}` : '';
      const error = new WorkerExitError(
        outOfMemory
          ? `the worker (thread ${entry.threadId}) running task ${message.n} ran out of memory under options.resourceLimits ${JSON.stringify(this.#resourceLimits ?? {})} and was stopped (exit code ${exitCode})${cause}`
          : `the worker (thread ${entry.threadId}) running task ${message.n} exited with code ${exitCode}${cause}`,
        { cause: err },
      );
      error.exitCode = exitCode;
      error.threadId = entry.threadId;
      job.reject(error);
    });
  }

  #finish(job: Job): void {
    this.#jobs.delete(job);
    const entry = job.thread;
    if (entry !== undefined && ++entry.done >= this.#maxTasksPerChild) {
      void entry.worker.terminate();
    }
    if (this.#jobs.size === 0) this.#notifyIdle();
  }

  #balance(task: Record<symbol, unknown>, workers: readonly { id: number; currentUsage: number }[]) {
    for (const worker of workers) {
      if (worker.currentUsage !== 0 || this.#retiring.has(worker.id)) continue;
      const entry = this.#track(worker.id);
      if (entry === undefined) continue;
      const job = task[kQueueOptions] as Job | null | undefined;
      if (job) job.thread = entry;
      if (++entry.assigned >= this.#maxTasksPerChild) this.#retiring.add(worker.id);
      return worker as never;
    }
    return null;
  }

  #track(threadId: number): ThreadEntry | undefined {
    const known = this.#threads.get(threadId);
    if (known !== undefined) return known;
    const worker = this.#piscina.threads.find((w) => w.threadId === threadId);
    if (worker === undefined) return undefined;
    const entry: ThreadEntry = {
      threadId,
      worker,
      exit: new Promise<number>((resolve) => {
        worker.once('exit', (code: number) => {
          this.#threads.delete(threadId);
          this.#retiring.delete(threadId);
          resolve(code);
        });
      }),
      assigned: 0,
      done: 0,
    };
    this.#threads.set(threadId, entry);
    return entry;
  }

  /**
   * `join()`'s wait: until no task and no feeder is left, checked again after
   * every wake-up (work a wake-up's caller adds in the same turn counts),
   * then destroys piscina. After terminate, its promise.
   */
  async #stopWhenIdle(): Promise<void> {
    while (this.#terminating === undefined && (this.#jobs.size !== 0 || this.#feeders.size !== 0)) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    if (this.#terminating !== undefined) return this.#terminating;
    this.#stopping = true;
    return this.#piscina.destroy();
  }

  /** Wakes `join()` once no work is left, or at once after terminate (`force`). */
  #notifyIdle(force = false): void {
    if (!force && (this.#jobs.size !== 0 || this.#feeders.size !== 0)) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Checks that every item of a starmap chunk is an argument list (the worker spreads it into the task). */
function checkArgLists(items: readonly unknown[], offset: number, what: string): void {
  for (let i = 0; i < items.length; i++) {
    if (!Array.isArray(items[i])) {
      throw new TypeError(
        `${what}: item ${offset + i} must be an array of arguments for the task: received ${describe(items[i])}` +
          ' (for one argument per item, use map)',
      );
    }
  }
}

/** A task that could not be posted to its (live) worker: a DataCloneError when structured clone refused it. */
function postFailure(err: unknown, message: TaskMessage): unknown {
  if (!(err instanceof Error) || err.name !== 'DataCloneError') return err;
  const root = message.k === CallKind.Apply ? 'args' : 'items';
  const error = new DataCloneError(`${root} of task ${message.n} cannot be sent to another thread: ${err.message}`, {
    cause: err,
  });
  error.path = root;
  return error;
}

function wrapAfter<A>(fn: (a: A) => void, after: () => void): (a: A) => void {
  return (a) => {
    after();
    fn(a);
  };
}

/** The value of a reply, or its error rebuilt and thrown. */
function unpack(reply: ReplyMessage): unknown {
  if (!reply.ok) throw decodeError(reply.e);
  return reply.s ? revive(reply.v) : reply.v;
}

/** An AsyncResult over `promise` that calls Python-style callbacks when it settles. */
function settleWith<T>(
  promise: Promise<T>,
  callback: ((value: T) => void) | undefined,
  errorCallback: ((error: unknown) => void) | undefined,
): AsyncResult<T> {
  if (callback !== undefined || errorCallback !== undefined) {
    quiet(promise).then(
      (value) => callback && report(callback, value),
      (err: unknown) => errorCallback && report(errorCallback, err),
    );
  }
  return new AsyncResult(promise);
}

/** Calls a user callback; an error it throws is reported as uncaught, as an event listener's would be. */
function report<T>(callback: (value: T) => void, value: T): void {
  try {
    callback(value);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
