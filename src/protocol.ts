/**
 * The messages between a pool and the task runner in its workers
 * (`workers/runner.ts`). Kept small: a task message is posted per task and a
 * reply comes back per task, so every field costs on the hot path.
 *
 * @module
 */

import type { WireThrown } from './error-codec.js';

/** How the runner calls the task with `a`. */
export const CallKind = {
  /** `a` is the argument list: one call `fn(...a)`. */
  Apply: 0,
  /** `a` is a chunk of single arguments: `a.map((x) => fn(x))`. */
  Map: 1,
  /** `a` is a chunk of argument lists: `a.map((xs) => fn(...xs))`. */
  Starmap: 2,
} as const;
export type CallKind = (typeof CallKind)[keyof typeof CallKind];

/** A task as posted to a worker. */
export interface TaskMessage {
  /** Module URL of the task. */
  readonly m: string;
  /** Task name. */
  readonly n: string;
  /** Arguments (see {@link CallKind}). */
  readonly a: unknown;
  readonly k: CallKind;
  /** Whether `a` holds shared-object markers to revive. */
  readonly s: boolean;
}

/** The runner's answer. */
export type ReplyMessage =
  | {
      readonly ok: true;
      readonly v: unknown;
      /** Whether `v` holds shared-object markers to revive. */
      readonly s: boolean;
      /** Time the task itself took, in ms (map chunks only; drives automatic chunk sizes). */
      readonly d?: number;
    }
  | { readonly ok: false; readonly e: WireThrown };

/** What a pool hands every worker as `workerData`. */
export interface RunnerData {
  /** The pool's thread registry (sync/owners.ts), adopted by each worker so dead holders are seen everywhere. */
  readonly registry: SharedArrayBuffer;
  readonly init?: { readonly m: string; readonly n: string; readonly a: readonly unknown[]; readonly s: boolean };
}
