/**
 * The speedup chart of `npm run bench`: a realistic four-panel chart is valid
 * standalone SVG, every series is drawn once in its style inside its plot,
 * text is escaped, output is deterministic, and bad input is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { type Panel, type Point, renderChart, type Series } from '../bench/lib/chart.js';

const T = { timeout: 2_000 };

const WIDTHS = [1, 2, 4, 8, 16, 32, 64, 128];

function amdahl(serial: number, n: number): number {
  return 1 / (serial + (1 - serial) / n);
}

/** Speedup of `tasks` equal tasks on `n` workers, a round of them at a time, less a per-task overhead. */
function rounds(tasks: number, n: number, efficiency: number): number {
  return (tasks / Math.ceil(tasks / n)) * efficiency;
}

function kernel(title: string, serial: number, measured: readonly [number, number, number][]): Panel {
  const at = (i: number): Point[] => measured.map((m) => ({ x: m[0], y: m[1 + i] as number }));
  return {
    title,
    subtitle: `128 tasks of 3.9 ms; Amdahl serial fraction ${(serial * 100).toFixed(1)}%`,
    measuredMax: 4,
    series: [
      { label: 'corepool Pool.map', style: 'measured', points: at(0) },
      { label: 'raw piscina', style: 'measured', points: at(1) },
      {
        label: 'python 3.11 multiprocessing',
        style: 'measured',
        points: measured.map(([x, , y]) => ({ x, y: y * 0.9 })),
      },
      { label: 'ideal', style: 'ideal', points: WIDTHS.map((x) => ({ x, y: x })) },
      {
        label: `Amdahl fit (serial ${(serial * 100).toFixed(1)}%)`,
        style: 'amdahl',
        points: WIDTHS.map((x) => ({ x, y: amdahl(serial, x) })),
      },
      {
        label: 'model, 128 tasks of 3.9 ms',
        style: 'model',
        points: WIDTHS.slice(1).map((x) => ({ x, y: rounds(128, x, 0.97) })),
      },
    ],
  };
}

/** Speedups at 1, 2 and 4 workers on a 2-core machine: [workers, corepool, piscina]. */
const PANELS: readonly Panel[] = [
  kernel('primes', 0.012, [
    [1, 0.98, 1],
    [2, 1.93, 1.95],
    [4, 1.97, 1.99],
  ]),
  kernel('mandelbrot', 0.02, [
    [1, 0.97, 1],
    [2, 1.9, 1.92],
    [4, 1.88, 1.94],
  ]),
  kernel('sha256', 0.05, [
    [1, 0.95, 0.99],
    [2, 1.81, 1.86],
    [4, 1.79, 1.84],
  ]),
  kernel('json round-trip', 0.3, [
    [1, 0.8, 0.9],
    [2, 1.2, 1.3],
    [4, 1.1, 1.25],
  ]),
];

const OPTIONS = {
  title: 'corepool speedup against workers',
  subtitle: 'AMD EPYC, 2 cores, node v20.20.2 — 2026-12-01',
};

type Element = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && name !== 'svg',
});

/** Every element named `tag` under `node`, at any depth. */
function all(node: Element, tag: string): Element[] {
  const found: Element[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('@_') || key === '#text' || !Array.isArray(value)) continue;
    for (const child of value as Element[]) {
      if (key === tag) found.push(child);
      found.push(...all(child, tag));
    }
  }
  return found;
}

function attr(el: Element, name: string): string | undefined {
  return el[`@_${name}`] as string | undefined;
}

function num(el: Element, name: string): number {
  return Number(attr(el, name));
}

function parse(svg: string): Element {
  assert.equal(XMLValidator.validate(svg), true);
  return (parser.parse(svg) as { svg: Element }).svg;
}

test('a four-panel chart is a valid standalone SVG document', T, () => {
  const svg = parse(renderChart(PANELS, OPTIONS));
  assert.equal(attr(svg, 'xmlns'), 'http://www.w3.org/2000/svg');
  assert.match(attr(svg, 'viewBox') ?? '', /^0 0 \d+ \d+$/);
  assert.ok(num(svg, 'width') > 0 && num(svg, 'height') > 0);
  assert.deepEqual(svg.title, [OPTIONS.title]);
  const panels = all(svg, 'g').filter((g) => attr(g, 'class') === 'panel');
  assert.equal(panels.length, 4);
  panels.forEach((g, i) => {
    const titles = all(g, 'text').filter((t) => attr(t, 'class') === 'panel-title');
    assert.deepEqual(
      titles.map((t) => t['#text']),
      [PANELS[i]?.title],
    );
    const texts = all(g, 'text').map((t) => t['#text']);
    for (const label of ['workers', 'speedup', 'model']) assert.ok(texts.includes(label), label);
  });
});

test('each series is drawn once, in its style, inside its plot', T, () => {
  const svg = parse(renderChart(PANELS, OPTIONS));
  const panels = all(svg, 'g').filter((g) => attr(g, 'class') === 'panel');
  panels.forEach((g, i) => {
    const rect = all(g, 'rect').find((r) => attr(r, 'class') === 'plot-area');
    assert.ok(rect, 'plot-area rect');
    const [left, top] = [num(rect, 'x'), num(rect, 'y')];
    const [right, bottom] = [left + num(rect, 'width'), top + num(rect, 'height')];
    const inside = (x: number, y: number): boolean => x >= left && x <= right && y >= top && y <= bottom;
    const lines = all(g, 'polyline');
    const series: readonly Series[] = PANELS[i]?.series ?? [];
    assert.equal(lines.length, series.length);
    for (const s of series) {
      const drawn = lines.filter((l) => attr(l, 'data-label') === s.label);
      assert.equal(drawn.length, 1, s.label);
      const line = drawn[0] as Element;
      assert.equal(attr(line, 'class'), `series ${s.style}`);
      if (s.style === 'model') assert.ok(attr(line, 'stroke-dasharray'), `${s.label} is dashed`);
      if (s.style === 'measured') assert.equal(attr(line, 'stroke-dasharray'), undefined, `${s.label} is solid`);
      const coords = (attr(line, 'points') ?? '').split(' ').map((p) => p.split(',').map(Number));
      assert.equal(coords.length, s.points.length);
      for (const [x, y] of coords) assert.ok(inside(x as number, y as number), `${s.label}: ${x},${y} in plot`);

      const markers = all(g, 'g').filter((m) => attr(m, 'class') === 'markers' && attr(m, 'data-label') === s.label);
      if (s.style === 'measured') {
        assert.equal(markers.length, 1, `${s.label} markers`);
        const circles = all(markers[0] as Element, 'circle');
        assert.equal(circles.length, s.points.length);
        for (const c of circles) assert.ok(inside(num(c, 'cx'), num(c, 'cy')));
      } else {
        assert.equal(markers.length, 0, `${s.label} has no markers`);
      }
    }
  });
});

test('x ticks are the powers of two up to xMax, evenly spaced', T, () => {
  for (const [xMax, expected] of [
    [128, ['1', '2', '4', '8', '16', '32', '64', '128']],
    [32, ['1', '2', '4', '8', '16', '32']],
    [100, ['1', '2', '4', '8', '16', '32', '64']],
  ] as const) {
    const svg = renderChart(PANELS.slice(0, 1), { title: 't', xMax });
    const group = /<g class="x-ticks"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
    const labels = [...group.matchAll(/<text x="([\d.]+)"[^>]*>([^<]*)<\/text>/g)];
    assert.deepEqual(
      labels.map((m) => m[2]),
      expected,
    );
    const xs = labels.map((m) => Number(m[1]));
    const gaps = xs.slice(1).map((x, i) => x - (xs[i] as number));
    for (const gap of gaps) assert.ok(Math.abs(gap - (gaps[0] as number)) <= 0.2, `even gaps: ${gaps}`);
  }
});

test('the y axis reaches below 1 when a speedup does', T, () => {
  const svg = renderChart(PANELS, OPTIONS); // json round-trip has 0.8
  const group = /<g class="y-ticks"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
  const labels = [...group.matchAll(/>([^<]+)<\/text>/g)].map((m) => m[1]);
  assert.deepEqual(labels, ['0.5', '1', '2', '4', '8', '16', '32', '64', '128']);
  const fast = renderChart([{ title: 'p', series: [{ label: 's', style: 'measured', points: [{ x: 2, y: 2 }] }] }], {
    title: 't',
  });
  assert.match(fast, /<g class="y-ticks"[^>]*>\s*<line[^>]*\/>\s*<text[^>]*>1<\/text>/);
});

test('text is XML-escaped in content and attributes', T, () => {
  const nasty = 'a<b & "c"';
  const out = renderChart(
    [{ title: nasty, subtitle: nasty, series: [{ label: nasty, style: 'measured', points: [{ x: 2, y: 1.5 }] }] }],
    { title: nasty, subtitle: nasty },
  );
  assert.ok(!out.includes('a<b'), 'no raw <');
  assert.ok(out.includes('a&lt;b &amp; &quot;c&quot;'));
  const svg = parse(out);
  assert.deepEqual(svg.title, [nasty]);
  const line = all(svg, 'polyline')[0] as Element;
  assert.equal(attr(line, 'data-label'), nasty);
  const texts = all(svg, 'text').map((t) => t['#text']);
  assert.ok(texts.includes(nasty));
  // One point: a marker, and a polyline that draws nothing.
  assert.equal(all(svg, 'circle').filter((c) => attr(c, 'r') === '3.5').length, 2); // marker + legend sample
});

test('output is deterministic', T, () => {
  assert.equal(renderChart(PANELS, OPTIONS), renderChart(structuredClone(PANELS), { ...OPTIONS }));
});

test('points outside the axes are clamped to the plot edge', T, () => {
  const svg = parse(
    renderChart(
      [
        {
          title: 'p',
          series: [
            {
              label: 's',
              style: 'model',
              points: [
                { x: 0.5, y: 0.001 },
                { x: 1000, y: 1000 },
              ],
            },
          ],
        },
      ],
      { title: 't', xMax: 16 },
    ),
  );
  const rect = all(svg, 'rect').find((r) => attr(r, 'class') === 'plot-area') as Element;
  const coords = (attr(all(svg, 'polyline')[0] as Element, 'points') ?? '').split(/[ ,]/).map(Number);
  const [x0, y0, x1, y1] = coords as [number, number, number, number];
  assert.ok(x0 > num(rect, 'x') && x1 < num(rect, 'x') + num(rect, 'width'));
  assert.ok(y0 < num(rect, 'y') + num(rect, 'height') && y1 > num(rect, 'y'));
});

test('bad input throws a RangeError that names the problem', T, () => {
  const one = (points: Point[]): Panel[] => [
    { title: 'primes', series: [{ label: 'corepool Pool.map', style: 'measured', points }] },
  ];
  assert.throws(
    () =>
      renderChart(
        one([
          { x: 1, y: 1 },
          { x: 2, y: Number.NaN },
        ]),
        { title: 't' },
      ),
    {
      name: 'RangeError',
      message: /'primes'.*'corepool Pool\.map'.*point 1 \{ x: 2, y: NaN \}/,
    },
  );
  assert.throws(() => renderChart(one([{ x: 0, y: 1 }]), { title: 't' }), {
    name: 'RangeError',
    message: /'corepool Pool\.map'.*point 0 \{ x: 0, y: 1 \}/,
  });
  assert.throws(() => renderChart(one([{ x: 1, y: -1 }]), { title: 't' }), RangeError);
  assert.throws(() => renderChart(one([{ x: Number.POSITIVE_INFINITY, y: 1 }]), { title: 't' }), RangeError);
  assert.throws(() => renderChart([], { title: 't' }), { name: 'RangeError', message: /at least one panel/ });
  assert.throws(() => renderChart(one([]), { title: 't', xMax: 1 }), { name: 'RangeError', message: /options\.xMax/ });
  assert.throws(() => renderChart(one([]), { title: 't', yMax: 1 }), { name: 'RangeError', message: /options\.yMax/ });
  assert.throws(() => renderChart([{ title: 'p', series: [], measuredMax: Number.NaN }], { title: 't' }), {
    name: 'RangeError',
    message: /measuredMax/,
  });
});
