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
 * | 4–11         | that producer, before `SEALED`                | `NEXT`: the id of the segment that follows |
 * | 64…          | ring.ts: producers write, the hub reads        | the segment's ring header                 |
 * | 256…         | producers                                     | records, as in the queue's ring           |
 *
 * The chain: the queue's header names its tail (where producers append) and
 * its head (what the hub drains); each segment names the one after it.
 * Invariants: records in segments are whole and published with one `HEAD`
 * store, as in the queue's ring; a new segment is posted to the hub before
 * any other memory names it, and a full one is linked (`NEXT`) *then*
 * sealed, so the hub finishes a segment, sees `SEALED`, and follows `NEXT`
 * to a segment it holds (or will, once it reads the post). A producer that
 * dies in the middle leaves a posted segment nothing links (never visited),
 * or a sealed tail that the header still names (the next writer takes its
 * `NEXT` as the tail). Segments double in size (64 KiB to 64 MiB) when
 * full; the tail is reused once drained.
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
/** The id of the segment that follows (its thread token and counter), written before `SEALED`. */
const NEXT_THREAD = 1;
const NEXT_SEQ = 2;
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
 * Names the segment `thread.seq` as the one after `seg`, then seals `seg`
 * (no more records), and wakes the hub if it sleeps on it.
 *
 * @example
 * ```ts
 * link(current, 3, 17); // under the writer mutex, after posting segment 3.17
 * ```
 */
export function link(seg: Segment, thread: number, seq: number): void {
  Atomics.store(seg.words, NEXT_THREAD, thread);
  Atomics.store(seg.words, NEXT_SEQ, seq);
  Atomics.store(seg.words, SEALED, 1);
  seg.ring.wakeAll();
}

/**
 * Whether `seg` is sealed (a newer segment follows it).
 *
 * @example
 * ```ts
 * if (sealed(seg)) follow(nextOf(seg));
 * ```
 */
export function sealed(seg: Segment): boolean {
  return Atomics.load(seg.words, SEALED) === 1;
}

/**
 * The id (thread token, counter) of the segment after a sealed `seg`.
 *
 * @example
 * ```ts
 * const [thread, seq] = nextOf(seg);
 * ```
 */
export function nextOf(seg: Segment): [number, number] {
  return [Atomics.load(seg.words, NEXT_THREAD), Atomics.load(seg.words, NEXT_SEQ)];
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
  /** The id of the chain's head segment in the queue's header, if there is a chain. */
  head(): string | undefined;
  /** Under the writer mutex: the chain's head is now segment `thread.seq`. */
  advance(thread: number, seq: number): void;
}

interface Entry {
  readonly target: FeedTarget;
  /** The segment being drained (the chain's head). */
  cur: { seg: Segment; id: string } | undefined;
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
  readonly #lookup: (id: string) => SharedArrayBuffer | undefined;
  readonly #drop: (id: string) => void;
  #scratch = new Uint8Array(4096);

  /**
   * @param targetOf opens a queue from its state.
   * @param lookup a segment the hub holds, by id.
   * @param drop forgets a drained segment (the hub unpins it).
   */
  constructor(
    targetOf: (q: StreamState) => FeedTarget,
    lookup: (id: string) => SharedArrayBuffer | undefined,
    drop: (id: string) => void,
  ) {
    this.#targetOf = targetOf;
    this.#lookup = lookup;
    this.#drop = drop;
  }

  /**
   * Takes note of a queue's new segment (the caller holds it, for
   * `lookup`): the queue's chain may now go on.
   *
   * @example
   * ```ts
   * feeder.segment(message.o);
   * ```
   */
  segment(m: SegmentMessage): void {
    let e = this.#entries.get(m.k);
    if (e === undefined) {
      e = { target: this.#targetOf(m.q), cur: undefined, running: false };
      this.#entries.set(m.k, e);
    }
    this.#kick(e);
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
      });
  }

  /** The segment `id` when the hub holds it (else its post is still to be read: the drain resumes then). */
  #open(id: string | undefined): { seg: Segment; id: string } | undefined {
    if (id === undefined) return undefined;
    const sab = this.#lookup(id);
    return sab === undefined ? undefined : { seg: openSegment(sab), id };
  }

  *#drain(e: Entry): Waiting<void> {
    const stream = e.target.stream;
    for (;;) {
      if (e.cur === undefined) {
        // Read under the writer mutex: the producer that starts a chain posts its segment, then names it.
        let id: string | undefined;
        yield* stream.enterWriter(Number.POSITIVE_INFINITY);
        try {
          id = e.target.head();
        } finally {
          stream.leaveWriter();
        }
        e.cur = this.#open(id);
      }
      const cur = e.cur;
      if (cur === undefined) return; // no chain yet, or its post is not read yet: that post kicks this again
      const seg = cur.seg;
      let need = 0;
      let next: { seg: Segment; id: string } | undefined;
      if (seg.ring.readable(seg.ring.tail(), 8) >= 8 || sealed(seg)) {
        yield* stream.enterWriter(Number.POSITIVE_INFINITY);
        try {
          if (stream.writer.recovered) e.target.recover();
          need = this.#move(seg.ring, stream.ring, e.target);
          if (need === 0 && sealed(seg) && seg.ring.readable(seg.ring.tail(), 8) < 8) {
            // Drained, and a newer segment follows: it becomes the head.
            const [t, q] = nextOf(seg);
            next = this.#open(`${t}.${q}`);
            if (next === undefined) return; // its post is not read yet; it kicks this drain again
            e.target.advance(t, q);
          }
        } finally {
          stream.leaveWriter();
        }
      }
      if (next !== undefined) {
        this.#drop(cur.id);
        e.cur = next;
      } else if (need > 0) {
        // The ring is full: sleep until readers free what the next record needs.
        yield* stream.untilRoom(need, Number.POSITIVE_INFINITY, () => false);
      } else if (seg.ring.readable(seg.ring.tail(), 8) < 8 && !sealed(seg)) {
        yield* seg.ring.untilReadable(8, Number.POSITIVE_INFINITY, { stop: () => sealed(seg) });
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
      if (total > to.capacity) {
        throw new Error(`corrupt overflow: a record of ${total} bytes cannot enter a ring of ${to.capacity}`);
      }
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
