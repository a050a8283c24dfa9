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
export {
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
  QueueClosedError,
  QueueEmpty,
  QueueFull,
  TimeoutError,
  WorkerExitError,
} from './errors.js';
export { type ApplyOptions, cpuCount, type MapAsyncOptions, Pool, type PoolOptions } from './pool.js';
export type { ImapOptions, MapOptions } from './pool-map.js';
export {
  defineTasks,
  type Runnable,
  type Task,
  type TaskArgs,
  type TaskRef,
  type TaskResult,
  taskRef,
} from './task.js';
