/**
 * The micro-benchmarks in one run: per-task pool overhead, map throughput,
 * Lock / Event costs, Queue throughput and Pipe round trips, each beside the
 * baseline its bench measures in the same run (raw piscina, raw Atomics,
 * MessagePort), Python's `multiprocessing` and its target.
 *
 * Each selected bench runs as a child process of its own
 * (`node dist/bench/<bench>.js` with `--quick`, `--no-python`, `--runs`,
 * `--warmup` and `--out` passed on), one after another and never two at once:
 * they measure, and two on one machine would disturb each other. A child's
 * stderr (progress) streams to ours; its stdout (tables) streams to ours too,
 * or to our stderr with `--json`. From the `wrote <path>` line it prints, its
 * JSON result is read and the headline figures taken out; then one table of
 * them is printed and `<date>-<host>-micro[-quick][-disturbed].json` written.
 *
 * Nothing is dropped quietly: a bench that fails (non-zero exit, no `wrote`
 * line, a file that does not parse) is reported with its exit code and the
 * last lines of its stderr and the others still run; a field a figure needs
 * that is absent from a result is reported as `missing`. Either makes micro
 * exit with status 1 at the end. Pipe's one-way throughput is not a figure
 * here: its bench measures it against Python only, with no baseline of its
 * own in the same run; it stays in pipe's table and JSON.
 *
 *     node dist/bench/micro.js [--only overhead,map,sync,queue,pipe] [--quick] [--runs N] [--warmup N] [--no-python] [--json] [--out DIR]
 *
 * @module
 */

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { machineInfo } from './lib/machine.js';
import { DISTURBED_PCT } from './lib/noise.js';
import { writeResult } from './lib/results.js';
import { type Column, fmt, formatTable, rate } from './lib/table.js';

/** The benches micro runs, by their `--only` name, and the script each is. */
const SCRIPTS = {
  overhead: 'overhead',
  map: 'map-throughput',
  sync: 'sync',
  queue: 'queue',
  pipe: 'pipe',
} as const;
type BenchName = keyof typeof SCRIPTS;
const BENCH_NAMES = Object.keys(SCRIPTS) as BenchName[];

/** Lines of a failed child's stderr shown in the report. */
const STDERR_TAIL_LINES = 12;

type Unit = 'tasks/s' | 'items/s' | 'increments/s' | 'bytes/s' | 'ns/pair' | 'µs/round trip';

/** One peer a figure is compared with. */
interface Baseline {
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

/** A headline figure of one bench, as extracted from its JSON result. */
interface Figure {
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

/** What micro records of one bench. */
interface BenchRun {
  readonly bench: BenchName;
  readonly script: string;
  /** The result file the child wrote, or `null` when it wrote none. */
  readonly path: string | null;
  /** The child's exit status, or `null` when a signal ended it. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly wallMs: number;
  /** Its result is tagged disturbed, or its recorded noise shows others above `DISTURBED_PCT`% of the CPUs. */
  readonly disturbed: boolean;
  /** Why the bench counts as failed, or `null`. */
  readonly error: string | null;
  /** The last lines of its stderr when it failed; empty otherwise. */
  readonly stderrTail: readonly string[];
  readonly figures: readonly Figure[];
}

// ---- Reading a result file

type Obj = Readonly<Record<string, unknown>>;

function isObj(x: unknown): x is Obj {
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
  return payloads.map((p) =>
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

const EXTRACT: Record<BenchName, (json: unknown) => Figure[]> = {
  overhead: overheadFigures,
  map: mapFigures,
  sync: syncFigures,
  queue: queueFigures,
  pipe: pipeFigures,
};

/** The result is tagged disturbed, or some noise it recorded shows others above {@link DISTURBED_PCT}%. */
function wasDisturbed(path: string, json: unknown): boolean {
  if (/-disturbed(-[^/]*)?\.json$/.test(basename(path))) return true;
  const busy = (x: unknown): boolean =>
    Array.isArray(x)
      ? x.some(busy)
      : isObj(x) && ((typeof x.othersPct === 'number' && x.othersPct > DISTURBED_PCT) || Object.values(x).some(busy));
  return isObj(json) && busy(json.noise);
}

// ---- Running a bench

interface ChildExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The path of the last `wrote <path>` line of its stdout. */
  readonly wrote: string | undefined;
  readonly stderrTail: string[];
  readonly wallMs: number;
  /** Set when the child could not be started at all. */
  readonly spawnError: string | undefined;
}

/** Calls `onLine` with each complete line of a stream of text chunks. */
function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let partial = '';
  return {
    push(chunk) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    },
    end() {
      if (partial !== '') onLine(partial);
      partial = '';
    },
  };
}

/** Runs `node <script> <flags>`, streaming its output, and resolves when it has exited. */
function runChild(script: string, flags: readonly string[], stdoutSink: NodeJS.WriteStream): Promise<ChildExit> {
  return new Promise((done) => {
    const start = performance.now();
    let wrote: string | undefined;
    const tail: string[] = [];
    const stdoutLines = lineSplitter((line) => {
      const m = /^wrote (.+)$/.exec(line.trimEnd());
      if (m?.[1] !== undefined) wrote = resolve(m[1]);
    });
    const stderrLines = lineSplitter((line) => {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
    });
    // execArgv carries a TypeScript loader over when micro itself runs from source.
    const child = spawn(process.execPath, [...process.execArgv, script, ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdoutSink.write(chunk);
      stdoutLines.push(chunk);
    });
    child.stderr.on('data', (chunk: string) => {
      process.stderr.write(chunk);
      stderrLines.push(chunk);
    });
    let finished = false;
    const finish = (exitCode: number | null, signal: string | null, spawnError?: string): void => {
      if (finished) return;
      finished = true;
      stdoutLines.end();
      stderrLines.end();
      const wallMs = Math.round(performance.now() - start);
      done({ exitCode, signal, wrote, stderrTail: tail, wallMs, spawnError });
    };
    // 'close' may not follow an 'error' (the child could not be started).
    child.on('error', (err) => finish(null, null, err.message));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/** Runs one bench and extracts its figures; never throws: a failure is recorded in `error`. */
async function runBench(bench: BenchName, flags: readonly string[], stdoutSink: NodeJS.WriteStream): Promise<BenchRun> {
  const script = SCRIPTS[bench];
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const file = fileURLToPath(new URL(`./${script}.${ext}`, import.meta.url));
  const exit = await runChild(file, flags, stdoutSink);
  const base = {
    bench,
    script,
    path: exit.wrote ?? null,
    exitCode: exit.exitCode,
    signal: exit.signal,
    wallMs: exit.wallMs,
  };
  const failed = (error: string): BenchRun => ({
    ...base,
    disturbed: false,
    error,
    stderrTail: exit.stderrTail,
    figures: [],
  });
  if (exit.spawnError !== undefined) return failed(`could not start: ${exit.spawnError}`);
  if (exit.exitCode !== 0) {
    return failed(exit.signal === null ? `exited with code ${exit.exitCode}` : `killed by ${exit.signal}`);
  }
  if (exit.wrote === undefined) return failed('exited with code 0 but printed no "wrote <path>" line');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(exit.wrote, 'utf8'));
  } catch (err) {
    return failed(`its result ${exit.wrote} could not be read: ${(err as Error).message}`);
  }
  if (!isObj(json) || json.bench !== script) {
    return failed(
      `its result ${exit.wrote} is not a ${script} result (bench: ${JSON.stringify(isObj(json) ? json.bench : json)})`,
    );
  }
  return {
    ...base,
    disturbed: wasDisturbed(exit.wrote, json),
    error: null,
    stderrTail: [],
    figures: EXTRACT[bench](json),
  };
}

// ---- The summary

function compact(x: number | null, unit: Unit): string {
  if (x === null) return 'missing';
  if (unit === 'bytes/s') return gbps(x);
  if (unit === 'ns/pair') return `${fmt(x, 1)} ns`;
  if (unit === 'µs/round trip') return `${x < 10 ? x.toFixed(2) : fmt(x, 1)} µs`;
  return rate(x);
}

function gbps(x: number): string {
  return `${(x / 1e9).toFixed(2)} GB/s`;
}

function peerCell(b: Baseline, unit: Unit): string {
  return b.skipped ?? compact(b.value, unit);
}

function summaryRows(runs: readonly BenchRun[]): string[][] {
  return runs.flatMap((run) => {
    if (run.error !== null) return [[`${run.bench}: FAILED (${run.error})`, '—', '—', '—', '—']];
    return run.figures.map((fig) => {
      const [main, ...others] = fig.baselines;
      const python = others.filter((b) => b.python);
      const ratio = fig.ratio === null ? 'ratio missing' : `${fig.ratio.toFixed(2)}x`;
      const met = fig.target?.met;
      return [
        `${run.bench}: ${fig.name}`,
        fig.unit.endsWith('/s') && fig.unit !== 'bytes/s'
          ? `${compact(fig.corepool, fig.unit)} ${fig.unit}`
          : compact(fig.corepool, fig.unit),
        main === undefined ? 'missing' : `${main.name} ${peerCell(main, fig.unit)} (${ratio})`,
        python
          .map((b) =>
            python.length > 1 ? `${peerCell(b, fig.unit)} ${b.name.replace(/^python /, '')}` : peerCell(b, fig.unit),
          )
          .join('; '),
        fig.target === null
          ? ''
          : `${fig.target.text}: ${met === true ? 'met' : met === false ? 'MISSED' : 'not checked'}`,
      ];
    });
  });
}

// ---- Main

const args = benchArgs('node dist/bench/micro.js', {
  only: `comma-separated benches: ${BENCH_NAMES.join(',')} (default all)`,
});
const selected = [...new Set(args.names('only', BENCH_NAMES, BENCH_NAMES))];
const out = args.out === undefined ? undefined : resolve(args.out);
const flags = [
  ...(args.quick ? ['--quick'] : []),
  ...(args.python ? [] : ['--no-python']),
  ...(args.runs === undefined ? [] : ['--runs', String(args.runs)]),
  ...(args.warmup === undefined ? [] : ['--warmup', String(args.warmup)]),
  ...(out === undefined ? [] : ['--out', out]),
];
// With --json our stdout carries the JSON alone: the children's tables go to stderr.
const childStdout = args.json ? process.stderr : process.stdout;

const machine = await machineInfo();
const runs: BenchRun[] = [];
for (const [i, bench] of selected.entries()) {
  process.stderr.write(
    `\n== micro ${i + 1}/${selected.length}: ${bench} (node dist/bench/${SCRIPTS[bench]}.js ${flags.join(' ')})\n`,
  );
  const run = await runBench(bench, flags, childStdout);
  runs.push(run);
  if (run.error !== null) {
    process.stderr.write(
      `== micro: ${bench} FAILED: ${run.error}; last lines of its stderr:\n${run.stderrTail.map((l) => `   ${l}`).join('\n')}\n`,
    );
  } else {
    process.stderr.write(`== micro: ${bench} done in ${fmt(run.wallMs / 1000, 1)} s\n`);
  }
}

const problems: string[] = [];
for (const run of runs) {
  if (run.error !== null) problems.push(`${run.bench}: ${run.error}`);
  for (const fig of run.figures) {
    if (fig.missing.length > 0) problems.push(`${run.bench}: ${fig.name}: missing ${fig.missing.join(', ')}`);
  }
}

const columns: Column[] = [
  { header: 'figure' },
  { header: 'corepool', right: true },
  { header: 'baseline (same run)', right: true },
  { header: 'python', right: true },
  { header: 'target' },
];
const report = [
  `\nmicro: ${selected.join(', ')}${args.quick ? ' (--quick: smoke figures, not results)' : ''}`,
  formatTable(columns, summaryRows(runs)),
  '(x): corepool / baseline in the figure’s unit (below 1 is faster for a time); per alternating pair where the bench records it',
  ...runs.map(
    (r) =>
      `${r.bench.padEnd(9)} ${fmt(r.wallMs / 1000, 1)} s, exit ${r.exitCode ?? r.signal}${r.disturbed ? ', DISTURBED' : ''}${r.path === null ? '' : `: ${r.path}`}`,
  ),
  ...(problems.length > 0 ? ['', 'PROBLEMS:', ...problems.map((p) => `  ${p}`)] : []),
  ...runs
    .filter((r) => r.error !== null)
    .flatMap((r) => [
      `last lines of ${r.bench}'s stderr:`,
      ...r.stderrTail.filter((l) => l.trim() !== '').map((l) => `  | ${l}`),
    ]),
].join('\n');

const path = writeResult(
  'micro',
  machine,
  {
    method: {
      benches: selected,
      flags,
      order: 'one child process per bench, one after another, never concurrently',
      ratio: 'corepool / the main baseline, in the figure’s unit',
    },
    ok: problems.length === 0,
    problems,
    benches: runs,
  },
  { quick: args.quick, disturbed: runs.some((r) => r.disturbed), dir: out },
);

if (args.json) {
  process.stderr.write(`${report}\nwrote ${path}\n`);
  process.stdout.write(readFileSync(path, 'utf8'));
} else {
  console.log(`${report}\nwrote ${path}`);
}
if (problems.length > 0) process.exitCode = 1;
