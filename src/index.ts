/**
 * corepool: Python's `multiprocessing` for Node.js worker threads.
 *
 * @example
 * ```ts
 * import { Pool, defineTasks } from 'corepool';
 * export const { square } = defineTasks(import.meta.url, { square: (n: number) => n * n });
 * await using pool = new Pool();
 * console.log(await pool.map(square, [1, 2, 3])); // [1, 4, 9]
 * ```
 * @module
 */

export { AsyncResult } from './async-result.js';
export { Connection, Pipe, type PipeOptions } from './channel/pipe.js';
export {
  type GetOptions,
  JoinableQueue,
  type PutOptions,
  Queue,
  type QueueOptions,
  SimpleQueue,
} from './channel/queue.js';
export {
  BootstrapError,
  BrokenBarrierError,
  BufferTooShort,
  ConnectionStateError,
  CorepoolError,
  DataCloneError,
  EOFError,
  LockStateError,
  PoolClosedError,
  PoolStateError,
  PoolTerminatedError,
  ProcessStateError,
  QueueClosedError,
  QueueEmpty,
  QueueFull,
  TimeoutError,
  WorkerExitError,
} from './errors.js';
export { type ApplyOptions, cpuCount, type MapAsyncOptions, type OneArgument, Pool, type PoolOptions } from './pool.js';
export type { ImapOptions, MapOptions } from './pool-map.js';
export { activeChildren, currentProcess, expose, Process, type ProcessOptions } from './process.js';
export { type Callback, type ProxyMarked, proxy, type Remote, releaseProxy } from './remote.js';
export { SharedArray, type SharedArrayOptions } from './shared/array.js';
export {
  type ElementType,
  SharedValue,
  type SharedValueOptions,
  type Typecode,
  type TypeName,
} from './shared/value.js';
export { Barrier, type BarrierOptions } from './sync/barrier.js';
export { Condition } from './sync/condition.js';
export { Event } from './sync/event.js';
export { Lock } from './sync/lock.js';
export type { AcquireOptions } from './sync/lock-like.js';
export { RLock } from './sync/rlock.js';
export { BoundedSemaphore, Semaphore } from './sync/semaphore.js';
export {
  defineTasks,
  type Runnable,
  type Task,
  type TaskArgs,
  type TaskRef,
  type TaskResult,
  taskRef,
} from './task.js';
export { type ReviveOptions, revive, type TransferItem } from './transfer.js';

import './worker-data.js';
