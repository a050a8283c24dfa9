/**
 * The headline figures of each micro-bench, read from the JSON result it
 * writes (its shape is in `bench/<script>.ts`, at `writeResult`), for
 * `bench/micro.ts`. A field a figure needs that is absent is reported as
 * missing, never guessed.
 *
 * @module
 */

import { basename } from 'node:path';
import { DISTURBED_PCT } from './noise.js';
import { rate } from './table.js';

/**
 * The benches micro runs, by their `--only` name, and the script each is.
 *
 * @example
 * ```ts
 * BENCH_SCRIPTS.map; // 'map-throughput': node dist/bench/map-throughput.js
 * ```
 */
export const BENCH_SCRIPTS = {
  overhead: 'overhead',
  map: 'map-throughput',
  sync: 'sync',
  queue: 'queue',
  pipe: 'pipe',
} as const;
/**
 * A bench's `--only` name.
 *
 * @example
 * ```ts
 * const bench: BenchName = 'pipe';
 * ```
 */
export type BenchName = keyof typeof BENCH_SCRIPTS;

/**
 * Every bench micro knows, in the order it runs them.
 *
 * @example
 * ```ts
 * args.names('only', BENCH_NAMES, BENCH_NAMES);
 * ```
 */
export const BENCH_NAMES = Object.keys(BENCH_SCRIPTS) as BenchName[];

/**
 * The unit of a figure.
 *
 * @example
 * ```ts
 * const unit: Unit = 'ns/pair';
 * ```
 */
export type Unit = 'tasks/s' | 'items/s' | 'increments/s' | 'bytes/s' | 'ns/pair' | 'µs/round trip';

/**
 * One peer a figure is compared with.
 *
 * @example
 * ```ts
 * const b: Baseline = { name: 'raw piscina', peer: 'raw piscina run()', python: false, value: 22_200, skipped: null };
 * ```
 */
export interface Baseline {
  /** Short name for the table: `raw piscina`, `MessagePort`, `python default chunksize`. */
  readonly name: string;
  /** The peer's label as its bench recorded it. */
  readonly peer: string;
  readonly python: boolean;
  /** In the figure's unit; `null` when skipped or missing. */
  readonly value: number | null;
  /** `skipped: <why>` when the bench did not run this peer (`skipped: --no-python`), else `null`. */
  readonly skipped: string | null;
}

/**
 * A headline figure of one bench, as extracted from its JSON result.
 *
 * @example
 * ```ts
 * const [lock]: Figure[] = figuresOf('sync', json);
 * lock.corepool; // 48.5 (ns/pair)
 * ```
 */
export interface Figure {
  readonly name: string;
  readonly unit: Unit;
  readonly better: 'higher' | 'lower';
  /** Median, in `unit`; `null` when missing. */
  readonly corepool: number | null;
  /** The main same-run baseline first, then Python's peers (measured or skipped). */
  readonly baselines: readonly Baseline[];
  /** corepool ÷ the main baseline, in `unit` (below 1 is faster for a time). */
  readonly ratio: number | null;
  /** How the ratio was formed: `median of per-pair ratios` (as the bench records it) or `of medians`. */
  readonly ratioBasis: string;
  /** The bench's target for this figure and whether it was met (`null`: not checked, e.g. Python skipped). */
  readonly target: { readonly text: string; readonly met: boolean | null } | null;
  /** Fields of the result this figure needs that were absent or not of the expected type. */
  readonly missing: readonly string[];
}

// ---- Reading a result file

type Obj = Readonly<Record<string, unknown>>;

/**
 * Whether `x` is a non-null, non-array object (a JSON object).
 *
 * @example
 * ```ts
 * isObj({ bench: 'pipe' }); // true
 * isObj([1]);               // false
 * ```
 */
export function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Which element of a list of peers: a description for the report, and the test. */
interface Match {
  readonly text: string;
  test(peer: Obj): boolean;
}

/** The peer labelled `label` (and, for each of `where`, with that field equal to that value). */
function peerIs(label: string, where: Readonly<Record<string, string>> = {}): Match {
  return peerWhere(`peer = ${JSON.stringify(label)}`, (p) => p.peer === label, where);
}

/** The peers whose label starts with `prefix` (and match `where`). */
function peerStarting(prefix: string, where: Readonly<Record<string, string>> = {}): Match {
  return peerWhere(
    `peer starts with ${JSON.stringify(prefix)}`,
    (p) => typeof p.peer === 'string' && p.peer.startsWith(prefix),
    where,
  );
}

function peerWhere(text: string, test: (p: Obj) => boolean, where: Readonly<Record<string, string>>): Match {
  const entries = Object.entries(where);
  return {
    text: [text, ...entries.map(([k, v]) => `${k} = ${JSON.stringify(v)}`)].join(', '),
    test: (p) => test(p) && entries.every(([k, v]) => p[k] === v),
  };
}

/**
 * Reads fields of one result by path (`ratio.perPair.median`,
 * `peers[1].rate.median`) and notes every field that is absent or not of the
 * expected type, so that a figure never goes missing unnoticed.
 */
class Fields {
  readonly missing: string[] = [];
  readonly #root: unknown;

  constructor(root: unknown) {
    this.#root = root;
  }

  get(path: string): unknown {
    let at: unknown = this.#root;
    for (const [key] of path.matchAll(/[^.[\]]+/g)) {
      if (Array.isArray(at) && /^\d+$/.test(key)) at = at[Number(key)];
      else if (isObj(at)) at = at[key];
      else return undefined;
    }
    return at;
  }

  /** A finite number, or `null` (noted missing). */
  num(path: string): number | null {
    const v = this.get(path);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    this.missing.push(path);
    return null;
  }

  /** A boolean, or `null` when the bench recorded `null` (not checked); absent is noted missing. */
  flag(path: string): boolean | null {
    const v = this.get(path);
    if (typeof v === 'boolean' || v === null) return v;
    this.missing.push(path);
    return null;
  }

  /** Paths of the elements of the array at `list` that `match`. */
  findAll(list: string, match: Match): string[] {
    const items = this.get(list);
    if (!Array.isArray(items)) return [];
    return items.flatMap((p, i) => (isObj(p) && match.test(p) ? [`${list}[${i}]`] : []));
  }

  /** The path of the first element of `list` that matches, or `undefined` (noted missing). */
  find(list: string, match: Match): string | undefined {
    const [first] = this.findAll(list, match);
    if (first === undefined) this.missing.push(`${list}[${match.text}]`);
    return first;
  }
}

/** The value of the peer of `list` that `match`es, at `field` (e.g. `rate.median`). */
function peerValue(f: Fields, list: string, match: Match, field: string): number | null {
  const at = f.find(list, match);
  return at === undefined ? null : f.num(`${at}.${field}`);
}

/** The main (non-Python) baseline of a figure. */
function mainBaseline(f: Fields, name: string, list: string, match: Match, field: string): Baseline {
  const at = f.find(list, match);
  const label = at === undefined ? undefined : f.get(`${at}.peer`);
  return {
    name,
    peer: typeof label === 'string' ? label : match.text,
    python: false,
    value: at === undefined ? null : f.num(`${at}.${field}`),
    skipped: null,
  };
}

/**
 * Python's peers of `list` that `match`, each measured or skipped. A bench
 * that records a skipped Python once for the whole run (not per peer) does
 * so at `skippedAt`. `tag` names one of several Python peers (map's modes).
 */
function pythonBaselines(
  f: Fields,
  list: string,
  match: Match,
  field: string,
  options: { readonly skippedAt?: string; readonly tag?: (label: string) => string } = {},
): Baseline[] {
  const found = f.findAll(list, match);
  if (found.length === 0) {
    const why = options.skippedAt === undefined ? undefined : f.get(options.skippedAt);
    if (typeof why === 'string') {
      return [{ name: 'python', peer: 'python', python: true, value: null, skipped: `skipped: ${why}` }];
    }
    f.missing.push(`${list}[${match.text}]${options.skippedAt === undefined ? '' : ` or ${options.skippedAt}`}`);
    return [{ name: 'python', peer: 'python', python: true, value: null, skipped: null }];
  }
  return found.map((at) => {
    const label = f.get(`${at}.peer`) as string;
    const why = f.get(`${at}.skipped`);
    const tag = options.tag?.(label) ?? '';
    const name = tag === '' ? 'python' : `python ${tag}`;
    if (typeof why === 'string') return { name, peer: label, python: true, value: null, skipped: `skipped: ${why}` };
    return { name, peer: label, python: true, value: f.num(`${at}.${field}`), skipped: null };
  });
}

/** Builds one figure from `json`, noting the fields it found missing. */
function figure(json: unknown, build: (f: Fields) => Omit<Figure, 'missing'>): Figure {
  const f = new Fields(json);
  const built = build(f);
  return { ...built, missing: [...f.missing] };
}

const ratioOf = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a / b);
const atLeast = (x: number | null, target: number | null): boolean | null =>
  x === null || target === null ? null : x >= target;
const atMost = (x: number | null, target: number | null): boolean | null =>
  x === null || target === null ? null : x <= target;

// ---- The headline figures of each bench (their JSON shapes are in bench/<script>.ts, at writeResult)

function overheadFigures(json: unknown): Figure[] {
  return [
    figure(json, (f) => {
      const target = f.num('ratio.target');
      return {
        name: 'no-op Pool.applyAsync, all in flight',
        unit: 'tasks/s',
        better: 'higher',
        corepool: peerValue(f, 'peers', peerIs('corepool Pool.applyAsync'), 'rate.median'),
        baselines: [
          mainBaseline(f, 'raw piscina', 'peers', peerIs('raw piscina run()'), 'rate.median'),
          ...pythonBaselines(f, 'peers', peerStarting('python'), 'rate.median'),
        ],
        ratio: f.num('ratio.perPair.median'),
        ratioBasis: 'median of per-pair ratios',
        target: { text: `>= ${target ?? 'missing'}x raw piscina`, met: f.flag('ratio.met') },
      };
    }),
  ];
}

function mapFigures(json: unknown): Figure[] {
  return [
    figure(json, (f) => ({
      name: 'pool.map(x * x), automatic chunksize',
      unit: 'items/s',
      better: 'higher',
      corepool: peerValue(f, 'peers', peerIs('corepool pool.map, automatic chunksize'), 'rate.median'),
      baselines: [
        mainBaseline(
          f,
          'raw piscina by hand',
          'peers',
          peerIs('raw piscina run(), same chunks by hand'),
          'rate.median',
        ),
        ...pythonBaselines(f, 'peers', peerStarting('python'), 'rate.median', {
          tag: (label) => /Pool\.map, (.+?) \(/.exec(label)?.[1] ?? '',
        }),
      ],
      ratio: f.num('ratios.corepoolVsPiscina'),
      ratioBasis: 'of medians',
      target: { text: 'ahead of Python', met: f.flag('ratios.targetAheadOfPythonMet') },
    })),
  ];
}

function syncFigures(json: unknown): Figure[] {
  return [
    figure(json, (f) => {
      const target = f.num('targets.lockNsPerPair');
      return {
        name: 'uncontended Lock acquire+release',
        unit: 'ns/pair',
        better: 'lower',
        corepool: peerValue(f, 'uncontended.peers', peerIs('corepool Lock'), 'value.median'),
        baselines: [
          mainBaseline(f, 'raw CAS floor', 'uncontended.peers', peerStarting('raw CAS floor'), 'value.median'),
          ...pythonBaselines(
            f,
            'uncontended.peers',
            peerWhere(
              'python … multiprocessing.Lock',
              (p) => typeof p.peer === 'string' && p.peer.startsWith('python') && p.peer.endsWith('.Lock'),
              {},
            ),
            'value.median',
          ),
        ],
        ratio: f.num('uncontended.lockOverRawPerPair.median'),
        ratioBasis: 'median of per-pair ratios',
        target: { text: `<= ${target ?? 'missing'} ns`, met: f.flag('uncontended.met') },
      };
    }),
    figure(json, (f) => {
      const target = f.num('targets.contendedPerSecond');
      return {
        name: '2 threads contending on a Lock',
        unit: 'increments/s',
        better: 'higher',
        corepool: peerValue(f, 'contended.peers', peerIs('corepool Lock'), 'value.median'),
        baselines: [
          mainBaseline(f, 'raw CAS spinlock', 'contended.peers', peerIs('raw CAS spinlock'), 'value.median'),
          ...pythonBaselines(f, 'contended.peers', peerStarting('python'), 'value.median'),
        ],
        ratio: f.num('contended.lockOverSpinPerPair.median'),
        ratioBasis: 'median of per-pair ratios',
        target: { text: `>= ${target === null ? 'missing' : rate(target)}/s`, met: f.flag('contended.met') },
      };
    }),
    figure(json, (f) => {
      const target = f.num('targets.eventOverRaw');
      return {
        name: 'Event ping-pong round trip',
        unit: 'µs/round trip',
        better: 'lower',
        corepool: peerValue(f, 'pingpong.peers', peerIs('corepool Event × 2'), 'value.median'),
        baselines: [
          mainBaseline(f, 'raw wait/notify', 'pingpong.peers', peerStarting('raw Atomics.wait/notify'), 'value.median'),
          ...pythonBaselines(f, 'pingpong.peers', peerStarting('python'), 'value.median'),
        ],
        ratio: f.num('pingpong.eventOverRawPerPair.median'),
        ratioBasis: 'median of per-pair ratios',
        target: { text: `<= ${target ?? 'missing'}x raw`, met: f.flag('pingpong.met') },
      };
    }),
  ];
}

function queueFigures(json: unknown): Figure[] {
  const payloads = [
    { payload: 'int', name: 'Queue, small ints', unit: 'items/s', field: 'rate.median', target: 'intsPerSecond' },
    {
      payload: 'object',
      name: 'Queue, objects {id, name}',
      unit: 'items/s',
      field: 'rate.median',
      target: 'objectsPerSecond',
    },
    {
      payload: 'array',
      name: 'Queue, 1 MiB Float64Array',
      unit: 'bytes/s',
      field: 'bytesPerSecond.median',
      target: 'arrayBytesPerSecond',
    },
  ] as const;
  const oneToOne = payloads.map((p) =>
    figure(json, (f) => {
      const corepool = peerValue(f, 'peers', peerIs('corepool Queue', { payload: p.payload }), p.field);
      const port = mainBaseline(
        f,
        'MessagePort',
        'peers',
        peerIs('MessagePort (one-way)', { payload: p.payload }),
        p.field,
      );
      const target = f.num(`targets.${p.target}`);
      return {
        name: p.name,
        unit: p.unit,
        better: 'higher',
        corepool,
        baselines: [
          port,
          ...pythonBaselines(f, 'peers', peerStarting('python', { payload: p.payload }), p.field, {
            skippedAt: 'python.skipped',
          }),
        ],
        ratio: ratioOf(corepool, port.value),
        ratioBasis: 'of medians',
        target: {
          text: `>= ${target === null ? 'missing' : p.unit === 'bytes/s' ? gbps(target) : `${rate(target)}/s`}`,
          met: atLeast(corepool, target),
        },
      };
    }),
  );
  // 8 producers × 1 consumer: reported beside MessagePort (a port per producer), no target.
  const multi = (['object', 'int'] as const).map((payload) =>
    figure(json, (f) => {
      const corepool = peerValue(f, 'multi', peerIs('corepool Queue', { payload }), 'rate.median');
      const port = mainBaseline(
        f,
        'MessagePort',
        'multi',
        peerIs('MessagePort (one-way), one per producer', { payload }),
        'rate.median',
      );
      return {
        name: `Queue, 8 producers × 1 consumer, ${payload === 'int' ? 'small ints' : 'objects {id, name}'}`,
        unit: 'items/s',
        better: 'higher',
        corepool,
        baselines: [
          port,
          ...pythonBaselines(f, 'multi', peerStarting('python', { payload }), 'rate.median', {
            skippedAt: 'python.skipped',
          }),
        ],
        ratio: ratioOf(corepool, port.value),
        ratioBasis: 'of medians',
        target: null,
      };
    }),
  );
  return [...oneToOne, ...multi];
}

function pipeFigures(json: unknown): Figure[] {
  const receivers = [
    { name: 'Pipe round trip, blocking recv()', peer: 'corepool Pipe, blocking recv()' },
    { name: 'Pipe round trip, await recvAsync()', peer: 'corepool Pipe, await recvAsync()' },
  ];
  return receivers.map((r) =>
    figure(json, (f) => {
      const corepool = peerValue(f, 'roundTrip', peerIs(r.peer), 'us.median');
      const port = mainBaseline(f, 'MessagePort', 'roundTrip', peerIs('MessagePort, awaited echo'), 'us.median');
      const target = f.num('targets.roundTripMicroseconds');
      return {
        name: r.name,
        unit: 'µs/round trip',
        better: 'lower',
        corepool,
        baselines: [
          port,
          ...pythonBaselines(f, 'roundTrip', peerStarting('python'), 'us.median', { skippedAt: 'python.skipped' }),
        ],
        ratio: ratioOf(corepool, port.value),
        ratioBasis: 'of medians',
        target: { text: `<= ${target ?? 'missing'} µs`, met: atMost(corepool, target) },
      };
    }),
  );
}

const EXTRACT: Readonly<Record<BenchName, (json: unknown) => Figure[]>> = {
  overhead: overheadFigures,
  map: mapFigures,
  sync: syncFigures,
  queue: queueFigures,
  pipe: pipeFigures,
};

/**
 * The headline figures of `bench` from its parsed JSON result; a figure whose
 * fields are absent lists them in `missing`.
 *
 * @example
 * ```ts
 * const figures = figuresOf('overhead', JSON.parse(readFileSync(path, 'utf8')));
 * ```
 */
export function figuresOf(bench: BenchName, json: unknown): Figure[] {
  return EXTRACT[bench](json);
}

/**
 * A throughput in bytes/s as `1.90 GB/s`.
 *
 * @example
 * ```ts
 * gbps(4e9); // '4.00 GB/s'
 * ```
 */
export function gbps(x: number): string {
  return `${(x / 1e9).toFixed(2)} GB/s`;
}

/**
 * The result is tagged disturbed, or some noise it recorded shows others
 * above {@link DISTURBED_PCT}% of the CPUs.
 *
 * @example
 * ```ts
 * wasDisturbed('bench/results/2026-12-01-vm-sync-disturbed.json', json); // true
 * ```
 */
export function wasDisturbed(path: string, json: unknown): boolean {
  if (/-disturbed(-[^/]*)?\.json$/.test(basename(path))) return true;
  const busy = (x: unknown): boolean =>
    Array.isArray(x)
      ? x.some(busy)
      : isObj(x) && ((typeof x.othersPct === 'number' && x.othersPct > DISTURBED_PCT) || Object.values(x).some(busy));
  return isObj(json) && busy(json.noise);
}
