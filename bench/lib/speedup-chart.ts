/**
 * The speedup bench's chart, drawn from what a run measured or from a result
 * JSON it wrote (`--chart-from`), so a chart can be drawn again without
 * measuring again.
 *
 * One row per kernel, two panels a row:
 *
 * - **measured** (left): linear axes over the widths measured here, the
 *   serial loop's speedup of corepool, raw piscina and Python, and the ideal
 *   on this machine's cores (`min(workers, cores)`); widths above the cores
 *   are shaded;
 * - **predicted** (right): log axes to 128 workers on as many cores: the
 *   cost model at each task count (dashed, the prediction the bench stands
 *   behind), the Amdahl fit (dotted, for comparison) and the measured
 *   corepool points they start from; each line's value at 128 is written at
 *   its end.
 *
 * A band under the title says what kind of run it is (full, quick,
 * DISTURBED, custom options), and notes under the panels say what each
 * prediction assumes and why they differ.
 *
 * @module
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Badge, type Note, type Panel, renderChart, type Series } from './chart.js';
import type { MachineInfo } from './machine.js';
import { amdahlSpeedup } from './model.js';
import { DISTURBED_PCT } from './noise.js';
import type { KernelAnalysis, Row } from './speedup-analysis.js';
import { duration, pct, peerLabel, times } from './speedup-report.js';
import type { KernelMeasured } from './speedup-run.js';
import { fmt } from './table.js';

/** The widest machine the predictions are drawn to. */
const PREDICT_MAX = 128;

const COLORS = {
  corepool: '#0072B2',
  piscina: '#D55E00',
  python: '#009E73',
  amdahl: '#E69F00',
  /** The model at the measured task count first, then the other counts of the sweep. */
  models: ['#0072B2', '#CC79A7', '#000000', '#56B4E9'],
} as const;
const PISCINA_DASH = '5 3';
const MODEL_DASHES = ['6 4', '6 4', '10 3 2 3', '6 4'] as const;

/**
 * What kind of run a chart shows.
 *
 * @example
 * ```ts
 * const kind: RunKind = { quick: true, disturbed: false, custom: false, othersPct: 0.4, runs: 2 };
 * ```
 */
export interface RunKind {
  /** A `--quick` (smoke) run: smaller jobs, fewer rounds. */
  readonly quick: boolean;
  /** Others used more than {@link DISTURBED_PCT}% of the CPUs during the run. */
  readonly disturbed: boolean;
  /** Run with non-default kernels, widths or task counts. */
  readonly custom: boolean;
  /** Others' share of the CPUs during the run, percent. */
  readonly othersPct: number;
  /** Recorded rounds per peer. */
  readonly runs: number;
}

/**
 * What the chart is drawn from: a fresh run's measurements, or a stored result's.
 *
 * @example
 * ```ts
 * const input: SpeedupChartInput = { machine, kernels: [{ measured, analysis }], kind, resultFile: '2026-12-01-vm.json' };
 * ```
 */
export interface SpeedupChartInput {
  readonly machine: Pick<MachineInfo, 'cpuModel' | 'cores' | 'node' | 'date'>;
  readonly kernels: readonly { readonly measured: KernelMeasured; readonly analysis: KernelAnalysis }[];
  readonly kind: RunKind;
  /** The result JSON's file name, shown on the chart and kept as its `data-source`. */
  readonly resultFile?: string;
}

/**
 * The band under the chart's title: full and clean (green), quick (amber) or
 * disturbed (red), with what that means for the figures.
 *
 * @example
 * ```ts
 * runBadge({ quick: false, disturbed: true, custom: false, othersPct: 23.4, runs: 4 }).text; // 'FULL RUN · DISTURBED'
 * ```
 */
export function runBadge(kind: RunKind): Badge {
  const text = [kind.quick ? 'QUICK RUN' : 'FULL RUN', kind.disturbed ? 'DISTURBED' : '', kind.custom ? 'CUSTOM' : '']
    .filter((w) => w !== '')
    .join(' · ');
  const others = `others used ${kind.othersPct}% of the CPUs`;
  const rounds = `${kind.runs} recorded round${kind.runs === 1 ? '' : 's'} per peer`;
  const parts = kind.disturbed
    ? [`${others} (over ${DISTURBED_PCT}%): the figures are unreliable, rerun on a quiet machine`]
    : [kind.quick ? `${others}, ${rounds}` : `clean: ${others}, ${rounds}`];
  if (kind.quick) parts.push('a smoke run with smaller jobs, not a headline result');
  if (kind.custom) parts.push('non-default kernels, widths or task counts');
  return {
    text,
    detail: parts.join('; '),
    tone: kind.disturbed ? 'alert' : kind.quick || kind.custom ? 'warn' : 'ok',
  };
}

function peerPoints(rows: readonly Row[], peer: Row['peer']): { x: number; y: number }[] {
  return rows.filter((r) => r.peer === peer && r.workers > 0).map((r) => ({ x: r.workers, y: r.speedup }));
}

/** The widest width within the cores that was measured. */
function fullWidth(a: KernelAnalysis, cores: number): number | undefined {
  const ws = a.rows.filter((r) => r.workers > 0 && r.workers <= cores).map((r) => r.workers);
  return ws.length === 0 ? undefined : Math.max(...ws);
}

/** Largest power of two at or below `v` (for a log axis' start). */
function floorPow2(v: number): number {
  return 2 ** Math.floor(Math.log2(v));
}

/**
 * The measured panel of one kernel: linear axes over the widths measured,
 * corepool (solid, dots), raw piscina (dashed, open squares, so both show
 * where they coincide), Python (triangles) and the ideal on `cores` cores.
 *
 * @example
 * ```ts
 * renderChart([measuredPanel(measured, analysis, 2)], { title: 'primes' });
 * ```
 */
export function measuredPanel(k: KernelMeasured, a: KernelAnalysis, cores: number): Panel {
  const python = 'skipped' in k.python ? undefined : k.python;
  const widths = [...new Set([...a.rows, ...a.pythonRows].map((r) => r.workers).filter((w) => w > 0))].sort(
    (x, y) => x - y,
  );
  const widest = Math.max(2, ...widths);
  const idealAt = [...new Set([1, Math.min(cores, widest), widest])];
  const series: Series[] = [
    {
      label: `ideal on ${cores} core${cores === 1 ? '' : 's'}`,
      style: 'ideal',
      points: idealAt.map((w) => ({ x: w, y: Math.min(w, cores) })),
    },
    { label: peerLabel('corepool'), style: 'measured', color: COLORS.corepool, points: peerPoints(a.rows, 'corepool') },
    {
      label: peerLabel('piscina'),
      style: 'measured',
      color: COLORS.piscina,
      dash: PISCINA_DASH,
      marker: 'square',
      points: peerPoints(a.rows, 'piscina'),
    },
  ];
  if (python !== undefined && a.pythonRows.length > 0) {
    series.push({
      label: `${peerLabel('python', python.version)} (its own job)`,
      style: 'measured',
      color: COLORS.python,
      marker: 'triangle',
      points: peerPoints(a.pythonRows, 'python'),
    });
  }
  const top = Math.max(...series.flatMap((s) => s.points.map((p) => p.y))) * 1.08;
  const step = top <= 3 ? 0.5 : top <= 6 ? 1 : top <= 15 ? 2 : 5;
  const taskMs = (a.rows.find((r) => r.peer === 'serial')?.time.median ?? 0) / k.tasks;
  const full = fullWidth(a, cores);
  const at = (rows: readonly Row[], peer: Row['peer']): number | undefined =>
    rows.find((r) => r.peer === peer && r.workers === full)?.speedup;
  const figures = [
    ['corepool', at(a.rows, 'corepool')],
    ['piscina', at(a.rows, 'piscina')],
    ['python', at(a.pythonRows, 'python')],
  ] as const;
  const shown = figures.filter((f) => f[1] !== undefined).map(([name, s]) => `${name} ${times(s as number)}`);
  return {
    title: `${k.kernel}: measured`,
    subtitle:
      `${fmt(k.tasks)} tasks of ${duration(taskMs)}` +
      (full === undefined || shown.length === 0 ? '' : `; ${full} workers: ${shown.join(', ')}`),
    x: { scale: 'linear', min: 1, max: widest, ticks: widths, label: 'workers' },
    y: { scale: 'linear', min: 0, max: Math.ceil(top / step) * step, label: 'speedup over the serial loop' },
    bands: widest > cores ? [{ from: cores, to: widest, label: 'more workers than cores' }] : [],
    series,
  };
}

/** The Amdahl curve the chart draws: the fit of the peer's scaling from 1 worker, times its 1-worker speedup. */
function amdahlCurve(a: KernelAnalysis): { f: number; base: number; at: (w: number) => number } | undefined {
  const fit = a.amdahl.corepool;
  if (fit === null) return undefined;
  const f = fit.scaling?.serialFraction ?? fit.overSerial.serialFraction;
  const base = fit.scaling === null ? 1 : (fit.oneWorker ?? 1);
  return { f, base, at: (w) => base * amdahlSpeedup(f, w) };
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}%`;
}

/**
 * The prediction panel of one kernel: log axes to 128 workers on as many
 * cores, the model at every task count (dashed), the Amdahl fit (dotted),
 * the ideal and the measured corepool points; each prediction's value at 128
 * is written at its end.
 *
 * @example
 * ```ts
 * renderChart([predictionPanel(measured, analysis, 2)], { title: 'primes' });
 * ```
 */
export function predictionPanel(k: KernelMeasured, a: KernelAnalysis, cores: number): Panel {
  const series: Series[] = [
    {
      label: 'ideal',
      style: 'ideal',
      points: [
        { x: 1, y: 1 },
        { x: PREDICT_MAX, y: PREDICT_MAX },
      ],
    },
  ];
  a.model.forEach((e, i) => {
    const last = e.predicted.at(-1);
    series.push({
      label:
        i === 0 ? `model, ${fmt(e.tasks)} tasks (the job measured)` : `model, the same job in ${fmt(e.tasks)} tasks`,
      style: 'model',
      color: COLORS.models[i % COLORS.models.length]!,
      dash: MODEL_DASHES[i % MODEL_DASHES.length]!,
      points: e.predicted.map((p) => ({ x: p.workers, y: p.speedup })),
      ...(last === undefined ? {} : { endLabel: times(last.speedup) }),
    });
  });
  const amdahl = amdahlCurve(a);
  if (amdahl !== undefined) {
    const ws = [1, 2, 4, 8, 16, 32, 64, PREDICT_MAX];
    series.push({
      label: 'Amdahl fit',
      style: 'amdahl',
      color: COLORS.amdahl,
      points: ws.map((w) => ({ x: w, y: amdahl.at(w) })),
      endLabel: times(amdahl.at(PREDICT_MAX)),
    });
  }
  series.push({
    label: `${peerLabel('corepool')}, measured`,
    style: 'measured',
    color: COLORS.corepool,
    points: peerPoints(a.rows, 'corepool').filter((p) => p.x <= cores),
  });
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const measuredMax = Math.max(1, ...a.rows.filter((r) => r.peer === 'corepool').map((r) => r.workers));
  const first = a.model[0];
  const model128 = first?.predicted.find((p) => p.workers === PREDICT_MAX)?.speedup;
  const checks =
    first === undefined || first.check.length === 0
      ? 'model: no other width measured to check it against'
      : `model vs measured here: ${first.check.map((c) => `${signed(c.errorPct)} at ${c.workers}`).join(', ')} workers`;
  const fit128 = amdahl?.at(PREDICT_MAX);
  const at128 = [
    model128 === undefined ? '' : `model ${times(model128)}`,
    fit128 === undefined
      ? ''
      : `Amdahl fit ${times(fit128)}${model128 === undefined ? '' : `, ${versus([model128 / fit128])}`}`,
  ].filter((t) => t !== '');
  return {
    title: `${k.kernel}: predicted, one worker per core`,
    subtitle: `at ${PREDICT_MAX} cores: ${at128.join('; ') || 'no prediction'}\n${checks}`,
    x: { scale: 'log2', min: 1, max: PREDICT_MAX, label: 'workers = cores' },
    y: { scale: 'log2', min: Math.max(1 / 16, Math.min(1, floorPow2(Math.min(...ys)))), max: PREDICT_MAX },
    bands: measuredMax > 1 ? [{ from: 1, to: Math.min(measuredMax, cores), label: 'measured' }] : [],
    series,
  };
}

/** Where the Amdahl fit lies against the model, from ratios model / fit: `7.2x below the model`, `1.4x above it`… */
function versus(ratios: readonly number[]): string {
  const x = (r: number): string => `${r.toFixed(1)}x`;
  if (ratios.every((r) => r >= 1)) return `${range(ratios, x)} below the model`;
  if (ratios.every((r) => r < 1))
    return `${range(
      ratios.map((r) => 1 / r),
      x,
    )} above the model`;
  return `from ${x(1 / Math.min(...ratios))} above to ${x(Math.max(...ratios))} below the model`;
}

function range(xs: readonly number[], show: (x: number) => string): string {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return show(lo) === show(hi) ? show(lo) : `${show(lo)} to ${show(hi)}`;
}

/**
 * The notes under the panels: what the model and the Amdahl fit assume,
 * which one the bench stands behind and why, and how far apart they are at
 * 128 cores, with this run's figures.
 *
 * @example
 * ```ts
 * predictionNotes(kernels, 2).map((n) => n.title);
 * // ['Model (dashed): the prediction this benchmark stands behind.', 'Amdahl fit (dotted): for comparison, not a forecast.', …]
 * ```
 */
export function predictionNotes(kernels: SpeedupChartInput['kernels'], cores: number): Note[] {
  const analyses = kernels.map((k) => k.analysis);
  const firsts = analyses.map((a) => a.model[0]).filter((e) => e !== undefined);
  const checks = analyses.flatMap((a) => a.model.flatMap((e) => e.check.map((c) => c.errorPct)));
  const at128 = firsts.map((e) => e.predicted.find((p) => p.workers === PREDICT_MAX)?.speedup ?? Number.NaN);
  const serialShare = firsts.map((e) => e.dispatchMs / e.taskMs);
  const checked =
    checks.length === 0
      ? 'It could not be checked here: no second width was measured.'
      : checks.length === 1
        ? `It matched the one other width measured here within ${range(checks, signed)}.`
        : `It matched each of the ${checks.length} other widths and task counts measured here within ${range(checks, signed)}.`;
  const notes: Note[] = [
    {
      title: 'Model (dashed), the prediction this benchmark stands behind:',
      text:
        "every input is measured in this run and none is fitted to the speedups it predicts: each task's compute c, " +
        'the overhead o each worker pays per task (at 1 worker), and the main thread’s time per task d (on a flood ' +
        `of empty tasks), the only serial part, ${range(serialShare, pct)} of a task here. ${checked} ` +
        `At ${PREDICT_MAX} cores it gives ${range(at128, times)} for the job measured, bounded by ⌈N/p⌉ rounds of ` +
        'tasks and by the main thread’s N·d.',
      style: 'model',
      color: COLORS.models[0],
    },
  ];
  const curves = analyses.map(amdahlCurve).filter((c) => c !== undefined);
  const fitted = analyses.flatMap((a) => {
    const fit = a.amdahl.corepool;
    return fit === null ? [] : [(fit.scaling ?? fit.overSerial).points];
  });
  if (curves.length > 0) {
    const amdahl128 = curves.map((c) => c.at(PREDICT_MAX));
    const apart = analyses
      .map((a) => {
        const model = a.model[0]?.predicted.find((p) => p.workers === PREDICT_MAX)?.speedup;
        const fit = amdahlCurve(a);
        return model === undefined || fit === undefined ? Number.NaN : model / fit.at(PREDICT_MAX);
      })
      .filter((r) => Number.isFinite(r));
    const onePoint = fitted.every((p) => p === 1);
    const over = cores <= 2 ? `${Math.min(2, cores)} workers` : `2 to ${cores} workers`;
    notes.push({
      title: 'Amdahl fit (dotted), for comparison, not a forecast:',
      text:
        `it keeps the 1-worker speedup S(1) and assumes a fixed serial fraction f of the rest, here ${range(
          curves.map((c) => c.f),
          pct,
        )}, fitted to the speedup at ${over}` +
        (onePoint ? ' (one width, which it matches by construction, so this machine cannot check it). ' : '. ') +
        'It takes every loss there as serial, whatever its cause (the main thread and the OS sharing ' +
        `${cores} core${cores === 1 ? '' : 's'} with the workers, noise), though the serial work measured is ` +
        `${range(serialShare, pct)}; so it caps the speedup at S(1)/f: ${range(amdahl128, times)} at ${PREDICT_MAX} cores` +
        (apart.length === 0 ? '.' : `, ${versus(apart)}.`),
      style: 'amdahl',
      color: COLORS.amdahl,
    });
  }
  notes.push({
    title: `Both extrapolate from ${cores} core${cores === 1 ? '' : 's'}:`,
    text:
      'neither sees memory bandwidth, shared caches, SMT siblings counted as cores, frequency scaling or NUMA, each ' +
      'of which makes a wider machine scale worse than predicted.',
  });
  return notes;
}

/**
 * The whole chart as an SVG document.
 *
 * @example
 * ```ts
 * writeFileSync(svgPath, speedupChart({ machine, kernels, kind, resultFile: basename(jsonPath) }));
 * ```
 * @throws {RangeError} when there is no kernel (see {@link renderChart}).
 */
export function speedupChart(input: SpeedupChartInput): string {
  const { machine, kernels, kind } = input;
  const cores = machine.cores;
  const panels = kernels.flatMap(({ measured, analysis }) => [
    measuredPanel(measured, analysis, cores),
    predictionPanel(measured, analysis, cores),
  ]);
  return renderChart(panels, {
    title: 'corepool: speedup against workers',
    subtitle:
      `${machine.cpuModel}, ${cores} cores, node ${machine.node}, ${machine.date.slice(0, 10)}` +
      (input.resultFile === undefined ? '' : `; result ${input.resultFile}`),
    columns: 2,
    columnTitles: [
      `Measured on this machine, ${cores} core${cores === 1 ? '' : 's'}`,
      `Predicted for 1 to ${PREDICT_MAX} cores: not measured`,
    ],
    badge: runBadge(kind),
    notes: predictionNotes(kernels, cores),
    ...(input.resultFile === undefined ? {} : { source: input.resultFile }),
  });
}

/** The parts of a stored speedup result the chart reads. */
interface StoredResult {
  readonly bench: string;
  readonly machine: MachineInfo;
  readonly options: { readonly quick: boolean; readonly runs: number; readonly custom?: boolean };
  readonly kernels: readonly (KernelMeasured & { readonly analysis: KernelAnalysis })[];
  readonly noise: { readonly othersPct: number };
  readonly files?: { readonly svg?: string };
}

/**
 * Reads a result JSON the speedup bench wrote, for {@link speedupChart}; also
 * returns the file name of its chart (`files.svg`, or the JSON's with `.svg`).
 * A result from before `options.custom` was recorded is custom when its name
 * says so.
 *
 * @example
 * ```ts
 * const { input, svgName } = readChartInput('bench/results/2026-12-01-vm.json');
 * writeFileSync(join('bench/results', svgName), speedupChart(input));
 * ```
 * @throws {Error} when the file cannot be read, is not JSON, or is not a speedup result.
 */
export function readChartInput(jsonPath: string): { input: SpeedupChartInput; svgName: string } {
  const result = JSON.parse(readFileSync(jsonPath, 'utf8')) as Partial<StoredResult>;
  const name = basename(jsonPath);
  if (result.bench !== 'speedup' || !Array.isArray(result.kernels) || result.machine === undefined) {
    throw new Error(`${jsonPath} is not a result of the speedup bench (bench: ${JSON.stringify(result.bench)})`);
  }
  const { machine, options, noise } = result as StoredResult;
  const othersPct = noise?.othersPct ?? 0;
  const input: SpeedupChartInput = {
    machine,
    kernels: result.kernels.map(({ analysis, ...measured }) => ({ measured, analysis })),
    kind: {
      quick: options?.quick === true,
      disturbed: othersPct > DISTURBED_PCT,
      custom: options?.custom ?? /-custom(-\d+)?\.json$/.test(name),
      othersPct,
      runs: options?.runs ?? 0,
    },
    resultFile: name,
  };
  const svg = result.files?.svg;
  return { input, svgName: svg === undefined ? name.replace(/\.json$/, '.svg') : basename(svg) };
}

/** The newest full, clean chart with the default options, shown in the README. */
export const LATEST_CHART = 'latest.svg';

/** The result file a chart was drawn from (its root's `data-source`), if it says. */
function chartSource(svg: string): string | undefined {
  return /<svg\b[^>]*\sdata-source="([^"]*)"/.exec(svg)?.[1];
}

/**
 * Draws the chart of a stored result again (`--chart-from`), into `dir`
 * (default: beside the JSON) under the name the result gives it; also
 * redraws `latest.svg` there when that shows this result (it names it, or it
 * is a copy of the chart being replaced). Returns the paths written.
 *
 * @example
 * ```ts
 * redrawChart('bench/results/2026-12-01-vm.json'); // ['bench/results/2026-12-01-vm.svg', 'bench/results/latest.svg']
 * ```
 * @throws {Error} as {@link readChartInput}, or when a file cannot be written.
 */
export function redrawChart(jsonPath: string, dir = dirname(jsonPath)): string[] {
  const { input, svgName } = readChartInput(jsonPath);
  const svgPath = join(dir, svgName);
  const latest = join(dir, LATEST_CHART);
  const before = existsSync(svgPath) ? readFileSync(svgPath, 'utf8') : undefined;
  const shown = existsSync(latest) ? readFileSync(latest, 'utf8') : undefined;
  const svg = speedupChart(input);
  mkdirSync(dir, { recursive: true });
  writeFileSync(svgPath, svg);
  if (shown === undefined || !(shown === before || chartSource(shown) === input.resultFile)) return [svgPath];
  writeFileSync(latest, svg);
  return [svgPath, latest];
}
