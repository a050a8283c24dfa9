/**
 * The four queue faults of the bug report, as the new channel engine must
 * handle them (see the semantics in README's Queue section):
 *
 * - A: six Pool tasks each `put()` 3,000 small objects on a tiny bounded
 *   (and on an unbounded) queue and return without `joinThread()`; the main
 *   thread closes the queue once they have all returned, and one consumer
 *   (the main thread, or a Pool task) must get every item exactly once, in
 *   per-producer order, and then `QueueClosedError`. The consumer pauses
 *   for 120 ms before its first get and as each producer's last items come,
 *   as a busy machine pauses threads (on an idle one the old engine's 50 ms
 *   spill delay was rarely reached). Several trials: the old engine hung in
 *   most of them (items left in the spill of a worker that had returned).
 * - B: two Pool tasks `put(i)` until `QueueClosedError`, two get until it;
 *   the main thread calls `close()` once the producers' shared counter says
 *   N puts returned (N drawn per trial; in a third of the trials both
 *   consumers start 80 ms late). Every put that returned must be received,
 *   nothing twice, and `qsize()` must end at 0. 100 quick trials.
 * - C: a `Process` puts 6 strings of 20 bytes on a 64-byte ring (two fit),
 *   says so through shared memory, parks, and is terminated; after
 *   `close()`, `for await` must yield all 6 in order and end (it runs in a
 *   child that logs to shared memory, so that a hang cannot outlive the test).
 * - D: a consumer parked at a gate while a producer puts more than the ring
 *   holds and then parks at its own gate (its event loop never turns): once
 *   the consumer is let go it gets everything, in order, while the producer
 *   is still parked — the producer does not have to run for its buffered
 *   items to arrive.
 *
 * Threads coordinate through shared memory only (queue-faults-tasks.ts).
 * Every wait has a deadline that fails the test with the state seen (qsize,
 * what arrived) instead of hanging it, and every thread a test starts is
 * terminated when the test ends, however it ends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Pool,
  Process,
  type ProcessOptions,
  Queue,
  QueueClosedError,
  QueueEmpty,
  type Runnable,
} from '../src/index.js';
import {
  CELLS,
  cells,
  DONE,
  ENDED,
  FAILED_AT,
  faultTasks,
  GATE,
  type Item,
  largeItem,
  newLog,
  READY,
  RESUMED,
  RETURNED,
  readLog,
  StallPlan,
  smallItem,
} from './fixtures/queue-faults-tasks.js';
import { prng } from './fixtures/queue-messages.js';

/** Longest any single wait of these tests lasts before it fails as hung (a guard, never a timing assertion). */
const GUARD_MS = 20_000;

// ---- helpers -------------------------------------------------------------

/**
 * Resolves once `c[index] >= target`, waking on `Atomics.notify`, without
 * blocking the event loop; rejects after `guardMs` with `what` and the state
 * `state()` describes.
 */
async function until(
  c: Int32Array,
  index: number,
  target: number,
  what: string,
  state: () => string,
  guardMs = GUARD_MS,
): Promise<void> {
  const deadline = Date.now() + guardMs;
  for (;;) {
    const seen = Atomics.load(c, index);
    if (seen >= target) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`hung: ${what} (cell ${index} is ${seen}, waited for ${target}); ${state()}`);
    const r = Atomics.waitAsync(c, index, seen, left);
    if (r.async) {
      // A pending Atomics.waitAsync does not keep the process alive; a timer does.
      const keepAlive = setTimeout(() => {}, left);
      try {
        await r.value;
      } finally {
        clearTimeout(keepAlive);
      }
    }
  }
}

/**
 * `promise`, or a rejection naming `what` and the state when it has not
 * settled within `guardMs`; its own rejection gets the state added too.
 */
function within<T>(promise: Promise<T>, what: string, state: () => string, guardMs = GUARD_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hung: ${what} did not settle within ${guardMs} ms; ${state()}`)),
      guardMs,
    );
  });
  const own = promise.catch((err: unknown) => {
    throw new Error(`${what} failed: ${err instanceof Error ? err.message : String(err)}; ${state()}`, { cause: err });
  });
  return Promise.race([own, late]).finally(() => clearTimeout(timer));
}

/** Starts a `Process` and remembers it in `started`, so that the test's `finally` ends it. */
function startProcess<F extends Runnable>(started: Process[], options: ProcessOptions<F>): Process {
  const p = new Process<unknown, F>(options);
  started.push(p);
  p.start();
  return p;
}

/** Terminates every child still running (a test that failed may leave some parked). */
async function terminateAll(started: readonly Process[]): Promise<void> {
  await Promise.all(started.map((p) => (p.isAlive() ? p.terminate() : undefined)));
}

/** The queue's state, for failure messages. */
function queueState(q: Queue<unknown>): string {
  return `qsize ${q.qsize()}, closed ${q.closed}`;
}

/** `[0, 1, …, n-1]`. */
const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Checks that `got` holds, for each of `producers`, the sequence numbers
 * 0…count-1 exactly once and in order (one consumer: its order is the
 * queue's order).
 */
function assertExactlyOnceInOrder(got: readonly (readonly [number, number])[], producers: number, count: number): void {
  const next = new Array<number>(producers).fill(0);
  for (const [i, [p, s]] of got.entries()) {
    assert.ok(Number.isInteger(p) && p >= 0 && p < producers, `item ${i}: unknown producer ${p}`);
    assert.equal(s, next[p], `item ${i}: producer ${p} sent ${next[p]} next, got ${s} (duplicate, loss or reorder)`);
    next[p] = s + 1;
  }
  assert.deepEqual(next, new Array<number>(producers).fill(count), 'items received per producer');
}

// ---- A -------------------------------------------------------------------

const A_PRODUCERS = 6;
const A_COUNT = 3_000;
const A_TRIALS = 5;

/**
 * A main-thread consumer: `getAsync` until `QueueClosedError`, each get with
 * a deadline, pausing as {@link StallPlan} says (`Atomics.waitAsync` on a
 * private word: a deliberate stall, not a synchronisation).
 */
async function mainGetAll(q: Queue<Item>, got: [number, number][]): Promise<void> {
  const plan = new StallPlan(A_PRODUCERS, A_COUNT);
  const idle = cells(1);
  for (;;) {
    const ms = plan.before();
    if (ms > 0) {
      const r = Atomics.waitAsync(idle, 0, 0, ms);
      if (r.async) await r.value;
    }
    let item: Item;
    try {
      item = await q.getAsync({ timeout: GUARD_MS });
    } catch (err) {
      if (err instanceof QueueClosedError) return;
      if (err instanceof QueueEmpty) {
        throw new Error(`hung: the main consumer got nothing for ${GUARD_MS} ms after ${got.length} items`);
      }
      throw err;
    }
    got.push([item.p, item.s]);
    plan.got(item.p, item.s);
  }
}

/** Per-producer counts of what arrived, for failure messages. */
function perProducer(got: readonly (readonly [number, number])[], producers: number): string {
  const n = new Array<number>(producers).fill(0);
  for (const [p] of got) if (p >= 0 && p < producers) n[p] = (n[p] as number) + 1;
  return `received per producer [${n.join(', ')}]`;
}

async function scenarioA(pool: Pool, maxsize: number, join: boolean, consumer: 'main' | 'task'): Promise<void> {
  for (let trial = 0; trial < A_TRIALS; trial++) {
    const q = new Queue<Item>({ maxsize, capacity: 64 });
    const got: [number, number][] = [];
    const returned = new Array<boolean>(A_PRODUCERS).fill(false);
    const state = (): string =>
      `trial ${trial}; ${queueState(q)}; producers returned [${returned.join(', ')}]; ${consumer === 'task' ? 'the consumer task reports what it got when it returns' : perProducer(got, A_PRODUCERS)}`;
    const producers = upTo(A_PRODUCERS).map((p) =>
      pool.apply(faultTasks.putMany, [q, p, A_COUNT, join]).then((n) => {
        returned[p] = true;
        return n;
      }),
    );
    const consuming =
      consumer === 'task'
        ? pool.apply(faultTasks.getAll, [q, A_PRODUCERS, A_COUNT]).then((list) => {
            got.push(...list);
          })
        : mainGetAll(q, got);
    // Watched below; a failure elsewhere first must not leave their rejections unhandled.
    for (const task of [...producers, consuming]) task.catch(() => {});
    const counts = await within(
      Promise.race([
        Promise.all(producers),
        consuming.then(() => Promise.reject(new Error('the consumer ended early'))),
      ]),
      'the producers (watching the consumer too)',
      state,
    );
    assert.deepEqual(counts, new Array<number>(A_PRODUCERS).fill(A_COUNT), state());
    q.close();
    await within(consuming, 'the consumer, after close()', state);
    assertExactlyOnceInOrder(got, A_PRODUCERS, A_COUNT);
    assert.equal(q.qsize(), 0, state());
  }
}

const A_TIMEOUT = { timeout: 240_000 };

test(
  'A: six Pool tasks put() 3,000 items each on {maxsize 8, capacity 64} and return without joinThread; the main thread gets them all',
  A_TIMEOUT,
  async () => {
    await using pool = new Pool({ processes: A_PRODUCERS });
    await scenarioA(pool, 8, false, 'main');
  },
);

test('A: the same with joinThread() before each task returns', A_TIMEOUT, async () => {
  await using pool = new Pool({ processes: A_PRODUCERS });
  await scenarioA(pool, 8, true, 'main');
});

test('A: the same, the consumer a Pool task that gets until QueueClosedError', A_TIMEOUT, async () => {
  await using pool = new Pool({ processes: A_PRODUCERS + 1 });
  await scenarioA(pool, 8, false, 'task');
});

test('A: the same on an unbounded queue (capacity 64), without joinThread', A_TIMEOUT, async () => {
  await using pool = new Pool({ processes: A_PRODUCERS });
  await scenarioA(pool, 0, false, 'main');
});

// ---- B -------------------------------------------------------------------

const B_TRIALS = 100;
const B_SEED = 0xb0b;
/** Longer than the old engine's 50 ms spill delay. */
const B_STALL_MS = 80;

test('B: close() at a moment set by shared progress: every put that returned is received, once; qsize ends at 0', {
  timeout: 240_000,
}, async () => {
  await using pool = new Pool({ processes: 4 });
  const rand = prng(B_SEED);
  for (let trial = 0; trial < B_TRIALS; trial++) {
    const maxsize = [0, 1, 4, 16][Math.floor(rand() * 4)] as number;
    const capacity = [64, 256, 4096][Math.floor(rand() * 3)] as number;
    const closeAfter = Math.floor(rand() * 600);
    // In a third of the trials both consumers start late: the producers find the ring full, nobody reading.
    const stallMs = rand() < 1 / 3 ? B_STALL_MS : 0;
    const counter = cells(1);
    const q = new Queue<number>({ maxsize, capacity });
    const label = `trial ${trial} (maxsize ${maxsize}, capacity ${capacity}, close after ${closeAfter} puts, consumers ${stallMs} ms late)`;
    const state = (): string => `${label}; ${queueState(q)}; puts returned so far ${Atomics.load(counter, 0)}`;
    const producers = [0, 1].map((p) => pool.apply(faultTasks.putUntilClosed, [q, p, counter]));
    const consumers = [0, 1].map(() => pool.apply(faultTasks.getUntilClosed, [q, stallMs]));
    // Watched below; a failure elsewhere first must not leave their rejections unhandled.
    for (const task of [...producers, ...consumers]) task.catch(() => {});
    try {
      await until(counter, 0, closeAfter, 'the producers to reach the close point', state);
    } finally {
      q.close(); // even on failure: it lets every task end
    }
    const puts = await within(Promise.all(producers), 'the producers, after close()', state);
    const gots = await within(Promise.all(consumers), 'the consumers, after close()', state);
    const received = gots.flat();
    const success = (puts[0] as number) + (puts[1] as number);
    assert.ok(success >= closeAfter, `${label}: ${success} puts returned, the counter said ${closeAfter}`);
    assert.equal(received.length, success, `${label}: puts that returned ${puts.join(' + ')}, items received`);
    const seen = new Set<number>();
    for (const [c, list] of gots.entries()) {
      const last = [-1, -1];
      for (const item of list) {
        assert.ok(!seen.has(item), `${label}: item ${item} received twice`);
        seen.add(item);
        const p = Math.floor(item / 1_000_000);
        const i = item % 1_000_000;
        assert.ok(p === 0 || p === 1, `${label}: unknown item ${item}`);
        assert.ok(i < (puts[p] as number), `${label}: item ${i} of producer ${p}, whose put of it threw`);
        assert.ok(i > (last[p] as number), `${label}: consumer ${c} got ${i} of producer ${p} after ${last[p]}`);
        last[p] = i;
      }
    }
    assert.equal(q.qsize(), 0, state());
  }
});

// ---- C -------------------------------------------------------------------

test('C: a Process puts 6 strings on a 64-byte ring, is terminated after its puts returned; for await yields all 6 and ends', {
  timeout: 60_000,
}, async () => {
  const started: Process[] = [];
  try {
    const q = new Queue<string>({ capacity: 64 });
    const items = upTo(6).map((i) => `item-${i}-`.padEnd(20, 'abcdefghijklmn'));
    for (const s of items) assert.equal(Buffer.byteLength(s), 20);
    const pc = cells(CELLS);
    const producer = startProcess(started, { target: faultTasks.putThenPark, args: [q, items, pc] });
    await until(pc, RETURNED, 1, 'the producer to say its puts returned', () => queueState(q));
    await producer.terminate();
    assert.equal(producer.exitCode, -15, 'the producer was terminated while parked');
    q.close();
    const log = newLog(16);
    const cc = cells(CELLS);
    const collector = startProcess(started, { target: faultTasks.iterateAll, args: [q, items, log, cc] });
    const state = (): string => `${queueState(q)}; for await yielded [${readLog(log).join(', ')}]`;
    await until(cc, DONE, 1, 'for await over the closed queue to end', state);
    assert.equal(
      Atomics.load(cc, DONE),
      ENDED,
      `the collector failed after ${Atomics.load(cc, FAILED_AT)} items; ${state()}`,
    );
    assert.deepEqual(readLog(log), upTo(6), state());
    await within(collector.join(), 'the collector to exit', state);
    assert.equal(collector.exitCode, 0);
    assert.equal(q.qsize(), 0, state());
  } finally {
    await terminateAll(started);
  }
});

// ---- D -------------------------------------------------------------------

interface DCase {
  readonly name: string;
  readonly maxsize: number;
  readonly capacity: number;
  readonly items: unknown[];
}

const D_CASES: readonly DCase[] = [
  // 40 items of about 40 bytes encoded: several times the 256-byte ring.
  { name: 'small items, unbounded', maxsize: 0, capacity: 256, items: upTo(40).map(smallItem) },
  { name: 'small items, maxsize = their number', maxsize: 40, capacity: 256, items: upTo(40).map(smallItem) },
  // Each item alone is four times the ring and more.
  {
    name: 'items larger than the ring',
    maxsize: 0,
    capacity: 1024,
    items: upTo(6).map((s) => largeItem(s, 4 * 1024 + 3)),
  },
];

for (const d of D_CASES) {
  test(`D: a stalled consumer gets everything a parked producer put (${d.name}); the producer never runs meanwhile`, {
    timeout: 60_000,
  }, async () => {
    const started: Process[] = [];
    try {
      const q = new Queue<unknown>({ maxsize: d.maxsize, capacity: d.capacity });
      const count = d.items.length;
      const log = newLog(count);
      const cc = cells(CELLS);
      const pc = cells(CELLS);
      const state = (): string =>
        `${queueState(q)}; consumer got [${readLog(log).join(', ')}]; producer resumed ${Atomics.load(pc, RESUMED)}`;
      const consumer = startProcess(started, { target: faultTasks.stallThenGet, args: [q, count, log, cc] });
      await until(cc, READY, 1, 'the consumer to park at its gate', state);
      const producer = startProcess(started, { target: faultTasks.putThenPark, args: [q, d.items, pc] });
      await until(pc, RETURNED, 1, 'the producer to return from its puts', state);
      // The producer is parked now, for as long as the test keeps its gate shut.
      Atomics.store(cc, GATE, 1);
      Atomics.notify(cc, GATE);
      await until(cc, DONE, 1, 'the consumer to get every item', state);
      assert.equal(
        Atomics.load(cc, DONE),
        ENDED,
        `the consumer failed after ${Atomics.load(cc, FAILED_AT)} items; ${state()}`,
      );
      assert.deepEqual(readLog(log), upTo(count), state());
      assert.equal(Atomics.load(pc, RESUMED), 0, 'the producer stayed parked while its items arrived');
      assert.equal(q.qsize(), 0, state());
      Atomics.store(pc, GATE, 1);
      Atomics.notify(pc, GATE);
      await within(Promise.all([producer.join(), consumer.join()]), 'both children to exit', state);
      assert.deepEqual([producer.exitCode, consumer.exitCode], [0, 0]);
    } finally {
      await terminateAll(started);
    }
  });
}
