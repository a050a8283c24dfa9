/**
 * `npm run bench` end to end, as a user runs it: `--quick` into a temporary
 * results directory, checked for a complete, consistent JSON result and a
 * valid SVG chart; two runs keep two results; `--chart-from` draws a stored
 * result again; and bad flags are refused. Whether a run is disturbed depends
 * on what else the machine runs, so the tests read the file a run reports it
 * wrote and accept either kind, checking that name, JSON and chart agree.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { runScript, type ScriptRun } from './fixtures/run-script.js';

const script = fileURLToPath(new URL('../bench/speedup.js', import.meta.url));
/** `--quick` takes under 30 s on a 2-core machine; the margin covers a loaded one. */
const RUN_TIMEOUT_MS = 150_000;

function bench(...args: string[]): Promise<ScriptRun> {
  return runScript(script, args, RUN_TIMEOUT_MS);
}

interface Row {
  peer: string;
  workers: number;
  speedup: number;
  efficiency: number | null;
  timesMs: number[];
}

/** Others' share of the CPUs above which a run is marked disturbed (bench/lib/noise.ts). */
const DISTURBED_PCT = 10;

/** The paths of a run's `wrote <path>` lines. */
function wrote(stdout: string): string[] {
  return [...stdout.matchAll(/^wrote (.+)$/gm)].map((m) => m[1] as string);
}

/** The name's kind agrees with the run's noise, and the chart says the same kind. */
function assertKind(jsonPath: string, othersPct: number, svg: string, quick: boolean): void {
  const disturbed = othersPct > DISTURBED_PCT;
  assert.equal(/-disturbed(-|\.)/.test(basename(jsonPath)), disturbed, `${jsonPath}: others used ${othersPct}%`);
  const label = `${quick ? 'QUICK RUN' : 'FULL RUN'}${disturbed ? ' · DISTURBED' : ''}`;
  assert.match(svg, new RegExp(`<tspan class="run-kind-label">${label}( · CUSTOM)?</tspan>`));
}

interface Result {
  bench: string;
  machine: { cpuModel: string; cores: number; node: string; piscina: string; corepool: string };
  options: { widths: number[]; kernels: string[]; quick: boolean };
  peers: { python: { skipped?: string; version?: string } };
  calibration: { dispatch: { mainMsPerTask: number }; transfer: { msPerMiB: number } };
  kernels: {
    kernel: string;
    checksum: number;
    rows: { peer: string; workers: number }[];
    python: { skipped?: string };
    analysis: {
      rows: Row[];
      pythonRows: Row[];
      amdahl: Record<
        string,
        { overSerial: { serialFraction: number }; scaling: { serialFraction: number } | null } | null
      >;
      model: {
        tasks: number;
        taskMs: number;
        overheadMs: number;
        check: { workers: number; measured: number; predicted: number }[];
        predicted: { workers: number; speedup: number }[];
      }[];
      minTaskMs: { workers: number; ms: number }[];
    };
  }[];
  noise: { othersPct: number };
  files: { json: string; svg: string };
}

describe('npm run bench', () => {
  const out = mkdtempSync(join(tmpdir(), 'corepool-bench-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  test('--quick --json runs every kernel and writes a valid result and chart', {
    timeout: RUN_TIMEOUT_MS + 10_000,
  }, async () => {
    const run = await bench('--quick', '--json', '--out', out);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '', 'progress is quiet when stderr is not a terminal');
    const result = JSON.parse(run.stdout) as Result;

    assert.equal(result.bench, 'speedup');
    assert.ok(result.machine.cores >= 1 && result.machine.cpuModel !== '' && result.machine.node.startsWith('v'));
    for (const version of [result.machine.corepool, result.machine.piscina]) assert.match(version, /^\d+\.\d+\.\d+/);
    assert.equal(result.options.quick, true);
    assert.deepEqual(result.options.kernels, ['primes', 'mandelbrot', 'sha256', 'matmul']);
    const widths = result.options.widths;
    assert.ok(
      widths.some((w) => w > result.machine.cores),
      'an oversubscribed width is measured',
    );
    assert.ok(result.calibration.dispatch.mainMsPerTask > 0);
    assert.ok(result.calibration.transfer.msPerMiB >= 0);

    const pythonSkipped = result.peers.python.skipped !== undefined;
    for (const k of result.kernels) {
      const { rows, pythonRows, model, amdahl, minTaskMs } = k.analysis;
      for (const peer of ['corepool', 'piscina']) {
        assert.deepEqual(
          rows.filter((r) => r.peer === peer).map((r) => r.workers),
          widths,
          `${k.kernel}: ${peer} at every width`,
        );
      }
      assert.equal(rows.filter((r) => r.peer === 'serial').length, 1);
      for (const r of rows) {
        assert.ok(
          Number.isFinite(r.speedup) && r.speedup > 0,
          `${k.kernel} ${r.peer}@${r.workers}: speedup ${r.speedup}`,
        );
        assert.equal(r.timesMs.length, 2, 'two recorded rounds in --quick');
        if (r.workers > 0) assert.ok(Math.abs((r.efficiency ?? 0) - r.speedup / r.workers) < 1e-12);
      }
      if (pythonSkipped) {
        assert.equal(k.python.skipped, result.peers.python.skipped, 'a skipped peer says why');
        assert.equal(pythonRows.length, 0);
      } else {
        assert.deepEqual(
          pythonRows.map((r) => r.workers),
          [0, ...widths],
        );
      }
      if (result.machine.cores >= 2) {
        for (const f of [amdahl.corepool?.overSerial.serialFraction, amdahl.corepool?.scaling?.serialFraction]) {
          assert.ok(f !== undefined && f >= 0 && f <= 1, `${k.kernel}: serial fraction ${f}`);
        }
      }
      assert.equal(model[0]?.tasks, 128, `${k.kernel}: the default task count comes first`);
      assert.ok(
        model.some((m) => m.tasks === 16),
        `${k.kernel}: the sweep's 16 tasks`,
      );
      assert.equal(new Set(model.map((m) => m.tasks)).size, model.length, `${k.kernel}: task counts are distinct`);
      for (const m of model) {
        assert.ok(m.taskMs > 0 && m.overheadMs >= 0);
        for (const w of [16, 64, 128]) {
          const p = m.predicted.find((x) => x.workers === w);
          assert.ok(p !== undefined && p.speedup > 0 && p.speedup <= w + 1e-9, `${k.kernel}: prediction at ${w}`);
        }
      }
      assert.ok(model[0] !== undefined && model[0].check.length >= 1, 'the model is checked against a measured width');
      assert.deepEqual(minTaskMs.map((m) => m.workers).slice(-3), [16, 64, 128]);
    }

    // The files the run reports, named for its kind: -quick, and -disturbed when others used the CPUs.
    assert.ok(existsSync(result.files.json) && result.files.json.startsWith(out));
    assert.match(basename(result.files.json), /^\d{4}-\d{2}-\d{2}-.+-quick(-disturbed)?(-\d+)?\.json$/);
    assert.equal(result.files.svg, result.files.json.replace(/\.json$/, '.svg'));
    const stored = JSON.parse(readFileSync(result.files.json, 'utf8')) as Result;
    assert.deepEqual(stored.kernels.length, 4);
    assert.equal(stored.noise.othersPct, result.noise.othersPct);
    assert.ok(!readdirSync(out).includes('latest.svg'), 'a quick run does not replace the latest chart');

    const svg = readFileSync(result.files.svg, 'utf8');
    assertKind(result.files.json, result.noise.othersPct, svg, true);
    assert.match(svg, new RegExp(`data-source="${basename(result.files.json)}"`));
    assert.equal(XMLValidator.validate(svg), true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg) as {
      svg: { xmlns: string; g?: unknown };
    };
    assert.equal(doc.svg.xmlns, 'http://www.w3.org/2000/svg');
    const panels = svg.match(/<g class="panel"/g) ?? [];
    assert.equal(panels.length, 8, 'a measured and a prediction panel per kernel');
    for (const kernel of ['primes', 'mandelbrot', 'sha256', 'matmul']) {
      assert.ok(svg.includes(`>${kernel}: measured<`) && svg.includes(`>${kernel}: predicted, one worker per core<`));
    }
    assert.ok((svg.match(/class="series model"/g) ?? []).length >= 4, 'the model is drawn');
    assert.ok((svg.match(/class="series amdahl"/g) ?? []).length >= (result.machine.cores >= 2 ? 4 : 0));
    assert.match(svg, /the prediction this benchmark stands behind/);
  });

  test('one kernel at chosen widths, as tables; repeats run once', { timeout: RUN_TIMEOUT_MS + 10_000 }, async () => {
    const run = await bench(
      '--quick',
      '--kernel',
      'primes,primes',
      '--workers',
      '1,2',
      '--sweep',
      '16,16',
      '--no-python',
      '--out',
      out,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /machine: /);
    assert.match(run.stdout, /primes: .*128 tasks of/);
    assert.match(run.stdout, /corepool Pool\.map\s+2\s/);
    assert.match(run.stdout, /raw piscina run\(\)\s+2\s/);
    assert.match(run.stdout, /python: skipped \(--no-python\)/);
    assert.match(
      run.stdout,
      /Amdahl serial fraction, fitted over 2\.\.\d+ workers:\n {2}corepool: [\d.]+% over the serial loop, [\d.]+% of its scaling from 1 worker/,
    );
    assert.match(run.stdout, /at 128 cores/);
    assert.match(run.stdout, /smallest task for 90% efficiency/);
    // The files it reports: -quick[-disturbed]-custom, with the chosen kernel and widths.
    const [json, svg, ...more] = wrote(run.stdout);
    assert.deepEqual(more, [], 'a custom run does not replace the latest chart');
    assert.match(basename(json ?? ''), /-quick(-disturbed)?-custom(-\d+)?\.json$/);
    assert.equal(svg, json?.replace(/\.json$/, '.svg'));
    const stored = JSON.parse(readFileSync(json as string, 'utf8')) as Result & {
      options: { custom: boolean; sweepTasks: number[] };
    };
    assert.deepEqual(stored.options.kernels, ['primes']);
    assert.deepEqual(stored.options.widths, [1, 2]);
    assert.deepEqual(stored.options.sweepTasks, [16]);
    assert.equal(stored.options.custom, true);
    assertKind(json as string, stored.noise.othersPct, readFileSync(svg as string, 'utf8'), true);
    assert.doesNotMatch(run.stdout, /mandelbrot/);
    // A kernel or a task count named twice runs once.
    assert.equal(run.stdout.match(/^primes: /gm)?.length, 1);
    // The model's table, not the smallest-task table after it (whose '102 µs' would read as a task count).
    const modelTable = /^model: T\(p\)[\s\S]*?(?=^smallest task)/m.exec(run.stdout)?.[0] ?? '';
    assert.deepEqual(
      modelTable.match(/^primes +[\d,]+ /gm)?.map((row) => row.split(/ +/)[1]),
      ['128', '16'],
      'the model has one row per task count',
    );
  });

  test('a second run keeps the first run’s files; --chart-from draws a result again', {
    timeout: 2 * RUN_TIMEOUT_MS + 10_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corepool-bench-twice-'));
    try {
      const flags = ['--quick', '--kernel', 'primes', '--workers', '1', '--sweep', '128', '--no-python', '--out', dir];
      const first = await bench(...flags);
      assert.equal(first.code, 0, first.stderr);
      const [json1, svg1] = wrote(first.stdout) as [string, string];
      const before = readFileSync(json1, 'utf8');
      const second = await bench(...flags);
      assert.equal(second.code, 0, second.stderr);
      const [json2, svg2] = wrote(second.stdout) as [string, string];
      assert.notEqual(json2, json1);
      assert.notEqual(svg2, svg1);
      assert.equal(readFileSync(json1, 'utf8'), before, 'the first result is kept as it was');
      assert.deepEqual(readdirSync(dir).sort(), [json1, json2, svg1, svg2].map((p) => basename(p)).sort());
      // Runs of the same kind are told apart by a counter (each may or may not be disturbed).
      if (basename(json2).replace(/-\d+\.json$/, '.json') === basename(json1)) assert.match(json2, /-2\.json$/);

      // --chart-from draws the first result's chart again, into another directory.
      const out = join(dir, 'redrawn');
      const redraw = await bench('--chart-from', json1, '--out', out);
      assert.equal(redraw.code, 0, redraw.stderr);
      assert.deepEqual(wrote(redraw.stdout), [join(out, basename(svg1))]);
      const svg = readFileSync(join(out, basename(svg1)), 'utf8');
      assert.equal(XMLValidator.validate(svg), true);
      assert.match(svg, new RegExp(`data-source="${basename(json1)}"`));
      assert.equal(svg, readFileSync(svg1, 'utf8'), 'the same chart as the run drew');

      const missing = await bench('--chart-from', join(dir, 'nope.json'));
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--chart-from: .*nope\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [flags, message] of [
    [['--kernel', 'fft'], /--kernel takes one or more of primes, mandelbrot, sha256, matmul: received "fft"/],
    [['--workers', '0'], /--workers takes positive integers: received "0"/],
    [['--runs', 'many'], /--runs takes positive integers: received "many"/],
    [['--fast'], /Unknown option '--fast'/],
  ] as const) {
    test(`bad flags are refused with the usage: ${flags.join(' ')}`, { timeout: 30_000 }, async () => {
      const run = await bench(...flags);
      assert.equal(run.code, 2);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /usage: node dist\/bench\/speedup\.js \[options\]/);
      assert.match(run.stderr, /--kernel X/);
      assert.equal(run.stdout, '');
    });
  }

  test('--help prints the usage and exits 0', { timeout: 30_000 }, async () => {
    const run = await bench('--help');
    assert.equal(run.code, 0);
    assert.match(run.stdout, /usage: .*\n[\s\S]*--workers X/);
  });
});
