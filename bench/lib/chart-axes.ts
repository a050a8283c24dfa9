/**
 * The axes of a chart panel: linear or log2 scales, where their ticks go,
 * and the grid, frame and labels drawn for them.
 *
 * @module
 */

import type { Axis } from './chart.js';
import { esc, n, textWidth } from './svg-text.js';

/**
 * An axis in pixels: `min..max` in data maps to `from..to`, linearly or on a
 * log2 scale; values outside are clamped.
 *
 * @example
 * ```ts
 * const x: Scale = scaleOf({ scale: 'log2', max: 128 }, 68, 456, 'workers');
 * ```
 */
export interface Scale {
  readonly log: boolean;
  readonly min: number;
  readonly max: number;
  readonly from: number;
  readonly to: number;
  readonly ticks?: readonly number[] | undefined;
  readonly label: string;
}

/**
 * The scale of `axis` drawn from pixel `from` to `to`; `label` unless the axis names its own.
 *
 * @example
 * ```ts
 * scaleOf({ scale: 'linear', min: 1, max: 4 }, 68, 456, 'workers').min; // 1
 * ```
 */
export function scaleOf(axis: Axis, from: number, to: number, label: string): Scale {
  const log = axis.scale === 'log2';
  return {
    log,
    min: axis.min ?? (log ? 1 : 0),
    max: axis.max,
    from,
    to,
    ticks: axis.ticks,
    label: axis.label ?? label,
  };
}

/**
 * Pixel position of `v`, clamped to the axis range.
 *
 * @example
 * ```ts
 * project(scaleOf({ scale: 'log2', max: 128 }, 0, 70, 'x'), 2); // 10
 * ```
 */
export function project(s: Scale, v: number): number {
  const c = Math.min(Math.max(v, s.min), s.max);
  const t = s.log ? Math.log2(c / s.min) / Math.log2(s.max / s.min) : (c - s.min) / (s.max - s.min);
  return s.from + (s.to - s.from) * t;
}

/**
 * The ticks of an axis, none closer than `minGap` pixels: for log2 the powers
 * of two from `min` (every one, or every k-th); for linear the given ticks
 * or multiples of a round step (1, 2, 2.5 or 5 × 10ⁿ, about 5 to the axis).
 *
 * @example
 * ```ts
 * ticks(scaleOf({ scale: 'linear', max: 2.5 }, 200, 0, 'y'), 16); // [0, 0.5, 1, 1.5, 2, 2.5]
 * ```
 */
export function ticks(s: Scale, minGap: number): number[] {
  if (s.log) {
    const perDoubling = Math.abs(s.to - s.from) / Math.log2(s.max / s.min);
    const step = Math.max(1, Math.ceil(minGap / perDoubling));
    const out: number[] = [];
    for (let i = 0; s.min * 2 ** i <= s.max * (1 + 1e-9); i += step) out.push(s.min * 2 ** i);
    return out;
  }
  let candidates: number[];
  if (s.ticks !== undefined) {
    candidates = [...s.ticks].filter((v) => v >= s.min && v <= s.max).sort((a, b) => a - b);
  } else {
    const raw = (s.max - s.min) / 5;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
    candidates = [];
    for (let v = Math.ceil(s.min / step) * step; v <= s.max + step * 1e-9; v += step) {
      candidates.push(Number(v.toPrecision(12)));
    }
  }
  const out: number[] = [];
  for (const v of candidates) {
    const last = out.at(-1);
    if (last === undefined || Math.abs(project(s, v) - project(s, last)) >= minGap) out.push(v);
  }
  return out;
}

/** A tick's label: the value without float noise. */
function tickText(v: number): string {
  return String(Number(v.toPrecision(6)));
}

/**
 * A plot's rectangle in a panel's coordinates.
 *
 * @example
 * ```ts
 * const frame: Frame = { left: 60, right: 464, top: 58, bottom: 258 };
 * ```
 */
export interface Frame {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/**
 * Grid, frame (`<rect class="plot-area">`, with the scale of each axis in
 * `data-x-scale` and `data-y-scale`), ticks with labels, and the axis titles of
 * one panel. The line at y = 1 (no speedup) is darker.
 *
 * @example
 * ```ts
 * out.push(...renderAxes(x, y, { left: 60, right: 464, top: 58, bottom: 258 }));
 * ```
 */
export function renderAxes(x: Scale, y: Scale, frame: Frame): string[] {
  const xTicks = ticks(x, textWidth(tickText(x.max), 11) + 12); // labels side by side
  const yTicks = ticks(y, 16); // labels stacked
  const out = ['    <g class="grid" stroke="#e6e6e6">'];
  for (const v of xTicks) {
    const px = n(project(x, v));
    out.push(`      <line x1="${px}" y1="${frame.top}" x2="${px}" y2="${frame.bottom}"/>`);
  }
  for (const v of yTicks) {
    const py = n(project(y, v));
    const even = v === 1 ? ' stroke="#bdbdbd"' : ''; // break-even: no speedup
    out.push(`      <line x1="${frame.left}" y1="${py}" x2="${frame.right}" y2="${py}"${even}/>`);
  }
  out.push(
    '    </g>',
    `    <rect class="plot-area" x="${frame.left}" y="${frame.top}" width="${frame.right - frame.left}" ` +
      `height="${frame.bottom - frame.top}" fill="none" stroke="#9e9e9e" data-x-scale="${x.log ? 'log2' : 'linear'}" ` +
      `data-y-scale="${y.log ? 'log2' : 'linear'}"/>`,
    '    <g class="x-ticks" text-anchor="middle" font-size="11" fill="#444">',
  );
  for (const v of xTicks) {
    const px = n(project(x, v));
    out.push(
      `      <line x1="${px}" y1="${frame.bottom}" x2="${px}" y2="${frame.bottom + 4}" stroke="#9e9e9e"/>`,
      `      <text x="${px}" y="${frame.bottom + 17}">${tickText(v)}</text>`,
    );
  }
  out.push('    </g>', '    <g class="y-ticks" text-anchor="end" font-size="11" fill="#444">');
  for (const v of yTicks) {
    const py = project(y, v);
    out.push(
      `      <line x1="${frame.left - 4}" y1="${n(py)}" x2="${frame.left}" y2="${n(py)}" stroke="#9e9e9e"/>`,
      `      <text x="${frame.left - 7}" y="${n(py + 4)}">${tickText(v)}</text>`,
    );
  }
  const midX = n((frame.left + frame.right) / 2);
  const midY = n((frame.top + frame.bottom) / 2);
  out.push(
    '    </g>',
    `    <text class="axis-label" x="${midX}" y="${frame.bottom + 34}" text-anchor="middle" fill="#444">` +
      `${esc(x.label)}</text>`,
    `    <text class="axis-label" transform="translate(14,${midY}) rotate(-90)" text-anchor="middle" fill="#444">` +
      `${esc(y.label)}</text>`,
  );
  return out;
}
