/**
 * The map family of `Pool`: cutting input into chunks, choosing chunk sizes,
 * keeping a bounded number of chunks in flight, and putting results back in
 * order.
 *
 * - `map`/`starmap` read their whole input first (as Python does), check every
 *   chunk can cross threads before any runs, then keep `window` chunks in
 *   flight. Chunk size by default follows Python's rule: the input split into
 *   about four chunks per worker.
 * - `imap`/`imapUnordered` read their input lazily, only as results are
 *   consumed; at most `window` chunks are in flight or waiting to be read, so
 *   an endless generator works. When the pool is joined, open iterators
 *   *drain*: they read the rest of their input at once, keeping `window`
 *   chunks running and holding results until they are read (Python's task
 *   handler does the same), so `close(); join()` never waits on a reader. Without a given `chunksize` the chunk size
 *   adapts: it starts at 1 and grows (at most 4x a step) until a chunk holds
 *   about {@link TARGET_CHUNK_MS} of work as measured in the worker, and a
 *   chunk never holds more items than results already read (so read-ahead
 *   follows use).
 *
 * @module
 */

import { checkOptions, describe } from './check.js';

/** A chunk whose items were checked and prepared for posting. */
export interface PreparedChunk {
  readonly size: number;
  readonly offset: number;
}

/** What the pool hands the map family: how to prepare and run chunks. */
export interface ChunkSource<C extends PreparedChunk = PreparedChunk> {
  /** Chunks kept in flight at most. */
  readonly window: number;
  /** Checks a chunk can cross threads (throws DataCloneError) and prepares it. */
  prepare(items: unknown[], offset: number): C;
  /** Runs a prepared chunk; resolves with its results and the worker's time in ms. */
  run(chunk: C): Promise<{ values: unknown[]; ms: number }>;
  /** Marks a map as feeding work (true) or done reading its input (false); `join()` waits for feeders. */
  feeding(feeder: Feeder, active: boolean): void;
}

/** A map still reading its input. */
export interface Feeder {
  /** Read the rest of the input now, without waiting for results to be consumed (for `join()`). */
  drain(): void;
}

/** Options of `map` and `starmap`. */
export interface MapOptions {
  /** Items per task. Default: about four chunks per worker (Python's rule). */
  chunksize?: number;
  /** Called after each chunk with the number of items done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Options of `imap` and `imapUnordered`. */
export interface ImapOptions {
  /** Items per task. Default: adaptive, from 1 up to about a millisecond of work per chunk. */
  chunksize?: number;
}

const mapOptions = ['chunksize', 'onProgress'] as const;
const imapOptions = ['chunksize'] as const;

/** Work per chunk that adaptive chunking aims at, in ms of worker time. */
export const TARGET_CHUNK_MS = 1;
/** Largest chunk adaptive chunking makes. */
export const MAX_ADAPTIVE_CHUNK = 16_384;

/**
 * Python's default chunk size for `map`: `ceil(n / (workers * 4))`.
 *
 * @example
 * ```ts
 * defaultChunksize(1_000_000, 2); // 125000
 * ```
 */
export function defaultChunksize(n: number, workers: number): number {
  if (n === 0) return 1;
  return Math.ceil(n / (workers * 4));
}

/**
 * The next adaptive chunk size after a chunk of `size` items took `ms` of
 * worker time: about {@link TARGET_CHUNK_MS} of work, at most 4x `size`.
 *
 * @example
 * ```ts
 * nextChunksize(1, 0.01); // 4: grows at most 4x a step
 * nextChunksize(64, 8);   // 8: 0.125 ms an item, 1 ms a chunk
 * ```
 */
export function nextChunksize(size: number, ms: number): number {
  const perItem = ms / size;
  const wanted = perItem > 0 ? TARGET_CHUNK_MS / perItem : Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(Math.floor(wanted), size * 4, MAX_ADAPTIVE_CHUNK));
}

function checkChunksize(chunksize: unknown, what: string): number | undefined {
  if (chunksize === undefined) return undefined;
  if (typeof chunksize !== 'number' || !Number.isInteger(chunksize) || chunksize < 1) {
    throw new (typeof chunksize === 'number' ? RangeError : TypeError)(
      `${what}: options.chunksize must be a positive integer: received ${describe(chunksize)}`,
    );
  }
  return chunksize;
}

type Source<T> =
  | { readonly sync: true; readonly it: Iterator<T> }
  | { readonly sync: false; readonly it: AsyncIterator<T> };

function iteratorOf(iterable: unknown, what: string): Source<unknown> {
  if (iterable !== null && iterable !== undefined) {
    const o = iterable as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
    const asyncIter = o[Symbol.asyncIterator];
    if (typeof asyncIter === 'function') return { sync: false, it: asyncIter.call(o) };
    const syncIter = o[Symbol.iterator];
    if (typeof syncIter === 'function') return { sync: true, it: syncIter.call(o) };
  }
  throw new TypeError(`${what}(iterable) must be an iterable or async iterable: received ${describe(iterable)}`);
}

/** The parts one after another in one packed array. */
function join(parts: readonly unknown[][]): unknown[] {
  if (parts.length === 1) return parts[0] as unknown[];
  // concat copies packed arrays in bulk, but its argument list is bounded:
  // very many small parts are pushed instead.
  if (parts.length <= 8192) return ([] as unknown[]).concat(...parts);
  const out: unknown[] = [];
  for (const part of parts) for (let i = 0; i < part.length; i++) out.push(part[i]);
  return out;
}

/** Runs `map`/`starmap`: all items, results in order. */
export async function mapAll<C extends PreparedChunk>(
  source: ChunkSource<C>,
  iterable: unknown,
  options: MapOptions,
  workers: number,
  what: string,
): Promise<unknown[]> {
  const { chunksize: size, onProgress } = checkOptions(options, mapOptions, `Pool.${what}()`) as MapOptions;
  const chunksize = checkChunksize(size, what);
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError(`${what}: options.onProgress must be a function: received ${describe(onProgress)}`);
  }
  const input = Array.isArray(iterable) ? { sync: true as const, it: undefined } : iteratorOf(iterable, what);
  // One feeder per call: the pool keeps feeders in a Set.
  const feeder: Feeder = { drain() {} };
  source.feeding(feeder, true);
  try {
    let items: unknown[];
    if (input.it === undefined) items = iterable as unknown[];
    else if (input.sync) items = Array.from({ [Symbol.iterator]: () => input.it });
    else {
      items = [];
      for await (const x of { [Symbol.asyncIterator]: () => input.it }) items.push(x);
    }
    const total = items.length;
    const size = chunksize ?? defaultChunksize(total, workers);
    const chunks: C[] = [];
    for (let offset = 0; offset < total; offset += size) {
      chunks.push(source.prepare(items.slice(offset, offset + size), offset));
    }
    // Each chunk's values by chunk index, joined once at the end into one
    // packed array (writing into `new Array(total)` makes a holey one).
    const parts = new Array<unknown[]>(chunks.length);
    let done = 0;
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let running = 0;
      let failed = false;
      const launch = (): void => {
        while (!failed && running < source.window && next < chunks.length) {
          const index = next++;
          const chunk = chunks[index] as C;
          running++;
          source.run(chunk).then(
            ({ values }) => {
              running--;
              parts[index] = values;
              done += values.length;
              try {
                onProgress?.(done, total);
              } catch (err) {
                failed = true;
                reject(err);
              }
              if (done === total) resolve();
              else launch();
            },
            (err: unknown) => {
              failed = true;
              reject(err);
            },
          );
        }
      };
      if (total === 0) resolve();
      else launch();
    });
    return join(parts);
  } finally {
    source.feeding(feeder, false);
  }
}

interface Slot {
  settled: boolean;
  values?: unknown[];
  error?: unknown;
  failed: boolean;
}

/** The iterator behind `imap` (ordered) and `imapUnordered`. */
class ImapIterator<C extends PreparedChunk> implements AsyncIterableIterator<unknown>, Feeder {
  readonly #source: ChunkSource<C>;
  readonly #input: Source<unknown>;
  readonly #ordered: boolean;
  readonly #fixed: number | undefined;
  #chunksize: number;
  #offset = 0;
  /** Results handed out so far; an adaptive chunk never holds more items (read-ahead follows use). */
  #handed = 0;
  #inputDone = false;
  #finished = false;
  #draining = false;
  /** Chunks launched and not settled. */
  #running = 0;
  /** Launched chunks not yet handed out, in input order. */
  readonly #slots: Slot[] = [];
  /** Results ready to be returned by next(). */
  #ready: unknown[] = [];
  #readyIndex = 0;
  #wake: (() => void) | undefined;
  /** Serialises next()/return() and input reads. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(source: ChunkSource<C>, input: Source<unknown>, ordered: boolean, chunksize: number | undefined) {
    this.#source = source;
    this.#input = input;
    this.#ordered = ordered;
    this.#fixed = chunksize;
    this.#chunksize = chunksize ?? 1;
    source.feeding(this, true);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    return this.#serial(() => this.#step());
  }

  return(value?: unknown): Promise<IteratorResult<unknown>> {
    return this.#serial(async () => {
      await this.#finish(true);
      return { done: true as const, value };
    });
  }

  async throw(err?: unknown): Promise<IteratorResult<unknown>> {
    await this.return();
    throw err;
  }

  drain(): void {
    this.#draining = true;
    void this.#serial(() => this.#fill());
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const step = this.#tail.then(fn);
    this.#tail = step.catch(() => {});
    return step;
  }

  async #step(): Promise<IteratorResult<unknown>> {
    if (this.#readyIndex < this.#ready.length) {
      this.#handed++;
      return { done: false, value: this.#ready[this.#readyIndex++] };
    }
    if (this.#finished) return { done: true, value: undefined };
    await this.#fill();
    for (;;) {
      if (this.#slots.length === 0) {
        await this.#finish(false);
        return { done: true, value: undefined };
      }
      const index = this.#ordered ? 0 : this.#slots.findIndex((s) => s.settled);
      const slot = index === -1 ? undefined : this.#slots[index];
      if (slot === undefined || !slot.settled) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      this.#slots.splice(index, 1);
      if (slot.failed) {
        await this.#finish(true);
        throw slot.error;
      }
      await this.#fill();
      const values = slot.values ?? [];
      if (values.length === 0) continue;
      this.#ready = values;
      this.#readyIndex = 1;
      this.#handed++;
      return { done: false, value: values[0] };
    }
  }

  /**
   * Reads input and launches chunks until the window is full or input ends.
   * While draining, only running chunks count against the window. A failure
   * to read or send input becomes a failed slot at its position.
   */
  async #fill(): Promise<void> {
    const window = this.#source.window;
    while (!this.#inputDone && (this.#draining ? this.#running : this.#slots.length) < window) {
      const slot: Slot = { settled: false, failed: false };
      let chunk: C | undefined;
      // The input's end is noted here and reported (feeding false) only after
      // the last chunk is launched: join() waits for feeders and running
      // tasks, and between the two it would see no work left and stop the
      // workers under that chunk.
      let ended = false;
      try {
        const items: unknown[] = [];
        const want =
          this.#fixed ?? (this.#draining ? this.#chunksize : Math.min(this.#chunksize, Math.max(1, this.#handed)));
        while (items.length < want) {
          const r = this.#input.sync ? this.#input.it.next() : await this.#input.it.next();
          if (r.done) {
            ended = true;
            break;
          }
          items.push(r.value);
        }
        if (items.length === 0) {
          this.#endInput();
          break;
        }
        chunk = this.#source.prepare(items, this.#offset);
        this.#offset += items.length;
      } catch (err) {
        this.#endInput();
        slot.failed = true;
        slot.error = err;
        this.#slots.push(slot);
        this.#settle(slot);
        break;
      }
      const size = chunk.size;
      this.#slots.push(slot);
      this.#running++;
      this.#source.run(chunk).then(
        ({ values, ms }) => {
          slot.values = values;
          if (this.#fixed === undefined) this.#chunksize = nextChunksize(size, ms);
          this.#landed(slot);
        },
        (err: unknown) => {
          slot.failed = true;
          slot.error = err;
          this.#landed(slot);
        },
      );
      if (ended) this.#endInput();
    }
  }

  #settle(slot: Slot): void {
    slot.settled = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** A launched chunk settled: hand it out, and keep reading input if draining. */
  #landed(slot: Slot): void {
    this.#running--;
    this.#settle(slot);
    if (this.#draining && !this.#inputDone) void this.#serial(() => this.#fill());
  }

  #endInput(): void {
    if (this.#inputDone) return;
    this.#inputDone = true;
    this.#source.feeding(this, false);
  }

  async #finish(early: boolean): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    this.#slots.length = 0;
    this.#ready = [];
    this.#readyIndex = 0;
    if (!this.#inputDone) {
      this.#endInput();
      if (early) await this.#input.it.return?.();
    }
  }
}

/** Makes the iterator of `imap`/`imapUnordered`; checks arguments at once. */
export function imapIterator<C extends PreparedChunk>(
  source: ChunkSource<C>,
  iterable: unknown,
  options: ImapOptions,
  ordered: boolean,
  what: string,
): AsyncIterableIterator<unknown> {
  const chunksize = checkChunksize(checkOptions(options, imapOptions, `Pool.${what}()`).chunksize, what);
  return new ImapIterator(source, iteratorOf(iterable, what), ordered, chunksize);
}
