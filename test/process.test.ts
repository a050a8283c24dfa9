/**
 * `Process`, `currentProcess`, `activeChildren` and comlink remotes: a task
 * or a subclass's `run()` on its own thread, with Python's exit codes, names
 * and state errors; daemon and non-daemon children at program end (in a
 * child `node` process); a child's object called through a typed proxy, and
 * callbacks from the parent called by a child and by Pool tasks.
 *
 * Children report what they saw through shared memory (mailboxes, cells);
 * the test waits on shared memory, never on sleeps.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inspect, promisify } from 'node:util';
import {
  activeChildren,
  CorepoolError,
  currentProcess,
  DataCloneError,
  expose,
  LockStateError,
  Pool,
  Process,
  ProcessStateError,
  proxy,
  releaseProxy,
  SharedValue,
  WorkerExitError,
} from '../src/index.js';
import { prepare } from '../src/transfer.js';
import {
  AliasOfRenamed,
  BadModule,
  Clock,
  makeHidden,
  Named,
  NoModule,
  WithCallback,
  WithFunctionField,
} from './fixtures/process-classes.js';
import { ARRIVED, newMailbox, OPEN, readJson, sharedCells, signal, waitFor } from './fixtures/process-mailbox.js';
import { type CounterApi, processTasks } from './fixtures/process-tasks.js';

const T = { timeout: 60_000 };
const CHILD_PROGRAM_TIMEOUT_MS = 60_000;

interface Report {
  name: string;
  pid: number;
  daemon: boolean;
  alive: boolean;
  exitCode: number | null;
  threadId: number;
  isProcess: boolean;
  same: boolean;
}

/** A validator for assert.throws/rejects: a ProcessStateError whose message matches `message`. */
function stateError(message: RegExp): (err: unknown) => true {
  return (err) => {
    assert.ok(err instanceof ProcessStateError, `expected a ProcessStateError, got ${String(err)}`);
    assert.ok(err instanceof CorepoolError);
    assert.equal(err.name, 'ProcessStateError');
    assert.equal(err.code, 'ERR_COREPOOL_PROCESS_STATE');
    assert.match(err.message, message);
    return true;
  };
}

/** A fresh gate: `[OPEN, ARRIVED]` cells. */
const newGate = (): Int32Array => sharedCells(2);

/** The number N of a default name `Process-N` (or `Clock-N`). */
function counterOf(name: string): number {
  const m = /^[A-Za-z]+-(\d+)$/.exec(name);
  assert.ok(m, `a default name: ${name}`);
  return Number(m[1]);
}

// ---- running a target ------------------------------------------------------------

test(
  'a target runs on its own thread: isAlive, pid kept after exit, exitCode 0, currentProcess() there',
  T,
  async () => {
    const gate = newGate();
    const box = newMailbox();
    const blocked = new Process({ target: processTasks.blockAtGate, args: [gate] });
    assert.equal(blocked.isAlive(), false);
    assert.equal(blocked.exitCode, null);
    assert.equal(blocked.pid, null);
    blocked.start();
    assert.equal(blocked.isAlive(), true);
    const pid = blocked.pid;
    assert.ok(typeof pid === 'number' && pid > 0, `pid is a thread id: ${pid}`);
    await waitFor(gate, ARRIVED);
    assert.equal(blocked.isAlive(), true, 'alive while it runs');
    assert.equal(blocked.exitCode, null, 'no exit code while it runs');
    signal(gate, OPEN);
    await blocked.join();
    assert.equal(blocked.isAlive(), false);
    assert.equal(blocked.exitCode, 0);
    assert.equal(blocked.error, undefined);
    assert.equal(blocked.pid, pid, 'pid is kept after exit');

    const p = new Process({ target: processTasks.report, args: [box], name: 'reporter' });
    p.start();
    await p.join();
    assert.equal(p.exitCode, 0);
    assert.equal(inspect(p), `<Process name='reporter' pid=${p.pid} stopped exitcode=0>`);
    const seen = readJson<Report>(box);
    assert.deepEqual(seen, {
      name: 'reporter',
      pid: p.pid,
      daemon: false,
      alive: true,
      exitCode: null,
      threadId: p.pid,
      isProcess: true,
      same: true,
    });

    const dbox = newMailbox();
    const daemon = new Process({ target: processTasks.report, args: [dbox], daemon: true });
    assert.equal(daemon.daemon, true);
    daemon.start();
    assert.match(inspect(daemon), /^<Process name='Process-\d+' pid=\d+ started daemon>$/);
    await daemon.join();
    assert.equal(readJson<Report>(dbox).daemon, true, 'the child knows it is a daemon');
  },
);

test(
  'exit codes: 0 on return, 1 with p.error rebuilt (class, code, props, stack), process.exit(n), -15 after terminate()',
  T,
  async () => {
    const ok = new Process({ target: processTasks.nothing });
    ok.start();
    await ok.join();
    assert.equal(ok.exitCode, 0);

    const failing = new Process({ target: processTasks.fail, args: ['bad input'] });
    failing.start();
    await failing.join();
    assert.equal(failing.exitCode, 1);
    const err = failing.error as RangeError & { code?: unknown; detail?: unknown };
    assert.ok(err instanceof RangeError, `a RangeError: ${String(err)}`);
    assert.equal(err.name, 'RangeError');
    assert.equal(err.message, 'bad input');
    assert.equal(err.code, 'E_CHILD');
    assert.deepEqual(err.detail, { at: 'fail' });
    assert.match(String(err.stack), /process-tasks/, "the stack shows the child's frames");

    const failingAsync = new Process({ target: processTasks.failAsync, args: ['async failure'] });
    failingAsync.start();
    await failingAsync.join();
    assert.equal(failingAsync.exitCode, 1);
    assert.ok(failingAsync.error instanceof LockStateError, 'an async target is awaited; a corepool class is rebuilt');
    assert.equal((failingAsync.error as LockStateError).code, 'ERR_COREPOOL_LOCK_STATE');
    assert.equal((failingAsync.error as Error).message, 'async failure');

    for (const code of [3, 0, 42]) {
      const exiting = new Process({ target: processTasks.exitWith, args: [code] });
      exiting.start();
      await exiting.join();
      assert.equal(exiting.exitCode, code, `process.exit(${code})`);
      assert.equal(exiting.error, undefined);
    }

    // Blocked in Atomics.wait on a gate that never opens: terminate() still ends it.
    const gate = newGate();
    const blocked = new Process({ target: processTasks.blockAtGate, args: [gate] });
    blocked.start();
    await waitFor(gate, ARRIVED);
    await blocked.terminate();
    assert.equal(blocked.exitCode, -15);
    assert.equal(blocked.isAlive(), false);
    assert.equal(blocked.error, undefined);
    await blocked.terminate(); // after exit: nothing to do
    await blocked.join();
    assert.equal(blocked.exitCode, -15);
    await ok.terminate();
    assert.equal(ok.exitCode, 0, 'terminate() after exit keeps the exit code');
  },
);

test('the child ends when run() returned and nothing is left to do; an error thrown later is kept too', T, async () => {
  const cells = sharedCells(1);
  const p = new Process({ target: processTasks.leaveTimer, args: [cells] });
  p.start();
  await p.join();
  assert.equal(Atomics.load(cells, 0), 1, 'the timer left behind ran before the child ended');
  assert.equal(p.exitCode, 0);

  const late = new Process({ target: processTasks.throwLater, args: ['thrown by a timer'] });
  late.start();
  await late.join();
  assert.equal(late.exitCode, 1);
  assert.ok(late.error instanceof Error);
  assert.match((late.error as Error).message, /thrown by a timer/);
});

test('join(timeout) returns with the child still running; join() then waits for it', T, async () => {
  const gate = newGate();
  const p = new Process({ target: processTasks.blockAtGate, args: [gate] });
  p.start();
  await waitFor(gate, ARRIVED);
  await p.join(20);
  assert.equal(p.isAlive(), true);
  assert.equal(p.exitCode, null);
  await p.join(0);
  assert.equal(p.isAlive(), true);
  await assert.rejects(p.join(-1), RangeError);
  await assert.rejects(p.join(Number.NaN), RangeError);
  signal(gate, OPEN);
  await p.join();
  assert.equal(p.exitCode, 0);
  await p.join(5); // after exit: at once
});

// ---- names, currentProcess, activeChildren ------------------------------------------

test(
  'default names count per thread (Process-N, a subclass uses its class name); nested children are Process-N:M',
  T,
  async () => {
    const a = new Process();
    const b = new Process({ target: processTasks.nothing });
    const n = counterOf(a.name);
    assert.match(a.name, /^Process-\d+$/);
    assert.equal(b.name, `Process-${n + 1}`);
    assert.equal(new Process({ name: 'custom' }).name, 'custom');
    assert.match(new NoModule().name, /^NoModule-\d+$/);
    b.name = 'renamed';
    assert.equal(b.name, 'renamed');
    assert.throws(() => {
      (b as { name: unknown }).name = 5;
    }, TypeError);

    const box = newMailbox();
    const parent = new Process({ target: processTasks.spawnNested, args: [box] });
    parent.start();
    await parent.join();
    assert.equal(parent.exitCode, 0, String(parent.error));
    const seen = readJson<{
      self: string;
      names: string[];
      reportedByFirst: string;
      live: string[];
      exitCodes: number[];
      afterJoin: number;
    }>(box);
    assert.equal(seen.self, parent.name);
    assert.deepEqual(seen.names, [`${parent.name}:1`, `${parent.name}:2`]);
    assert.equal(seen.reportedByFirst, `${parent.name}:1`, 'the grandchild knows its name');
    assert.deepEqual(seen.exitCodes, [0, 0]);
    assert.equal(seen.afterJoin, 0);
  },
);

test(
  'currentProcess() in the main thread is MainProcess (pid 0), which cannot be started, joined or terminated',
  T,
  async () => {
    const main = currentProcess();
    assert.equal(main, currentProcess());
    assert.ok(main instanceof Process);
    assert.equal(main.name, 'MainProcess');
    assert.equal(main.pid, 0);
    assert.equal(main.daemon, false);
    assert.equal(main.isAlive(), true);
    assert.equal(main.exitCode, null);
    assert.throws(() => main.start(), stateError(/cannot start a process twice/));
    await assert.rejects(main.join(), stateError(/can only join a child process/));
    await assert.rejects(main.terminate(), stateError(/process\.exit/));
    assert.throws(() => main.remote, stateError(/expose/));
    assert.throws(
      () => {
        main.daemon = true;
      },
      stateError(/already started/),
    );
  },
);

test('currentProcess() in a Pool worker names the worker thread', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const seen = await pool.apply(processTasks.whoAmI, []);
  assert.equal(seen.pid, seen.threadId);
  assert.equal(seen.name, `Worker-${seen.threadId}`);
});

test('activeChildren() lists the live children and reaps the finished ones', T, async () => {
  const gate = newGate();
  const done = new Process({ target: processTasks.nothing });
  const held = [0, 1].map(() => new Process({ target: processTasks.blockAtGate, args: [gate] }));
  const unstarted = new Process({ target: processTasks.nothing });
  done.start();
  await done.join();
  for (const p of held) p.start();
  try {
    await waitFor(gate, ARRIVED, 2);
    const live = activeChildren();
    for (const p of held) assert.ok(live.includes(p), `${p.name} is listed`);
    assert.ok(!live.includes(done), 'a finished child is not listed');
    assert.ok(!live.includes(unstarted), 'an unstarted one is not listed');
    assert.ok(live.every((p) => p.isAlive()));
  } finally {
    signal(gate, OPEN);
    await Promise.all(held.map((p) => p.join()));
  }
  const after = activeChildren();
  for (const p of held) assert.ok(!after.includes(p), `${p.name} was reaped`);
});

// ---- state and option errors ----------------------------------------------------------

test('start() twice, join()/terminate() before start(), daemon after start(): ProcessStateError', T, async () => {
  const p = new Process({ target: processTasks.nothing });
  await assert.rejects(p.join(), stateError(/can only join a started process/));
  await assert.rejects(p.terminate(), stateError(/can only terminate a started process/));
  assert.throws(() => p.remote, stateError(/before start/));
  p.start();
  assert.throws(() => p.start(), stateError(/cannot start a process twice/));
  assert.throws(
    () => {
      p.daemon = true;
    },
    stateError(/process has already started/),
  );
  await p.join();
  assert.throws(() => p.start(), stateError(/cannot start a process twice/));
  assert.equal(p.exitCode, 0);
});

test('bad targets and options are refused at construction, naming the option', () => {
  const plain = (): number => 1;
  assert.throws(
    // @ts-expect-error: a plain function is not a task
    () => new Process({ target: plain }),
    (err: unknown) => err instanceof TypeError && /^options\.target must be a task/.test(err.message),
  );
  // @ts-expect-error: nor is a string
  assert.throws(() => new Process({ target: 'nothing' }), /options\.target must be a task/);
  assert.throws(
    // @ts-expect-error: not an option
    () => new Process({ target: processTasks.nothing, kwargs: {} }),
    /options\.kwargs is not a Process option/,
  );
  // @ts-expect-error: args is an array
  assert.throws(() => new Process({ target: processTasks.exitWith, args: 3 }), /options\.args must be an array/);
  // @ts-expect-error: name is a string
  assert.throws(() => new Process({ name: 7 }), /options\.name must be a string/);
  // @ts-expect-error: daemon is a boolean
  assert.throws(() => new Process({ daemon: 'yes' }), /options\.daemon must be a boolean: received the string "yes"$/);
  // @ts-expect-error: options is an object
  assert.throws(() => new Process(null), /options must be an object: received null$/);
  // @ts-expect-error: options is an object
  assert.throws(() => new Process('worker'), /options must be an object: received the string "worker"$/);
  assert.throws(
    // @ts-expect-error: not an option
    () => new Process({ target: processTasks.nothing, arg: [1] }),
    {
      name: 'TypeError',
      message: /^options\.arg is not a Process option \(known: target, args, name, daemon\); did you mean args\?$/,
    },
  );
  // @ts-expect-error: name is a string
  assert.throws(() => new Process({ name: 7 }), /options\.name must be a string: received 7$/);
  const p = new Process();
  assert.throws(
    () => {
      // @ts-expect-error: daemon is a boolean
      p.daemon = 1;
    },
    { name: 'TypeError', message: 'daemon must be a boolean: received 1' },
  );
});

test('an argument that cannot cross threads is refused by start() with DataCloneError; nothing starts', T, () => {
  const p = new Process({ target: processTasks.callBackNoWait, args: [1, (() => 1) as never] });
  assert.throws(
    () => p.start(),
    (err: unknown) => err instanceof DataCloneError && err.path === 'args[1]',
  );
  assert.equal(p.isAlive(), false);
  assert.equal(p.pid, null);
  assert.ok(!activeChildren().includes(p));
});

test('args are checked against the target at compile time', () => {
  // Never called: the checks are the compiler's.
  const typeOnly = (): void => {
    new Process({ target: processTasks.exitWith, args: [3] });
    // @ts-expect-error: exitWith takes a number
    new Process({ target: processTasks.exitWith, args: ['3'] });
    // @ts-expect-error: and only one
    new Process({ target: processTasks.exitWith, args: [3, 4] });
  };
  assert.equal(typeof typeOnly, 'function');
});

// ---- subclasses -----------------------------------------------------------------------

test(
  'a subclass runs its run() in the child with its fields cloned there (a shared counter included), constructed once',
  T,
  async () => {
    const counter = new SharedValue('i32', 100);
    const box = newMailbox();
    const constructed = sharedCells(1);
    const clock = new Clock(5, counter, box, constructed);
    clock.interval = 3;
    assert.match(clock.name, /^Clock-\d+$/);
    clock.start();
    await clock.join();
    assert.equal(clock.exitCode, 0, String(clock.error));
    assert.equal(Atomics.load(constructed, 0), 1, 'the constructor did not run again in the child');
    assert.equal(counter.value, 100 + 5 * 3, 'the shared counter arrived working, over the same memory');
    const seen = readJson(box);
    assert.deepEqual(seen, {
      name: clock.name,
      pid: clock.pid,
      isClock: true,
      isCurrent: true,
      alive: true,
      interval: 3,
      label: 'clock',
      list: [1, 2, 3],
      when: 0,
      tags: ['a', 'b'],
      keys: ['box', 'counter', 'interval', 'label', 'nested', 'ticks'],
    });
  },
);

test('a subclass exported under another name is found by its class name; async run() is awaited', T, async () => {
  const box = newMailbox();
  const p = new AliasOfRenamed(box);
  p.start();
  await p.join();
  assert.equal(p.exitCode, 0, String(p.error));
  assert.deepEqual(readJson(box), { ran: 'Renamed', name: 'renamed' });
});

test('a subclass without static module, with a bad one, or not exported: clear errors', T, async () => {
  const noModule = new NoModule();
  assert.throws(
    () => noModule.start(),
    (err: unknown) =>
      err instanceof TypeError &&
      /NoModule overrides run\(\) but has no `static module = import\.meta\.url`/.test(err.message),
  );
  assert.equal(noModule.isAlive(), false);
  assert.throws(() => new BadModule().start(), /BadModule\.module must be the URL of the module/);
  assert.throws(
    () => new WithFunctionField().start(),
    (err: unknown) => err instanceof DataCloneError && err.path === 'this.onTick',
  );

  const hidden = makeHidden();
  hidden.start();
  await hidden.join();
  assert.equal(hidden.exitCode, 1);
  assert.ok(hidden.error instanceof TypeError);
  assert.match((hidden.error as Error).message, /class Hidden is not exported by .*process-classes/);
});

test('a subclass that does not override run() runs its target', T, async () => {
  const box = newMailbox();
  const p = new Named({ target: processTasks.report, args: [box] });
  assert.equal(p.describe(), `named ${p.name}`);
  p.start();
  await p.join();
  assert.equal(p.exitCode, 0, String(p.error));
  assert.equal(readJson<Report>(box).name, p.name);
});

// ---- daemon and non-daemon children at program end --------------------------------------

const program = fileURLToPath(new URL('./fixtures/process-program.js', import.meta.url));

async function runProgram(mode: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [program, mode], {
    timeout: CHILD_PROGRAM_TIMEOUT_MS,
    encoding: 'utf8',
  }).catch((err: unknown) => {
    const {
      stdout: out,
      stderr,
      killed,
      code,
    } = err as { stdout?: string; stderr?: string; killed?: boolean; code?: unknown };
    throw new Error(
      `program ${mode} ${killed ? 'did not end (killed at the timeout)' : `failed (code ${String(code)})`}\nstdout:\n${out ?? ''}\nstderr:\n${stderr ?? ''}`,
      { cause: err },
    );
  });
  return stdout.trim().split('\n');
}

test('a daemon child does not keep the program alive: the program ends and the daemon is terminated', {
  timeout: CHILD_PROGRAM_TIMEOUT_MS + 30_000,
}, async () => {
  assert.deepEqual(await runProgram('daemon'), ['main done: alive=true daemon=true']);
});

test('a non-daemon child keeps the program alive until it has finished', {
  timeout: CHILD_PROGRAM_TIMEOUT_MS + 30_000,
}, async () => {
  assert.deepEqual(await runProgram('non-daemon'), ['main done: alive=true daemon=false', 'child finished']);
});

test('join() on a daemon keeps the program alive while it waits', {
  timeout: CHILD_PROGRAM_TIMEOUT_MS + 30_000,
}, async () => {
  assert.deepEqual(await runProgram('daemon-join'), ['child finished', 'joined: exitCode=0']);
});

test('run from TypeScript source (node --import tsx), a Process starts its TypeScript host thread', {
  timeout: CHILD_PROGRAM_TIMEOUT_MS + 30_000,
}, async () => {
  // From dist/test/ (built) or test/ (source), the package root is where package.json is.
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = here.includes(`${sep}dist${sep}`) ? join(here, '..', '..') : join(here, '..');
  const main = join(root, 'test', 'fixtures', 'process-ts-main.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', main], {
    cwd: root,
    timeout: CHILD_PROGRAM_TIMEOUT_MS,
    encoding: 'utf8',
  }).catch((err: unknown) => {
    const { stdout: out, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`process-ts-main.ts failed: ${String(err)}\nstdout:\n${out ?? ''}\nstderr:\n${stderr ?? ''}`, {
      cause: err,
    });
  });
  const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
  assert.ok(String(out.url).endsWith('/process-ts-main.ts'), 'the program ran from TypeScript');
  assert.deepEqual(out.target, { exitCode: 0, error: 'undefined', isProcess: true });
  assert.deepEqual(out.clock, { exitCode: 0, error: 'undefined', counter: 4 });
  assert.equal(out.added, 3);
  assert.deepEqual(out.callback, { exitCode: 0, seen: [1, 2, 3] });
});

// ---- comlink: the child's object, called by the parent ------------------------------------

test(
  'a child exposes an object; the parent calls it through a typed proxy; releasing it lets the child end',
  T,
  async () => {
    const p = new Process<CounterApi>({ target: processTasks.counterService, args: [10] });
    p.start();
    const fifteen: number = await p.remote.add(5);
    assert.equal(fifteen, 15);
    assert.equal(await p.remote.add(2), 17);
    assert.equal(await p.remote.value(), 17);
    const label: string = await p.remote.label;
    assert.equal(label, 'counter');
    await assert.rejects(p.remote.fail('remote failure'), (err: unknown) => {
      assert.ok(err instanceof RangeError, `the class survives: ${String(err)}`);
      assert.equal(err.message, 'remote failure');
      assert.equal((err as { code?: unknown }).code, 'E_REMOTE');
      assert.match(String(err.stack), /process-tasks/);
      return true;
    });
    const typeOnly = async (): Promise<void> => {
      // @ts-expect-error: add takes a number
      await p.remote.add('5');
      // @ts-expect-error: no such method
      await p.remote.subtract(1);
    };
    assert.equal(typeof typeOnly, 'function');
    assert.equal(p.isAlive(), true, 'a serving child stays alive');
    p.remote[releaseProxy]();
    await p.join();
    assert.equal(p.exitCode, 0);
  },
);

test(
  'a remote call after the child exited rejects at once; one pending when it exits rejects too (no hang)',
  T,
  async () => {
    const gate = newGate();
    const p = new Process<CounterApi>({ target: processTasks.counterService, args: [0] });
    p.start();
    assert.equal(await p.remote.add(1), 1);
    const pending = p.remote.block(gate);
    await waitFor(gate, ARRIVED);
    await p.terminate();
    assert.equal(p.exitCode, -15);
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof WorkerExitError, `pending: ${String(err)}`);
      assert.match(err.message, /remote\.block\(\) was not answered: the process .* has exited/);
      assert.equal(err.exitCode, -15);
      assert.equal(err.threadId, p.pid);
      return true;
    });
    await assert.rejects(p.remote.add(1), stateError(/remote\.add\(\) cannot be answered: the process .* has exited/));
    await assert.rejects(Promise.resolve(p.remote.label), stateError(/has exited/));

    // The child ends itself in the middle of a call.
    const q = new Process<CounterApi>({ target: processTasks.counterService, args: [0] });
    q.start();
    await assert.rejects(
      q.remote.exit(4),
      (err: unknown) => err instanceof WorkerExitError && err.exitCode === 4 && /has exited/.test(err.message),
    );
    assert.equal(q.exitCode, 4);

    // A child that never exposes: the call waits until it ends, then rejects.
    const silentGate = newGate();
    const silent = new Process<CounterApi>({ target: processTasks.serveNothing, args: [silentGate] });
    silent.start();
    const unanswered = silent.remote.add(1);
    await waitFor(silentGate, ARRIVED);
    signal(silentGate, OPEN);
    await assert.rejects(unanswered, WorkerExitError);
    assert.equal(silent.exitCode, 0);
  },
);

test('the function expose() returns stops serving; expose() outside a child or twice is refused', T, async () => {
  const p = new Process<CounterApi>({ target: processTasks.counterService, args: [0] });
  p.start();
  assert.equal(await p.remote.stop(), 'bye');
  await p.join();
  assert.equal(p.exitCode, 0);

  assert.throws(() => expose({}), stateError(/not started by a Process/));
  const twice = new Process({ target: processTasks.exposeTwice });
  twice.start();
  await twice.join();
  assert.equal(twice.exitCode, 1);
  assert.ok(twice.error instanceof ProcessStateError);
  assert.match((twice.error as Error).message, /already called/);
});

// ---- comlink: callbacks from the parent ----------------------------------------------------

test('a proxy() callback from the parent is called by the child; answers and errors come back', T, async () => {
  const seen: number[] = [];
  const cells = sharedCells(1);
  const p = new Process({
    target: processTasks.callBack,
    args: [
      5,
      proxy((i: number) => {
        seen.push(i);
        return i * 10;
      }),
      cells,
    ],
  });
  p.start();
  await p.join();
  assert.equal(p.exitCode, 0, String(p.error));
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(Atomics.load(cells, 0), 150, 'the answers reached the child');

  // Calls the child did not wait for are delivered before it ends (it lives until they are answered).
  const later: number[] = [];
  const q = new Process({ target: processTasks.callBackNoWait, args: [50, proxy((i: number) => void later.push(i))] });
  q.start();
  await q.join();
  assert.equal(q.exitCode, 0, String(q.error));
  assert.deepEqual(
    later,
    Array.from({ length: 50 }, (_, i) => i + 1),
  );

  const box = newMailbox();
  const failing = proxy(() => {
    throw Object.assign(new RangeError('callback failed'), { code: 'E_CB' });
  });
  const r = new Process({ target: processTasks.callFailing, args: [failing, box] });
  r.start();
  await r.join();
  assert.deepEqual(readJson(box), {
    rejected: true,
    isRangeError: true,
    name: 'RangeError',
    message: 'callback failed',
    code: 'E_CB',
  });

  // As a subclass field.
  const fromField: number[] = [];
  const w = WithCallback.make(3, (i) => void fromField.push(i));
  w.start();
  await w.join();
  assert.equal(w.exitCode, 0, String(w.error));
  assert.deepEqual(fromField, [1, 2, 3]);
});

test(
  'a proxy() callback reports progress from Pool tasks (apply, starmap, map): exact counts; released after the task',
  T,
  async () => {
    await using pool = new Pool({ processes: 2 });
    let count = 0;
    const calls: number[] = [];
    const report = proxy((done: number) => {
      count++;
      calls.push(done);
    });
    assert.equal(await pool.apply(processTasks.progress, [10, report]), 10);
    assert.equal(count, 10);
    assert.deepEqual(calls, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    count = 0;
    assert.deepEqual(
      await pool.starmap(
        processTasks.progress,
        [
          [3, report],
          [4, report],
          [5, report],
        ],
        { chunksize: 1 },
      ),
      [3, 4, 5],
    );
    assert.equal(count, 12);

    count = 0;
    const items = Array.from({ length: 8 }, (_, i) => ({ n: i, report }));
    assert.deepEqual(await pool.map(processTasks.progressItem, items, { chunksize: 3 }), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(count, 8);

    const r = pool.applyAsync(processTasks.progress, [2, report]);
    assert.equal(await r.get(), 2);

    // A callback kept past its task was released with it.
    await using single = new Pool({ processes: 1 });
    await single.apply(processTasks.stash, [report]);
    await assert.rejects(single.apply(processTasks.callStashed, []), /released/);
  },
);

test('a proxy() callback is refused where it cannot travel: Pool initargs, a plain prepare()', T, async () => {
  const cb = proxy(() => 1);
  assert.throws(
    () => new Pool({ processes: 1, initializer: processTasks.nothing, initargs: [cb] }),
    (err: unknown) =>
      err instanceof DataCloneError && err.path === 'options.initargs[0]' && /comlink proxy/.test(err.message),
  );
  assert.throws(
    () => prepare([1, { cb }], 'item'),
    (err: unknown) => err instanceof DataCloneError && err.path === 'item[1].cb',
  );
  assert.throws(() => proxy(3 as never), TypeError);
});
