/**
 * Tasks written in TypeScript run without a build step.
 *
 * - A TypeScript program run with `node --import tsx` uses the Pool from
 *   corepool's TypeScript source and runs tasks from a `.ts` module.
 * - A compiled program (this test, run from dist/) runs tasks from a `.ts`
 *   module too: Node 20 does not carry tsx's hooks into worker threads, so
 *   the worker registers tsx itself when it is asked for a `.ts` module.
 * - That worker finds tsx in the project of the task module, where the user
 *   installed it, even when corepool lives elsewhere (pnpm's store, a linked
 *   clone); with no tsx there (a copy run by `npx tsx` only), the task fails
 *   with an error that says to install it in the project.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Pool, taskRef } from '../src/index.js';
import { packageRoot } from './fixtures/pkg-root.js';

const run = promisify(execFile);

const root = packageRoot(import.meta.url);
const fixtures = join(root, 'test', 'fixtures');
const CHILD_TIMEOUT_MS = 90_000;

interface MainOutput {
  mainUrl: string;
  mainIsMainThread: boolean;
  square: unknown;
  circle: unknown;
  tripled: unknown;
  later: unknown;
  where: { url: string; onWorker: boolean; threadId: number };
  error: { name: string; message: string; code: unknown; shape: unknown; isRangeError: boolean; stack: string } | null;
}

test('a TypeScript program (node --import tsx) runs TypeScript tasks on a Pool from the TypeScript source', {
  timeout: CHILD_TIMEOUT_MS + 30_000,
}, async () => {
  // The program imports ../../src/index.js; with no such file beside index.ts, tsx must load the TypeScript source.
  assert.ok(existsSync(join(root, 'src', 'index.ts')));
  assert.ok(!existsSync(join(root, 'src', 'index.js')), 'src/ holds no compiled index.js to fall back on');

  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(fixtures, 'ts-main.ts')], {
    cwd: root,
    timeout: CHILD_TIMEOUT_MS,
    encoding: 'utf8',
  }).catch((err: unknown) => {
    const { stdout: out, stderr: errOut } = err as { stdout?: string; stderr?: string };
    throw new Error(`ts-main.ts failed: ${String(err)}\nstdout:\n${out ?? ''}\nstderr:\n${errOut ?? ''}`, {
      cause: err,
    });
  });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let out: MainOutput;
  try {
    out = JSON.parse(line) as MainOutput;
  } catch {
    throw new Error(`ts-main.ts printed no JSON.\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }

  assert.equal(out.mainUrl, pathToFileURL(join(fixtures, 'ts-main.ts')).href);
  assert.equal(out.mainIsMainThread, true);
  assert.deepEqual(out.square, { shape: 'square', area: 9 });
  assert.deepEqual(out.circle, { shape: 'circle', area: 3.14 });
  assert.deepEqual(out.tripled, [3, 6, 9, 12]);
  assert.equal(out.later, 'later 7');
  assert.equal(out.where.url, pathToFileURL(join(fixtures, 'ts-tasks.ts')).href, 'the task ran from the .ts module');
  assert.equal(out.where.onWorker, true);
  assert.ok(out.where.threadId >= 1);
  assert.ok(out.error !== null, 'the failing task rejected');
  assert.equal(out.error.name, 'ShapeError');
  assert.equal(out.error.message, 'no such shape: hexagon');
  assert.equal(out.error.code, 'E_SHAPE');
  assert.equal(out.error.shape, 'hexagon');
  assert.equal(out.error.isRangeError, true);
  assert.match(out.error.stack, /ts-tasks\.ts:\d+/, "the stack shows the TypeScript task's frame");
});

test('a compiled program runs tasks from a .ts module: the worker registers tsx itself', {
  timeout: 60_000,
}, async () => {
  const moduleUrl = pathToFileURL(join(fixtures, 'ts-tasks.ts')).href;
  const area = taskRef<(shape: string, size: number) => { shape: string; area: number }>(moduleUrl, 'area');
  const whereAmI = taskRef<() => { url: string; onWorker: boolean }>(moduleUrl, 'whereAmI');
  const triple = taskRef<(n: number) => number>(moduleUrl, 'triple');
  const fail = taskRef<(shape: string) => never>(moduleUrl, 'fail');
  const pool = new Pool({ processes: 2 });
  try {
    assert.deepEqual(await pool.apply(area, ['square', 4]), { shape: 'square', area: 16 });
    assert.deepEqual(await pool.map(triple, [1, 2, 3]), [3, 6, 9]);
    const where = await pool.apply(whereAmI, []);
    assert.equal(where.url, moduleUrl);
    assert.equal(where.onWorker, true);
    await assert.rejects(pool.apply(fail, ['hexagon']), (err: unknown) => {
      assert.ok(err instanceof RangeError);
      assert.equal(err.name, 'ShapeError');
      assert.equal((err as { code?: unknown }).code, 'E_SHAPE');
      assert.match(err.stack as string, /ts-tasks\.ts/);
      return true;
    });
    pool.close();
    await pool.join();
  } finally {
    await pool.terminate();
  }
});

/**
 * A user's project in a temporary directory: `app/` holds the program and
 * its TypeScript tasks (the tsx-* fixtures) and links `node_modules/corepool`
 * to a copy of this build in `store/`, with corepool's own dependencies
 * beside it but not tsx, as pnpm lays a package out. `app/` gets tsx only
 * with `withTsx`. The program runs with the loader of this repository's tsx,
 * which no module of the project can see: `npx tsx main.ts` without tsx
 * installed. Resolves with what it printed.
 */
async function runUserProject(
  withTsx: boolean,
): Promise<{ value?: unknown; error?: { message: string; cause: string } }> {
  const dir = mkdtempSync(join(tmpdir(), 'corepool-tsx-'));
  try {
    const store = join(dir, 'store', 'corepool');
    const built = fileURLToPath(new URL('..', import.meta.url));
    for (const part of ['src', 'workers']) cpSync(join(built, part), join(store, 'dist', part), { recursive: true });
    cpSync(join(root, 'package.json'), join(store, 'package.json'));
    mkdirSync(join(store, 'node_modules'));
    for (const dep of ['piscina', 'comlink']) {
      symlinkSync(join(root, 'node_modules', dep), join(store, 'node_modules', dep), 'junction');
    }
    const app = join(dir, 'app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    writeFileSync(join(app, 'package.json'), '{ "type": "module" }\n');
    symlinkSync(store, join(app, 'node_modules', 'corepool'), 'junction');
    if (withTsx) symlinkSync(join(root, 'node_modules', 'tsx'), join(app, 'node_modules', 'tsx'), 'junction');
    cpSync(join(fixtures, 'tsx-tasks.ts'), join(app, 'tsx-tasks.ts'));
    cpSync(join(fixtures, 'tsx-main.ts'), join(app, 'main.ts'));
    const { stdout } = await run(process.execPath, ['--import', import.meta.resolve('tsx'), join(app, 'main.ts')], {
      cwd: app,
      timeout: CHILD_TIMEOUT_MS,
      encoding: 'utf8',
    }).catch((err: unknown) => {
      const { stdout: out, stderr } = err as { stdout?: string; stderr?: string };
      throw new Error(`main.ts failed: ${String(err)}\nstdout:\n${out ?? ''}\nstderr:\n${stderr ?? ''}`, {
        cause: err,
      });
    });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as {
      value?: unknown;
      error?: { message: string; cause: string };
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a worker loads tsx from the task module's project, not from where corepool lies", {
  timeout: CHILD_TIMEOUT_MS + 30_000,
}, async () => {
  assert.deepEqual(await runUserProject(true), { value: 42 });
});

test('without tsx in the project (npx tsx only), the task fails with an error that says to install it there', {
  timeout: CHILD_TIMEOUT_MS + 30_000,
}, async () => {
  const { value, error } = await runUserProject(false);
  assert.equal(value, undefined);
  assert.ok(error !== undefined, 'the task rejected');
  assert.match(
    error.message,
    /^task module file:\/\/\S+\/app\/tsx-tasks\.ts is TypeScript, and worker threads load tsx from the project's node_modules/,
  );
  assert.match(error.message, /none was found above \S+app or above \S+corepool\Wdist\Wsrc\./);
  assert.match(error.message, /A tsx run by `npx tsx` without installing it is not visible to worker threads/);
  assert.match(error.message, /`npm install --save-dev tsx`, or compile the module to JavaScript$/);
  assert.match(error.cause, /Cannot find module 'tsx\/package\.json'/);
});
