/**
 * Type-level tests of the generic `Pool` signatures, checked by the normal
 * build (`tsc -p .`, against the @types/node of Node 20) and again against
 * the newest @types/node (`test/tsconfig.types-latest.json`, run by `npm test`). Nothing here runs: the functions are never called, and
 * the module has no top-level effects. Every `@ts-expect-error` line must be
 * an error, or the build fails ("Unused '@ts-expect-error' directive").
 */
import {
  type ApplyOptions,
  type AsyncResult,
  defineTasks,
  type Pool,
  type TaskArgs,
  type TaskRef,
  type TaskResult,
  type TransferItem,
  taskRef,
} from '../src/index.js';
import { poolTasks } from './fixtures/pool-tasks.js';
import { tasks } from './fixtures/tasks.js';

/** `true` only when A and B are the same type (not merely assignable: `any` fails). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** `expectType<E>()(value)` compiles only when the type of `value` is exactly `E`. */
function expectType<Expected>() {
  return <T>(_value: T, ..._exact: Equal<T, Expected> extends true ? [] : [never]): void => {};
}

declare const url: string;

export async function applyTypes(pool: Pool): Promise<void> {
  // Inferred results.
  const n: number = await pool.apply(tasks.square, [2]);
  expectType<number>()(n);
  // The checker itself rejects a wrong type (and `any` would fail it too).
  // @ts-expect-error: square's result is a number, not a string
  expectType<string>()(await pool.apply(tasks.square, [2]));
  expectType<number>()(await pool.apply(tasks.add, [1, 2]));
  expectType<string>()(await pool.apply(poolTasks.describe, [1, 'a', true]));
  expectType<void>()(await pool.apply(tasks.noop, []));
  // An async task's Promise is unwrapped.
  expectType<number>()(await pool.apply(tasks.slowDouble, [1]));
  expectType<AsyncResult<number>>()(pool.applyAsync(tasks.square, [2]));
  expectType<number>()(await pool.applyAsync(poolTasks.double, [2]).get());
  expectType<number>()(await pool.applyAsync(tasks.square, [2]));

  // Wrong arguments.
  // @ts-expect-error: square takes a number
  await pool.apply(tasks.square, ['2']);
  // @ts-expect-error: square takes one argument
  await pool.apply(tasks.square, [1, 2]);
  // @ts-expect-error: add takes two arguments
  await pool.apply(tasks.add, [1]);
  // @ts-expect-error: args is a tuple, not the bare argument
  await pool.apply(tasks.square, 2);
  // @ts-expect-error: describe's arguments are (number, string, boolean), in that order
  pool.applyAsync(poolTasks.describe, ['a', 1, true]);
  // @ts-expect-error: a plain function is not a task
  await pool.apply((x: number) => x, [1]);

  // Wrong use of results.
  // @ts-expect-error: square returns a number
  const s: string = await pool.apply(tasks.square, [2]);
  // @ts-expect-error: the AsyncResult holds a number
  const r: AsyncResult<string> = pool.applyAsync(tasks.square, [2]);

  // Callbacks get the result type.
  pool.applyAsync(tasks.square, [3], {
    callback: (v) => expectType<number>()(v),
    errorCallback: (e) => expectType<unknown>()(e),
  });
  pool.applyAsync(tasks.square, [3], {
    // @ts-expect-error: the callback receives a number
    callback: (v: string) => v,
  });
  // @ts-expect-error: timeout is a number of milliseconds
  pool.applyAsync(tasks.square, [3], { timeout: '10' });
  // @ts-expect-error: not an option of applyAsync
  pool.applyAsync(tasks.square, [3], { chunksize: 1 });
  // transfer holds corepool's own TransferItem (never `any`, whatever @types/node exports).
  expectType<readonly TransferItem[] | undefined>()(({} as ApplyOptions<number>).transfer);
  pool.applyAsync(poolTasks.byteSum, [new ArrayBuffer(8)], { transfer: [new ArrayBuffer(8)] });
  // @ts-expect-error: a typed array is not transferable: list its .buffer
  pool.applyAsync(poolTasks.byteSum, [new ArrayBuffer(8)], { transfer: [new Uint8Array(8)] });
  void [s, r];
}

export async function mapTypes(pool: Pool): Promise<void> {
  expectType<number[]>()(await pool.map(tasks.square, [1, 2, 3]));
  expectType<number[]>()(await pool.map(tasks.square, new Set([1, 2])));
  expectType<AsyncResult<number[]>>()(pool.mapAsync(tasks.square, [1, 2]));
  expectType<number[]>()(await pool.starmap(tasks.add, [[1, 2]]));
  expectType<AsyncResult<string[]>>()(pool.starmapAsync(poolTasks.describe, [[1, 'a', true]]));
  expectType<AsyncIterableIterator<number>>()(pool.imap(tasks.square, [1, 2]));
  expectType<AsyncIterableIterator<number>>()(pool.imapUnordered(tasks.square, [1, 2]));
  for await (const v of pool.imap(tasks.square, [1])) expectType<number>()(v);

  async function* numbers(): AsyncGenerator<number> {
    yield 1;
  }
  expectType<number[]>()(await pool.map(tasks.square, numbers()));
  expectType<AsyncIterableIterator<number>>()(pool.imap(tasks.square, numbers()));

  pool.map(tasks.square, [1], { onProgress: (done, total) => expectType<number>()(done + total) });

  // @ts-expect-error: square's items are numbers
  await pool.map(tasks.square, ['1']);
  // @ts-expect-error: map's items are single arguments, not argument lists
  await pool.map(tasks.add, [[1, 2]]);
  // Tasks of several parameters are refused by map, imap and imapUnordered (they would
  // run with the second one undefined): starmap is for them.
  // @ts-expect-error: add takes two parameters: use starmap
  await pool.map(tasks.add, [1, 2]);
  // @ts-expect-error: add takes two parameters: use starmap
  pool.mapAsync(tasks.add, [1, 2]);
  // @ts-expect-error: add takes two parameters: use starmap
  pool.imap(tasks.add, [1, 2]);
  // @ts-expect-error: add takes two parameters: use starmap
  pool.imapUnordered(tasks.add, [1, 2]);
  // @ts-expect-error: a task of no parameters has nothing to map over
  await pool.map(tasks.noop, [1]);
  // A second parameter that is optional, or a rest parameter, is fine.
  const optional = taskRef<(n: number, base?: number) => string>(url, 'toBase');
  expectType<string[]>()(await pool.map(optional, [1, 2]));
  const rest = taskRef<(...xs: number[]) => number>(url, 'sum');
  expectType<number[]>()(await pool.map(rest, [1, 2]));
  expectType<AsyncIterableIterator<string>>()(pool.imap(optional, [1]));
  // @ts-expect-error: imap's items are numbers
  pool.imap(tasks.square, ['a']);
  // @ts-expect-error: imapUnordered's items are numbers
  pool.imapUnordered(tasks.square, [true]);
  // @ts-expect-error: starmap's items are argument lists of add: [number, number]
  await pool.starmap(tasks.add, [[1, '2']]);
  // @ts-expect-error: starmap's items are argument lists, not bare arguments
  await pool.starmap(tasks.add, [1, 2]);
  // @ts-expect-error: chunksize is a number
  await pool.map(tasks.square, [1], { chunksize: '2' });
  // @ts-expect-error: onProgress receives numbers
  await pool.map(tasks.square, [1], { onProgress: (done: string) => done });

  // @ts-expect-error: map resolves with numbers
  const strings: string[] = await pool.map(tasks.square, [1]);
  for await (const v of pool.imap(tasks.square, [1])) {
    // @ts-expect-error: imap yields numbers
    const t: string = v;
    void t;
  }
  void strings;
}

export async function taskRefTypes(pool: Pool): Promise<void> {
  const fib = taskRef<(n: number) => number>(url, 'fib');
  expectType<TaskRef<(n: number) => number>>()(fib);
  expectType<number>()(await pool.apply(fib, [20]));
  expectType<number[]>()(await pool.map(fib, [1, 2]));
  expectType<AsyncIterableIterator<number>>()(pool.imap(fib, [1]));

  const greet = taskRef<(name: string, loud: boolean) => Promise<string>>(url, 'greet');
  expectType<string>()(await pool.apply(greet, ['x', true]));
  expectType<string[]>()(await pool.starmap(greet, [['x', false]]));

  // A reference typed from a defined task.
  const square = taskRef<typeof tasks.square>(url, 'square');
  expectType<number>()(await pool.apply(square, [3]));

  // @ts-expect-error: fib takes a number
  await pool.apply(fib, ['20']);
  // @ts-expect-error: greet takes (string, boolean)
  await pool.apply(greet, ['x']);
  // @ts-expect-error: fib returns a number
  const s: string = await pool.apply(fib, [20]);
  // @ts-expect-error: starmap of greet takes [string, boolean] items
  await pool.starmap(greet, [[1, true]]);
  void s;

  // An untyped reference still runs, with unknown results.
  const loose = taskRef(url, 'anything');
  expectType<unknown>()(await pool.apply(loose, []));
}

export function helperTypes(): void {
  const defined = defineTasks('file:///x.js', {
    pair(a: number, b: string): [number, string] {
      return [a, b];
    },
    async later(): Promise<bigint> {
      return 1n;
    },
  });
  const exact: [
    Equal<TaskArgs<typeof defined.pair>, [a: number, b: string]>,
    Equal<TaskResult<typeof defined.pair>, [number, string]>,
    Equal<TaskResult<typeof defined.later>, bigint>,
    Equal<TaskArgs<TaskRef<(x: Date) => void>>, [x: Date]>,
    Equal<TaskResult<TaskRef<() => Promise<string[]>>>, string[]>,
  ] = [true, true, true, true, true];
  // @ts-expect-error: pair's result is not a number
  const wrong: Equal<TaskResult<typeof defined.pair>, number> = true;
  void [exact, wrong];
  // The defined functions stay callable in place, with their own types.
  expectType<[number, string]>()(defined.pair(1, 'a'));
  // @ts-expect-error: pair's second argument is a string
  defined.pair(1, 2);
}
