/**
 * Channel stress: seeded random rounds of producers and consumers on one
 * `Queue` (or senders and a reader on one `Pipe`), checked against the
 * channel's guarantees (fixtures/channel-stress-check.ts) from what every
 * thread wrote into shared memory.
 *
 * A queue round draws: a ring of 64 B … 64 KiB, bounded (maxsize 1…16) or
 * not; one to four producers, each a Pool task (blocking `put`, returning
 * without `joinThread()`), the main thread (`putAsync`) or a `Process` child
 * (`put` or `putAsync`); one to three consumers, each a Pool task (`get`),
 * the main thread (`getAsync`) or a child (`get`, `getAsync`, `for await`);
 * messages of 0 bytes to 4× the ring in five shapes, checked byte by byte;
 * random pauses of producers and consumers; children terminated at random
 * points (when their own progress reaches a drawn count); and `close()` at a
 * random moment (when the acknowledged puts of all producers reach a drawn
 * count), or once every producer is done. Producers then stop at
 * `QueueClosedError`, consumers get until it. A pipe round (every fifth)
 * has one to three senders on one end (children and the main thread) and one
 * reader that receives until `EOFError` once every sender closed its handle.
 *
 * What is checked, from the board and logs (fixtures/channel-stress-shared.ts):
 * nothing twice, nothing unsent, per-producer order in each consumer, no
 * item whose put did not return (but the one a terminated producer was in),
 * every acknowledged item delivered (but one per terminated consumer and
 * those reported by ERR_COREPOOL_QUEUE_LOST warnings on this thread), every
 * thread ended as it should (no `QueueClosedError` before `close()` began,
 * consumers at `QueueClosedError`, a pipe reader at `EOFError`), and after
 * the consumers' end nothing more arrives (but, maybe, that in-flight put),
 * the next get throws `QueueClosedError` and `qsize()` is 0. Before the
 * main thread hands a queue out, it puts one message larger than the ring
 * and gets it back, so that whatever buffering machinery the queue starts,
 * it starts from this thread and is not the victim of a terminated child.
 *
 * Rounds are counted, not timed: about a minute in `npm test` on a busy
 * 2-core machine. `CHANNEL_STRESS_ROUNDS=N` runs N rounds,
 * `CHANNEL_STRESS_SEED=S` replays the rounds of seed S (printed with every
 * failure, and as a diagnostic), `CHANNEL_STRESS_ROUND=R` runs round R only.
 * Threads coordinate through shared memory only (Atomics.wait/notify/
 * waitAsync); every wait has a deadline that fails the round with the seed
 * and the state seen (qsize, what each consumer logged) instead of hanging.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import {
  type Connection,
  Pipe,
  Pool,
  Process,
  type ProcessOptions,
  Queue,
  QueueClosedError,
  QueueEmpty,
  type Runnable,
} from '../src/index.js';
import {
  type ConsumerRecord,
  type Evidence,
  type ProducerRecord,
  violations,
} from './fixtures/channel-stress-check.js';
import {
  at,
  CALL_GUARD_MS,
  CLOSE_AT,
  CLOSED,
  CLOSING,
  type ConsumerPlan,
  FINISHED,
  IDLE,
  kick,
  meanSize,
  NOTIFY_AT,
  newBoard,
  newLog,
  PROGRESS,
  type ProducerPlan,
  prng,
  RUNNING,
  readLog,
  STATE,
  STATE_NAMES,
  type Stall,
  subSeed,
  TICK,
  TOTAL,
} from './fixtures/channel-stress-shared.js';
import { consumeAsync, produceAsync, recvAsync, sendAsync, stressTasks } from './fixtures/channel-stress-tasks.js';
import { checkMessage } from './fixtures/queue-messages.js';

// ---- configuration ---------------------------------------------------------

/** Rounds of one `npm test` run: about a minute on a busy 2-core machine (about 0.3 s a round there). */
const DEFAULT_ROUNDS = 200;
/** Longest a round may take before it fails as hung (a guard, never a timing assertion). */
const ROUND_GUARD_MS = 60_000;
const POOL_SIZE = 3;
/** At most this many `Process` children per round (each costs a thread start). */
const MAX_CHILDREN = 3;
/** Rings of the rounds: 64 B … 64 KiB. */
const CAPACITIES = [64, 256, 1024, 4096, 16_384, 65_536] as const;
/** Payload bytes a round moves, roughly: sizes its item counts. */
const ROUND_BYTES = 1_500_000;
const MAX_ITEMS = 250;
const MIN_ITEMS = 6;

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

const SEED = (envNumber('CHANNEL_STRESS_SEED') ?? randomInt(0x1_0000_0000)) >>> 0;
const ONLY = envNumber('CHANNEL_STRESS_ROUND');
const ROUNDS = envNumber('CHANNEL_STRESS_ROUNDS') ?? DEFAULT_ROUNDS;
const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

// ---- plans -----------------------------------------------------------------

type Where = 'pool' | 'main' | 'process';
type Mode = 'sync' | 'async' | 'iterate';

interface ProducerSpec {
  readonly where: Where;
  readonly mode: 'sync' | 'async';
  readonly plan: ProducerPlan;
  /** Terminate it once it acknowledged this many puts (children only). */
  readonly killAt: number | null;
}

interface ConsumerSpec {
  readonly where: Where;
  readonly mode: Mode;
  readonly plan: ConsumerPlan;
  /** Terminate it once it logged this many items (children only). */
  readonly killAt: number | null;
}

interface RoundPlan {
  readonly round: number;
  readonly seed: number;
  readonly channel: 'queue' | 'pipe';
  readonly capacity: number;
  readonly maxsize: number;
  readonly producers: readonly ProducerSpec[];
  readonly consumers: readonly ConsumerSpec[];
  /** `close()` once this many puts were acknowledged in all; null: once every producer is done. */
  readonly closeAt: number | null;
  readonly planned: number;
}

const QUEUE_PRODUCERS: readonly [Where, 'sync' | 'async'][] = [
  ['pool', 'sync'],
  ['main', 'async'],
  ['process', 'sync'],
  ['process', 'async'],
];
const QUEUE_CONSUMERS: readonly [Where, Mode][] = [
  ['pool', 'sync'],
  ['main', 'async'],
  ['process', 'sync'],
  ['process', 'async'],
  ['process', 'iterate'],
];
const PIPE_SENDERS: readonly [Where, 'sync' | 'async'][] = [
  ['process', 'sync'],
  ['process', 'async'],
  ['main', 'async'],
];
const PIPE_READERS: readonly [Where, Mode][] = [
  ['main', 'async'],
  ['process', 'sync'],
  ['process', 'async'],
];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)] as T;
}

function int(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

function stalls(rand: () => number, most: number, steps: number): Stall[] {
  return Array.from({ length: int(rand, 0, most) }, () => ({ at: int(rand, 0, steps), ms: int(rand, 1, 60) }));
}

/**
 * Draws kinds from `kinds` for `n` threads, within the round's budget of
 * Pool tasks, children and main-thread roles (`used` counts what is taken).
 */
function drawKinds<M>(
  rand: () => number,
  kinds: readonly [Where, M][],
  n: number,
  used: Record<Where, number>,
): [Where, M][] {
  const limit: Record<Where, number> = { pool: POOL_SIZE, main: 1, process: MAX_CHILDREN };
  const out: [Where, M][] = [];
  for (let k = 0; k < n; k++) {
    const open = kinds.filter(([w]) => used[w] < limit[w]);
    if (open.length === 0) break;
    const kind = pick(rand, open);
    used[kind[0]]++;
    out.push(kind);
  }
  return out;
}

/** The plan of round `round` of seed `seed`: the same on every run. */
function planRound(seed: number, round: number): RoundPlan {
  const roundSeed = subSeed(seed, round);
  const rand = prng(roundSeed);
  const channel = round % 5 === 4 ? 'pipe' : 'queue';
  // Each channel cycles through every ring size: queue rounds 0, 1, 2, 3, 5, … and pipe rounds 4, 9, …
  const nth = channel === 'pipe' ? Math.floor(round / 5) : round - Math.floor(round / 5);
  const capacity = CAPACITIES[nth % CAPACITIES.length] as number;
  const maxBytes = 4 * capacity;
  const maxsize = channel === 'queue' && rand() < 0.5 ? pick(rand, [1, 2, 4, 16]) : 0;
  const used: Record<Where, number> = { pool: 0, main: 0, process: 0 };
  // Consumers first: a round always has one that is not terminated.
  const consumerKinds =
    channel === 'queue'
      ? drawKinds(rand, QUEUE_CONSUMERS, int(rand, 1, 3), used)
      : drawKinds(rand, PIPE_READERS, 1, used);
  used.main = 0; // the main thread may both consume and produce
  const producerKinds =
    channel === 'queue'
      ? drawKinds(rand, QUEUE_PRODUCERS, int(rand, 1, 4), used)
      : drawKinds(rand, PIPE_SENDERS, int(rand, 1, 3), used);
  const count = Math.max(
    MIN_ITEMS,
    Math.min(MAX_ITEMS, Math.floor(ROUND_BYTES / (producerKinds.length * meanSize(capacity, maxBytes)))),
  );
  const planned = count * producerKinds.length;
  const perConsumer = Math.ceil(planned / consumerKinds.length);
  const kills = channel === 'queue';
  const producers = producerKinds.map(([where, mode], p): ProducerSpec => {
    const itemCount = int(rand, Math.ceil(count / 2), count);
    return {
      where,
      mode,
      plan: {
        slot: consumerKinds.length + p,
        p,
        count: itemCount,
        seed: subSeed(roundSeed, 100 + p),
        maxBytes,
        capacity,
        stalls: stalls(rand, 2, itemCount),
      },
      killAt: kills && where === 'process' && rand() < 0.5 ? int(rand, 0, itemCount) : null,
    };
  });
  const consumers = consumerKinds.map(
    ([where, mode], c): ConsumerSpec => ({
      where,
      mode,
      plan: { slot: c, stalls: stalls(rand, 3, perConsumer) },
      // Consumer 0 always lives: someone drains the queue.
      killAt: kills && c > 0 && where === 'process' && rand() < 0.5 ? int(rand, 0, perConsumer) : null,
    }),
  );
  const total = producers.reduce((n, s) => n + s.plan.count, 0);
  const closeAt = channel === 'queue' && rand() < 0.5 ? int(rand, 0, total) : null;
  return { round, seed: roundSeed, channel, capacity, maxsize, producers, consumers, closeAt, planned: total };
}

function describePlan(plan: RoundPlan): string {
  const bound = plan.maxsize === 0 ? 'unbounded' : `maxsize ${plan.maxsize}`;
  const close =
    plan.channel === 'pipe'
      ? 'EOF'
      : plan.closeAt === null
        ? 'close when producers are done'
        : `close at ${plan.closeAt}`;
  return `${plan.channel}, capacity ${plan.capacity}, ${bound}, ${plan.planned} items planned, ${close}`;
}

// ---- running a round -----------------------------------------------------

interface Thread {
  readonly role: 'producer' | 'consumer';
  readonly name: string;
  readonly slot: number;
  readonly killAt: number | null;
  readonly log: Int32Array | undefined;
  readonly planned: number;
  readonly p: number;
  child: Process | undefined;
  terminated: boolean;
  settled: boolean;
  error: unknown;
}

function threadName(role: string, k: number, where: Where, mode: Mode, killAt: number | null): string {
  return `${role} ${k} (${where}, ${mode}${killAt === null ? '' : `, terminate at ${killAt}`})`;
}

/** Resolves when `board[TICK]` moves from `seen`, or after `ms`; never blocks the event loop. */
async function tickAfter(board: Int32Array, seen: number, ms: number): Promise<void> {
  const r = Atomics.waitAsync(board, TICK, seen, ms);
  if (!r.async) return;
  // A pending Atomics.waitAsync does not keep the process alive; a timer does.
  const keepAlive = setTimeout(() => {}, ms + 1_000);
  try {
    await r.value;
  } finally {
    clearTimeout(keepAlive);
  }
}

class Round {
  readonly plan: RoundPlan;
  readonly board: Int32Array;
  readonly threads: Thread[] = [];
  readonly started: Process[] = [];
  readonly lostWarnings: string[] = [];
  queue: Queue<unknown> | undefined;
  closed = false;
  /** `close()` came while a producer was still putting. */
  closedEarly = false;
  drained: [number, number][] = [];

  constructor(plan: RoundPlan) {
    this.plan = plan;
    this.board = newBoard(plan.consumers.length + plan.producers.length);
  }

  /** A failure with the seed, the plan and the state of every thread. */
  fail(problem: string): never {
    const { plan, board } = this;
    const q = this.queue;
    const lines = [
      `channel stress round ${plan.round} of seed ${hex(SEED)} failed: ${problem}`,
      `replay: CHANNEL_STRESS_SEED=${hex(SEED)} CHANNEL_STRESS_ROUND=${plan.round}`,
      `plan: ${describePlan(plan)}`,
      `state: ${q === undefined ? 'pipe' : `qsize ${q.qsize()}, closed ${q.closed}`}, acknowledged ${Atomics.load(board, TOTAL)}, close() called ${this.closed}`,
    ];
    for (const t of this.threads) {
      const state = STATE_NAMES[Atomics.load(board, at(t.slot, STATE))] ?? '?';
      const progress = Atomics.load(board, at(t.slot, PROGRESS));
      const what = t.role === 'producer' ? `acknowledged ${progress} of ${t.planned}` : `logged ${progress}`;
      const end = t.child === undefined ? '' : `, exit code ${t.child.exitCode}${t.terminated ? ', terminated' : ''}`;
      lines.push(`  ${t.name}: ${state}, ${what}${end}${t.error === undefined ? '' : `, error: ${String(t.error)}`}`);
      if (t.log !== undefined) lines.push(`    got: ${summarize(readLog(t.log))}`);
    }
    if (this.lostWarnings.length > 0) lines.push(`  warnings: ${this.lostWarnings.join(' | ')}`);
    assert.fail(lines.join('\n'));
  }

  #add(role: 'producer' | 'consumer', k: number, spec: ProducerSpec | ConsumerSpec, planned: number): Thread {
    const t: Thread = {
      role,
      name: threadName(role, k, spec.where, spec.mode, spec.killAt),
      slot: spec.plan.slot,
      killAt: spec.killAt,
      log: role === 'consumer' ? newLog(this.plan.planned + 1) : undefined,
      planned,
      p: k,
      child: undefined,
      terminated: false,
      settled: false,
      error: undefined,
    };
    if (spec.killAt !== null) Atomics.store(this.board, at(t.slot, NOTIFY_AT), spec.killAt);
    this.threads.push(t);
    return t;
  }

  /** Follows a Pool task or a main-thread flow. */
  #follow(t: Thread, run: Promise<unknown>): void {
    run.then(
      () => this.#settle(t, undefined),
      (err: unknown) => this.#settle(t, err ?? new Error('rejected without a reason')),
    );
  }

  /** Starts a child and follows it. */
  #spawn<F extends Runnable>(t: Thread, options: ProcessOptions<F>): void {
    const child = new Process<unknown, F>(options);
    this.started.push(child);
    t.child = child;
    child.start();
    child.join().then(
      () => {
        const code = child.exitCode;
        const ok = code === 0 || (code === -15 && t.terminated);
        this.#settle(t, ok ? undefined : (child.error ?? new Error(`exited with code ${code}`)));
      },
      (err: unknown) => this.#settle(t, err),
    );
  }

  #settle(t: Thread, err: unknown): void {
    t.settled = true;
    t.error = err;
    kick(this.board);
  }

  #state(t: Thread): number {
    return Atomics.load(this.board, at(t.slot, STATE));
  }

  /**
   * Whether `t` was stopped by `terminate()`: exit code -15, or ended
   * before its work was done (a child terminated while it was starting can
   * report exit code 0).
   */
  #killed(t: Thread): boolean {
    if (!t.terminated || t.child === undefined) return false;
    const state = this.#state(t);
    return t.child.exitCode === -15 || state === IDLE || state === RUNNING;
  }

  /** A producer is done: it returned, stopped at close, failed or exited. */
  #producerDone(t: Thread): boolean {
    return t.settled || this.#state(t) >= FINISHED;
  }

  startQueue(pool: Pool, q: Queue<unknown>): void {
    const { board } = this;
    for (const [c, spec] of this.plan.consumers.entries()) {
      const t = this.#add('consumer', c, spec, 0);
      const log = t.log as Int32Array;
      const args = [q, board, log, spec.plan] as const;
      if (spec.where === 'pool') this.#follow(t, pool.apply(stressTasks.consumeSync, [...args]));
      else if (spec.where === 'main') this.#follow(t, consumeAsync(...args));
      else if (spec.mode === 'sync') this.#spawn(t, { target: stressTasks.consumeSync, args: [...args] });
      else if (spec.mode === 'async') this.#spawn(t, { target: stressTasks.consumeAsync, args: [...args] });
      else this.#spawn(t, { target: stressTasks.consumeIterate, args: [...args] });
    }
    for (const [p, spec] of this.plan.producers.entries()) {
      const t = this.#add('producer', p, spec, spec.plan.count);
      const args = [q, board, spec.plan] as const;
      if (spec.where === 'pool') this.#follow(t, pool.apply(stressTasks.produceSync, [...args]));
      else if (spec.where === 'main') this.#follow(t, produceAsync(...args));
      else if (spec.mode === 'sync') this.#spawn(t, { target: stressTasks.produceSync, args: [...args] });
      else this.#spawn(t, { target: stressTasks.produceAsync, args: [...args] });
    }
  }

  startPipe(rx: Connection<unknown>, tx: Connection<unknown>): void {
    const { board } = this;
    const [spec] = this.plan.consumers;
    assert.ok(spec !== undefined);
    const reader = this.#add('consumer', 0, spec, 0);
    const log = reader.log as Int32Array;
    if (spec.where === 'main') this.#follow(reader, recvAsync(rx, board, log, spec.plan));
    else if (spec.mode === 'sync')
      this.#spawn(reader, { target: stressTasks.recvSync, args: [rx, board, log, spec.plan] });
    else this.#spawn(reader, { target: stressTasks.recvAsync, args: [rx, board, log, spec.plan] });
    let mainSends = false;
    for (const [p, s] of this.plan.producers.entries()) {
      const t = this.#add('producer', p, s, s.plan.count);
      if (s.where === 'main') {
        mainSends = true;
        this.#follow(t, sendAsync(tx, board, s.plan)); // closes tx when done
      } else if (s.mode === 'sync') this.#spawn(t, { target: stressTasks.sendSync, args: [tx, board, s.plan] });
      else this.#spawn(t, { target: stressTasks.sendAsync, args: [tx, board, s.plan] });
    }
    // Each child holds its own handle from the moment it was sent: this thread's may go now.
    if (!mainSends) tx.close();
  }

  /** Drives the round until every thread has settled: close() and terminations as planned. */
  async drive(): Promise<void> {
    const { board, plan } = this;
    const closeAt = plan.closeAt ?? Number.POSITIVE_INFINITY;
    if (plan.closeAt !== null) Atomics.store(board, CLOSE_AT, plan.closeAt);
    const producers = this.threads.filter((t) => t.role === 'producer');
    const deadline = Date.now() + ROUND_GUARD_MS;
    for (;;) {
      const seen = Atomics.load(board, TICK);
      const q = this.queue;
      if (q !== undefined && !this.closed) {
        if (Atomics.load(board, TOTAL) >= closeAt || producers.every((t) => this.#producerDone(t))) {
          this.closedEarly = !producers.every((t) => this.#producerDone(t));
          Atomics.store(board, CLOSING, 1);
          q.close();
          this.closed = true;
        }
      }
      for (const t of this.threads) {
        if (t.killAt === null || t.terminated || t.settled || t.child === undefined) continue;
        const state = this.#state(t);
        if (state !== IDLE && state !== RUNNING) continue;
        if (Atomics.load(board, at(t.slot, PROGRESS)) < t.killAt) continue;
        t.terminated = true;
        t.child.terminate().catch((err: unknown) => this.#settle(t, err));
      }
      if (this.threads.every((t) => t.settled)) return;
      const left = deadline - Date.now();
      if (left <= 0) this.fail(`hung: not every thread ended within ${ROUND_GUARD_MS} ms`);
      // The wake-up is the tick; the slice only bounds a wake-up this harness forgot.
      await tickAfter(board, seen, Math.min(left, 1_000));
    }
  }

  /** Every thread ended as it should have. */
  checkEnds(): void {
    for (const t of this.threads) {
      if (t.error !== undefined) this.fail(`${t.name} failed: ${errorText(t.error)}`);
      if (this.#killed(t)) continue;
      const state = this.#state(t);
      if (t.role === 'producer') {
        const acked = Atomics.load(this.board, at(t.slot, PROGRESS));
        if (state === FINISHED && acked !== t.planned) this.fail(`${t.name} finished after ${acked} puts`);
        if (state !== FINISHED && state !== CLOSED) this.fail(`${t.name} ended in state ${STATE_NAMES[state]}`);
      } else {
        const want = this.plan.channel === 'pipe' ? FINISHED : CLOSED;
        if (state !== want) this.fail(`${t.name} ended in state ${STATE_NAMES[state]}, not ${STATE_NAMES[want]}`);
      }
    }
  }

  /** After every consumer ended: nothing is left, and the next get says closed. */
  async drain(q: Queue<unknown>): Promise<void> {
    for (;;) {
      let m: unknown;
      try {
        m = await q.getAsync({ timeout: CALL_GUARD_MS });
      } catch (err) {
        if (err instanceof QueueClosedError) break;
        if (err instanceof QueueEmpty) {
          this.fail(
            `after close() and every consumer's end, a get waited ${CALL_GUARD_MS} ms: qsize counts items that cannot arrive`,
          );
        }
        throw err;
      }
      this.drained.push(checkMessage(m));
    }
    // Consumer 0 always ends at QueueClosedError: "closed and drained". Only the put a terminated
    // producer was in the middle of may still arrive after that (it may or may not arrive at all).
    for (const [p, s] of this.drained) {
      const t = this.threads.find((x) => x.role === 'producer' && x.p === p);
      const inFlight = t !== undefined && this.#killed(t) && s === Atomics.load(this.board, at(t.slot, PROGRESS));
      if (!inFlight) this.fail(`item ${p}:${s} arrived after the consumers were told the queue was closed and drained`);
    }
    if (q.qsize() !== 0) this.fail(`qsize() is ${q.qsize()} after the queue was drained`);
  }

  evidence(): Evidence {
    const producers: ProducerRecord[] = this.threads
      .filter((t) => t.role === 'producer')
      .map((t) => ({
        p: t.p,
        planned: t.planned,
        acked: Atomics.load(this.board, at(t.slot, PROGRESS)),
        killed: this.#killed(t),
      }));
    const consumers: ConsumerRecord[] = this.threads
      .filter((t) => t.role === 'consumer')
      .map((t) => ({
        name: t.name,
        got: readLog(t.log as Int32Array),
        killed: this.#killed(t),
      }));
    if (this.drained.length > 0) consumers.push({ name: 'the final drain', got: this.drained, killed: false });
    let reportedLost = 0;
    for (const w of this.lostWarnings) reportedLost += Number(/lost (\d+)/.exec(w)?.[1] ?? 0);
    return { producers, consumers, reportedLost };
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.started.map((p) => (p.isAlive() ? p.terminate() : undefined)));
  }
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const frames = (err.stack ?? '').split('\n').slice(1, 6).join('\n');
  return `${err.name}: ${err.message}\n${frames}`;
}

/** A log, shortened: each run of consecutive items of one producer as `p:a-b`. */
function summarize(got: readonly (readonly [number, number])[]): string {
  const parts: string[] = [];
  let run: [number, number, number] | undefined; // p, first s, last s
  for (const [p, s] of got) {
    if (run !== undefined && run[0] === p && run[2] + 1 === s) {
      run[2] = s;
      continue;
    }
    if (run !== undefined) parts.push(run[1] === run[2] ? `${run[0]}:${run[1]}` : `${run[0]}:${run[1]}-${run[2]}`);
    run = [p, s, s];
  }
  if (run !== undefined) parts.push(run[1] === run[2] ? `${run[0]}:${run[1]}` : `${run[0]}:${run[1]}-${run[2]}`);
  const text = parts.join(' ');
  return parts.length === 0 ? '(nothing)' : text.length > 600 ? `${text.slice(0, 600)} …` : text;
}

/** What the rounds did, for the diagnostic at the end: evidence that the harness ran what it says. */
const tally = {
  queueRounds: 0,
  pipeRounds: 0,
  items: 0,
  producersTerminated: 0,
  consumersTerminated: 0,
  closedEarly: 0,
  reportedLost: 0,
};

function count(round: Round): void {
  const e = round.evidence();
  if (round.plan.channel === 'queue') tally.queueRounds++;
  else tally.pipeRounds++;
  tally.items += e.consumers.reduce((n, c) => n + c.got.length, 0);
  tally.producersTerminated += e.producers.filter((r) => r.killed).length;
  tally.consumersTerminated += e.consumers.filter((c) => c.killed).length;
  tally.closedEarly += round.closedEarly ? 1 : 0;
  tally.reportedLost += e.reportedLost;
}

async function runRound(pool: Pool, plan: RoundPlan): Promise<void> {
  const round = new Round(plan);
  const onWarning = (w: Error & { code?: string }): void => {
    if (w.code === 'ERR_COREPOOL_QUEUE_LOST') round.lostWarnings.push(w.message);
  };
  process.on('warning', onWarning);
  try {
    await playRound(pool, round);
    count(round);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    round.fail(`unexpected error: ${errorText(err)}`);
  } finally {
    process.off('warning', onWarning);
    await round.stopAll();
  }
}

/** One round, start to check. */
async function playRound(pool: Pool, round: Round): Promise<void> {
  if (round.plan.channel === 'queue') await playQueue(pool, round);
  else await playPipe(round);
  // Warnings are emitted on a later tick.
  await new Promise((resolve) => setImmediate(resolve));
  const found = violations(round.evidence());
  if (found.length > 0) round.fail(`the channel broke its guarantees:\n  ${found.join('\n  ')}`);
}

async function playQueue(pool: Pool, round: Round): Promise<void> {
  const { plan } = round;
  const q = new Queue<unknown>({ maxsize: plan.maxsize, capacity: plan.capacity });
  round.queue = q;
  // This thread buffers first (a message larger than the ring, nobody reading), then takes it back.
  const warm = new Uint8Array(2 * plan.capacity + 1).fill(0x5a);
  await q.putAsync(warm, { timeout: CALL_GUARD_MS });
  const back = await q.getAsync({ timeout: CALL_GUARD_MS });
  if (!(back instanceof Uint8Array) || back.length !== warm.length || back.some((b) => b !== 0x5a)) {
    round.fail('the warm-up message came back wrong');
  }
  round.startQueue(pool, q);
  await round.drive();
  round.checkEnds();
  await round.drain(q);
}

async function playPipe(round: Round): Promise<void> {
  const [rx, tx] = Pipe<unknown>({ duplex: false, capacity: round.plan.capacity });
  try {
    round.startPipe(rx, tx);
    await round.drive();
    round.checkEnds();
  } finally {
    rx.close();
    tx.close();
  }
}

// ---- the checker, checked ------------------------------------------------

/** `'0:0 1:2'` → `[[0, 0], [1, 2]]`: a log written compactly. */
function items(text: string): [number, number][] {
  return text
    .split(' ')
    .filter((w) => w !== '')
    .map((w) => w.split(':').map(Number) as [number, number]);
}

test('the stress checker passes sound evidence and finds every kind of violation', () => {
  // Producer 1 was terminated in the middle of its put of item 2.
  const producers: ProducerRecord[] = [
    { p: 0, planned: 4, acked: 4, killed: false },
    { p: 1, planned: 4, acked: 2, killed: true },
  ];
  const of = (consumers: [string, boolean][], reportedLost = 0): Evidence => ({
    producers,
    consumers: consumers.map(([got, killed], k) => ({ name: `c${k}`, got: items(got), killed })),
    reportedLost,
  });
  const problems = (e: Evidence): string => violations(e).join('\n');
  // Sound: per-producer order holds within each consumer, not across them; the in-flight item 1:2 may arrive or not.
  assert.deepEqual(
    violations(
      of([
        ['0:0 1:0 0:2 1:2', false],
        ['1:1 0:1 0:3', false],
      ]),
    ),
    [],
  );
  assert.deepEqual(
    violations(
      of([
        ['0:0 1:0 0:2', false],
        ['1:1 0:1 0:3', false],
      ]),
    ),
    [],
  );
  const all = '0:0 0:1 0:2 0:3 1:0 1:1';
  assert.deepEqual(violations(of([[all, false]])), []);
  assert.match(problems(of([[`${all} 0:1`, false]])), /0:1 received twice/);
  assert.match(
    problems(
      of([
        [all, false],
        ['0:3', false],
      ]),
    ),
    /0:3 received twice: by c0, then by c1/,
  );
  assert.match(problems(of([['0:0 0:2 0:1 0:3 1:0 1:1', false]])), /c0 got item 0:1 after 0:2/);
  assert.match(problems(of([[`${all} 2:0`, false]])), /2:0 .*no producer sent/);
  assert.match(problems(of([[`${all} 0:4`, false]])), /0:4 .*no producer sent/);
  assert.match(problems(of([[`${all} 1:3`, false]])), /1:3 .*never returned/, 'past the in-flight put');
  const unkilled: Evidence = {
    producers: [{ p: 0, planned: 4, acked: 2, killed: false }],
    consumers: [{ name: 'c0', got: items('0:0 0:1 0:2'), killed: false }],
    reportedLost: 0,
  };
  assert.match(problems(unkilled), /0:2 .*never returned/, 'a put that threw was delivered');
  const missingOne = '0:0 0:2 0:3 1:0 1:1';
  assert.match(problems(of([[missingOne, false]])), /1 acknowledged items never arrived \(0:1\)/);
  assert.deepEqual(violations(of([[missingOne, true]])), [], 'one item per terminated consumer');
  assert.deepEqual(violations(of([[missingOne, false]], 1)), [], 'items reported lost');
  assert.match(problems(of([['0:0 0:3 1:0 1:1', true]])), /2 acknowledged items never arrived/);
  assert.match(
    problems(
      of(
        [
          ['0:0 1:0', true],
          ['', true],
        ],
        1,
      ),
    ),
    /4 acknowledged items never arrived/,
  );
  // The plans of a seed are the same on every run, and within the budgets.
  assert.deepEqual(planRound(7, 3), planRound(7, 3));
  for (let r = 0; r < 200; r++) {
    const plan = planRound(12345, r);
    const where = [...plan.producers, ...plan.consumers].map((s) => s.where);
    assert.ok(where.filter((w) => w === 'pool').length <= POOL_SIZE, `round ${r}: pool budget`);
    assert.ok(where.filter((w) => w === 'process').length <= MAX_CHILDREN, `round ${r}: children budget`);
    assert.ok(plan.consumers[0]?.killAt === null, `round ${r}: consumer 0 lives`);
    assert.ok(plan.producers.length >= 1 && plan.consumers.length >= 1, `round ${r}: someone on both sides`);
    const slots = [...plan.producers, ...plan.consumers].map((s) => s.plan.slot).sort((a, b) => a - b);
    assert.deepEqual(
      slots,
      slots.map((_, k) => k),
      `round ${r}: slots`,
    );
  }
});

// ---- the stress run ------------------------------------------------------

const rounds = ONLY === undefined ? Array.from({ length: ROUNDS }, (_, r) => r) : [ONLY];

test(`channel stress: ${rounds.length} seeded rounds of producers and consumers, stalls, kills and close()`, {
  timeout: Math.max(300_000, rounds.length * 20_000),
}, async (t) => {
  t.diagnostic(`seed ${hex(SEED)} (replay with CHANNEL_STRESS_SEED=${hex(SEED)}), ${rounds.length} rounds`);
  await using pool = new Pool({ processes: POOL_SIZE });
  for (const r of rounds) await runRound(pool, planRound(SEED, r));
  const n = tally;
  t.diagnostic(
    `${n.queueRounds} queue and ${n.pipeRounds} pipe rounds, ${n.items} items checked; terminated ${n.producersTerminated} producers and ${n.consumersTerminated} consumers; close() while producers were putting in ${n.closedEarly} rounds; reported lost ${n.reportedLost}`,
  );
});
