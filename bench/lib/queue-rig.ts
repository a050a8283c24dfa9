/**
 * The threads of one figure of bench/queue.ts: `producers` producer
 * workers and one consumer worker (workers/bench-queue.ts), each producer
 * with a `MessagePort` to the consumer for the baseline, and the queues of
 * the figure shared by all. The main thread only commands and keeps time:
 * its event loop stays free, so a round that does not finish within its
 * timeout is reported (how far the consumer got) instead of hanging the
 * bench, and the rig is then closed — its workers terminated, whatever they
 * were blocked in.
 *
 * @module
 */

import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { Queue } from '../../src/index.js';
import {
  type ConsumeCommand,
  Ctrl,
  type ProduceCommand,
  type QueuePayload,
  type QueueReply,
  type QueueWorkerData,
} from '../../workers/bench-queue.js';
import { workerUrl } from './paths.js';

/**
 * A round that did not end in time; the message says how far it got.
 *
 * @example
 * ```ts
 * try { await rig.round(spec); } catch (err) { if (err instanceof RoundTimeout) console.log(err.message); }
 * ```
 */
export class RoundTimeout extends Error {
  override readonly name = 'RoundTimeout';
}

/**
 * One round: every producer sends `n` items of `payload` on `channel`
 * (queue `queue` of the rig, or its own port), the consumer takes them all.
 *
 * @example
 * ```ts
 * const spec: RoundSpec = { channel: 'queue', queue: 'plain', payload: 'object', n: 10_000 };
 * ```
 */
export interface RoundSpec {
  readonly channel: 'queue' | 'port';
  readonly queue: string;
  readonly payload: QueuePayload;
  /** Items per producer. */
  readonly n: number;
  /** The consumer's one pause. */
  readonly stall?: { readonly after: number; readonly ms: number };
  /** Answer with every item's time. */
  readonly stamps?: boolean;
  /** Arrays from one producer: cut the round this long after the stall's resumption. */
  readonly capMs?: number;
}

/**
 * The consumer's answer to a round.
 *
 * @example
 * ```ts
 * const { ms, stamps }: Consumed = await rig.round({ ...spec, stamps: true });
 * ```
 */
export type Consumed = Extract<QueueReply, { kind: 'consumed' }>;

interface Pending {
  readonly resolve: (r: Consumed) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Producer and consumer workers of one figure, started at once and reused
 * round after round until {@link QueueRig.close}.
 *
 * @example
 * ```ts
 * const rig = new QueueRig(8, { plain: new Queue() }, 30_000);
 * try {
 *   const { ms } = await rig.round({ channel: 'queue', queue: 'plain', payload: 'int', n: 100_000 });
 *   console.log(`${(8 * 100_000 / ms) * 1000} items/s`);
 * } finally {
 *   await rig.close();
 * }
 * ```
 */
export class QueueRig {
  /** Producer threads. */
  readonly producers: number;
  /** A round's longest time, ms. */
  readonly timeoutMs: number;
  readonly #ctrl = new Int32Array(new SharedArrayBuffer(Ctrl.WORDS * Int32Array.BYTES_PER_ELEMENT));
  readonly #producers: Worker[] = [];
  readonly #consumer: Worker;
  #round = 0;
  #pending: Pending | undefined;
  /** Set once a round failed: the threads may be stuck, so no round runs again. */
  #broken: Error | undefined;

  /**
   * Starts the threads; `queues` are shared by all of them, by name.
   *
   * @example
   * ```ts
   * const rig = new QueueRig(1, { small: new Queue({ maxsize: 4 }) }, 60_000);
   * ```
   */
  constructor(producers: number, queues: Readonly<Record<string, Queue>>, timeoutMs: number) {
    this.producers = producers;
    this.timeoutMs = timeoutMs;
    const url = new URL(workerUrl('bench-queue'));
    const consumerPorts: MessagePort[] = [];
    for (let index = 0; index < producers; index++) {
      const { port1, port2 } = new MessageChannel();
      consumerPorts.push(port1);
      const workerData: QueueWorkerData = { role: 'producer', index, queues, ports: [port2], ctrl: this.#ctrl };
      this.#producers.push(this.#watch(new Worker(url, { workerData, transferList: [port2] }), `producer ${index}`));
    }
    const workerData: QueueWorkerData = { role: 'consumer', index: 0, queues, ports: consumerPorts, ctrl: this.#ctrl };
    this.#consumer = this.#watch(new Worker(url, { workerData, transferList: consumerPorts }), 'consumer');
  }

  #watch(worker: Worker, who: string): Worker {
    worker.on('message', (r: QueueReply) => {
      if (r.kind === 'consumed') this.#settle(r);
      else this.#settle(new Error(`${r.who}: ${r.message}`));
    });
    worker.on('error', (err) => this.#settle(new Error(`${who} died: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.#settle(new Error(`${who} exited (code ${code})`)));
    return worker;
  }

  #settle(outcome: Consumed | Error): void {
    const pending = this.#pending;
    if (outcome instanceof Error) this.#broken ??= outcome;
    if (pending === undefined) return;
    this.#pending = undefined;
    clearTimeout(pending.timer);
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  /**
   * Runs one round: commands every producer and the consumer, resolves with
   * the consumer's answer.
   *
   * @example
   * ```ts
   * const { ms } = await rig.round({ channel: 'port', queue: 'plain', payload: 'array', n: 400 });
   * ```
   * @throws {RoundTimeout} (as a rejection) when the round takes longer than `timeoutMs`.
   * @throws {Error} (as a rejection) when a thread failed — a wrong item, an exception, a death —
   *   or an earlier round did.
   */
  round(spec: RoundSpec): Promise<Consumed> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    if (this.#pending !== undefined) return Promise.reject(new Error('one round at a time'));
    const go = ++this.#round;
    const gateMs = Math.max(1000, this.timeoutMs / 2);
    return new Promise<Consumed>((resolve, reject) => {
      const timer = setTimeout(() => {
        const got = Atomics.load(this.#ctrl, Ctrl.GOT);
        const ready = Atomics.load(this.#ctrl, Ctrl.READY);
        const opened = Atomics.load(this.#ctrl, Ctrl.GO) >= go;
        this.#settle(
          new RoundTimeout(
            `${spec.channel} round of ${this.producers} × ${spec.n} ${spec.payload}s did not finish in ${this.timeoutMs} ms: ` +
              (opened
                ? `the consumer had taken ${got} of ${this.producers * spec.n}`
                : `the gate never opened (${ready} of ${this.producers} producers ready)`),
          ),
        );
      }, this.timeoutMs);
      this.#pending = { resolve, reject, timer };
      const common = {
        channel: spec.channel,
        queue: spec.queue,
        payload: spec.payload,
        n: spec.n,
        go,
        timeoutMs: gateMs,
      };
      this.#producers.forEach((p, w) => {
        p.postMessage({ kind: 'produce', ...common, base: w * spec.n } satisfies ProduceCommand);
      });
      const consume: ConsumeCommand = {
        kind: 'consume',
        ...common,
        producers: this.producers,
        ...(spec.stall === undefined ? {} : { stall: spec.stall }),
        ...(spec.stamps === undefined ? {} : { stamps: spec.stamps }),
        ...(spec.capMs === undefined ? {} : { capMs: spec.capMs }),
      };
      this.#consumer.postMessage(consume);
    });
  }

  /**
   * Terminates every thread (a stuck one too).
   *
   * @example
   * ```ts
   * await rig.close();
   * ```
   */
  async close(): Promise<void> {
    this.#broken ??= new Error('the rig is closed');
    const workers = [this.#consumer, ...this.#producers];
    for (const w of workers) w.removeAllListeners('exit');
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
