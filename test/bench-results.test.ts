/**
 * Result files of the benches: every run gets a file of its own. A rerun the
 * same day takes the next free name (`-2`, `-3`, …) instead of overwriting,
 * a name whose sibling chart exists is skipped, and the tags of the run's
 * kind stay in the name.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import type { MachineInfo } from '../bench/lib/machine.js';
import { reserveResult, resultPath, writeResult } from '../bench/lib/results.js';

const T = { timeout: 5_000 };

const MACHINE: MachineInfo = {
  date: '2026-12-01T22:20:08.602Z',
  hostname: 'my host',
  cpuModel: 'AMD EPYC',
  cores: 2,
  availableParallelism: 2,
  memoryGiB: 8,
  os: 'linux',
  node: 'v20.20.2',
  v8: '11.3',
  piscina: '5.3.2',
  corepool: '0.1.0',
  comlink: '4.4.2',
  python: null,
  loadAverage1m: 0,
};

function inTemp(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'corepool-results-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the first choice of a name carries the day, the host and the run kind', T, () => {
  const path = resultPath('overhead', MACHINE, { dir: '/r', quick: true, disturbed: true, tags: ['custom'] });
  assert.equal(path, '/r/2026-12-01-my_host-overhead-quick-disturbed-custom.json');
  assert.equal(resultPath('speedup', MACHINE, { dir: '/r', baseName: '2026-12-01-vm' }, 'svg'), '/r/2026-12-01-vm.svg');
});

test('reruns the same day are saved beside each other, never over each other', T, () => {
  inTemp((dir) => {
    const paths = [1, 2, 3].map((run) => writeResult('overhead', MACHINE, { run }, { dir, quick: true }));
    assert.deepEqual(
      paths.map((p) => basename(p)),
      [
        '2026-12-01-my_host-overhead-quick.json',
        '2026-12-01-my_host-overhead-quick-2.json',
        '2026-12-01-my_host-overhead-quick-3.json',
      ],
    );
    paths.forEach((p, i) => {
      assert.equal((JSON.parse(readFileSync(p, 'utf8')) as { run: number }).run, i + 1, `${p} kept its own run`);
    });
    // Another kind of run has names of its own.
    assert.equal(basename(writeResult('overhead', MACHINE, {}, { dir })), '2026-12-01-my_host-overhead.json');
  });
});

test('a reserved name is created at once, and skipped when a sibling file exists', T, () => {
  inTemp((dir) => {
    const options = { dir, baseName: '2026-12-01-vm', quick: true };
    writeFileSync(join(dir, '2026-12-01-vm-quick.svg'), '<svg/>'); // a chart whose JSON is gone
    const first = reserveResult('speedup', MACHINE, options, ['svg']);
    assert.equal(basename(first), '2026-12-01-vm-quick-2.json');
    assert.equal(readFileSync(first, 'utf8'), '', 'created empty, so no other run can take it');
    const second = reserveResult('speedup', MACHINE, options, ['svg']);
    assert.equal(basename(second), '2026-12-01-vm-quick-3.json');
    writeResult('speedup', MACHINE, { a: 1 }, { ...options, path: first });
    assert.equal((JSON.parse(readFileSync(first, 'utf8')) as { a: number }).a, 1);
    assert.deepEqual(readdirSync(dir).sort(), [
      '2026-12-01-vm-quick-2.json',
      '2026-12-01-vm-quick-3.json',
      '2026-12-01-vm-quick.svg',
    ]);
  });
});

test('the results directory is created when missing', T, () => {
  inTemp((dir) => {
    const nested = join(dir, 'a', 'b');
    const path = writeResult('sync', MACHINE, {}, { dir: nested });
    assert.ok(existsSync(path) && path.startsWith(nested));
  });
});
