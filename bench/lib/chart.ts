/**
 * Speedup charts as one standalone SVG 1.1 document: log–log panels of
 * speedup against workers, built from strings with no dependencies so every
 * bench can write a picture beside its JSON.
 *
 * One panel, in its own coordinates (every panel has the same size and the
 * same axes, so panels compare at a glance):
 *
 * ```text
 *   title, subtitle
 *   ┌──────────────────────┬─────────┐   <rect class="plot-area">
 *   │ grid at powers of 2  │  model  │   shaded from measuredMax to xMax
 *   └──────────────────────┴─────────┘
 *    1    2    4   …         64   128    x ticks; y ticks on the left
 *                 workers
 *   ── measured ●      ·· amdahl        legend: one or two columns
 * ```
 *
 * The data range maps to the plot rectangle inset by a few pixels, so markers
 * at x = 1 clear the axis. Output is deterministic: coordinates are rounded
 * to one decimal, and nothing depends on the clock or the locale.
 *
 * @module
 */

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
 * How a series is drawn: `measured` solid with circle markers, `model` dashed,
 * `ideal` a thin grey line, `amdahl` dotted.
 *
 * @example
 * ```ts
 * const style: SeriesStyle = 'model';
 * ```
 */
export type SeriesStyle = 'measured' | 'model' | 'ideal' | 'amdahl';

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
}

/**
 * One chart in the grid: usually one kernel with its baselines and models.
 *
 * @example
 * ```ts
 * const panel: Panel = { title: 'primes', subtitle: '128 tasks of 3.9 ms', series: [], measuredMax: 4 };
 * ```
 */
export interface Panel {
  readonly title: string;
  readonly subtitle?: string;
  readonly series: readonly Series[];
  /** Widest width measured on this machine: the region to its right is shaded and labelled 'model' (predictions only). */
  readonly measuredMax?: number;
}

/**
 * The whole chart's title and axis ranges.
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
  /** Right end of the x axis (log2 scale from 1, ticks at powers of two); at least 2. Default 128. */
  readonly xMax?: number;
  /**
   * Top of the y axis (log2 scale); above 1. Default `xMax`. The axis starts at
   * the largest power of two at or below the smallest y of all panels, at most
   * 1 and at least 1/16, so one scale serves every panel.
   */
  readonly yMax?: number;
}

/** Okabe–Ito colours, colour-blind safe; yellow left out as unreadable on white. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;
const IDEAL_GREY = '#8c8c8c';
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

/** Stroke of each style, and the order drawn in (lower first, so measured lines lie on top). */
const STYLES: Readonly<Record<SeriesStyle, { readonly width: number; readonly dash?: string; readonly rank: number }>> =
  {
    ideal: { width: 1.25, rank: 0 },
    amdahl: { width: 2, dash: '0.5 4', rank: 1 },
    model: { width: 1.75, dash: '6 4', rank: 2 },
    measured: { width: 2, rank: 3 },
  };

const PAD = 16; // around the grid of panels, and between panels
const PANEL_W = 480;
const PLOT_LEFT = 60; // room for y tick labels and the rotated 'speedup'
const PLOT_RIGHT = PANEL_W - 16;
const PLOT_H = 280;
const INSET = 8; // the data range starts this far inside the plot rectangle
const LEGEND_ROW = 17;
const SAMPLE_W = 24; // legend line sample
const MARKER_R = 3.5;
const Y_FLOOR = 1 / 16; // smallest y axis start; smaller speedups are clamped to it

/** A log2 axis: `min..max` in data maps to `from..to` in pixels; values outside are clamped. */
interface Scale {
  readonly min: number;
  readonly max: number;
  readonly from: number;
  readonly to: number;
}

interface Layout {
  readonly width: number;
  readonly height: number;
  readonly headerH: number;
  readonly cols: number;
  readonly panelH: number;
  readonly plotTop: number;
  readonly plotBottom: number;
  readonly legendRows: number;
  readonly x: Scale;
  readonly y: Scale;
}

/**
 * Renders panels, in a grid of two columns when there is more than one, into
 * a standalone SVG document. Both axes are log2; a point outside an axis
 * range is clamped to the end of that range (drawn on the plot's edge), not
 * dropped. Each series is one `<polyline class="series STYLE" data-label=…>`;
 * a measured series also gets `<g class="markers" data-label=…>` with one
 * `<circle>` per point. All text is XML-escaped.
 *
 * @example
 * ```ts
 * const svg = renderChart(
 *   [{ title: 'primes', measuredMax: 2, series: [
 *     { label: 'corepool Pool.map', style: 'measured', points: [{ x: 1, y: 1 }, { x: 2, y: 1.93 }] },
 *     { label: 'ideal', style: 'ideal', points: [{ x: 1, y: 1 }, { x: 128, y: 128 }] },
 *   ] }],
 *   { title: 'corepool speedup against workers', subtitle: 'AMD EPYC, 2 cores, node v20.20.2' },
 * );
 * writeFileSync('speedup.svg', svg);
 * ```
 * @throws {RangeError} If `panels` is empty, `options.xMax` is below 2 or
 * `options.yMax` not above 1, a `measuredMax` is not a positive number, or a
 * point's `x` or `y` is not a finite positive number (the message names the
 * panel, the series and the point).
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
  const minY = checkPanels(panels);
  const yMin = Math.max(Y_FLOOR, Math.min(1, 2 ** Math.floor(Math.log2(minY))));
  const layout = layOut(panels, options, xMax, yMin, yMax);

  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 ${layout.width} ${layout.height}" ` +
      `width="${layout.width}" height="${layout.height}" font-family="${esc(FONT)}" font-size="12" fill="#222">`,
    `  <title>${esc(options.title)}</title>`,
  ];
  if (options.subtitle !== undefined) out.push(`  <desc>${esc(options.subtitle)}</desc>`);
  out.push(`  <rect class="background" width="${layout.width}" height="${layout.height}" fill="#fff"/>`);
  out.push(
    `  <text class="chart-title" x="${PAD}" y="30" font-size="18" font-weight="bold">${esc(options.title)}</text>`,
  );
  if (options.subtitle !== undefined) {
    out.push(`  <text class="chart-subtitle" x="${PAD}" y="50" fill="#555">${esc(options.subtitle)}</text>`);
  }
  panels.forEach((panel, i) => {
    const left = PAD + (i % layout.cols) * (PANEL_W + PAD);
    const top = layout.headerH + Math.floor(i / layout.cols) * (layout.panelH + PAD);
    out.push(...renderPanel(panel, layout, left, top));
  });
  out.push('</svg>', '');
  return out.join('\n');
}

/** Throws on a bad point or `measuredMax`; returns the smallest y of all points (1 when there are none). */
function checkPanels(panels: readonly Panel[]): number {
  let minY = 1;
  panels.forEach((panel, i) => {
    const where = `panels[${i}] '${panel.title}'`;
    const m = panel.measuredMax;
    if (m !== undefined && !(Number.isFinite(m) && m > 0)) {
      throw new RangeError(`${where}: measuredMax must be a finite positive number: received ${m}`);
    }
    for (const series of panel.series) {
      series.points.forEach(({ x, y }, j) => {
        if (!(Number.isFinite(x) && x > 0 && Number.isFinite(y) && y > 0)) {
          throw new RangeError(
            `${where}, series '${series.label}': point ${j} { x: ${x}, y: ${y} } must have finite positive x and y`,
          );
        }
        minY = Math.min(minY, y);
      });
    }
  });
  return minY;
}

function layOut(panels: readonly Panel[], options: ChartOptions, xMax: number, yMin: number, yMax: number): Layout {
  const cols = panels.length > 1 ? 2 : 1;
  const headerH = options.subtitle === undefined ? 44 : 64;
  const plotTop = panels.some((p) => p.subtitle !== undefined) ? 52 : 36;
  const plotBottom = plotTop + PLOT_H;
  const labels = panels.flatMap((p) => p.series.map((s) => s.label));
  const columnW = (PLOT_RIGHT - PAD) / 2;
  const legendCols = labels.every((l) => SAMPLE_W + 8 + textWidth(l, 11) <= columnW - 8) ? 2 : 1;
  const legendRows = Math.ceil(Math.max(0, ...panels.map((p) => p.series.length)) / legendCols);
  const panelH = plotBottom + 46 + legendRows * LEGEND_ROW;
  const rows = Math.ceil(panels.length / cols);
  const titleW = Math.max(textWidth(options.title, 18), textWidth(options.subtitle ?? '', 12));
  return {
    width: Math.ceil(Math.max(cols * (PANEL_W + PAD) + PAD, titleW + 2 * PAD)),
    height: headerH + rows * (panelH + PAD),
    headerH,
    cols,
    panelH,
    plotTop,
    plotBottom,
    legendRows,
    x: { min: 1, max: xMax, from: PLOT_LEFT + INSET, to: PLOT_RIGHT - INSET },
    y: { min: yMin, max: yMax, from: plotBottom - INSET, to: plotTop + INSET },
  };
}

function renderPanel(panel: Panel, layout: Layout, left: number, top: number): string[] {
  const { x, y, plotTop, plotBottom } = layout;
  const out = [`  <g class="panel" transform="translate(${left},${top})">`];
  out.push(`    <text class="panel-title" x="0" y="18" font-size="14" font-weight="bold">${esc(panel.title)}</text>`);
  if (panel.subtitle !== undefined) {
    out.push(`    <text class="panel-subtitle" x="0" y="36" font-size="11" fill="#666">${esc(panel.subtitle)}</text>`);
  }
  if (panel.measuredMax !== undefined && panel.measuredMax < x.max) {
    const from = panel.measuredMax <= x.min ? PLOT_LEFT : project(x, panel.measuredMax);
    out.push(
      '    <g class="model-region">',
      `      <rect x="${n(from)}" y="${plotTop}" width="${n(PLOT_RIGHT - from)}" height="${PLOT_H}" fill="#f3f3f3"/>`,
      `      <line x1="${n(from)}" y1="${plotTop}" x2="${n(from)}" y2="${plotBottom}" stroke="#bdbdbd"/>`,
      `      <text x="${n((from + PLOT_RIGHT) / 2)}" y="${plotTop + 15}" text-anchor="middle" font-size="11" ` +
        `font-style="italic" fill="#777">model</text>`,
      '    </g>',
    );
  }
  out.push(...renderAxes(layout));
  const drawn = panel.series
    .map((series, index) => ({ series, color: series.color ?? defaultColor(series.style, index) }))
    .sort((a, b) => STYLES[a.series.style].rank - STYLES[b.series.style].rank);
  for (const { series, color } of drawn) {
    const points = sortedPoints(series.points)
      .map((p) => `${n(project(x, p.x))},${n(project(y, p.y))}`)
      .join(' ');
    out.push(
      `    <polyline class="series ${series.style}" data-label="${esc(series.label)}" points="${points}" fill="none" ` +
        `${stroke(series.style, color)} stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }
  for (const { series, color } of drawn) {
    if (series.style !== 'measured') continue;
    out.push(`    <g class="markers" data-label="${esc(series.label)}" fill="${esc(color)}" stroke="#fff">`);
    for (const p of sortedPoints(series.points)) {
      out.push(`      <circle cx="${n(project(x, p.x))}" cy="${n(project(y, p.y))}" r="${MARKER_R}"/>`);
    }
    out.push('    </g>');
  }
  out.push(...renderLegend(panel, layout), '  </g>');
  return out;
}

/** Grid, frame, ticks with labels, and the axis titles of one panel. */
function renderAxes(layout: Layout): string[] {
  const { x, y, plotTop, plotBottom } = layout;
  const xTicks = ticks(x, textWidth(String(2 ** Math.floor(Math.log2(x.max))), 11) + 10); // labels side by side
  const yTicks = ticks(y, 16); // labels stacked
  const out = ['    <g class="grid" stroke="#e8e8e8">'];
  for (const v of xTicks) {
    const px = n(project(x, v));
    out.push(`      <line x1="${px}" y1="${plotTop}" x2="${px}" y2="${plotBottom}"/>`);
  }
  for (const v of yTicks) {
    const py = n(project(y, v));
    const even = v === 1 ? ' stroke="#c8c8c8"' : ''; // break-even: no speedup
    out.push(`      <line x1="${PLOT_LEFT}" y1="${py}" x2="${PLOT_RIGHT}" y2="${py}"${even}/>`);
  }
  out.push(
    '    </g>',
    `    <rect class="plot-area" x="${PLOT_LEFT}" y="${plotTop}" width="${PLOT_RIGHT - PLOT_LEFT}" height="${PLOT_H}" ` +
      'fill="none" stroke="#9e9e9e"/>',
    '    <g class="x-ticks" text-anchor="middle" font-size="11" fill="#444">',
  );
  for (const v of xTicks) {
    const px = n(project(x, v));
    out.push(
      `      <line x1="${px}" y1="${plotBottom}" x2="${px}" y2="${plotBottom + 4}" stroke="#9e9e9e"/>`,
      `      <text x="${px}" y="${plotBottom + 17}">${String(v)}</text>`,
    );
  }
  out.push('    </g>', '    <g class="y-ticks" text-anchor="end" font-size="11" fill="#444">');
  for (const v of yTicks) {
    const py = project(y, v);
    out.push(
      `      <line x1="${PLOT_LEFT - 4}" y1="${n(py)}" x2="${PLOT_LEFT}" y2="${n(py)}" stroke="#9e9e9e"/>`,
      `      <text x="${PLOT_LEFT - 7}" y="${n(py + 4)}">${String(v)}</text>`,
    );
  }
  const midX = n((PLOT_LEFT + PLOT_RIGHT) / 2);
  const midY = n((plotTop + plotBottom) / 2);
  out.push(
    '    </g>',
    `    <text class="axis-label" x="${midX}" y="${plotBottom + 34}" text-anchor="middle" fill="#444">workers</text>`,
    `    <text class="axis-label" transform="translate(14,${midY}) rotate(-90)" text-anchor="middle" fill="#444">` +
      'speedup</text>',
  );
  return out;
}

/** Legend below the plot: a line sample in the series' style, then its label; filled column by column. */
function renderLegend(panel: Panel, layout: Layout): string[] {
  if (panel.series.length === 0) return [];
  const top = layout.plotBottom + 52;
  const columnW = (PLOT_RIGHT - PAD) / 2;
  const out = ['    <g class="legend" font-size="11">'];
  panel.series.forEach((series, i) => {
    const color = series.color ?? defaultColor(series.style, i);
    const lx = PAD + Math.floor(i / layout.legendRows) * columnW;
    const ly = top + (i % layout.legendRows) * LEGEND_ROW;
    out.push(
      '      <g class="legend-item">',
      `        <line x1="${n(lx)}" y1="${ly}" x2="${n(lx + SAMPLE_W)}" y2="${ly}" ${stroke(series.style, color)} ` +
        'stroke-linecap="round"/>',
    );
    if (series.style === 'measured') {
      out.push(
        `        <circle cx="${n(lx + SAMPLE_W / 2)}" cy="${ly}" r="${MARKER_R}" fill="${esc(color)}" stroke="#fff"/>`,
      );
    }
    out.push(`        <text x="${n(lx + SAMPLE_W + 8)}" y="${ly + 4}">${esc(series.label)}</text>`, '      </g>');
  });
  out.push('    </g>');
  return out;
}

function stroke(style: SeriesStyle, color: string): string {
  const { width, dash } = STYLES[style];
  const dashed = dash === undefined ? '' : ` stroke-dasharray="${dash}"`;
  return `stroke="${esc(color)}" stroke-width="${width}"${dashed}`;
}

function defaultColor(style: SeriesStyle, index: number): string {
  return style === 'ideal' ? IDEAL_GREY : PALETTE[index % PALETTE.length]!;
}

function sortedPoints(points: readonly Point[]): Point[] {
  return [...points].sort((a, b) => a.x - b.x);
}

/** Pixel position of `v`, clamped to the axis range. */
function project(s: Scale, v: number): number {
  const c = Math.min(Math.max(v, s.min), s.max);
  return s.from + ((s.to - s.from) * Math.log2(c / s.min)) / Math.log2(s.max / s.min);
}

/** Powers of two in the axis range, every one unless labels would sit closer than `minGap` pixels. */
function ticks(s: Scale, minGap: number): number[] {
  const perDoubling = Math.abs(s.to - s.from) / Math.log2(s.max / s.min);
  const step = Math.max(1, Math.ceil(minGap / perDoubling));
  const out: number[] = [];
  for (let i = 0; s.min * 2 ** i <= s.max; i += step) out.push(s.min * 2 ** i);
  return out;
}

/** Rounds to one decimal, the precision of every coordinate in the file. */
function n(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** A rough width of `text` in a sans-serif font at `size` px, for layout only. */
function textWidth(text: string, size: number): number {
  return text.length * size * 0.6;
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for XML content and attributes, and drops the control characters XML 1.0 forbids. */
function esc(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (code < 0x20 && c !== '\t' && c !== '\n' && c !== '\r') continue;
    out += ENTITIES[c] ?? c;
  }
  return out;
}
