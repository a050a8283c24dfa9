/**
 * The open handles on each end of a Pipe (Python's file descriptors), in
 * the pipe's shared memory: who holds an end, lending a handle to a copy in
 * flight, and releasing the handles of dead threads.
 *
 * Layout (Int32 words of the pipe's header, pipe.ts):
 *
 * | word                 | line  | written by                         | meaning                                        |
 * |----------------------|-------|------------------------------------|------------------------------------------------|
 * | `TICKETS`            | 0     | lenders                            | counter numbering lent handles                 |
 * | `ID_THREAD`, `ID_SEQ`| 0     | creator, once                      | the pipe's identity (creator token, counter)   |
 * | `OPEN` of end e      | 1+4e  | openers (+1), closers and reapers (−1) | open handles on end e                     |
 * | `SLOT0 + i` of end e | 1+4e… | holders (CAS)                      | 0 free; else a holder word (below)             |
 *
 * Handles (Python's file descriptors): every thread that holds an end holds
 * one *handle* on it — made by `Pipe()` in the creating thread, or when the
 * end is revived in another thread (a second copy arriving in a thread that
 * has the end open is the same object). `close()` closes this thread's
 * handle. A holder word is `token | seq << 22`: the holder's thread token
 * (sync/owners.ts) in the low 22 bits, and, for a handle *lent* to a message
 * in flight, a nonzero sequence number above. Invariant: `OPEN` = holder
 * words in the table + handles that found no room there (untracked). It is
 * kept by always adding to `OPEN` *before* a holder word appears, and taking
 * from it only after the one compare-and-swap that removes a word (or by the
 * owner of an untracked handle): a handle is released exactly once.
 *
 * EOF: a reader of direction d throws `EOFError` when `OPEN` of the writing
 * end is 0 and the ring holds no byte. It loads `OPEN` *before* `HEAD`; a
 * writer publishes `HEAD` before it closes — so the last messages are always
 * read before EOF. The close that brings `OPEN` to 0 wakes every sleeper of
 * both rings (`Ring.wakeAll`).
 *
 * Dead threads close their handles: any thread that finds a holder word whose
 * token is dead (`isDead`) removes it by compare-and-swap and releases the
 * handle. Waiting readers and writers wake every `OWNER_CHECK_MS` to look
 * (the `sliceMs` of their ring waits). Same limit as locks: the news of a
 * worker's death reaches the thread that created it through its event loop,
 * so that thread should wait with the async forms for its own workers.
 *
 * Lent handles (why sending an end counts a handle at once): in Python's
 * idiom `p.start(); b.close(); a.recv()` the child's copy of `b` must already
 * count when the parent closes its own, or `a.recv()` would see EOF before
 * the child has even started. So each time an end is serialized — `prepare()`
 * calls `[kShare]()` (task and Process arguments, messages), and plain
 * structured clone (`workerData`, `postMessage`) reads the enumerable
 * `ticket` getter of its state — the sending thread adds a handle *lent* to
 * the message: a holder word with the sender's token and a sequence number,
 * whose `ticket` travels in the state. The receiving thread's revive claims
 * it by compare-and-swapping that word to its own token (no count changes),
 * or gives it back when it already holds the end. A ticket that is never
 * claimed (a copy never revived) stays counted until the sending thread
 * exits — as Python's resource sharer keeps an unpickled handle. `prepare()`
 * calls `[kShare]()` twice per object (a look, then the copy it sends): the
 * second call takes the ticket the first lent (a first call left alone means
 * the prepare threw, and its ticket is given back at the next microtask).
 *
 * A dropped handle is closed when its `Connection` is garbage-collected
 * (`FinalizationRegistry`), as Python closes a collected connection: close
 * explicitly for a prompt EOF.
 *
 * @module
 */

import { isDead, threadToken } from '../sync/owners.js';
import { threadGlobal } from '../thread-global.js';

const LINE = 16;
/** @internal Counter numbering lent handles. */
export const TICKETS = 6;
/** @internal The pipe's identity: creator token. */
export const ID_THREAD = 7;
/** @internal The pipe's identity: creator's counter. */
export const ID_SEQ = 8;
/** Holder slots per end (with `OPEN`, 4 lines). */
const SLOTS = 63;
const END_WORDS = 4 * LINE;
const ENDS = LINE;
/** @internal First word after the ends' tables. */
export const ENDS_END = ENDS + 2 * END_WORDS;

/**
 * `OPEN` of end `e`.
 *
 * @example
 * ```ts
 * Atomics.load(words, openWord(1)); // open handles on end b
 * ```
 */
export const openWord = (e: number): number => ENDS + e * END_WORDS;
/** Holder slot `i` of end `e`. */
const slotWord = (e: number, i: number): number => ENDS + e * END_WORDS + 1 + i;

const TOKEN_BITS = 22;
const TOKEN_MASK = (1 << TOKEN_BITS) - 1;
/** Lent-handle sequence numbers run 1..LENT_SEQS. */
const LENT_SEQS = 511;
/** This thread's token as a holder word, or 0 when it does not fit (its handles are untracked). */
const MY_WORD = threadToken <= TOKEN_MASK ? threadToken : 0;

/** What a handle wakes when the last one on an end closes: the pipe's streams. */
export interface Wakeable {
  wakeAll(): void;
}

/** What the table of a thread's open connections needs of one. */
export interface Closable {
  readonly closed: boolean;
}

/** This thread's counter of pipes it made. */
export const ids = threadGlobal('corepool.pipe.ids', () => ({ next: 0 }));

/** One pipe's open connections in this thread, per end. */
export interface Entry {
  conns: [WeakRef<Closable> | undefined, WeakRef<Closable> | undefined];
}
/** This thread's open connections, by pipe identity: one object (one handle) per end and thread. */
export const handles = threadGlobal('corepool.pipe.handles', () => new Map<string, Entry>());

export function keyOf(words: Int32Array): string {
  return `${Atomics.load(words, ID_THREAD)}.${Atomics.load(words, ID_SEQ)}`;
}

/** Takes one from `OPEN` of end `e`; the last one wakes every sleeper of the pipe. */
export function dropOpen(words: Int32Array, e: number, rings: readonly Wakeable[]): void {
  if (Atomics.sub(words, openWord(e), 1) === 1) for (const ring of rings) ring.wakeAll();
}

/** Releases the handles of end `e` whose holder (or lender) thread is dead. */
export function reap(words: Int32Array, e: number, registry: Int32Array, rings: readonly Wakeable[]): void {
  for (let i = 0; i < SLOTS; i++) {
    const w = Atomics.load(words, slotWord(e, i));
    if (w !== 0 && isDead(registry, w & TOKEN_MASK) && Atomics.compareExchange(words, slotWord(e, i), w, 0) === w) {
      dropOpen(words, e, rings);
    }
  }
}

/** Puts holder word `w` in a free slot of end `e`: its index, or -1 when the table is full. */
export function takeSlot(
  words: Int32Array,
  e: number,
  w: number,
  registry: Int32Array,
  rings: readonly Wakeable[],
): number {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < SLOTS; i++) {
      if (Atomics.compareExchange(words, slotWord(e, i), 0, w) === 0) return i;
    }
    reap(words, e, registry, rings);
  }
  return -1;
}

/** One thread's handle on one end: what closing (or collecting) the connection releases. */
export class Handle {
  released = false;
  constructor(
    readonly words: Int32Array,
    readonly end: number,
    /** Holder slot, or -1 (untracked). */
    readonly slot: number,
    readonly word: number,
    readonly rings: readonly Wakeable[],
    readonly key: string,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    if (
      this.slot < 0 ||
      Atomics.compareExchange(this.words, slotWord(this.end, this.slot), this.word, 0) === this.word
    ) {
      dropOpen(this.words, this.end, this.rings);
    }
    const entry = handles.get(this.key);
    const gone = (ref: WeakRef<Closable> | undefined): boolean => ref?.deref()?.closed ?? true;
    if (entry?.conns.every(gone)) {
      handles.delete(this.key);
    }
  }
}

export const collected = new FinalizationRegistry<Handle>((h) => h.release());

/** Opens a new handle on end `e` in this thread. */
export function openHandle(words: Int32Array, e: number, registry: Int32Array, rings: readonly Wakeable[]): Handle {
  Atomics.add(words, openWord(e), 1);
  const slot = MY_WORD === 0 ? -1 : takeSlot(words, e, MY_WORD, registry, rings);
  return new Handle(words, e, slot, MY_WORD, rings, keyOf(words));
}

/** Claims the handle lent as `ticket`; undefined when it is gone (claimed, or its lender died). */
export function claim(words: Int32Array, e: number, ticket: number, rings: readonly Wakeable[]): Handle | undefined {
  if (!Number.isSafeInteger(ticket) || ticket <= 0) return undefined;
  const slot = (ticket - 1) % 64;
  const w = Math.floor((ticket - 1) / 64);
  if (slot >= SLOTS || w <= 0 || w > 0x7fffffff) return undefined;
  if (Atomics.compareExchange(words, slotWord(e, slot), w, MY_WORD) !== w) return undefined;
  return MY_WORD === 0
    ? new Handle(words, e, -1, 0, rings, keyOf(words))
    : new Handle(words, e, slot, MY_WORD, rings, keyOf(words));
}

/** Gives back the handle lent as `ticket` (this thread already holds the end). */
export function giveBack(words: Int32Array, e: number, ticket: number, rings: readonly Wakeable[]): void {
  if (!Number.isSafeInteger(ticket) || ticket <= 0) return;
  const slot = (ticket - 1) % 64;
  const w = Math.floor((ticket - 1) / 64);
  if (slot < SLOTS && w > 0 && Atomics.compareExchange(words, slotWord(e, slot), w, 0) === w) {
    dropOpen(words, e, rings);
  }
}

/** Lends a handle on end `e` to a copy in flight: its ticket, or 0 when none could be recorded. */
export function lend(words: Int32Array, e: number, registry: Int32Array, rings: readonly Wakeable[]): number {
  if (MY_WORD === 0) return 0;
  Atomics.add(words, openWord(e), 1);
  const seq = ((Atomics.add(words, TICKETS, 1) >>> 0) % LENT_SEQS) + 1;
  const w = MY_WORD | (seq << TOKEN_BITS);
  const slot = takeSlot(words, e, w, registry, rings);
  if (slot < 0) {
    Atomics.sub(words, openWord(e), 1); // this thread's own handle keeps OPEN above 0
    return 0;
  }
  return w * 64 + slot + 1;
}
