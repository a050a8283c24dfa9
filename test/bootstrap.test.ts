/**
 * BootstrapError: a pool or process started by the top-level code of a task
 * module while a worker imports it (tasks defined in the entry script) is
 * refused in the worker, instead of every worker starting threads of its own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BootstrapError, CorepoolError, Pool } from '../src/index.js';
import { poolTasks } from './fixtures/pool-tasks.js';
import { runScript } from './fixtures/run-script.js';

const entry = fileURLToPath(new URL('./fixtures/entry-pool.js', import.meta.url));
/** Ends a run that starts threads without end; the fixed script answers in about a second. */
const KILL_MS = 60_000;
const T = { timeout: 2 * KILL_MS };

test(
  'tasks defined in the entry script with a Pool at its top level: the task fails with BootstrapError, nothing recurses',
  T,
  async () => {
    const run = await runScript(entry, [], KILL_MS);
    assert.notEqual(run.code, null, `killed after ${KILL_MS} ms: the workers started pools without end\n${run.stderr}`);
    assert.equal(run.code, 3, run.stdout + run.stderr);
    assert.match(
      run.stdout,
      /^BootstrapError ERR_COREPOOL_BOOTSTRAP: new Pool\(\) was called while a worker thread was importing the task module file:.*entry-pool\.js/,
    );
    assert.match(run.stdout, /Define the tasks in a module of their own/);
    assert.match(run.stdout, /isMainThread/);
  },
);

test('the same script with its main code guarded by isMainThread runs', T, async () => {
  const run = await runScript(entry, [], KILL_MS, { ENTRY_POOL_MODE: 'guarded' });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(run.stdout.trim(), '[1,4,9]');
});

test('a Process started at the top level of its target module: the child fails with BootstrapError', T, async () => {
  const run = await runScript(entry, [], KILL_MS, { ENTRY_POOL_MODE: 'process' });
  assert.notEqual(run.code, null, `killed after ${KILL_MS} ms\n${run.stderr}`);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(run.stdout.trim(), 'exit 1 BootstrapError');
});

test('a Pool that a task creates while it runs works', T, async () => {
  const pool = new Pool({ processes: 2 });
  try {
    const results = await Promise.all([
      pool.apply(poolTasks.squaresInNestedPool, [5]),
      pool.apply(poolTasks.squaresInNestedPool, [3]),
    ]);
    assert.deepEqual(results, [
      [0, 1, 4, 9, 16],
      [0, 1, 4],
    ]);
  } finally {
    await pool.terminate();
  }
});

test('BootstrapError is a CorepoolError with its code', () => {
  const err = new BootstrapError('x');
  assert.ok(err instanceof CorepoolError);
  assert.equal(err.name, 'BootstrapError');
  assert.equal(err.code, 'ERR_COREPOOL_BOOTSTRAP');
});
