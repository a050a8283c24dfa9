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
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './lib/args.js';
import { machineInfo } from './lib/machine.js';
import {
  type Baseline,
  BENCH_NAMES,
  BENCH_SCRIPTS,
  type BenchName,
  type Figure,
  figuresOf,
  gbps,
  isObj,
  type Unit,
  wasDisturbed,
} from './lib/micro-figures.js';
import { writeResult } from './lib/results.js';
import { type Column, fmt, formatTable, rate } from './lib/table.js';

/** Lines of a failed child's stderr shown in the report. */
const STDERR_TAIL_LINES = 12;

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
  const script = BENCH_SCRIPTS[bench];
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
    figures: figuresOf(bench, json),
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
    `\n== micro ${i + 1}/${selected.length}: ${bench} (node dist/bench/${BENCH_SCRIPTS[bench]}.js ${flags.join(' ')})\n`,
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
