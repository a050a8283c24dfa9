/**
 * `Process`: Python's `multiprocessing.Process`, on a worker thread.
 *
 * Life of a process, as seen by the thread that made it (the parent):
 *
 * ```
 *   new Process()  ──start()──►  started  ──worker 'exit'──►  exited
 *    initial                     isAlive()                    exitCode, error
 *                                   │ terminate(): worker.terminate(), exitCode -15
 * ```
 *
 * - `start()` prepares the arguments (transfer.ts: shared objects travel as
 *   markers over the same memory, `proxy()`-marked callbacks as ports) and
 *   starts `workers/process-host` with them as `workerData`. The host calls
 *   {@link runChild}: it rebuilds this object there — a plain `Process` around
 *   the target, or an instance of the user's subclass with its own fields —
 *   and awaits its `run()`.
 * - The child ends as a Python process does: when `run()` has returned (or
 *   its Promise settled) *and* nothing else is left to do — its event loop is
 *   empty, as Python joins a child's non-daemon threads. An error out of
 *   `run()` is flattened (error-codec.ts) and posted on the worker's own port
 *   (`parentPort`), which Node drains before the worker's `exit` event, so
 *   `p.error` is set when `join()` resolves; the exit code becomes 1.
 * - Exit codes: the worker's own (0, 1, or the code given to `process.exit`),
 *   except after `terminate()`, which Node reports as 1 and Python as -15
 *   (SIGTERM): a termination we asked for that ends with 1 reads -15.
 * - Liveness: a non-daemon child's `Worker` is ref'd, so it keeps the program
 *   alive until it ends; a daemon's is unref'd, so Node terminates it when the
 *   program ends (ref'd again while someone `join()`s it).
 * - `p.remote` is a comlink proxy on a channel whose other port the child
 *   serves with `expose(obj)` (remote.ts). When the child exits, the answers
 *   it sent are delivered, and every unanswered or later call rejects.
 *
 * Per thread (`threadGlobal`, so two loaded copies of corepool agree): the
 * counter behind default names (`Process-N`; a child's children are
 * `Process-N:M`), the started children not yet seen exiting, and the
 * `currentProcess()`.
 *
 * @module
 */

import { inspect } from 'node:util';
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  threadId,
  type Worker,
  type WorkerOptions,
} from 'node:worker_threads';
import { checkBoolean, checkOptions, describe } from './check.js';
import { decodeError, type WireThrown } from './error-codec.js';
import { ProcessStateError, WorkerExitError } from './errors.js';
import { type Remote, RemoteEndpoint, remoteOf, serveOn } from './remote.js';
import { currentRegistry } from './sync/owners.js';
import { checkNotBootstrapping, locate, type Runnable, resolveTask, type TaskArgs, type TaskLocation } from './task.js';
import { threadGlobal } from './thread-global.js';
import { checkTimeout, MAX_TIMER_MS } from './timeout.js';
import { type Prepared, prepare, revive } from './transfer.js';
import { startModuleWorker, workerModule } from './worker-entry.js';

// Built, the host sits beside this file's directory as JavaScript; run from
// source (through a TypeScript loader such as tsx), as TypeScript.
const hostUrl = workerModule('process-host', import.meta.url);

/** Options key of the internal constructor call that makes a thread's view of itself. */
const kInit = Symbol.for('corepool.process.init');
/** Own static property of the `Process` class (of any loaded copy of corepool). */
const kBase = Symbol.for('corepool.process.base');
/** Key of the host's control messages on the worker's port. */
export const CONTROL = '__corepool_process__';

/**
 * Options of {@link Process}.
 *
 * @example
 * ```ts
 * const options: ProcessOptions<typeof worker> = { target: worker, args: [3], name: 'ticker', daemon: true };
 * ```
 */
export interface ProcessOptions<F extends Runnable = Runnable> {
  /** The task the child runs (made by `defineTasks()` or `taskRef()`); none: `run()` does nothing. */
  target?: F;
  /** Arguments of `target`; any value that can cross threads, shared objects and `proxy()` callbacks included. */
  args?: Runnable extends F ? readonly unknown[] : TaskArgs<F>;
  /** Default: the class name and a per-thread counter, `Process-1`; a child's children are `Process-1:1`. */
  name?: string;
  /** Terminated when the program ends instead of keeping it alive. Default: the current process's flag. */
  daemon?: boolean;
}

/** How a thread's own `Process` object is made: the parent's, or the child's view of itself. */
interface SelfInit {
  readonly name: string;
  readonly identity: readonly number[];
  readonly daemon: boolean;
  readonly pid: number;
  readonly target?: TaskLocation | undefined;
  readonly args?: readonly unknown[] | undefined;
}

/** What a `Process` hands its child (`workers/process-host.ts`) as `workerData`. */
export interface ProcessData {
  /** The thread registry (sync/owners.ts), adopted by the child. */
  readonly registry: SharedArrayBuffer;
  readonly name: string;
  readonly identity: readonly number[];
  readonly daemon: boolean;
  /** The child's end of the `remote` channel (served by `expose()`). */
  readonly port: MessagePort;
  readonly target: TaskLocation | undefined;
  readonly args: unknown;
  readonly argsShared: boolean;
  /** A subclass to rebuild: the module that exports it, and its class name. */
  readonly cls: { readonly module: string; readonly name: string } | undefined;
  readonly fields: unknown;
  readonly fieldsShared: boolean;
}

/** The host's report of an error out of `run()`. */
export interface ControlMessage {
  readonly [CONTROL]: 'error';
  readonly error: WireThrown;
}

interface ThreadProcesses {
  /** Processes made by this thread so far: the last number of the default names. */
  counter: number;
  /** Started children not yet seen exiting. */
  readonly children: Set<{ isAlive(): boolean }>;
  /** What `currentProcess()` returns, once made. */
  current: object | undefined;
  /** This thread's identity (`[]` for the main thread, `[1, 2]` for `Process-1:2`) and daemon flag. */
  identity: readonly number[];
  daemon: boolean;
  /** In a Process child: its end of the `remote` channel, and whether `expose()` took it. */
  channel: { readonly port: MessagePort; exposed: boolean } | undefined;
}

const thread = threadGlobal<ThreadProcesses>('corepool.processes', () => ({
  counter: 0,
  children: new Set(),
  current: undefined,
  identity: [],
  daemon: false,
  channel: undefined,
}));

const processOptions = ['target', 'args', 'name', 'daemon'] as const;
type ProcessState = 'initial' | 'started' | 'exited';
type ProcessClass = (abstract new (...args: never[]) => Process) & { readonly module?: unknown };

/**
 * A thread that runs a task (or a subclass's `run()`), with the methods and
 * semantics of Python's `multiprocessing.Process`.
 *
 * `Api` types {@link remote}: the object the child serves with
 * {@link expose}. `F` is the target's type, inferred from `target` when `Api`
 * is not given, so `args` is checked against the task's parameters.
 *
 * A subclass that overrides `run()` says where it lives with
 * `static module = import.meta.url` and is exported from that module (under
 * any name: the child finds it by class name). The child rebuilds it without
 * running its constructor again — an instance of the class with a copy of
 * its own enumerable fields, through `prepare()`/`revive()`, so shared
 * objects among them arrive working — and calls `run()` on it. `#private`
 * fields of the subclass are not sent.
 *
 * @example
 * ```ts
 * // tasks.ts
 * export const { worker } = defineTasks(import.meta.url, {
 *   worker(interval: number) { console.log(currentProcess().name, interval); },
 * });
 * // clock.ts
 * export class Clock extends Process {
 *   static module = import.meta.url;
 *   interval = 1;
 *   override run() { console.log(`${this.name}: every ${this.interval} ms`); }
 * }
 * // main.ts
 * const p = new Process({ target: worker, args: [3] });
 * p.start();
 * console.log(p.pid, p.name, p.isAlive()); // 1 'Process-1' true
 * await p.join();
 * console.log(p.exitCode); // 0
 * const c = new Clock();
 * c.start();
 * await c.join();
 * ```
 */
export class Process<Api = unknown, F extends Runnable = Runnable> {
  #name: string;
  #daemon: boolean;
  readonly #identity: readonly number[];
  readonly #target: TaskLocation | undefined;
  readonly #args: readonly unknown[];
  /** This object is a thread's view of itself (the main thread, or a child's own). */
  readonly #self: boolean;
  #state: ProcessState = 'initial';
  #pid: number | null = null;
  #exitCode: number | null = null;
  #failed = false;
  #error: unknown;
  #worker: Worker | undefined;
  #endpoint: RemoteEndpoint | undefined;
  #remote: Remote<Api> | undefined;
  #exit: Promise<void> | undefined;
  #terminating = false;
  /** Joins in progress on a daemon (whose worker is ref'd meanwhile). */
  #holds = 0;

  /**
   * Makes a process; nothing runs before {@link start}.
   *
   * @throws {TypeError} when an option is unknown or invalid, or `target` is not a task.
   */
  constructor(options: ProcessOptions<F> = {}) {
    const init = (options as { [kInit]?: SelfInit } | null)?.[kInit];
    if (init !== undefined) {
      this.#self = true;
      this.#state = 'started';
      this.#name = init.name;
      this.#identity = init.identity;
      this.#daemon = init.daemon;
      this.#pid = init.pid;
      this.#target = init.target;
      this.#args = init.args ?? [];
      return;
    }
    const { target, args, name, daemon } = checkOptions(options, processOptions, 'Process') as ProcessOptions<F>;
    this.#target = target === undefined ? undefined : locate(target, 'options.target');
    if (args !== undefined && !Array.isArray(args)) {
      throw new TypeError(`options.args must be an array of arguments: received ${describe(args)}`);
    }
    if (name !== undefined && typeof name !== 'string') {
      throw new TypeError(`options.name must be a string: received ${describe(name)}`);
    }
    checkBoolean(daemon, 'options.daemon');
    this.#self = false;
    this.#args = [...((args as readonly unknown[] | undefined) ?? [])];
    this.#identity = [...thread.identity, ++thread.counter];
    this.#name = name || `${new.target.name || 'Process'}-${this.#identity.join(':')}`;
    this.#daemon = daemon ?? thread.daemon;
  }

  /**
   * The process's name: `Process-N` unless given (a subclass's default uses
   * its class name, as Python does). Only used for identification.
   *
   * @example
   * ```ts
   * new Process({ target: work }).name; // 'Process-1'
   * ```
   * @throws {TypeError} when set to something other than a string.
   */
  get name(): string {
    return this.#name;
  }

  set name(value: string) {
    if (typeof value !== 'string') throw new TypeError(`name must be a string: received ${describe(value)}`);
    this.#name = value;
  }

  /**
   * Whether the child is terminated when the program ends (`true`) instead of
   * keeping it alive until it finishes. Settable before `start()` only.
   *
   * @example
   * ```ts
   * const p = new Process({ target: serveForever });
   * p.daemon = true;
   * p.start(); // the program may end while it runs
   * ```
   * @throws {ProcessStateError} when set after `start()`.
   * @throws {TypeError} when set to something other than a boolean.
   */
  get daemon(): boolean {
    return this.#daemon;
  }

  set daemon(value: boolean) {
    if (this.#state !== 'initial')
      throw new ProcessStateError(`process has already started: ${this.#name}.daemon is fixed`);
    if (typeof value !== 'boolean') throw new TypeError(`daemon must be a boolean: received ${describe(value)}`);
    this.#daemon = value;
  }

  /**
   * The child's thread id, recorded at `start()` and kept after it exits;
   * `null` before `start()`. The main thread's is 0.
   *
   * @example
   * ```ts
   * p.start();
   * console.log(p.pid); // e.g. 3
   * ```
   */
  get pid(): number | null {
    return this.#pid;
  }

  /**
   * `null` before the child exits; then 0 when `run()` returned, 1 when it
   * threw (see {@link error}), the code given to `process.exit(code)`, or -15
   * after {@link terminate}.
   *
   * @example
   * ```ts
   * await p.join();
   * if (p.exitCode !== 0) console.error(p.name, 'failed:', p.error);
   * ```
   */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /**
   * The error that ended the child (exit code 1), rebuilt here with its class,
   * `code`, own properties and the child's stack; `undefined` when none.
   *
   * @example
   * ```ts
   * await p.join();
   * if (p.error instanceof RangeError) console.error(p.error.stack);
   * ```
   */
  get error(): unknown {
    return this.#error;
  }

  /**
   * A typed comlink proxy of the object the child serves with
   * {@link expose}: `await p.remote.method(…)`. A call the child has not
   * answered when it exits rejects with `WorkerExitError`; a call made after
   * it exited rejects with `ProcessStateError`. `p.remote[releaseProxy]()`
   * closes the channel (a child that only served ends then).
   *
   * @example
   * ```ts
   * const p = new Process<{ add(a: number, b: number): number }>({ target: serveMath });
   * p.start();
   * console.log(await p.remote.add(2, 3)); // 5
   * ```
   * @throws {ProcessStateError} before `start()`, or on a thread's own process object.
   */
  get remote(): Remote<Api> {
    if (this.#remote === undefined) {
      throw new ProcessStateError(
        this.#self
          ? `${this.#name} is the process running this code: serve the parent with expose(obj)`
          : `${this.#name} has no remote before start(): start it first`,
      );
    }
    return this.#remote;
  }

  /**
   * What the child runs: by default, `target(...args)` (awaited). Override it
   * in a subclass (with `static module = import.meta.url`). Called directly,
   * it runs in the calling thread, as in Python.
   *
   * @example
   * ```ts
   * export class Clock extends Process {
   *   static module = import.meta.url;
   *   ticks = 3;
   *   override async run() { for (let i = 0; i < this.ticks; i++) console.log(new Date()); }
   * }
   * ```
   * @throws whatever the target throws (as a rejection).
   */
  run(): void | Promise<void> {
    const target = this.#target;
    if (target === undefined) return;
    const args = this.#args;
    return resolveTask(target).then(async (fn) => {
      await fn(...args);
    });
  }

  /**
   * Starts the child thread, which calls {@link run}. Returns at once.
   *
   * @example
   * ```ts
   * const p = new Process({ target: work, args: [1] });
   * p.start();
   * ```
   * @throws {ProcessStateError} when called twice ("cannot start a process twice"), or on a thread's own process object.
   * @throws {DataCloneError} when an argument (or a subclass's field) cannot be sent to another thread.
   * @throws {TypeError} when a subclass that overrides `run()` has no `static module = import.meta.url`.
   * @throws {BootstrapError} when called by a task module's top-level code while a worker imports it.
   */
  start(): void {
    if (this.#self) {
      throw new ProcessStateError(`cannot start a process twice: ${this.#name} is the process running this code`);
    }
    if (this.#state !== 'initial') {
      throw new ProcessStateError(`cannot start a process twice: ${this.#name} was started already`);
    }
    checkNotBootstrapping('Process.start()');
    const cls = this.#classToSend();
    const args = prepare(this.#args, 'args', undefined, 0, { proxies: true });
    let fields: Prepared | undefined;
    try {
      if (cls !== undefined) fields = prepare({ ...this }, 'this', undefined, 0, { proxies: true });
    } catch (err) {
      closeAll(args.transfer);
      throw err;
    }
    const { port1, port2 } = new MessageChannel();
    const data: ProcessData = {
      registry: currentRegistry(),
      name: this.#name,
      identity: this.#identity,
      daemon: this.#daemon,
      port: port2,
      target: this.#target,
      args: args.value,
      argsShared: args.shared,
      cls,
      fields: fields?.value,
      fieldsShared: fields?.shared ?? false,
    };
    const transferList = [port2, ...(args.transfer ?? []), ...(fields?.transfer ?? [])];
    let worker: Worker;
    try {
      worker = startHost({ workerData: data, transferList, name: this.#name });
    } catch (err) {
      port1.close();
      closeAll(transferList);
      throw err;
    }
    this.#worker = worker;
    this.#pid = worker.threadId;
    this.#state = 'started';
    const endpoint = new RemoteEndpoint(port1);
    this.#endpoint = endpoint;
    this.#remote = remoteOf<Api>(endpoint);
    this.#exit = new Promise<void>((resolve) => {
      worker.once('exit', (code: number) => {
        this.#exited(code);
        resolve();
      });
    });
    worker.on('message', (message: unknown) => {
      const control = message as Partial<ControlMessage> | null;
      if (control?.[CONTROL] === 'error' && control.error !== undefined) this.#fail(decodeError(control.error), true);
    });
    // An error thrown outside run() (a timer left behind, an unhandled rejection) ends the worker with 1.
    worker.on('error', (err: unknown) => this.#fail(err, false));
    if (this.#daemon) worker.unref();
    thread.children.add(this);
  }

  /**
   * Resolves when the child has exited, or when `timeout` ms have passed
   * (as in Python, it does not reject then: check {@link isAlive} or
   * {@link exitCode}).
   *
   * @example
   * ```ts
   * await p.join(1000);
   * if (p.isAlive()) await p.terminate();
   * ```
   * @throws {ProcessStateError} (as a rejection) before `start()` ("can only join a started process"), or on a thread's own process object.
   * @throws {RangeError} (as a rejection) when `timeout` is negative or NaN; {@link TypeError} when it is not a number.
   */
  async join(timeout?: number): Promise<void> {
    if (this.#self) {
      throw new ProcessStateError(`can only join a child process: ${this.#name} is the process running this code`);
    }
    if (this.#state === 'initial' || this.#exit === undefined) {
      throw new ProcessStateError(`can only join a started process: ${this.#name} was never started`);
    }
    checkTimeout(timeout, 'join(timeout)');
    if (this.#state === 'exited') return;
    this.#hold(1);
    let timer: NodeJS.Timeout | undefined;
    try {
      if (timeout === undefined || timeout > MAX_TIMER_MS) {
        await this.#exit;
      } else {
        await Promise.race([this.#exit, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)))]);
      }
    } finally {
      clearTimeout(timer);
      this.#hold(-1);
    }
  }

  /**
   * Whether the child is running: from `start()` until its exit is seen.
   * A thread's own process object is always alive.
   *
   * @example
   * ```ts
   * p.start();
   * p.isAlive(); // true
   * await p.join();
   * p.isAlive(); // false
   * ```
   */
  isAlive(): boolean {
    return this.#state === 'started';
  }

  /**
   * Stops the child now (`worker.terminate()`, which also interrupts
   * `Atomics.wait`) and resolves once it has exited; `exitCode` reads -15.
   * Does nothing when it has exited already.
   *
   * @example
   * ```ts
   * await p.terminate();
   * p.exitCode; // -15
   * ```
   * @throws {ProcessStateError} (as a rejection) before `start()`, or on a thread's own process object.
   */
  async terminate(): Promise<void> {
    if (this.#self) {
      throw new ProcessStateError(`${this.#name} is the process running this code: end it with process.exit()`);
    }
    if (this.#worker === undefined || this.#exit === undefined) {
      throw new ProcessStateError(`can only terminate a started process: ${this.#name} was never started`);
    }
    if (this.#state === 'exited') return;
    this.#terminating = true;
    await this.#worker.terminate();
    await this.#exit;
  }

  /**
   * Python's repr: `<Process name='Process-1' pid=3 stopped exitcode=0>`.
   *
   * @example
   * ```ts
   * console.log(p); // <Process name='Process-1' pid=3 started>
   * ```
   */
  [inspect.custom](): string {
    const pid = this.#pid === null ? '' : ` pid=${this.#pid}`;
    const status = this.#state === 'exited' ? `stopped exitcode=${this.#exitCode}` : this.#state;
    return `<${this.constructor.name} name='${this.#name}'${pid} ${status}${this.#daemon ? ' daemon' : ''}>`;
  }

  /** For a subclass that runs its own `run()`: where the child finds the class. */
  #classToSend(): ProcessData['cls'] {
    const Ctor = this.constructor as ProcessClass;
    if (Object.hasOwn(Ctor, kBase)) return undefined;
    const module = Ctor.module;
    const overridesRun = this.run !== Process.prototype.run;
    if (module === undefined && !overridesRun) return undefined;
    const what = Ctor.name || 'this anonymous subclass of Process';
    if (module === undefined) {
      throw new TypeError(
        `${what} overrides run() but has no \`static module = import.meta.url\`: the child thread needs it to import the class`,
      );
    }
    if (typeof module !== 'string' || !/^[a-z][a-z0-9+.-]*:/i.test(module)) {
      throw new TypeError(
        `${what}.module must be the URL of the module that exports the class, such as import.meta.url: received ${describe(module)}`,
      );
    }
    if (!Ctor.name) {
      throw new TypeError('an anonymous subclass of Process cannot run in a child: name the class and export it');
    }
    return { module, name: Ctor.name };
  }

  #fail(err: unknown, fromRun: boolean): void {
    // The error out of run() wins over one reported afterwards.
    if (this.#failed && !fromRun) return;
    this.#failed = true;
    this.#error = err;
  }

  #exited(code: number): void {
    const exitCode = this.#terminating && code === 1 ? -15 : code;
    this.#exitCode = exitCode;
    this.#state = 'exited';
    thread.children.delete(this);
    const name = this.#name;
    const pid = this.#pid ?? -1;
    this.#endpoint?.fail((what, pending) => {
      if (!pending) {
        return new ProcessStateError(
          `${what} cannot be answered: the process ${name} has exited (exit code ${exitCode})`,
        );
      }
      const err = new WorkerExitError(
        `${what} was not answered: the process ${name} (thread ${pid}) has exited with code ${exitCode}`,
      );
      err.exitCode = exitCode;
      err.threadId = pid;
      return err;
    });
  }

  /** A daemon's worker is unref'd; while someone joins it, it keeps the program alive. */
  #hold(delta: 1 | -1): void {
    const worker = this.#worker;
    if (!this.#daemon || worker === undefined) return;
    this.#holds += delta;
    if (delta === 1 && this.#holds === 1) worker.ref();
    else if (this.#holds === 0) worker.unref();
  }
}
Object.defineProperty(Process, kBase, { value: true });

/** Starts the host thread. */
function startHost(options: WorkerOptions): Worker {
  return startModuleWorker(hostUrl, options, "corepool's Process host");
}

function closeAll(ports: readonly MessagePort[] | undefined): void {
  for (const port of ports ?? []) port.close();
}

/**
 * The `Process` object of the calling thread: in a child, the object whose
 * `run()` it runs (name, pid, daemon as the parent set them); in the main
 * thread, `MainProcess` (pid 0); in another worker (a Pool's), `Worker-<threadId>`.
 *
 * @example
 * ```ts
 * console.log(currentProcess().name); // 'MainProcess', or 'Process-1' in the first child
 * ```
 */
export function currentProcess(): Process {
  thread.current ??= new Process({
    [kInit]: {
      name: isMainThread ? 'MainProcess' : `Worker-${threadId}`,
      identity: thread.identity,
      daemon: thread.daemon,
      pid: threadId,
    },
  } as ProcessOptions);
  return thread.current as Process;
}

/**
 * The children started by this thread that are still running. Those seen to
 * have exited are dropped (Python's `active_children()` reaps them).
 *
 * @example
 * ```ts
 * for (const p of activeChildren()) console.log(p.name, p.pid);
 * ```
 */
export function activeChildren(): Process[] {
  const live: Process[] = [];
  for (const child of thread.children) {
    if (child.isAlive()) live.push(child as Process);
    else thread.children.delete(child);
  }
  return live;
}

/**
 * Inside a `Process` child: serves `obj` to the parent, which calls it
 * through `p.remote` (comlink). The child stays alive while it serves; the
 * returned function stops serving, and so does the parent releasing its
 * proxy (`p.remote[releaseProxy]()`).
 *
 * @example
 * ```ts
 * // tasks.ts
 * export const { serveCounter } = defineTasks(import.meta.url, {
 *   serveCounter(start: number) {
 *     let n = start;
 *     expose({ add: (k: number) => (n += k) });
 *   },
 * });
 * // main.ts
 * const p = new Process<{ add(k: number): number }>({ target: serveCounter, args: [10] });
 * p.start();
 * await p.remote.add(5); // 15
 * ```
 * @throws {ProcessStateError} outside a `Process` child, or when called twice.
 * @throws {TypeError} when `obj` is neither an object nor a function.
 */
export function expose(obj: object): () => void {
  const channel = thread.channel;
  if (channel === undefined) {
    throw new ProcessStateError(
      'expose() serves the parent of a Process child: this thread was not started by a Process',
    );
  }
  if (channel.exposed) throw new ProcessStateError('expose() was already called in this process');
  if ((typeof obj !== 'object' && typeof obj !== 'function') || obj === null) {
    throw new TypeError(`expose(obj) must be an object or a function: received ${describe(obj)}`);
  }
  channel.exposed = true;
  serveOn(obj, channel.port);
  return () => channel.port.close();
}

// ---- the child's side (workers/process-host.ts) ------------------------------------

/** The class `Process` that `value` (a constructor) extends, of whichever copy of corepool; undefined if none. */
function processBase(value: unknown): (new (options: ProcessOptions) => Process) | undefined {
  if (typeof value !== 'function' || Object.hasOwn(value, kBase)) return undefined;
  for (let c: unknown = Object.getPrototypeOf(value); typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(c, kBase)) return c as new (options: ProcessOptions) => Process;
  }
  return undefined;
}

/** Imports the subclass `cls.name` from `cls.module`: its export of that name, or any export that is that class. */
async function findClass(cls: NonNullable<ProcessData['cls']>): Promise<ProcessClass> {
  let found: unknown;
  try {
    // Imports the module as tasks are imported (TypeScript included) and finds `export class Clock`.
    found = await resolveTask({ module: cls.module, name: cls.name });
  } catch (err) {
    if (!(err instanceof TypeError && /not found in/.test(err.message))) throw err;
  }
  if (processBase(found) === undefined) {
    const exports = (await import(cls.module)) as Record<string, unknown>;
    found = Object.values(exports).find(
      (v) => typeof v === 'function' && v.name === cls.name && processBase(v) !== undefined,
    );
  }
  if (processBase(found) === undefined) {
    throw new TypeError(
      `class ${cls.name} is not exported by ${cls.module}: export the Process subclass there so that its child thread can find it`,
    );
  }
  return found as ProcessClass;
}

/**
 * Runs a process in its child thread (called once, by the host): rebuilds
 * the `Process` object — the subclass instance without running its
 * constructor again, with its fields — and awaits its `run()`.
 *
 * @example
 * ```ts
 * await runChild(workerData as ProcessData);
 * ```
 * @throws whatever `run()` throws, or a TypeError when the subclass cannot be found.
 */
export async function runChild(data: ProcessData): Promise<void> {
  thread.identity = data.identity;
  thread.daemon = data.daemon;
  thread.channel = { port: data.port, exposed: false };
  const init: SelfInit = {
    name: data.name,
    identity: data.identity,
    daemon: data.daemon,
    pid: threadId,
    target: data.target,
  };
  // Until the real object is built (module code may ask), a plain view of this process.
  thread.current = new Process({ [kInit]: init } as ProcessOptions);
  const Ctor = data.cls === undefined ? undefined : await findClass(data.cls);
  // Load the target's module first: shared classes it registers must be known to revive the arguments.
  if (data.target !== undefined) await resolveTask(data.target);
  const args = data.argsShared ? revive<unknown[]>(data.args) : (data.args as unknown[]);
  let self: Process;
  if (Ctor === undefined) {
    self = new Process({ [kInit]: { ...init, args } } as ProcessOptions);
  } else {
    const Base = processBase(Ctor) as new (options: ProcessOptions) => Process;
    self = Reflect.construct(Base, [{ [kInit]: { ...init, args } }], Ctor) as Process;
    const fields = (data.fieldsShared ? revive(data.fields) : data.fields) as Record<string, unknown>;
    for (const [key, value] of Object.entries(fields ?? {})) {
      Object.defineProperty(self, key, { value, writable: true, enumerable: true, configurable: true });
    }
  }
  thread.current = self;
  await self.run();
}
