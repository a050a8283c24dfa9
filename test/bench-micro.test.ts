/**
 * `bench/micro.js` as a user runs it: the two fastest benches in `--quick`
 * (pipe ~2.5 s, overhead ~3.5 s on an idle 2-core machine) in child
 * processes, their figures read back from the files they wrote, the summary
 * printed as JSON. Only that the figures exist and are sane is checked, never
 * how fast anything is: timings are measured in `bench/`, not asserted here.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScript, type ScriptRun } from './fixtures/run-script.js';

const micro = fileURLToPath(new URL('../bench/micro.js', import.meta.url));
/** The child's limit: the two quick benches take ~6 s here, far more on a loaded machine. */
const CHILD_TIMEOUT_MS = 120_000;

function runMicro(...args: string[]): Promise<ScriptRun> {
  return runScript(micro, args, CHILD_TIMEOUT_MS);
}

interface Baseline {
  readonly name: string;
  readonly python: boolean;
  readonly value: number | null;
  readonly skipped: string | null;
}

interface Figure {
  readonly name: string;
  readonly corepool: number | null;
  readonly baselines: Baseline[];
  readonly ratio: number | null;
  readonly missing: string[];
}

interface MicroResult {
  readonly bench: string;
  readonly ok: boolean;
  readonly benches: {
    bench: string;
    script: string;
    path: string | null;
    exitCode: number | null;
    figures: Figure[];
  }[];
}

const positive = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;

test('micro runs the chosen benches and reports each figure beside its baseline', { timeout: 180_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'corepool-micro-'));
  try {
    const run = await runMicro('--quick', '--only', 'overhead,pipe', '--no-python', '--out', out, '--json');
    assert.equal(run.code, 0, `micro exited with ${run.code ?? 'a signal (timed out?)'}\n--- stderr\n${run.stderr}`);
    const result = JSON.parse(run.stdout) as MicroResult;
    assert.equal(result.bench, 'micro');
    assert.equal(result.ok, true);
    assert.deepEqual(
      result.benches.map((b) => [b.bench, b.exitCode]),
      [
        ['overhead', 0],
        ['pipe', 0],
      ],
    );
    for (const b of result.benches) {
      assert.ok(b.figures.length > 0, `${b.bench}: no figures`);
      for (const f of b.figures) {
        const what = `${b.bench}: ${f.name}`;
        assert.deepEqual(f.missing, [], `${what}: missing fields`);
        assert.ok(positive(f.corepool), `${what}: corepool ${f.corepool}`);
        const [main, ...rest] = f.baselines;
        assert.ok(main !== undefined && !main.python && positive(main.value), `${what}: baseline ${main?.value}`);
        assert.ok(positive(f.ratio), `${what}: ratio ${f.ratio}`);
        // --no-python: Python's peer is listed, as skipped, not left out.
        const python = rest.filter((x) => x.python);
        assert.ok(python.length > 0, `${what}: no python peer listed`);
        for (const p of python) assert.deepEqual([p.value, p.skipped], [null, 'skipped: --no-python'], what);
      }
      assert.ok(b.path !== null, `${b.bench}: no result file`);
      assert.equal(dirname(b.path), out);
      assert.equal((JSON.parse(readFileSync(b.path, 'utf8')) as { bench: string }).bench, b.script);
    }
    // micro's own result is the JSON it printed.
    const own = readdirSync(out).filter((name) => /-micro-quick(-disturbed)?\.json$/.test(name));
    assert.equal(own.length, 1, `micro's files in ${out}: ${readdirSync(out).join(', ')}`);
    assert.deepEqual(JSON.parse(readFileSync(join(out, own[0] as string), 'utf8')), result);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  assert.equal(existsSync(out), false);
});

test('micro refuses an unknown bench with the usage and status 2', { timeout: 30_000 }, async () => {
  const run = await runMicro('--only', 'nope');
  assert.equal(run.code, 2);
  assert.match(run.stderr, /usage/);
  assert.match(run.stderr, /nope/);
  assert.equal(run.stdout, '');
});
