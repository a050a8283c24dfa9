/**
 * The chart of `npm run bench`, from a synthetic run on a 2-core machine: a
 * measured panel (linear axes over the widths measured) and a prediction
 * panel (log axes to 128) per kernel, corepool and piscina drawn apart where
 * they coincide, the run's kind in a band, the two predictions labelled for
 * what they are; and `--chart-from`'s redraw of a stored result.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyseKernel } from '../bench/lib/speedup-analysis.js';
import {
  measuredPanel,
  predictionNotes,
  predictionPanel,
  type RunKind,
  readChartInput,
  redrawChart,
  runBadge,
  type SpeedupChartInput,
  speedupChart,
} from '../bench/lib/speedup-chart.js';
import type { KernelMeasured, Measured, Peer } from '../bench/lib/speedup-run.js';
import { summarize } from '../bench/lib/stats.js';
import { all, attr, byClass, type Element, parse } from './fixtures/svg.js';

const T = { timeout: 5_000 };
const CORES = 2;
const MACHINE = { cpuModel: 'AMD EPYC', cores: CORES, node: 'v20.20.2', date: '2026-12-01T22:20:08.602Z' };
const FULL: RunKind = { quick: false, disturbed: false, custom: false, othersPct: 0.1, runs: 4 };

function m(peer: Peer, workers: number, ms: number): Measured {
  return { peer, workers, timesMs: [ms], time: summarize([ms]) };
}

/** A kernel of 128 tasks of 4 ms measured at 1, 2 and 4 workers; piscina's times are corepool's when `same`. */
function kernel(name: 'primes' | 'sha256', same = false): KernelMeasured {
  const corepool = [m('corepool', 1, 540), m('corepool', 2, 285), m('corepool', 4, 283)];
  const piscina = same
    ? corepool.map((r) => m('piscina', r.workers, r.time.median))
    : [m('piscina', 1, 545), m('piscina', 2, 276), m('piscina', 4, 279)];
  const serial = m('serial', 0, 512);
  return {
    kernel: name,
    title: `${name} job`,
    params: {},
    tasks: 128,
    bytesPerTask: 0,
    checksum: 1,
    rows: [serial, ...corepool.flatMap((c, i) => [c, piscina[i] as Measured])],
    sweep: [
      { tasks: 128, bytesPerTask: 0, serial, corepool },
      { tasks: 16, bytesPerTask: 0, serial, corepool: [m('corepool', 1, 530), m('corepool', 2, 268)] },
    ],
    python: {
      version: '3.11.7',
      startMethod: 'fork',
      params: {},
      tasks: 128,
      checksum: 1,
      cpuS: 1,
      serial: m('python', 0, 800),
      pool: [m('python', 1, 850), m('python', 2, 470), m('python', 4, 480)],
    },
    reruns: 0,
  };
}

function input(kind: RunKind = FULL, same = false): SpeedupChartInput {
  const costs = { dispatchMs: 0.042, mainMsPerMiB: 0.17 };
  return {
    machine: MACHINE,
    kernels: (['primes', 'sha256'] as const).map((name) => {
      const measured = kernel(name, same);
      return { measured, analysis: analyseKernel(measured, costs, CORES) };
    }),
    kind,
    resultFile: '2026-12-01-vm.json',
  };
}

/** A panel's tick labels on one axis, in order. */
function ticks(panel: Element, axis: 'x' | 'y'): string[] {
  const group = byClass(panel, 'g', `${axis}-ticks`)[0] as Element;
  return all(group, 'text').map((t) => t['#text'] as string);
}

test('each kernel gets a measured panel on linear axes and a prediction panel on log axes to 128', T, () => {
  const svg = parse(speedupChart(input()));
  const panels = byClass(svg, 'g', 'panel');
  assert.equal(panels.length, 4, 'two kernels, two panels each');
  assert.deepEqual(
    panels.map((p) => byClass(p, 'text', 'panel-title')[0]?.['#text']),
    [
      'primes: measured',
      'primes: predicted, one worker per core',
      'sha256: measured',
      'sha256: predicted, one worker per core',
    ],
  );
  const columns = byClass(svg, 'text', 'column-title').map((t) => t['#text']);
  assert.deepEqual(columns, ['Measured on this machine, 2 cores', 'Predicted for 1 to 128 cores: not measured']);
  const [measured, predicted] = panels as [Element, Element];
  const plot = (p: Element): Element => byClass(p, 'rect', 'plot-area')[0] as Element;
  assert.equal(attr(plot(measured), 'data-x-scale'), 'linear');
  assert.equal(attr(plot(measured), 'data-y-scale'), 'linear');
  assert.deepEqual(ticks(measured, 'x'), ['1', '2', '4'], 'only the widths measured');
  assert.equal(ticks(measured, 'y')[0], '0');
  assert.equal(attr(plot(predicted), 'data-x-scale'), 'log2');
  assert.deepEqual(ticks(predicted, 'x'), ['1', '2', '4', '8', '16', '32', '64', '128']);
  // No prediction in the measured panel, no measured peer but corepool's points in the prediction panel.
  const styles = (p: Element): string[] => all(p, 'polyline').map((l) => attr(l, 'class') as string);
  assert.deepEqual([...new Set(styles(measured))].sort(), ['series ideal', 'series measured']);
  assert.ok(styles(predicted).includes('series model') && styles(predicted).includes('series amdahl'));
  const bands = (p: Element): (string | undefined)[] => byClass(p, 'g', 'band').map((b) => attr(b, 'data-label'));
  assert.deepEqual(bands(measured), ['more workers than cores']);
  assert.deepEqual(bands(predicted), ['measured']);
});

test('the measured panel draws the ideal on this machine’s cores, flat above them', T, () => {
  const k = input().kernels[0]!;
  const panel = measuredPanel(k.measured, k.analysis, CORES);
  const ideal = panel.series.find((s) => s.style === 'ideal');
  assert.equal(ideal?.label, 'ideal on 2 cores');
  assert.deepEqual(ideal?.points, [
    { x: 1, y: 1 },
    { x: 2, y: 2 },
    { x: 4, y: 2 },
  ]);
  assert.equal(panel.x?.max, 4);
  assert.match(
    panel.subtitle ?? '',
    /^128 tasks of 4\.0 ms; 2 workers: corepool 1\.80x, piscina 1\.86x, python 1\.70x$/,
  );
});

test('corepool and piscina stay apart where their speedups coincide', T, () => {
  const svg = parse(speedupChart(input(FULL, true)));
  const measured = byClass(svg, 'g', 'panel')[0] as Element;
  const line = (label: string): Element =>
    all(measured, 'polyline').find((l) => attr(l, 'data-label') === label) as Element;
  const corepool = line('corepool Pool.map');
  const piscina = line('raw piscina run()');
  assert.equal(attr(corepool, 'points'), attr(piscina, 'points'), 'the same speedups');
  assert.notEqual(attr(corepool, 'stroke'), attr(piscina, 'stroke'));
  assert.equal(attr(corepool, 'stroke-dasharray'), undefined);
  assert.ok(attr(piscina, 'stroke-dasharray'), 'piscina is dashed, so corepool shows through');
  const marker = (label: string): string | undefined =>
    attr(
      all(measured, 'g').find((g) => attr(g, 'class') === 'markers' && attr(g, 'data-label') === label) as Element,
      'data-marker',
    );
  assert.equal(marker('corepool Pool.map'), 'dot');
  assert.equal(marker('raw piscina run()'), 'square');
  const legend = byClass(svg, 'g', 'legend')[0] as Element;
  assert.deepEqual(
    all(legend, 'g').map((g) => attr(g, 'data-label')),
    ['ideal on 2 cores', 'corepool Pool.map', 'raw piscina run()', 'python 3.11.7 Pool.map (its own job)'],
  );
});

test("the run's kind is printed in a band under the title", T, () => {
  const cases: [Partial<RunKind>, string, string, RegExp][] = [
    [{}, 'FULL RUN', 'ok', /clean: others used 0\.1% of the CPUs, 4 recorded rounds per peer/],
    [{ quick: true, runs: 2 }, 'QUICK RUN', 'warn', /smoke run with smaller jobs, not a headline result/],
    [
      { disturbed: true, othersPct: 23.4 },
      'FULL RUN · DISTURBED',
      'alert',
      /others used 23\.4% of the CPUs \(over 10%\)/,
    ],
    [{ quick: true, disturbed: true, othersPct: 40 }, 'QUICK RUN · DISTURBED', 'alert', /rerun on a quiet machine/],
    [{ custom: true }, 'FULL RUN · CUSTOM', 'warn', /non-default kernels, widths or task counts/],
  ];
  for (const [change, text, tone, detail] of cases) {
    const kind = { ...FULL, ...change };
    assert.deepEqual([runBadge(kind).text, runBadge(kind).tone], [text, tone]);
    assert.match(runBadge(kind).detail ?? '', detail);
    const out = speedupChart(input(kind));
    const svg = parse(out);
    const band = byClass(svg, 'g', 'run-kind')[0] as Element;
    assert.equal(attr(band, 'data-tone'), tone);
    assert.ok(out.includes(`<tspan class="run-kind-label">${text}</tspan>`), text);
    // Right under the title and the machine line, above every panel.
    const bandY = Number(attr(all(band, 'rect')[0] as Element, 'y'));
    const firstPanel = attr(byClass(svg, 'g', 'panel')[0] as Element, 'transform') ?? '';
    assert.ok(bandY < Number(/,([\d.]+)\)/.exec(firstPanel)?.[1]));
  }
});

test('the predictions are labelled: the model the bench stands behind, the Amdahl fit for comparison', T, () => {
  const data = input();
  const out = speedupChart(data);
  const svg = parse(out);
  // The notes' text, line after line.
  const text = (/<g class="notes"[\s\S]*?\n {2}<\/g>/.exec(out)?.[0] ?? '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');
  assert.match(text, /Model \(dashed\), the prediction this benchmark stands behind:/);
  assert.match(text, /none is fitted to the speedups it predicts/);
  assert.match(text, /Amdahl fit \(dotted\), for comparison, not a forecast:/);
  assert.match(text, /takes every loss there as serial/);
  assert.match(text, /Both extrapolate from 2 cores/);
  // The notes carry this run's figures: the model's and the fit's speedup at 128 cores and how far apart they are.
  const [model, amdahl] = predictionNotes(data.kernels, CORES);
  assert.match(model?.text ?? '', /At 128 cores it gives [\d.]+x( to [\d.]+x)? for the job measured/);
  assert.match(amdahl?.text ?? '', /at 128 cores, [\d.]+x( to [\d.]+x)? below the model\.$/);
  assert.equal(model?.style, 'model');
  assert.equal(amdahl?.style, 'amdahl');
  // Each prediction line is labelled at its end with its speedup at 128 cores.
  const k = data.kernels[0]!;
  const panel = predictionPanel(k.measured, k.analysis, CORES);
  const at128 = k.analysis.model[0]?.predicted.at(-1)?.speedup ?? 0;
  const first = panel.series.find((s) => s.label === 'model, 128 tasks (the job measured)');
  assert.equal(first?.endLabel, `${at128 >= 100 ? at128.toFixed(0) : at128.toFixed(1)}x`);
  assert.ok(panel.series.find((s) => s.label === 'Amdahl fit')?.endLabel?.endsWith('x'));
  assert.match(panel.subtitle ?? '', /^at 128 cores: model [\d.]+x; Amdahl fit [\d.]+x, [\d.]+x below the model\n/);
  assert.match(panel.subtitle ?? '', /\nmodel vs measured here: [+−][\d.]+% at 2, [+−][\d.]+% at 4 workers$/);
  const ends = all(byClass(svg, 'g', 'panel')[1] as Element, 'text').filter((t) =>
    /^[\d.]+x$/.test(String(t['#text'])),
  );
  assert.equal(ends.length, 3, 'two task counts and the fit');
});

test('--chart-from: a stored result is drawn again, and latest.svg with it when it shows that result', T, () => {
  const dir = mkdtempSync(join(tmpdir(), 'corepool-chart-'));
  try {
    const data = input({ ...FULL, othersPct: 0.3 });
    const stored = {
      bench: 'speedup',
      machine: { ...MACHINE, hostname: 'vm' },
      options: { quick: false, runs: 4, custom: false },
      kernels: data.kernels.map((k) => ({ ...k.measured, analysis: k.analysis })),
      noise: { othersPct: 0.3 },
      files: { svg: '/old/absolute/path/2026-12-01-vm.svg' },
    };
    const json = join(dir, '2026-12-01-vm.json');
    writeFileSync(json, JSON.stringify(stored));
    const read = readChartInput(json);
    assert.equal(read.svgName, '2026-12-01-vm.svg', 'named by file name, not by the path it was written at');
    assert.deepEqual(read.input.kind, { quick: false, disturbed: false, custom: false, othersPct: 0.3, runs: 4 });

    // latest.svg is a copy of the old chart: both are redrawn.
    writeFileSync(join(dir, '2026-12-01-vm.svg'), '<svg>old</svg>');
    writeFileSync(join(dir, 'latest.svg'), '<svg>old</svg>');
    assert.deepEqual(redrawChart(json), [join(dir, '2026-12-01-vm.svg'), join(dir, 'latest.svg')]);
    const drawn = readFileSync(join(dir, '2026-12-01-vm.svg'), 'utf8');
    assert.equal(readFileSync(join(dir, 'latest.svg'), 'utf8'), drawn);
    assert.equal(drawn, speedupChart(read.input));
    assert.match(drawn, /<svg [^>]*data-source="2026-12-01-vm\.json"/);
    // latest.svg names this result (though not a copy of its chart): redrawn too.
    writeFileSync(join(dir, 'latest.svg'), '<svg data-source="2026-12-01-vm.json">edited</svg>');
    assert.equal(redrawChart(json).length, 2);
    assert.equal(readFileSync(join(dir, 'latest.svg'), 'utf8'), drawn);

    // latest.svg shows another result: left alone. A disturbed result is marked so.
    writeFileSync(join(dir, 'latest.svg'), '<svg data-source="2026-12-02-vm.json">newer</svg>');
    writeFileSync(json, JSON.stringify({ ...stored, noise: { othersPct: 31 } }));
    assert.deepEqual(redrawChart(json), [join(dir, '2026-12-01-vm.svg')]);
    assert.equal(readFileSync(join(dir, 'latest.svg'), 'utf8'), '<svg data-source="2026-12-02-vm.json">newer</svg>');
    assert.match(readFileSync(join(dir, '2026-12-01-vm.svg'), 'utf8'), /run-kind-label">FULL RUN · DISTURBED</);

    // Into another directory; a custom run from before options.custom was recorded is known by its name.
    const custom = join(dir, '2026-12-01-vm-quick-custom-2.json');
    writeFileSync(custom, JSON.stringify({ ...stored, options: { quick: true, runs: 2 }, files: undefined }));
    const out = join(dir, 'out');
    assert.deepEqual(redrawChart(custom, out), [join(out, '2026-12-01-vm-quick-custom-2.svg')]);
    assert.deepEqual(readChartInput(custom).input.kind.custom, true);

    writeFileSync(join(dir, 'other.json'), JSON.stringify({ bench: 'overhead' }));
    assert.throws(
      () => readChartInput(join(dir, 'other.json')),
      /not a result of the speedup bench \(bench: "overhead"\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
