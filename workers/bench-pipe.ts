/**
 * The peer thread of bench/pipe.ts. On each command it runs one synchronous
 * loop: `pipe-rtt` receives and sends back `n` messages on the duplex end
 * `conn` (blocking `recv`); `pipe-oneway` sends the ints 0…n-1 on the
 * sending end `w` of a one-way pipe. The `MessagePort` baseline is echoed
 * from the port's `message` event, between commands.
 *
 * @module
 */

import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { Connection } from '../src/index.js';
import '../src/index.js';

/**
 * A command to the peer thread.
 *
 * @example
 * ```ts
 * worker.postMessage({ kind: 'pipe-rtt', n: 20_000 } satisfies PipeCommand);
 * ```
 */
export interface PipeCommand {
  readonly kind: 'pipe-rtt' | 'pipe-oneway';
  readonly n: number;
}

const { conn, w, port } = (workerData ?? {}) as { conn: Connection<number>; w: Connection<number>; port: MessagePort };

port?.on('message', (m: number) => port.postMessage(m));

parentPort?.on('message', ({ kind, n }: PipeCommand) => {
  if (kind === 'pipe-rtt') {
    for (let i = 0; i < n; i++) conn.send(conn.recv());
  } else {
    for (let i = 0; i < n; i++) w.send(i);
  }
});
