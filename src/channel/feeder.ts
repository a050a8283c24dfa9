/**
 * A Queue's buffering — Python's feeder thread — as an *overflow chain* in
 * shared memory that the hub thread (oob.ts, workers/hub.ts) drains into
 * the queue's ring. The hub's event loop always turns.
 *
 * A put never waits for room in the ring. When its record does not fit now
 * — or the queue has records in overflow already, which must go first — the
 * producer appends the record to the queue's current *segment*, a ring of
 * its own, under the queue's writer mutex, and returns. The hub moves
 * records from the segment into the queue's ring as soon as readers make
 * room: it sleeps on the ring's writer wake-up word, which a reader bumps
 * once its `TAIL` reaches what the hub waits for (ring.ts), and on the
 * segment's reader wake-up word, which producers bump. So buffered records
 * move at the readers' pace, never on a poll; they reach the queue whether
 * or not the producing thread ever runs again (a thread looping on
 * synchronous `put`, a Pool worker between tasks, a `Process` that returned
 * or was terminated); and a producer pays a plain shared-memory write per
 * buffered record, not a message.
 *
 * Order: the queue's `AT_HUB` word counts records in overflow; a put writes
 * into the ring directly only when it is 0 (read under the writer mutex),
 * and the hub takes moved records from it under the same mutex after
 * publishing them. So the ring and the chain together are one FIFO: after
 * any stall, once the hub has caught up, puts go straight to the ring again.
 *
 * A segment (one SharedArrayBuffer, pinned at the hub by the producer that
 * made it, before the queue's header names it):
 *
 * | bytes        | written by                                    | meaning                                  |
 * |--------------|-----------------------------------------------|------------------------------------------|
 * | 0–3          | a producer, under the writer mutex            | `SEALED`: 1 once a newer segment follows  |
 * | 64…          | ring.ts: producers write, the hub reads        | the segment's ring header                 |
 * | 256…         | producers                                     | records, as in the queue's ring           |
 *
 * Invariants: records in segments are whole and published with one `HEAD`
 * store, as in the queue's ring; a segment is sealed only after its last
 * record, and the next one is posted to the hub before the queue's header
 * names it, so the hub finishes a segment, sees `SEALED`, and finds the next
 * one in the order it received them. Segments double in size (64 KiB to
 * 64 MiB) when full; the current one is reused once drained.
 *
 * The process stays alive while the main thread has records in overflow (as
 * Python joins its feeder threads at exit): the hub would die with the
 * process. A worker thread may exit at once: the chain holds its records.
 *
 * @module
 */

import { OWNER_CHECK_MS } from '../sync/owners.js';
import { deadline, remaining } from '../sync/wait.js';
import { readHead } from './codec.js';
import type { Hub } from './oob.js';
import {
  RING_HEADER_BYTES,
  Ring,
  runAsync,
  TAIL,
  type Waiting,
  WRITE_WAKE,
  WRITE_WANT,
  WRITERS_SLEEPING,
  waitStep,
} from './ring.js';
import type { Stream, StreamState } from './stream.js';

/** `SEALED` word of a segment. */
const SEALED = 0;
const RING_AT = 64;
const DATA_AT = RING_AT + RING_HEADER_BYTES;
const MIN_SEGMENT = 64 * 1024;
const MAX_SEGMENT = 64 * 1024 * 1024;

/** One overflow segment, viewed by one thread. */
export interface Segment {
  readonly sab: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly ring: Ring;
}

/**
 * A segment over `sab` (one made by {@link newSegment}, here or in another thread).
 *
 * @example
 * ```ts
 * const seg = openSegment(sab);
 * ```
 * @throws {RangeError} when `sab` is not a segment's size.
 */
export function openSegment(sab: SharedArrayBuffer): Segment {
  return {
    sab,
    words: new Int32Array(sab, 0, 16),
    ring: new Ring(sab, RING_AT, DATA_AT, sab.byteLength - DATA_AT),
  };
}

/**
 * A new empty segment that holds at least a record of `record` bytes, twice
 * as large as `previous` (within 64 KiB–64 MiB).
 *
 * @example
 * ```ts
 * const seg = newSegment(out.total, current);
 * ```
 */
export function newSegment(record: number, previous: Segment | undefined): Segment {
  let size = previous === undefined ? MIN_SEGMENT : Math.min(previous.ring.capacity * 2, MAX_SEGMENT);
  while (size < record * 2) size *= 2;
  return openSegment(new SharedArrayBuffer(DATA_AT + size));
}

/**
 * Marks `seg` as followed by a newer segment, and wakes the hub if it sleeps on it.
 *
 * @example
 * ```ts
 * seal(current); // under the writer mutex, after posting the next one
 * ```
 */
export function seal(seg: Segment): void {
  Atomics.store(seg.words, SEALED, 1);
  seg.ring.wakeAll();
}

/** A new overflow segment of a queue, posted to the hub by the producer that made it. */
export interface SegmentMessage {
  /** The queue's identity (creator token and sequence). */
  readonly k: string;
  /** Where the queue's memory is. */
  readonly q: StreamState;
  /** The segment's id (oob.ts) and memory. */
  readonly id: string;
  readonly s: SharedArrayBuffer;
}

/**
 * Waits until `seg`'s `TAIL` reaches `end` (the hub has moved every record
 * before it): true; or until it made no progress for `patienceMs` (false;
 * undefined: wait for good), or the hub died (false). A waiter stores the
 * `TAIL` it waits for in `WRITE_WANT` and sleeps as a writer would (ring.ts).
 *
 * @example
 * ```ts
 * runSync(untilMoved(seg, end, undefined, hub)); // joinThread()
 * ```
 */
export function* untilMoved(seg: Segment, end: number, patienceMs: number | undefined, hub: Hub): Waiting<boolean> {
  const words = seg.ring.words;
  let last = Atomics.load(words, TAIL);
  let until = deadline(patienceMs);
  for (;;) {
    const tail = Atomics.load(words, TAIL);
    if (((tail - end) | 0) >= 0) return true;
    if (tail !== last) {
      last = tail;
      until = deadline(patienceMs);
    }
    const left = remaining(until);
    if (left === 0 || hub.dead()) return false;
    Atomics.add(words, WRITERS_SLEEPING, 1);
    try {
      Atomics.store(words, WRITE_WANT, end);
      const seen = Atomics.load(words, WRITE_WAKE);
      if (((Atomics.load(words, TAIL) - end) | 0) < 0)
        yield waitStep(words, WRITE_WAKE, seen, Math.min(left, OWNER_CHECK_MS));
    } finally {
      Atomics.sub(words, WRITERS_SLEEPING, 1);
    }
  }
}

/**
 * Keeps this thread's event loop alive until the hub has moved `seg` up to
 * `end` (the main thread's records in overflow: the hub dies with the
 * process). One watcher per `watch` object at a time; a later `end` extends it.
 *
 * @example
 * ```ts
 * if (isMainThread) keepAlive(watch, seg, end, hub);
 * ```
 */
export function keepAlive(
  watch: { seg?: Segment; end: number; running: boolean },
  seg: Segment,
  end: number,
  hub: Hub,
): void {
  watch.seg = seg;
  watch.end = end;
  if (watch.running) return;
  watch.running = true;
  const run = (): void => {
    const target = watch.seg as Segment;
    const upTo = watch.end;
    runAsync(untilMoved(target, upTo, undefined, hub))
      .catch(() => {})
      .finally(() => {
        if ((watch.seg !== target || watch.end !== upTo) && !hub.dead()) run();
        else watch.running = false;
      });
  };
  run();
}

// ---- the hub's side ----

/** What the hub needs of a queue to feed it (queue.ts makes it). */
export interface FeedTarget {
  readonly stream: Stream;
  /** Under the writer mutex taken over from a dead holder: repairs the queue's bookkeeping. */
  recover(): void;
  /** Under the writer mutex: `n` records moved from overflow into the ring (`AT_HUB` − n). */
  moved(n: number): void;
}

interface Entry {
  readonly target: FeedTarget;
  /** Segments in the order they were made; the first is being drained. */
  readonly segments: { seg: Segment; id: string }[];
  running: boolean;
}

/**
 * The hub's feeder: drains each queue's overflow chain into its ring as
 * readers make room.
 *
 * @example
 * ```ts
 * const feeder = new FeedServer((q) => queueFeedTarget(new Queue(q), lookup), (id) => unpin(id));
 * channel.onmessage = ({ data }) => { if (data.o) feeder.segment(data.o); };
 * ```
 */
export class FeedServer {
  readonly #entries = new Map<string, Entry>();
  readonly #targetOf: (q: StreamState) => FeedTarget;
  readonly #drop: (id: string) => void;
  #scratch = new Uint8Array(4096);

  /**
   * @param targetOf opens a queue from its state.
   * @param drop forgets a drained segment (the hub unpins it).
   */
  constructor(targetOf: (q: StreamState) => FeedTarget, drop: (id: string) => void) {
    this.#targetOf = targetOf;
    this.#drop = drop;
  }

  /**
   * Takes a queue's new segment, behind its others.
   *
   * @example
   * ```ts
   * feeder.segment(message.o);
   * ```
   */
  segment(m: SegmentMessage): void {
    let e = this.#entries.get(m.k);
    if (e === undefined) {
      e = { target: this.#targetOf(m.q), segments: [], running: false };
      this.#entries.set(m.k, e);
    }
    e.segments.push({ seg: openSegment(m.s), id: m.id });
    this.#kick(e);
  }

  /**
   * Segments the feeder holds for every queue (for diagnostics).
   *
   * @example
   * ```ts
   * feeder.segments(); // 1 per queue that ever overflowed
   * ```
   */
  segments(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.segments.length;
    return n;
  }

  #kick(e: Entry): void {
    if (e.running) return;
    e.running = true;
    runAsync(this.#drain(e))
      .catch((err: unknown) => {
        process.emitWarning(`the corepool hub could not feed a queue: ${(err as Error).message}`, {
          type: 'CorepoolWarning',
          code: 'ERR_COREPOOL_QUEUE_LOST',
        });
      })
      .finally(() => {
        e.running = false;
        if (e.segments.length > 0) this.#kick(e);
      });
  }

  *#drain(e: Entry): Waiting<void> {
    const stream = e.target.stream;
    for (;;) {
      const first = e.segments[0];
      if (first === undefined) return;
      const seg = first.seg;
      let need = 0;
      if (seg.ring.readable(seg.ring.tail(), 8) >= 8) {
        yield* stream.enterWriter(Number.POSITIVE_INFINITY);
        try {
          if (stream.writer.recovered) e.target.recover();
          need = this.#move(seg.ring, stream.ring, e.target);
        } finally {
          stream.leaveWriter();
        }
      }
      if (need > 0) {
        // The ring is full: sleep until readers free what the next record needs.
        yield* stream.untilRoom(need, Number.POSITIVE_INFINITY, () => false);
      } else if (seg.ring.readable(seg.ring.tail(), 8) < 8) {
        if (Atomics.load(seg.words, SEALED) === 1) {
          // Drained, and a newer segment follows (it was posted before this one was sealed).
          if (seg.ring.readable(seg.ring.tail(), 8) >= 8) continue;
          e.segments.shift();
          this.#drop(first.id);
          continue;
        }
        yield* seg.ring.untilReadable(8, Number.POSITIVE_INFINITY, {
          stop: () => Atomics.load(seg.words, SEALED) === 1,
        });
      }
    }
  }

  /**
   * Under the writer mutex: moves the whole records of `from` that fit into
   * `to`, publishes them, and returns 0 — or, when the next one does not
   * fit, the bytes it needs.
   */
  #move(from: Ring, to: Ring, target: FeedTarget): number {
    let tail = from.tail();
    let head = to.head();
    let moved = 0;
    let need = 0;
    for (;;) {
      const avail = from.readable(tail, 8);
      if (avail < 8) break;
      const total = readHead(from, tail).total;
      if (to.writable(head, total) < total) {
        need = total;
        break;
      }
      if (this.#scratch.length < total) this.#scratch = new Uint8Array(Math.max(total, this.#scratch.length * 2));
      from.copyOut(tail, this.#scratch, 0, total);
      to.copyIn(head, this.#scratch, 0, total);
      head = (head + total) | 0;
      tail = (tail + total) | 0;
      moved++;
    }
    if (moved > 0) {
      to.publish(head);
      target.moved(moved);
      from.consume(tail);
    }
    return need;
  }
}
