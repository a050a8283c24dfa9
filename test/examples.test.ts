/**
 * The examples run as a user runs them (`node dist/examples/run.js <name>`, in
 * a child process) and print what they are meant to demonstrate.
 *
 * The example tasks write their lines to stdout synchronously, so the order
 * of the lines is the order in which things happened across threads.
 */

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScript, type ScriptRun } from './fixtures/run-script.js';

const runner = fileURLToPath(new URL('../examples/run.js', import.meta.url));
/** Generous: each example takes about a second. */
const TIMEOUT_MS = 60_000;

function runExamples(...args: string[]): Promise<ScriptRun> {
  return runScript(runner, args, TIMEOUT_MS);
}

/** Runs an example that must succeed; returns its stdout lines. */
async function runExample(name: string): Promise<string[]> {
  const run = await runExamples(name);
  assert.equal(
    run.code,
    0,
    `example ${name} exited with ${run.code ?? 'a signal (timed out?)'}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`,
  );
  return run.stdout.trimEnd().split('\n');
}

/** The names `run.js` lists (the lines `  <name>  <what it shows>`). */
function listed(usage: string): string[] {
  return [...usage.matchAll(/^ {2}(\S+) {2,}\S/gm)].map((m) => m[1] as string);
}

/** Examples checked one by one below (besides the two pool ones). */
const TUTORIAL_EXAMPLES = [
  'process-basic',
  'process-many',
  'process-class',
  'lock',
  'semaphore',
  'event',
  'queue',
  'pipe',
  'table',
] as const;

const START = /^开始执行/;
const DONE = /^子进程执行完成/;
const TASK = /^\[thread (\d+)\] (msg|end): hello (\d+)$/;

interface TaskLine {
  /** Line number in the output. */
  readonly at: number;
  readonly thread: number;
  readonly kind: 'msg' | 'end';
  readonly i: number;
}

/** The output split into task lines and the one start and done line; any other line fails. */
function parse(lines: readonly string[]): { tasks: TaskLine[]; start: number; done: number } {
  const tasks: TaskLine[] = [];
  const starts: number[] = [];
  const dones: number[] = [];
  lines.forEach((line, at) => {
    const m = TASK.exec(line);
    if (m !== null) tasks.push({ at, thread: Number(m[1]), kind: m[2] as 'msg' | 'end', i: Number(m[3]) });
    else if (START.test(line)) starts.push(at);
    else if (DONE.test(line)) dones.push(at);
    else assert.fail(`unexpected line ${at}: ${JSON.stringify(line)}\n${lines.join('\n')}`);
  });
  assert.equal(starts.length, 1, `one start line expected:\n${lines.join('\n')}`);
  assert.equal(dones.length, 1, `one done line expected:\n${lines.join('\n')}`);
  return { tasks, start: starts[0] as number, done: dones[0] as number };
}

/** Every task i in 0..3 printed "msg" once, then "end" once, from the same thread. */
function assertEachTaskRanOnce(tasks: readonly TaskLine[], out: string): void {
  assert.equal(tasks.length, 8, `four msg and four end lines expected:\n${out}`);
  for (let i = 0; i < 4; i++) {
    const msgs = tasks.filter((t) => t.i === i && t.kind === 'msg');
    const ends = tasks.filter((t) => t.i === i && t.kind === 'end');
    assert.equal(msgs.length, 1, `one "msg: hello ${i}" expected:\n${out}`);
    assert.equal(ends.length, 1, `one "end: hello ${i}" expected:\n${out}`);
    const [msg, end] = [msgs[0] as TaskLine, ends[0] as TaskLine];
    assert.ok(msg.at < end.at, `"end: hello ${i}" came before its msg:\n${out}`);
    assert.equal(msg.thread, end.thread, `task ${i} began and ended on different threads:\n${out}`);
    assert.notEqual(msg.thread, 0, `task ${i} ran on the main thread:\n${out}`);
  }
}

test('run.js with no name lists the examples and succeeds', async () => {
  const run = await runExamples();
  assert.equal(run.code, 0, run.stderr);
  const names = listed(run.stdout);
  for (const name of [...TUTORIAL_EXAMPLES, 'hello', 'pool-apply-async', 'pool-apply']) {
    assert.ok(names.includes(name), `${name} is not listed:\n${run.stdout}`);
  }
});

test('run.js with an unknown name lists the examples and fails', async () => {
  const run = await runExamples('no-such-example');
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /unknown example: "no-such-example"/);
  assert.ok(listed(run.stderr).includes('pool-apply-async'), run.stderr);
  assert.equal(run.stdout, '');
});

test('hello: pool.map prints the four squares in input order, and nothing else', async () => {
  assert.deepEqual(await runExample('hello'), ['[ 1, 4, 9, 16 ]']);
});

test('pool-apply-async: applyAsync does not wait; three workers share four tasks', async () => {
  const lines = await runExample('pool-apply-async');
  const out = lines.join('\n');
  const { tasks, start, done } = parse(lines);
  assertEachTaskRanOnce(tasks, out);
  const firstEnd = Math.min(...tasks.filter((t) => t.kind === 'end').map((t) => t.at));
  assert.ok(start < firstEnd, `the start line must come before any task ends:\n${out}`);
  assert.equal(done, lines.length - 1, `the done line must come last:\n${out}`);
  const threads = new Set(tasks.map((t) => t.thread));
  assert.ok(threads.size <= 3, `at most 3 worker threads expected, saw ${[...threads].join(', ')}:\n${out}`);
  let running = 0;
  for (const t of tasks) {
    running += t.kind === 'msg' ? 1 : -1;
    assert.ok(running <= 3, `more than 3 tasks ran at once on a pool of 3:\n${out}`);
  }
});

test('pool-apply: apply runs the tasks one after another, in order', async () => {
  const lines = await runExample('pool-apply');
  const out = lines.join('\n');
  const { tasks, start, done } = parse(lines);
  assertEachTaskRanOnce(tasks, out);
  assert.deepEqual(
    tasks.map((t) => `${t.kind} ${t.i}`),
    ['msg 0', 'end 0', 'msg 1', 'end 1', 'msg 2', 'end 2', 'msg 3', 'end 3'],
    `strictly sequential output expected:\n${out}`,
  );
  const lastEnd = (tasks.at(-1) as TaskLine).at;
  assert.ok(start > lastEnd, `apply waits, so the start line comes after every task:\n${out}`);
  assert.equal(done, lines.length - 1, `the done line must come last:\n${out}`);
});

test('every other listed example runs to completion', async (t) => {
  const checked = new Set<string>(['hello', 'pool-apply-async', 'pool-apply', ...TUTORIAL_EXAMPLES]);
  const names = listed((await runExamples()).stdout).filter((name) => !checked.has(name));
  for (const name of names) {
    await t.test(name, async () => {
      const lines = await runExample(name);
      assert.ok(lines.join('').trim() !== '', `example ${name} printed nothing`);
    });
  }
});

// ---- the tutorial's Process, Lock, Semaphore, Event, Queue examples, and the table ----

/** A line `[<process name>] <text>` printed by `say()` (examples/util.ts). */
const SAID = /^\[([^\]]+)\] (.*)$/;

/** The `[name] text` lines of the output, with their line numbers; other lines are skipped. */
function said(lines: readonly string[]): { at: number; who: string; text: string }[] {
  return lines.flatMap((line, at) => {
    const m = SAID.exec(line);
    return m === null ? [] : [{ at, who: m[1] as string, text: m[2] as string }];
  });
}

/** The line number of the one line equal to `line`. */
function lineOf(lines: readonly string[], line: string): number {
  const at = lines.flatMap((l, i) => (l === line ? [i] : []));
  assert.equal(at.length, 1, `exactly one line ${JSON.stringify(line)} expected:\n${lines.join('\n')}`);
  return at[0] as number;
}

const TIME = /^\d{2}:\d{2}:\d{2}\.\d{3}$/;

test('process-basic: a child prints the time 5 times; its pid, name and isAlive() are printed', async () => {
  const lines = await runExample('process-basic');
  const out = lines.join('\n');
  const pid = lines.find((l) => l.startsWith('p.pid: '));
  assert.match(pid ?? '', /^p\.pid: [1-9]\d*$/, `a numeric pid expected:\n${out}`);
  lineOf(lines, 'p.name: Process-1');
  const alive = lineOf(lines, 'p.isAlive: true');
  const times = said(lines);
  assert.equal(times.length, 5, `five time lines expected:\n${out}`);
  for (const t of times) {
    assert.equal(t.who, 'Process-1', out);
    assert.match(t.text.replace(/^The time is /, ''), TIME, out);
    assert.ok(t.text.startsWith('The time is '), out);
  }
  const exited = lineOf(lines, 'p.exitCode: 0');
  assert.ok(exited > Math.max(alive, ...times.map((t) => t.at)), `join() returns after the child:\n${out}`);
  assert.equal(lines.at(-1), 'p.isAlive: false', out);
  assert.equal(lines.length, 10, `nothing else printed:\n${out}`);
});

test('process-many: three children run; cpuCount() and activeChildren() are listed', async () => {
  const lines = await runExample('process-many');
  const out = lines.join('\n');
  const cpu = lines.find((l) => l.startsWith('The number of CPU is: '));
  assert.match(cpu ?? '', /^The number of CPU is: [1-9]\d*$/, out);
  const children = lines.flatMap((l) => {
    const m = /^child {3}p\.name: (\S+)\tp\.id (\d+)$/.exec(l);
    return m === null ? [] : [{ name: m[1] as string, pid: Number(m[2]) }];
  });
  assert.deepEqual(
    children.map((c) => c.name),
    ['Process-1', 'Process-2', 'Process-3'],
    `all three children listed as active:\n${out}`,
  );
  assert.equal(new Set(children.map((c) => c.pid)).size, 3, `three distinct pids:\n${out}`);
  assert.ok(!children.some((c) => c.pid === 0), `no child has the main thread's id:\n${out}`);
  const lines3 = said(lines);
  assert.equal(lines3.length, 6, out);
  for (const k of [1, 2, 3]) {
    const mine = lines3.filter((l) => l.who === `Process-${k}`).map((l) => l.text);
    assert.deepEqual(mine, [`worker_${k}`, `end worker_${k}`], out);
  }
});

test('process-class: the ClockProcess subclass prints the time n times in its child', async () => {
  const lines = await runExample('process-class');
  const out = lines.join('\n');
  const ticks = said(lines);
  assert.equal(ticks.length, 5, `five lines expected:\n${out}`);
  for (const t of ticks) {
    assert.equal(t.who, 'ClockProcess-1', `the subclass names itself:\n${out}`);
    assert.match(t.text, /^the time is \d{2}:\d{2}:\d{2}\.\d{3}$/, out);
  }
  assert.equal(lines.at(-1), 'ClockProcess-1 exited with 0', out);
});

test('lock: both writers append their 9 lines to the file, unbroken by the other', async (t) => {
  const lines = await runExample('lock');
  const out = lines.join('\n');
  const path = /^file: (.+)$/.exec(lines[0] ?? '')?.[1];
  assert.ok(path !== undefined && basename(path) === 'file.txt', `the file's path first:\n${out}`);
  t.after(() => rmSync(dirname(path), { recursive: true, force: true }));
  const file = readFileSync(path, 'utf8');
  assert.ok(file.endsWith('\n'), 'every line is complete');
  const rows = file.slice(0, -1).split('\n');
  const WITH = 'Lock 通过 with';
  const DIRECT = 'Lock 直接 操作';
  assert.equal(rows.length, 18, `18 lines expected:\n${file}`);
  for (const row of rows) assert.ok(row === WITH || row === DIRECT, `a broken line: ${JSON.stringify(row)}`);
  // Two runs of nine: the first writer's lines, then the other's.
  const first = rows[0] as string;
  const other = first === WITH ? DIRECT : WITH;
  assert.deepEqual(rows, [...Array(9).fill(first), ...Array(9).fill(other)], `interleaved:\n${file}`);
  // What the example printed is the file.
  const shown = lines.slice(lineOf(lines, 'file.txt holds 18 lines:') + 1);
  assert.deepEqual(
    shown,
    rows.map((r) => `  ${r}`),
    out,
  );
  // The holders' lines do not interleave either: holds A, releases A, holds B, releases B.
  const holders = said(lines);
  assert.equal(holders.length, 4, out);
  assert.equal(holders[0]?.who, holders[1]?.who, out);
  assert.equal(holders[2]?.who, holders[3]?.who, out);
  assert.notEqual(holders[0]?.who, holders[2]?.who, out);
  for (const [i, h] of holders.entries()) assert.match(h.text, i % 2 === 0 ? /^holds the lock/ : /^releases/, out);
  const withFirst = holders[0]?.text === 'holds the lock (using lock.hold())';
  assert.equal(first, withFirst ? WITH : DIRECT, `the first holder wrote first:\n${out}`);
});

/** Checks an acquire/release sequence: each of the five once in, then out; at most two in at once. */
function assertAtMostTwo(events: readonly { who: string; in: boolean }[], out: string): number {
  const inside = new Set<string>();
  const done = new Set<string>();
  let most = 0;
  for (const e of events) {
    if (e.in) {
      assert.ok(!inside.has(e.who) && !done.has(e.who), `${e.who} acquired twice:\n${out}`);
      inside.add(e.who);
    } else {
      assert.ok(inside.delete(e.who), `${e.who} released without holding:\n${out}`);
      done.add(e.who);
    }
    most = Math.max(most, inside.size);
    assert.ok(inside.size <= 2, `more than two holders at once (${[...inside].join(', ')}):\n${out}`);
  }
  assert.equal(inside.size, 0, out);
  assert.deepEqual([...done].sort(), ['Process-1', 'Process-2', 'Process-3', 'Process-4', 'Process-5'], out);
  return most;
}

test('semaphore: five processes, never more than two holding a unit at once', async () => {
  const lines = await runExample('semaphore');
  const out = lines.join('\n');
  const live = said(lines).map((l) => {
    assert.ok(l.text === 'acquire' || l.text === 'release', out);
    return { who: l.who, in: l.text === 'acquire' };
  });
  assertAtMostTwo(live, out);
  const log = lines.find((l) => l.startsWith('log: '));
  assert.ok(log !== undefined, out);
  const logged = log
    .slice(5)
    .split(' ')
    .map((token) => ({ who: token.slice(1), in: token.startsWith('+') }));
  assert.equal(logged.length, 10, out);
  const most = assertAtMostTwo(logged, out);
  assert.equal(lines.at(-1), `most holders at once: ${most}`, out);
});

test('event: the waiter with a timeout gets false before set(); the other gets true after it', async () => {
  const lines = await runExample('event');
  const out = lines.join('\n');
  const startBlock = lineOf(lines, '[block] wait_for_event: starting');
  const startTimeout = lineOf(lines, '[non-block] wait_for_event_timeout: starting');
  const timedOut = lineOf(lines, '[non-block] wait_for_event_timeout: e.wait(200) -> false, e.isSet() -> false');
  const setting = lineOf(lines, '[MainProcess] main: setting the event');
  const isSet = lineOf(lines, '[MainProcess] main: event is set');
  const woke = lineOf(lines, '[block] wait_for_event: e.wait() -> true, e.isSet() -> true');
  assert.ok(Math.max(startBlock, startTimeout) < timedOut, `both start before the timeout:\n${out}`);
  assert.ok(timedOut < setting, `the timeout comes before set():\n${out}`);
  assert.ok(setting < isSet && setting < woke, `the blocked waiter wakes after set():\n${out}`);
  assert.equal(lines.length, 6, out);
});

test('queue: QueueEmpty, then the put lands and QueueFull, then the get takes it', async () => {
  const lines = await runExample('queue');
  assert.deepEqual(lines, [
    '[Process-2] q.getNowait() -> QueueEmpty',
    '[Process-1] q.putNowait(1) -> ok',
    '[Process-1] q.putNowait(2) -> QueueFull',
    '[Process-2] q.getNowait() -> 1',
    '[Process-2] q.getNowait() -> QueueEmpty',
    'main: q.qsize() -> 0, q.empty() -> true',
  ]);
});

test('pipe: the consumer prints 1..5, then EOFError once every handle on the sending end is closed', async () => {
  const lines = await runExample('pipe');
  const out = lines.join('\n');
  const consumer = said(lines).filter((l) => l.who === 'Process-1');
  assert.match(consumer[0]?.text ?? '', /^consumer: process id [1-9]\d*$/, out);
  assert.deepEqual(
    consumer.slice(1).map((l) => l.text),
    ['1', '2', '3', '4', '5', 'EOFError', 'consumer done'],
    out,
  );
  const closing = lineOf(lines, '[MainProcess] main: sent [1, 2, 3, 4, 5], closing conn2');
  const eof = lineOf(lines, '[Process-1] EOFError');
  assert.ok(closing < eof, `EOFError comes only after the parent closes its end:\n${out}`);
  assert.equal(lines.length, 9, out);
});

test('table: the pool aggregates a million shared rows exactly as one thread does', async () => {
  const lines = await runExample('table');
  const out = lines.join('\n');
  assert.match(lines[0] ?? '', /^table: 1000000 rows /, out);
  const pool = lines.findIndex((l) => l.startsWith('pool ('));
  const single = lineOf(lines, 'single thread:');
  const CATEGORY = /^ {2}category (\d): rows (\d+), qty (\d+), revenue (\d+\.\d\d), mean price (\d+\.\d\d)$/;
  const byPool = lines.slice(pool + 1, pool + 9);
  const byOne = lines.slice(single + 1, single + 9);
  for (const [c, line] of [...byPool.entries(), ...byOne.entries()]) {
    assert.equal(CATEGORY.exec(line)?.[1], String(c), `category ${c} expected:\n${out}`);
  }
  assert.deepEqual(byPool, byOne, `the pool's figures are the single thread's:\n${out}`);
  const rows = byOne.reduce((sum, line) => sum + Number(CATEGORY.exec(line)?.[2]), 0);
  assert.equal(rows, 1_000_000, `every row counted once:\n${out}`);
  lineOf(lines, 'zero copies: true');
  assert.equal(lines.at(-1), 'match: true', out);
});
