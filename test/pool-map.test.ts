/**
 * The map family: `map`, `mapAsync`, `starmap`, `starmapAsync`, `imap`,
 * `imapUnordered`: results and their order, kinds of input, chunking (given
 * and automatic), progress, errors, and lazy consumption of endless input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataCloneError, Pool } from '../src/index.js';
import { countBy, range } from './fixtures/pool-helpers.js';
import { poolTasks } from './fixtures/pool-tasks.js';
import { tasks } from './fixtures/tasks.js';

const T = { timeout: 30_000 };
const squares = (n: number): number[] => range(n).map((i) => i * i);

async function collect<R>(it: AsyncIterable<R>): Promise<R[]> {
  const out: R[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function* generate<X>(items: readonly X[]): Generator<X> {
  yield* items;
}

async function* generateAsync<X>(items: readonly X[]): AsyncGenerator<X> {
  for (const x of items) {
    await Promise.resolve();
    yield x;
  }
}

/** Runs `map` and records every onProgress call. */
async function mapWithProgress(
  pool: Pool,
  n: number,
  chunksize?: number,
): Promise<{ results: number[]; calls: [number, number][] }> {
  const calls: [number, number][] = [];
  const results = await pool.map(tasks.square, range(n), {
    ...(chunksize === undefined ? {} : { chunksize }),
    onProgress: (done, total) => {
      calls.push([done, total]);
    },
  });
  return { results, calls };
}

/** The sizes of the chunks that `n` items cut into chunks of `size` make. */
function chunkSizes(n: number, size: number): number[] {
  return range(Math.ceil(n / size)).map((i) => Math.min(size, n - i * size));
}

/** Each onProgress call's increase of `done`. */
function increments(calls: readonly [number, number][]): number[] {
  return calls.map(([done], i) => done - (i === 0 ? 0 : (calls[i - 1] as [number, number])[0]));
}

const ascending = (a: number, b: number): number => a - b;

test('map, mapAsync, starmap and starmapAsync return every result in input order', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.deepEqual(await pool.map(tasks.square, range(1000)), squares(1000));
  assert.deepEqual(await pool.mapAsync(tasks.square, range(300)).get(), squares(300));
  const pairs = range(500).map((i): [number, number] => [i, 1000 - i]);
  assert.deepEqual(
    await pool.starmap(tasks.add, pairs),
    range(500).map(() => 1000),
  );
  assert.deepEqual(
    await pool
      .starmapAsync(tasks.add, [
        [1, 2],
        [3, 4],
        [5, 6],
      ])
      .get(),
    [3, 7, 11],
  );
  assert.deepEqual(
    await pool.starmap(poolTasks.describe, [
      [1, 'a', true],
      [2, 'b', false],
    ]),
    ['number:1,string:a,boolean:true', 'number:2,string:b,boolean:false'],
  );
});

test('map of an async task awaits each item', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.deepEqual(
    await pool.map(poolTasks.double, range(100)),
    range(100).map((i) => i * 2),
  );
  assert.deepEqual(
    await pool.map(tasks.slowDouble, range(20), { chunksize: 3 }),
    range(20).map((i) => i * 2),
  );
});

test('imap yields every result in input order', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.deepEqual(await collect(pool.imap(tasks.square, range(500))), squares(500));
  assert.deepEqual(await collect(pool.imap(tasks.square, range(500), { chunksize: 7 })), squares(500));
  // Items that take different times still come back in order.
  assert.deepEqual(
    await collect(pool.imap(tasks.slowDouble, range(40), { chunksize: 1 })),
    range(40).map((i) => i * 2),
  );
});

test('imapUnordered yields every result exactly once', T, async () => {
  await using pool = new Pool({ processes: 2 });
  for (const chunksize of [undefined, 1, 7, 2000]) {
    const got = await collect(pool.imapUnordered(tasks.square, range(1000), chunksize ? { chunksize } : {}));
    assert.equal(got.length, 1000, `chunksize ${chunksize}`);
    assert.deepEqual(got.sort(ascending), squares(1000), `chunksize ${chunksize}`);
  }
});

test('empty input gives empty results everywhere', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.deepEqual(await pool.map(tasks.square, []), []);
  assert.deepEqual(await pool.map(tasks.square, generate<number>([])), []);
  assert.deepEqual(await pool.map(tasks.square, generateAsync<number>([])), []);
  assert.deepEqual(await pool.mapAsync(tasks.square, []).get(), []);
  assert.deepEqual(await pool.starmap(tasks.add, []), []);
  assert.deepEqual(await pool.starmapAsync(tasks.add, []).get(), []);
  assert.deepEqual(await collect(pool.imap(tasks.square, [])), []);
  assert.deepEqual(await collect(pool.imap(tasks.square, generateAsync<number>([]))), []);
  assert.deepEqual(await collect(pool.imapUnordered(tasks.square, [])), []);
  assert.deepEqual(await pool.map(tasks.square, [], { chunksize: 5 }), []);
});

test('sync iterables and generators are accepted as input', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.deepEqual(await pool.map(tasks.square, new Set([3, 1, 2])), [9, 1, 4]);
  assert.deepEqual(await pool.map(tasks.square, new Map([[5, 'five']]).keys()), [25]);
  assert.deepEqual(await pool.map(tasks.square, generate(range(50))), squares(50));
  assert.deepEqual(await pool.map(tasks.square, new Uint8Array([1, 2, 3])), [1, 4, 9]);
  assert.deepEqual(await pool.map(tasks.identity, 'abc'), ['a', 'b', 'c']);
  assert.deepEqual(
    await pool.starmap(
      tasks.add,
      generate<[number, number]>([
        [1, 1],
        [2, 2],
      ]),
    ),
    [2, 4],
  );
  assert.deepEqual(await collect(pool.imap(tasks.square, generate(range(50)))), squares(50));
  assert.deepEqual(await collect(pool.imap(tasks.square, new Set([4, 5]))), [16, 25]);
  assert.deepEqual((await collect(pool.imapUnordered(tasks.square, generate(range(50))))).sort(ascending), squares(50));
});

test('async iterables are accepted as input', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.deepEqual(await pool.map(tasks.square, generateAsync(range(100))), squares(100));
  assert.deepEqual(await pool.mapAsync(tasks.square, generateAsync(range(10))).get(), squares(10));
  assert.deepEqual(
    await pool.starmap(
      tasks.add,
      generateAsync<[number, number]>([
        [1, 2],
        [3, 4],
      ]),
    ),
    [3, 7],
  );
  // A hand-written async iterable (not a generator).
  let i = 0;
  const countdown: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => (i < 5 ? { done: false, value: i++ } : { done: true, value: undefined }),
    }),
  };
  assert.deepEqual(await pool.map(tasks.square, countdown), [0, 1, 4, 9, 16]);
});

test('imap and imapUnordered read an async iterable', T, async () => {
  await using pool = new Pool({ processes: 2 });
  assert.deepEqual(await collect(pool.imap(tasks.square, generateAsync(range(200)))), squares(200));
  assert.deepEqual(await collect(pool.imap(tasks.square, generateAsync(range(200)), { chunksize: 9 })), squares(200));
  const unordered = await collect(pool.imapUnordered(tasks.square, generateAsync(range(200))));
  assert.deepEqual(unordered.sort(ascending), squares(200));
});

test('explicit chunksize: one onProgress call per chunk, each chunk runs whole on one worker', T, async () => {
  await using pool = new Pool({ processes: 2 });
  for (const [n, size] of [
    [100, 10],
    [101, 10],
    [100, 1],
    [7, 100],
  ] as const) {
    const { results, calls } = await mapWithProgress(pool, n, size);
    assert.deepEqual(results, squares(n));
    assert.equal(calls.length, Math.ceil(n / size), `n=${n} chunksize=${size}`);
    assert.deepEqual(
      increments(calls).sort(ascending),
      chunkSizes(n, size).sort(ascending),
      `n=${n} chunksize=${size}`,
    );
  }
  const ids = await pool.map(poolTasks.threadOf, range(200), { chunksize: 25 });
  for (let start = 0; start < 200; start += 25) {
    const block = new Set(ids.slice(start, start + 25));
    assert.equal(block.size, 1, `items ${start}..${start + 24} form one chunk on one worker`);
  }
  assert.ok(new Set(ids).size <= 2);
});

test('automatic chunksize follows Python: ceil(n / (processes * 4)) items a chunk', T, async () => {
  for (const processes of [2, 3]) {
    await using pool = new Pool({ processes });
    for (const n of [1, 7, 8, 10, 100, 1000, 1001]) {
      const size = Math.ceil(n / (processes * 4));
      const { results, calls } = await mapWithProgress(pool, n);
      assert.deepEqual(results, squares(n));
      assert.equal(calls.length, Math.ceil(n / size), `processes=${processes} n=${n}`);
      assert.deepEqual(
        increments(calls).sort(ascending),
        chunkSizes(n, size).sort(ascending),
        `processes=${processes} n=${n}`,
      );
    }
  }
});

test('automatic chunks each run whole on one worker', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const n = 80; // ceil(80 / 8) = 10 items a chunk
  const ids = await pool.map(poolTasks.threadOf, range(n));
  for (let start = 0; start < n; start += 10) {
    assert.equal(new Set(ids.slice(start, start + 10)).size, 1, `items ${start}..${start + 9}`);
  }
});

test('onProgress(done, total): done increases strictly up to total, total never changes', T, async () => {
  await using pool = new Pool({ processes: 2 });
  for (const chunksize of [undefined, 1, 13]) {
    const { calls } = await mapWithProgress(pool, 250, chunksize);
    assert.ok(calls.length > 0);
    for (const [i, [done, total]] of calls.entries()) {
      assert.equal(total, 250);
      if (i > 0) assert.ok(done > (calls[i - 1] as [number, number])[0], `call ${i}: ${done} after ${calls[i - 1]}`);
    }
    assert.deepEqual(calls.at(-1), [250, 250]);
  }
  // With an iterable of unknown length the total is still the number of items.
  const totals = new Set<number>();
  await pool.map(tasks.square, generateAsync(range(40)), { onProgress: (_done, total) => totals.add(total) });
  assert.deepEqual([...totals], [40]);
});

test('onProgress is called for every chunk before map resolves', T, async () => {
  await using pool = new Pool({ processes: 2 });
  let last: number | undefined;
  const results = await pool.map(tasks.square, range(64), {
    chunksize: 4,
    onProgress: (done) => {
      last = done;
    },
  });
  assert.equal(results.length, 64);
  assert.equal(last, 64);
});

test('an error in one item rejects map with that item error; the pool still works', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const input = range(100).map((i) => (i === 37 ? -37 : i));
  for (const chunksize of [undefined, 1, 10]) {
    await assert.rejects(pool.map(poolTasks.failIfNegative, input, chunksize ? { chunksize } : {}), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.equal(err.message, 'item -37 is bad');
      return true;
    });
  }
  await assert.rejects(pool.mapAsync(poolTasks.failIfNegative, input).get(), { message: 'item -37 is bad' });
  await assert.rejects(
    pool.starmap(
      tasks.failOn,
      range(20).map((i): [number, number] => [i, 11]),
    ),
    { message: 'item 11 is bad' },
  );
  await assert.rejects(
    pool
      .starmapAsync(
        tasks.failOn,
        range(20).map((i): [number, number] => [i, 12]),
      )
      .get(),
    { message: 'item 12 is bad' },
  );
  assert.deepEqual(await pool.map(tasks.square, range(10)), squares(10));
});

test('an input iterable that throws rejects map with its error', T, async () => {
  await using pool = new Pool({ processes: 2 });
  function* broken(): Generator<number> {
    yield 1;
    yield 2;
    throw new RangeError('input broke');
  }
  await assert.rejects(pool.map(tasks.square, broken()), { name: 'RangeError', message: 'input broke' });
  async function* brokenAsync(): AsyncGenerator<number> {
    yield 1;
    throw new RangeError('async input broke');
  }
  await assert.rejects(pool.map(tasks.square, brokenAsync()), { name: 'RangeError', message: 'async input broke' });
});

test('an item that cannot be sent rejects map with DataCloneError naming its index', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const items: unknown[] = [1, 2, 3, 4, 5, () => 6, 7];
  await assert.rejects(pool.map(tasks.identity, items, { chunksize: 2 }), (err: unknown) => {
    assert.ok(err instanceof DataCloneError);
    assert.match(err.message, /\[5\]/);
    return true;
  });
});

test('imap consumes an infinite generator lazily, and its finally runs on break', T, async () => {
  await using pool = new Pool({ processes: 2 });
  // Warm workers answer fast, which is when an adaptive chunk size grows fastest.
  await pool.map(tasks.square, range(100));
  for (const chunksize of [undefined, 10]) {
    let produced = 0;
    let finalized = false;
    function* naturals(): Generator<number> {
      try {
        for (let i = 0; ; i++) {
          produced++;
          yield i;
        }
      } finally {
        finalized = true;
      }
    }
    const k = 100;
    const got: number[] = [];
    for await (const v of pool.imap(tasks.square, naturals(), chunksize ? { chunksize } : {})) {
      got.push(v);
      if (got.length === k) break;
    }
    assert.deepEqual(got, squares(k));
    const bound = chunksize === undefined ? k + 5_000 : k + 500;
    assert.ok(produced >= k && produced < bound, `chunksize ${chunksize}: read ${produced} items for ${k} results`);
    assert.equal(finalized, true, "the generator's finally ran");
  }
  // The pool is still usable after abandoning the iterators.
  assert.deepEqual(await pool.map(tasks.square, range(5)), squares(5));
});

test('imapUnordered and an async infinite generator are consumed lazily too', T, async () => {
  await using pool = new Pool({ processes: 2 });
  await pool.map(tasks.square, range(100));
  let produced = 0;
  let finalized = false;
  async function* naturals(): AsyncGenerator<number> {
    try {
      for (let i = 0; ; i++) {
        produced++;
        yield i;
      }
    } finally {
      finalized = true;
    }
  }
  const k = 100;
  const got: number[] = [];
  for await (const v of pool.imapUnordered(tasks.square, naturals())) {
    got.push(v);
    if (got.length === k) break;
  }
  assert.equal(new Set(got).size, k, 'no result twice');
  assert.ok(produced < k + 5_000, `read ${produced} items for ${k} results`);
  assert.equal(finalized, true);
});

test('imap error surfaces at its position, after the results before it', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const input = range(20).map((i) => (i === 5 ? -5 : i));
  for (const [chunksize, before] of [
    [1, [0, 1, 2, 3, 4]],
    [4, [0, 1, 2, 3]], // -5 is in the second chunk, [4, -5, 6, 7]
  ] as const) {
    const got: number[] = [];
    const it = pool.imap(poolTasks.failIfNegative, input, { chunksize });
    await assert.rejects(
      (async () => {
        for await (const v of it) got.push(v);
      })(),
      { message: 'item -5 is bad' },
    );
    assert.deepEqual(got, before, `chunksize ${chunksize}`);
    assert.deepEqual(await it.next(), { done: true, value: undefined }, 'the iterator is finished after its error');
  }
});

test('imap stops reading its input after an error (the generator finally runs)', T, async () => {
  await using pool = new Pool({ processes: 2 });
  let finalized = false;
  function* input(): Generator<number> {
    try {
      for (let i = 0; ; i++) yield i === 3 ? -3 : i;
    } finally {
      finalized = true;
    }
  }
  await assert.rejects(collect(pool.imap(poolTasks.failIfNegative, input(), { chunksize: 1 })), {
    message: 'item -3 is bad',
  });
  assert.equal(finalized, true);
});

test('imap surfaces an error of its input iterable at its position', T, async () => {
  await using pool = new Pool({ processes: 2 });
  function* broken(): Generator<number> {
    yield* [0, 1, 2];
    throw new RangeError('input broke');
  }
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const v of pool.imap(tasks.square, broken(), { chunksize: 1 })) got.push(v);
    })(),
    { name: 'RangeError', message: 'input broke' },
  );
  assert.deepEqual(got, [0, 1, 4]);
});

test('a bad chunksize is refused with a RangeError or TypeError naming chunksize', T, async () => {
  await using pool = new Pool({ processes: 1 });
  const cases: [unknown, string][] = [
    [0, 'RangeError'],
    [-1, 'RangeError'],
    [1.5, 'RangeError'],
    [Number.NaN, 'RangeError'],
    [Number.POSITIVE_INFINITY, 'RangeError'],
    ['2', 'TypeError'],
    [null, 'TypeError'],
  ];
  for (const [chunksize, name] of cases) {
    const options = { chunksize: chunksize as number };
    const expected = { name, message: /chunksize/ };
    const label = `chunksize ${String(chunksize)}`;
    await assert.rejects(pool.map(tasks.square, [1], options), expected, label);
    await assert.rejects(pool.starmap(tasks.add, [[1, 2]], options), expected, label);
    // Thrown at the call or rejected through the result: either way a caller gets it.
    await assert.rejects(async () => pool.mapAsync(tasks.square, [1], options).get(), expected, label);
    await assert.rejects(async () => pool.starmapAsync(tasks.add, [[1, 2]], options).get(), expected, label);
    await assert.rejects(async () => pool.imap(tasks.square, [1], options).next(), expected, label);
    await assert.rejects(async () => pool.imapUnordered(tasks.square, [1], options).next(), expected, label);
  }
  assert.deepEqual(await pool.map(tasks.square, [1, 2]), [1, 4]);
});

test('a non-iterable input is refused with a TypeError', T, async () => {
  await using pool = new Pool({ processes: 1 });
  for (const bad of [5, null, undefined, {}, Symbol.iterator]) {
    const input = bad as unknown as number[];
    const expected = { name: 'TypeError', message: /iterable/ };
    const label = `input ${String(bad)}`;
    await assert.rejects(pool.map(tasks.square, input), expected, label);
    await assert.rejects(pool.starmap(tasks.add, input as unknown as [number, number][]), expected, label);
    await assert.rejects(async () => pool.mapAsync(tasks.square, input).get(), expected, label);
    await assert.rejects(async () => pool.imap(tasks.square, input).next(), expected, label);
    await assert.rejects(async () => pool.imapUnordered(tasks.square, input).next(), expected, label);
  }
  // imap checks its input at the call, not at the first next() (as the API promises for its arguments).
  assert.throws(() => pool.imap(tasks.square, 5 as unknown as number[]), TypeError);
});

test('many maps at once on a small pool all complete correctly', T, async () => {
  await using pool = new Pool({ processes: 2 });
  const jobs = range(20).map((j) => pool.map(tasks.square, range(50 + j)));
  const results = await Promise.all(jobs);
  for (const [j, r] of results.entries()) assert.deepEqual(r, squares(50 + j));
  const counts = countBy(await collect(pool.imapUnordered(poolTasks.threadOf, range(100))), (id) => id);
  assert.equal(
    [...counts.values()].reduce((a, b) => a + b, 0),
    100,
  );
});
