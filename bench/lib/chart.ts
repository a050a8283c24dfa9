/**
 * Speedup charts as one standalone SVG 1.1 document: panels of speedup
 * against workers in a grid, built from strings with no dependencies so every
 * bench can write a picture beside its JSON.
 *
 * The whole chart:
 *
 * ```text
 *   title
 *   subtitle (the machine)
 *   ███ RUN KIND ███ detail                  <g class="run-kind">: a band across the chart
 *   column title            column title     <text class="column-title">, one per column
 *   ── a ●  -- b □          ·· c  -- d       <g class="legend">: each column's series, once
 *   ┌─ panel ─┐             ┌─ panel ─┐      filled row by row
 *   └─────────┘             └─────────┘
 *   notes, wrapped to the chart's width      <g class="notes">
 * ```
 *
 * One panel, in its own coordinates:
 *
 * ```text
 *   title, subtitle
 *   ┌───────────┬──────────┐  101x          <rect class="plot-area">; end labels to its right
 *   │  grid     │  band    │   14x          <g class="band">: a shaded, labelled x range
 *   └───────────┴──────────┘
 *    1    2    4   …    128                  x ticks; y ticks on the left
 *          workers
 * ```
 *
 * Each axis is linear or log2, per panel. The data range maps to the plot
 * rectangle inset by a few pixels, so markers at the ends clear the frame.
 * Output is deterministic: coordinates are rounded to one decimal, and
 * nothing depends on the clock or the locale. The axes are drawn by
 * `chart-axes.ts`, text is escaped and measured by `svg-text.ts`.
 *
 * @module
 */

import { type Frame, project, renderAxes, type Scale, scaleOf } from './chart-axes.js';
import { esc, n, textWidth, wrap } from './svg-text.js';

/**
 * One measurement or prediction: `x` workers gave a speedup of `y`.
 *
 * @example
 * ```ts
 * const p: Point = { x: 4, y: 3.7 };
 * ```
 */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/**
 * How a series is drawn: `measured` solid with markers, `model` dashed,
 * `ideal` a thin grey line, `amdahl` dotted.
 *
 * @example
 * ```ts
 * const style: SeriesStyle = 'model';
 * ```
 */
export type SeriesStyle = 'measured' | 'model' | 'ideal' | 'amdahl';

/**
 * The mark at each point: a filled `dot`, an open `square` (large enough to
 * ring a dot at the same place), a filled `triangle`, or `none`.
 *
 * @example
 * ```ts
 * const marker: Marker = 'square';
 * ```
 */
export type Marker = 'dot' | 'square' | 'triangle' | 'none';

/**
 * One line of a panel, with its legend text.
 *
 * @example
 * ```ts
 * const s: Series = { label: 'corepool Pool.map', style: 'measured', points: [{ x: 1, y: 1 }, { x: 2, y: 1.9 }] };
 * ```
 */
export interface Series {
  readonly label: string;
  readonly style: SeriesStyle;
  /** Drawn in order of `x`; need not be sorted. */
  readonly points: readonly Point[];
  /** Any CSS colour; by default the palette colour at the series' index (grey for `ideal`). */
  readonly color?: string;
  /** The mark at each point; default `dot` for `measured`, `none` otherwise. */
  readonly marker?: Marker;
  /** An SVG dash pattern instead of the style's (`''` for solid). */
  readonly dash?: string;
  /** Text written beside the series' last point, right of the plot (e.g. `101x`). */
  readonly endLabel?: string;
}

/**
 * One axis of a panel: `log2` with ticks at powers of two, or `linear` with
 * ticks at `ticks` or at a round step. Ticks closer than a label's width are
 * thinned out.
 *
 * @example
 * ```ts
 * const x: Axis = { scale: 'linear', min: 1, max: 4, ticks: [1, 2, 3, 4], label: 'workers' };
 * ```
 */
export interface Axis {
  readonly scale: 'linear' | 'log2';
  /** Default 1 for a log2 x axis, 0 for a linear one. */
  readonly min?: number;
  readonly max: number;
  readonly ticks?: readonly number[];
  /** Default `workers` (x) and `speedup` (y). */
  readonly label?: string;
}

/**
 * A shaded range of `x` with a label at its top, e.g. the widths that
 * oversubscribe the cores.
 *
 * @example
 * ```ts
 * const band: Band = { from: 2, to: 4, label: 'more workers than cores' };
 * ```
 */
export interface Band {
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

/**
 * One chart in the grid.
 *
 * @example
 * ```ts
 * const panel: Panel = { title: 'primes', subtitle: '128 tasks of 3.9 ms', series: [], bands: [{ from: 4, to: 128, label: 'model' }] };
 * ```
 */
export interface Panel {
  readonly title: string;
  /** Wrapped to the panel's width; a newline starts a new line. */
  readonly subtitle?: string;
  readonly series: readonly Series[];
  /** Default: log2 from 1 to {@link ChartOptions.xMax}. */
  readonly x?: Axis;
  /** Default: log2 up to {@link ChartOptions.yMax}, from the smallest y of the panels that use it. */
  readonly y?: Axis;
  readonly bands?: readonly Band[];
}

/**
 * What kind of run the chart shows, printed in a band under the title:
 * `ok` green on pale green, `warn` white on amber, `alert` white on red.
 *
 * @example
 * ```ts
 * const badge: Badge = { text: 'QUICK RUN', detail: 'smaller jobs, 2 rounds: not a headline result', tone: 'warn' };
 * ```
 */
export interface Badge {
  readonly text: string;
  readonly detail?: string;
  readonly tone: 'ok' | 'warn' | 'alert';
}

/**
 * A paragraph under the panels: a bold `title`, then `text`, after a line
 * sample in `style` when one is given (to key the note to the lines it explains).
 *
 * @example
 * ```ts
 * const note: Note = { title: 'Model (dashed):', text: 'measured costs, no fitted parameter.', style: 'model', color: '#0072B2' };
 * ```
 */
export interface Note {
  readonly title?: string;
  readonly text: string;
  readonly style?: SeriesStyle;
  readonly color?: string;
  readonly dash?: string;
}

/**
 * The whole chart's title, grid and default axis ranges.
 *
 * @example
 * ```ts
 * const options: ChartOptions = { title: 'corepool speedup against workers', xMax: 64 };
 * ```
 */
export interface ChartOptions {
  readonly title: string;
  /** E.g. the machine line: CPU, cores, Node version, date. */
  readonly subtitle?: string;
  /** Right end of the default x axis (log2 from 1); at least 2. Default 128. */
  readonly xMax?: number;
  /**
   * Top of the default y axis (log2); above 1. Default `xMax`. That axis
   * starts at the largest power of two at or below the smallest y of the
   * panels using it, at most 1 and at least 1/16, so one scale serves them all.
   */
  readonly yMax?: number;
  /** Panels per row; default 2 when there is more than one panel. */
  readonly columns?: number;
  /** A heading above each column. */
  readonly columnTitles?: readonly string[];
  readonly badge?: Badge;
  readonly notes?: readonly Note[];
  /** Written as the root's `data-source` attribute, e.g. the result file the chart was drawn from. */
  readonly source?: string;
}

/** Okabe–Ito colours, colour-blind safe; yellow left out as unreadable on white. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;
const IDEAL_GREY = '#8c8c8c';
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const TONES: Readonly<Record<Badge['tone'], { readonly fill: string; readonly text: string }>> = {
  ok: { fill: '#e3f1e6', text: '#1b5e20' },
  warn: { fill: '#b35900', text: '#ffffff' },
  alert: { fill: '#b71c1c', text: '#ffffff' },
};

/** Stroke of each style, and the order drawn in (lower first, so measured lines lie on top). */
const STYLES: Readonly<Record<SeriesStyle, { readonly width: number; readonly dash: string; readonly rank: number }>> =
  {
    ideal: { width: 1.25, dash: '', rank: 0 },
    amdahl: { width: 2.25, dash: '0.5 4', rank: 1 },
    model: { width: 1.75, dash: '6 4', rank: 2 },
    measured: { width: 2, dash: '', rank: 3 },
  };

const PAD = 16; // around the grid of panels, and between panels
const PANEL_W = 480;
const PLOT_LEFT = 60; // room for y tick labels and the rotated axis label
const END_LABEL_W = 44; // room right of the plot for end labels
const PLOT_H = 200;
const INSET = 8; // the data range starts this far inside the plot rectangle
const LEGEND_ROW = 18;
const SAMPLE_W = 26; // legend line sample
const MARKER_R = 3.5;
const SQUARE_HALF = 5.5;
const BADGE_LINE = 16;
const NOTE_SIZE = 12;
const NOTE_LINE = 17;
const Y_FLOOR = 1 / 16; // smallest default y axis start; smaller speedups are clamped to it

interface LegendItem {
  readonly series: Series;
  readonly color: string;
  readonly x: number;
  readonly row: number;
}

interface Layout {
  readonly width: number;
  readonly height: number;
  readonly cols: number;
  readonly badgeTop: number;
  /** The badge's detail, wrapped: the first line follows its text, the rest go below. */
  readonly badgeLines: readonly string[];
  readonly columnTop: number;
  readonly legendTop: number;
  readonly legends: readonly LegendItem[][];
  readonly gridTop: number;
  readonly panelH: number;
  readonly subtitleLines: readonly (readonly string[])[];
  readonly plotTop: number;
  readonly notesTop: number;
  readonly notes: readonly (readonly string[])[];
}

/**
 * Renders panels, in a grid filled row by row, into a standalone SVG
 * document. A point outside an axis range is clamped to the end of that range
 * (drawn on the plot's edge), not dropped. Each series is one
 * `<polyline class="series STYLE" data-label=…>`; a series with markers also
 * gets `<g class="markers" data-label=… data-marker=…>` with one mark per
 * point. Each column has one legend listing every label of its panels once.
 * All text is XML-escaped.
 *
 * @example
 * ```ts
 * const svg = renderChart(
 *   [{ title: 'primes', bands: [{ from: 2, to: 128, label: 'model' }], series: [
 *     { label: 'corepool Pool.map', style: 'measured', points: [{ x: 1, y: 1 }, { x: 2, y: 1.93 }] },
 *     { label: 'ideal', style: 'ideal', points: [{ x: 1, y: 1 }, { x: 128, y: 128 }] },
 *   ] }],
 *   { title: 'corepool speedup against workers', badge: { text: 'QUICK RUN', tone: 'warn' } },
 * );
 * writeFileSync('speedup.svg', svg);
 * ```
 * @throws {RangeError} If `panels` is empty, `options.xMax` is below 2,
 * `options.yMax` not above 1, `options.columns` not a positive integer, an
 * axis empty (or a log2 axis not above 0), a band's ends not finite with
 * `from < to`, or a point's `x` or `y` not a finite positive number (the
 * message names the panel, the series and the point).
 */
export function renderChart(panels: readonly Panel[], options: ChartOptions): string {
  if (panels.length === 0) throw new RangeError('renderChart needs at least one panel: received 0');
  const xMax = options.xMax ?? 128;
  if (!(Number.isFinite(xMax) && xMax >= 2)) {
    throw new RangeError(`options.xMax must be a finite number ≥ 2: received ${xMax}`);
  }
  const yMax = options.yMax ?? xMax;
  if (!(Number.isFinite(yMax) && yMax > 1)) {
    throw new RangeError(`options.yMax must be a finite number > 1: received ${yMax}`);
  }
  const cols = options.columns ?? (panels.length > 1 ? 2 : 1);
  if (!(Number.isInteger(cols) && cols > 0)) {
    throw new RangeError(`options.columns must be a positive integer: received ${cols}`);
  }
  const minY = checkPanels(panels);
  const yMin = Math.max(Y_FLOOR, Math.min(1, 2 ** Math.floor(Math.log2(minY))));
  const defaults = {
    x: { scale: 'log2', min: 1, max: xMax } as Axis,
    y: { scale: 'log2', min: yMin, max: yMax } as Axis,
  };
  const layout = layOut(panels, options, Math.min(cols, panels.length));

  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 ${layout.width} ${layout.height}" ` +
      `width="${layout.width}" height="${layout.height}" font-family="${esc(FONT)}" font-size="12" fill="#222"` +
      `${options.source === undefined ? '' : ` data-source="${esc(options.source)}"`}>`,
    `  <title>${esc(options.title)}</title>`,
  ];
  const desc = [options.subtitle, options.badge && `${options.badge.text}: ${options.badge.detail ?? ''}`]
    .filter((d) => d !== undefined)
    .join('. ');
  if (desc !== '') out.push(`  <desc>${esc(desc)}</desc>`);
  out.push(`  <rect class="background" width="${layout.width}" height="${layout.height}" fill="#fff"/>`);
  out.push(
    `  <text class="chart-title" x="${PAD}" y="30" font-size="18" font-weight="bold">${esc(options.title)}</text>`,
  );
  if (options.subtitle !== undefined) {
    out.push(`  <text class="chart-subtitle" x="${PAD}" y="50" fill="#555">${esc(options.subtitle)}</text>`);
  }
  if (options.badge !== undefined) out.push(...renderBadge(options.badge, layout));
  out.push(...renderColumnHeads(options, layout));
  panels.forEach((panel, i) => {
    const left = PAD + (i % layout.cols) * (PANEL_W + PAD);
    const top = layout.gridTop + Math.floor(i / layout.cols) * (layout.panelH + PAD);
    out.push(...renderPanel(panel, i, layout, defaults, left, top));
  });
  out.push(...renderNotes(options.notes ?? [], layout), '</svg>', '');
  return out.join('\n');
}

/** Throws on a bad point, axis or band; returns the smallest y of the panels on the default y axis (1 when none). */
function checkPanels(panels: readonly Panel[]): number {
  let minY = 1;
  panels.forEach((panel, i) => {
    const where = `panels[${i}] '${panel.title}'`;
    for (const [name, axis] of [
      ['x', panel.x],
      ['y', panel.y],
    ] as const) {
      if (axis === undefined) continue;
      const min = axis.min ?? (axis.scale === 'log2' ? 1 : 0);
      if (
        !(Number.isFinite(min) && Number.isFinite(axis.max) && min < axis.max && (axis.scale === 'linear' || min > 0))
      ) {
        throw new RangeError(
          `${where}: the ${name} axis must run from a finite min below a finite max: ${min}..${axis.max}`,
        );
      }
    }
    for (const b of panel.bands ?? []) {
      if (!(Number.isFinite(b.from) && Number.isFinite(b.to) && b.from < b.to)) {
        throw new RangeError(`${where}: band '${b.label}' must have finite from < to: received ${b.from}..${b.to}`);
      }
    }
    for (const series of panel.series) {
      series.points.forEach(({ x, y }, j) => {
        if (!(Number.isFinite(x) && x > 0 && Number.isFinite(y) && y > 0)) {
          throw new RangeError(
            `${where}, series '${series.label}': point ${j} { x: ${x}, y: ${y} } must have finite positive x and y`,
          );
        }
        if (panel.y === undefined) minY = Math.min(minY, y);
      });
    }
  });
  return minY;
}

function layOut(panels: readonly Panel[], options: ChartOptions, cols: number): Layout {
  const width = Math.ceil(Math.max(cols * (PANEL_W + PAD) + PAD, textWidth(options.title, 18) + 2 * PAD));
  const badgeTop = options.subtitle === undefined ? 42 : 62;
  const badge = options.badge;
  const badgeLines =
    badge?.detail === undefined ? [] : wrap(badge.detail, 12, width - 2 * PAD - 38 - textWidth(badge.text, 15) * 1.15);
  const columnTop = badgeTop + (badge === undefined ? 0 : badgeHeight(badgeLines) + 10);
  const legendTop = columnTop + (options.columnTitles === undefined ? 8 : 30);
  const legends = Array.from({ length: cols }, (_, c) => legendOf(panels.filter((_p, i) => i % cols === c)));
  const legendRows = Math.max(0, ...legends.map((items) => Math.max(-1, ...items.map((it) => it.row)) + 1));
  const gridTop = legendTop + legendRows * LEGEND_ROW + (legendRows > 0 ? 6 : 0);
  const subtitleLines = panels.map((p) => (p.subtitle === undefined ? [] : wrap(p.subtitle, 11, PANEL_W - 8)));
  const plotTop = 30 + 14 * Math.max(0, ...subtitleLines.map((l) => l.length));
  const panelH = plotTop + PLOT_H + 42;
  const rows = Math.ceil(panels.length / cols);
  const notesTop = gridTop + rows * (panelH + PAD) + 4;
  const notes = (options.notes ?? []).map((note) =>
    wrap(
      `${note.title === undefined ? '' : `${note.title} `}${note.text}`,
      NOTE_SIZE,
      width - 2 * PAD - noteIndent(note),
    ),
  );
  const notesH = notes.reduce((s, lines) => s + lines.length * NOTE_LINE + 6, 0);
  return {
    width,
    height: notesTop + notesH + (notes.length > 0 ? PAD : 0),
    cols,
    badgeTop,
    badgeLines,
    columnTop,
    legendTop,
    legends,
    gridTop,
    panelH,
    subtitleLines,
    plotTop,
    notesTop,
    notes,
  };
}

/** Every label of the column's panels once, in order of first appearance, laid out in rows across a panel's width. */
function legendOf(panels: readonly Panel[]): LegendItem[] {
  const items: LegendItem[] = [];
  const seen = new Set<string>();
  let x = 0;
  let row = 0;
  for (const panel of panels) {
    panel.series.forEach((series, index) => {
      if (seen.has(series.label)) return;
      seen.add(series.label);
      const w = SAMPLE_W + 6 + textWidth(series.label, 11) + 18;
      if (x > 0 && x + w > PANEL_W) {
        x = 0;
        row++;
      }
      items.push({ series, color: colorOf(series, index), x, row });
      x += w;
    });
  }
  return items;
}

function badgeHeight(lines: readonly string[]): number {
  return 30 + BADGE_LINE * Math.max(0, lines.length - 1);
}

function renderBadge(badge: Badge, layout: Layout): string[] {
  const tone = TONES[badge.tone];
  const y = layout.badgeTop;
  const [first, ...rest] = layout.badgeLines;
  const detail =
    first === undefined
      ? ''
      : `<tspan class="run-kind-detail" dx="14" font-size="12" font-weight="normal">${esc(first)}</tspan>`;
  return [
    `  <g class="run-kind" data-tone="${badge.tone}">`,
    `    <rect x="${PAD}" y="${y}" width="${layout.width - 2 * PAD}" height="${badgeHeight(layout.badgeLines)}" rx="4" ` +
      `fill="${tone.fill}"/>`,
    `    <text x="${PAD + 12}" y="${y + 20}" font-size="15" font-weight="bold" fill="${tone.text}">` +
      `<tspan class="run-kind-label">${esc(badge.text)}</tspan>${detail}</text>`,
    ...rest.map(
      (line, i) =>
        `    <text class="run-kind-detail" x="${PAD + 12}" y="${y + 20 + BADGE_LINE * (i + 1)}" font-size="12" ` +
        `fill="${tone.text}">${esc(line)}</text>`,
    ),
    '  </g>',
  ];
}

/** Each column's title and legend. */
function renderColumnHeads(options: ChartOptions, layout: Layout): string[] {
  const out: string[] = [];
  for (let c = 0; c < layout.cols; c++) {
    const left = PAD + c * (PANEL_W + PAD);
    const title = options.columnTitles?.[c];
    if (title !== undefined) {
      out.push(
        `  <text class="column-title" x="${left}" y="${layout.columnTop + 18}" font-size="15" font-weight="bold">` +
          `${esc(title)}</text>`,
      );
    }
    const items = layout.legends[c] ?? [];
    if (items.length === 0) continue;
    out.push(`  <g class="legend" transform="translate(${left},${layout.legendTop})" font-size="11">`);
    for (const { series, color, x, row } of items) {
      const ly = row * LEGEND_ROW + 9;
      out.push(
        `    <g class="legend-item" data-label="${esc(series.label)}">`,
        `      <line x1="${n(x)}" y1="${ly}" x2="${n(x + SAMPLE_W)}" y2="${ly}" ${stroke(series, color)} stroke-linecap="round"/>`,
        ...mark(markerOf(series), x + SAMPLE_W / 2, ly, color).map((m) => `      ${m}`),
        `      <text x="${n(x + SAMPLE_W + 6)}" y="${ly + 4}">${esc(series.label)}</text>`,
        '    </g>',
      );
    }
    out.push('  </g>');
  }
  return out;
}

function renderPanel(
  panel: Panel,
  index: number,
  layout: Layout,
  defaults: { readonly x: Axis; readonly y: Axis },
  left: number,
  top: number,
): string[] {
  const { plotTop } = layout;
  const plotBottom = plotTop + PLOT_H;
  const plotRight = PANEL_W - (panel.series.some((s) => s.endLabel !== undefined) ? END_LABEL_W : 16);
  const x = scaleOf(panel.x ?? defaults.x, PLOT_LEFT + INSET, plotRight - INSET, 'workers');
  const y = scaleOf(panel.y ?? defaults.y, plotBottom - INSET, plotTop + INSET, 'speedup');
  const frame: Frame = { left: PLOT_LEFT, right: plotRight, top: plotTop, bottom: plotBottom };
  const out = [`  <g class="panel" transform="translate(${left},${top})">`];
  out.push(`    <text class="panel-title" x="0" y="18" font-size="14" font-weight="bold">${esc(panel.title)}</text>`);
  (layout.subtitleLines[index] ?? []).forEach((line, i) => {
    out.push(
      `    <text class="panel-subtitle" x="0" y="${34 + 14 * i}" font-size="11" fill="#555">${esc(line)}</text>`,
    );
  });
  for (const band of panel.bands ?? []) {
    const from = project(x, band.from);
    const to = project(x, band.to);
    const a = Math.max(frame.left, band.from <= x.min ? frame.left : from);
    const b = Math.min(frame.right, band.to >= x.max ? frame.right : to);
    if (b <= a) continue;
    out.push(
      `    <g class="band" data-label="${esc(band.label)}">`,
      `      <rect x="${n(a)}" y="${plotTop}" width="${n(b - a)}" height="${PLOT_H}" fill="#f1f1f1"/>`,
      `      <text x="${n((a + b) / 2)}" y="${plotTop + 15}" text-anchor="middle" font-size="11" ` +
        `font-style="italic" fill="#666">${esc(band.label)}</text>`,
      '    </g>',
    );
  }
  out.push(...renderAxes(x, y, frame));
  const drawn = panel.series
    .map((series, i) => ({ series, color: colorOf(series, i), order: i }))
    .sort((a, b) => STYLES[a.series.style].rank - STYLES[b.series.style].rank || a.order - b.order);
  for (const { series, color } of drawn) {
    const points = sortedPoints(series.points)
      .map((p) => `${n(project(x, p.x))},${n(project(y, p.y))}`)
      .join(' ');
    out.push(
      `    <polyline class="series ${series.style}" data-label="${esc(series.label)}" points="${points}" fill="none" ` +
        `${stroke(series, color)} stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }
  for (const { series, color } of drawn) {
    const marker = markerOf(series);
    if (marker === 'none') continue;
    out.push(`    <g class="markers" data-label="${esc(series.label)}" data-marker="${marker}">`);
    for (const p of sortedPoints(series.points)) {
      out.push(...mark(marker, project(x, p.x), project(y, p.y), color).map((m) => `      ${m}`));
    }
    out.push('    </g>');
  }
  out.push(...renderEndLabels(drawn, x, y, frame), '  </g>');
  return out;
}

/** Labels right of the plot at each labelled series' last point, pushed apart so none overlap. */
function renderEndLabels(
  drawn: readonly { readonly series: Series; readonly color: string }[],
  x: Scale,
  y: Scale,
  frame: Frame,
): string[] {
  const labels = drawn
    .filter(({ series }) => series.endLabel !== undefined && series.points.length > 0)
    .map(({ series, color }) => {
      const last = sortedPoints(series.points).at(-1) as Point;
      return { series, color, px: project(x, last.x), py: project(y, last.y) };
    })
    .sort((a, b) => a.py - b.py);
  const GAP = 13;
  const ys = labels.map((l) => l.py);
  for (let i = 1; i < ys.length; i++) ys[i] = Math.max(ys[i] as number, (ys[i - 1] as number) + GAP);
  const over = (ys.at(-1) ?? 0) - (frame.bottom - 4);
  if (over > 0)
    for (let i = ys.length - 1; i >= 0; i--)
      ys[i] = Math.min(ys[i] as number, frame.bottom - 4 - (ys.length - 1 - i) * GAP);
  if (labels.length === 0) return [];
  const out = ['    <g class="end-labels" font-size="11" font-weight="bold">'];
  labels.forEach(({ series, color }, i) => {
    const ly = Math.max(frame.top + 4, ys[i] as number);
    out.push(
      `      <text data-label="${esc(series.label)}" x="${n(frame.right + 5)}" y="${n(ly + 4)}" fill="${esc(color)}">` +
        `${esc(series.endLabel ?? '')}</text>`,
    );
  });
  out.push('    </g>');
  return out;
}

function renderNotes(notes: readonly Note[], layout: Layout): string[] {
  if (notes.length === 0) return [];
  const out = [`  <g class="notes" font-size="${NOTE_SIZE}" fill="#333">`];
  let top = layout.notesTop;
  notes.forEach((note, i) => {
    const lines = layout.notes[i] ?? [];
    const indent = noteIndent(note);
    out.push('    <g class="note">');
    if (note.style !== undefined) {
      const ly = top + 12 - 4;
      const sample: Series = {
        label: '',
        style: note.style,
        points: [],
        ...(note.color === undefined ? {} : { color: note.color }),
        ...(note.dash === undefined ? {} : { dash: note.dash }),
      };
      out.push(
        `      <line x1="${PAD}" y1="${ly}" x2="${PAD + SAMPLE_W}" y2="${ly}" ${stroke(sample, colorOf(sample, 0))} ` +
          'stroke-linecap="round"/>',
      );
    }
    lines.forEach((line, j) => {
      const ly = top + 12 + j * NOTE_LINE;
      const x = PAD + indent;
      // The title is bold where it starts the first line.
      if (j === 0 && note.title !== undefined && line.startsWith(note.title)) {
        out.push(
          `      <text x="${x}" y="${ly}"><tspan font-weight="bold">${esc(note.title)}</tspan>` +
            `${esc(line.slice(note.title.length))}</text>`,
        );
      } else {
        out.push(`      <text x="${x}" y="${ly}">${esc(line)}</text>`);
      }
    });
    out.push('    </g>');
    top += lines.length * NOTE_LINE + 6;
  });
  out.push('  </g>');
  return out;
}

function noteIndent(note: Note): number {
  return note.style === undefined ? 0 : SAMPLE_W + 10;
}

/** The SVG elements of one mark centred at (cx, cy). */
function mark(marker: Marker, cx: number, cy: number, color: string): string[] {
  const c = esc(color);
  switch (marker) {
    case 'dot':
      return [`<circle cx="${n(cx)}" cy="${n(cy)}" r="${MARKER_R}" fill="${c}" stroke="#fff"/>`];
    case 'square':
      return [
        `<rect x="${n(cx - SQUARE_HALF)}" y="${n(cy - SQUARE_HALF)}" width="${2 * SQUARE_HALF}" ` +
          `height="${2 * SQUARE_HALF}" fill="none" stroke="${c}" stroke-width="1.5"/>`,
      ];
    case 'triangle': {
      const r = 4.5;
      const pts = [
        [cx, cy - r],
        [cx + r * 0.87, cy + r / 2],
        [cx - r * 0.87, cy + r / 2],
      ];
      return [`<polygon points="${pts.map(([a, b]) => `${n(a ?? 0)},${n(b ?? 0)}`).join(' ')}" fill="${c}"/>`];
    }
    case 'none':
      return [];
  }
}

function markerOf(series: Series): Marker {
  return series.marker ?? (series.style === 'measured' ? 'dot' : 'none');
}

function stroke(series: Series, color: string): string {
  const { width, dash: styleDash } = STYLES[series.style];
  const dash = series.dash ?? styleDash;
  const dashed = dash === '' ? '' : ` stroke-dasharray="${esc(dash)}"`;
  return `stroke="${esc(color)}" stroke-width="${width}"${dashed}`;
}

function colorOf(series: Series, index: number): string {
  return series.color ?? (series.style === 'ideal' ? IDEAL_GREY : PALETTE[index % PALETTE.length]!);
}

function sortedPoints(points: readonly Point[]): Point[] {
  return [...points].sort((a, b) => a.x - b.x);
}
