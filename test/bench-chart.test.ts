/**
 * The chart renderer of the benches: a realistic four-panel chart is valid
 * standalone SVG, every series is drawn once in its style inside its plot,
 * linear and log2 axes tick where they should, bands, legends, end labels,
 * the run-kind band and notes are drawn, text is escaped, output is
 * deterministic, and bad input is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Panel, type Point, renderChart, type Series } from '../bench/lib/chart.js';
import { all, attr, byClass, type Element, parse } from './fixtures/svg.js';

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
    bands: [{ from: 4, to: 128, label: 'model' }],
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

function num(el: Element, name: string): number {
  return Number(attr(el, name));
}

test('a four-panel chart is a valid standalone SVG document', T, () => {
  const svg = parse(renderChart(PANELS, OPTIONS));
  assert.equal(attr(svg, 'xmlns'), 'http://www.w3.org/2000/svg');
  assert.match(attr(svg, 'viewBox') ?? '', /^0 0 \d+ \d+$/);
  assert.ok(num(svg, 'width') > 0 && num(svg, 'height') > 0);
  assert.deepEqual(svg.title, [OPTIONS.title]);
  const panels = byClass(svg, 'g', 'panel');
  assert.equal(panels.length, 4);
  panels.forEach((g, i) => {
    const titles = byClass(g, 'text', 'panel-title');
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
  const panels = byClass(svg, 'g', 'panel');
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
  assert.throws(
    () => renderChart([{ title: 'p', series: [], bands: [{ from: Number.NaN, to: 4, label: 'b' }] }], { title: 't' }),
    { name: 'RangeError', message: /band 'b'/ },
  );
  assert.throws(
    () => renderChart([{ title: 'p', series: [], bands: [{ from: 4, to: 2, label: 'b' }] }], { title: 't' }),
    { name: 'RangeError', message: /band 'b'.*4\.\.2/ },
  );
  assert.throws(
    () => renderChart([{ title: 'p', series: [], x: { scale: 'linear', min: 4, max: 4 } }], { title: 't' }),
    {
      name: 'RangeError',
      message: /'p': the x axis/,
    },
  );
  assert.throws(() => renderChart([{ title: 'p', series: [], y: { scale: 'log2', min: 0, max: 4 } }], { title: 't' }), {
    name: 'RangeError',
    message: /'p': the y axis/,
  });
  assert.throws(() => renderChart(one([]), { title: 't', columns: 0 }), {
    name: 'RangeError',
    message: /options\.columns/,
  });
});

/** The labels of a panel's tick group, with their x or y positions. */
function tickLabels(panelSvg: string, axis: 'x' | 'y'): { at: number; text: string }[] {
  const group = new RegExp(`<g class="${axis}-ticks"[^>]*>([\\s\\S]*?)</g>`).exec(panelSvg)?.[1] ?? '';
  return [...group.matchAll(/<text x="([\d.-]+)" y="([\d.-]+)">([^<]*)<\/text>/g)].map((m) => ({
    at: Number(axis === 'x' ? m[1] : m[2]),
    text: m[3] as string,
  }));
}

test('a linear axis ticks at the given values, or at a round step, evenly spaced', T, () => {
  const svg = renderChart(
    [
      {
        title: 'measured',
        x: { scale: 'linear', min: 1, max: 4, ticks: [1, 2, 3, 4] },
        y: { scale: 'linear', min: 0, max: 2.5, label: 'speedup over the serial loop' },
        series: [
          {
            label: 'corepool',
            style: 'measured',
            points: [
              { x: 1, y: 0.9 },
              { x: 4, y: 1.8 },
            ],
          },
        ],
      },
    ],
    { title: 't' },
  );
  assert.match(svg, /class="plot-area"[^>]*data-x-scale="linear" data-y-scale="linear"/);
  const xs = tickLabels(svg, 'x');
  assert.deepEqual(
    xs.map((t) => t.text),
    ['1', '2', '3', '4'],
  );
  const gaps = xs.slice(1).map((t, i) => t.at - (xs[i] as { at: number }).at);
  for (const gap of gaps) assert.ok(Math.abs(gap - (gaps[0] as number)) <= 0.2, `even gaps: ${gaps}`);
  assert.deepEqual(
    tickLabels(svg, 'y').map((t) => t.text),
    ['0', '0.5', '1', '1.5', '2', '2.5'],
  );
  assert.ok(svg.includes('>speedup over the serial loop</text>'));
});

test('a band shades its x range, labelled, inside the plot', T, () => {
  const svg = parse(
    renderChart(
      [
        {
          title: 'p',
          x: { scale: 'linear', min: 1, max: 4 },
          y: { scale: 'linear', max: 3 },
          bands: [{ from: 2, to: 4, label: 'more workers than cores' }],
          series: [{ label: 's', style: 'measured', points: [{ x: 1, y: 1 }] }],
        },
      ],
      { title: 't' },
    ),
  );
  const band = all(svg, 'g').find((g) => attr(g, 'class') === 'band') as Element;
  assert.equal(attr(band, 'data-label'), 'more workers than cores');
  assert.deepEqual(
    all(band, 'text').map((t) => t['#text']),
    ['more workers than cores'],
  );
  const plot = all(svg, 'rect').find((r) => attr(r, 'class') === 'plot-area') as Element;
  const shade = all(band, 'rect')[0] as Element;
  const [left, right] = [num(plot, 'x'), num(plot, 'x') + num(plot, 'width')];
  // From x = 2 (a third of the way along 1..4, inside the inset) to the right edge.
  assert.ok(num(shade, 'x') > left + (right - left) / 4 && num(shade, 'x') < left + (right - left) / 2);
  assert.equal(num(shade, 'x') + num(shade, 'width'), right);
});

test('series that coincide stay distinguishable: own colour, dash and marker', T, () => {
  const same = [
    { x: 1, y: 0.95 },
    { x: 2, y: 1.9 },
  ];
  const svg = parse(
    renderChart(
      [
        {
          title: 'p',
          series: [
            { label: 'corepool', style: 'measured', color: '#0072B2', points: same },
            { label: 'piscina', style: 'measured', color: '#D55E00', dash: '5 3', marker: 'square', points: same },
            { label: 'python', style: 'measured', marker: 'triangle', points: same },
          ],
        },
      ],
      { title: 't' },
    ),
  );
  const line = (label: string): Element => all(svg, 'polyline').find((l) => attr(l, 'data-label') === label) as Element;
  assert.equal(attr(line('corepool'), 'stroke-dasharray'), undefined);
  assert.equal(attr(line('piscina'), 'stroke-dasharray'), '5 3');
  assert.notEqual(attr(line('corepool'), 'stroke'), attr(line('piscina'), 'stroke'));
  const markers = (label: string): Element =>
    all(svg, 'g').find((g) => attr(g, 'class') === 'markers' && attr(g, 'data-label') === label) as Element;
  assert.equal(attr(markers('corepool'), 'data-marker'), 'dot');
  assert.equal(all(markers('corepool'), 'circle').length, 2);
  // An open square wider than the dot, so the dot shows inside it.
  assert.equal(attr(markers('piscina'), 'data-marker'), 'square');
  const squares = all(markers('piscina'), 'rect');
  assert.equal(squares.length, 2);
  assert.equal(attr(squares[0] as Element, 'fill'), 'none');
  assert.ok(num(squares[0] as Element, 'width') > 2 * 3.5);
  assert.equal(all(markers('python'), 'polygon').length, 2);
  // The piscina line is drawn after (above) corepool's, its markers too.
  const order = all(svg, 'polyline').map((l) => attr(l, 'data-label'));
  assert.ok(order.indexOf('piscina') > order.indexOf('corepool'));
});

test('each column has one legend listing every label of its panels once, in its style', T, () => {
  const svg = parse(renderChart(PANELS, { ...OPTIONS, columnTitles: ['left', 'right'] }));
  const legends = byClass(svg, 'g', 'legend');
  assert.equal(legends.length, 2, 'two columns, two legends');
  legends.forEach((legend, column) => {
    const labels = all(legend, 'g').map((g) => attr(g, 'data-label'));
    // Panels fill the grid row by row: column 0 holds panels 0 and 2, each with an Amdahl fit of its own.
    const own = PANELS.filter((_p, i) => i % 2 === column).flatMap((p) => p.series.map((s) => s.label));
    assert.deepEqual(labels, [...new Set(own)]);
    assert.equal(labels.filter((l) => l === 'corepool Pool.map').length, 1);
    const model = all(legend, 'g').find((g) => attr(g, 'data-label') === 'model, 128 tasks of 3.9 ms') as Element;
    assert.ok(attr(all(model, 'line')[0] as Element, 'stroke-dasharray'), 'the model sample is dashed');
  });
  const titles = byClass(svg, 'text', 'column-title');
  assert.deepEqual(
    titles.map((t) => t['#text']),
    ['left', 'right'],
  );
});

test('end labels sit right of the plot, in the series colour, never overlapping', T, () => {
  const svg = parse(
    renderChart(
      [
        {
          title: 'p',
          series: [
            {
              label: 'a',
              style: 'model',
              color: '#0072B2',
              points: [
                { x: 1, y: 1 },
                { x: 128, y: 14 },
              ],
              endLabel: '14x',
            },
            {
              label: 'b',
              style: 'amdahl',
              color: '#E69F00',
              points: [
                { x: 1, y: 1 },
                { x: 128, y: 14.5 },
              ],
              endLabel: '14.5x',
            },
            {
              label: 'c',
              style: 'model',
              points: [
                { x: 1, y: 1 },
                { x: 128, y: 101 },
              ],
              endLabel: '101x',
            },
          ],
        },
      ],
      { title: 't' },
    ),
  );
  const group = all(svg, 'g').find((g) => attr(g, 'class') === 'end-labels') as Element;
  const labels = all(group, 'text');
  assert.deepEqual(labels.map((t) => t['#text']).sort(), ['101x', '14.5x', '14x']);
  const plot = all(svg, 'rect').find((r) => attr(r, 'class') === 'plot-area') as Element;
  for (const t of labels) assert.ok(num(t, 'x') > num(plot, 'x') + num(plot, 'width'), 'right of the plot');
  const a = labels.find((t) => attr(t, 'data-label') === 'a') as Element;
  assert.equal(attr(a, 'fill'), '#0072B2');
  const ys = labels.map((t) => num(t, 'y')).sort((p, q) => p - q);
  for (let i = 1; i < ys.length; i++) assert.ok((ys[i] as number) - (ys[i - 1] as number) >= 12, `apart: ${ys}`);
});

test('the run-kind band and the notes are drawn, wrapped to the chart', T, () => {
  const long = 'word '.repeat(120).trim();
  const out = renderChart(PANELS, {
    ...OPTIONS,
    badge: { text: 'QUICK RUN · DISTURBED', detail: long, tone: 'alert' },
    notes: [{ title: 'Model (dashed):', text: long, style: 'model', color: '#0072B2' }, { text: 'plain' }],
    source: '2026-12-01-vm-quick.json',
  });
  const svg = parse(out);
  assert.equal(attr(svg, 'data-source'), '2026-12-01-vm-quick.json');
  const band = all(svg, 'g').find((g) => attr(g, 'class') === 'run-kind') as Element;
  assert.equal(attr(band, 'data-tone'), 'alert');
  assert.match(out, /<tspan class="run-kind-label">QUICK RUN · DISTURBED<\/tspan>/);
  const width = num(svg, 'width');
  const detail = [...out.matchAll(/class="run-kind-detail"[^>]*>([^<]*)</g)].map((m) => m[1] as string);
  assert.ok(detail.length >= 2, 'a long detail wraps');
  assert.equal(detail.join(' '), long);
  const rect = all(band, 'rect')[0] as Element;
  assert.ok(num(rect, 'height') > 30, 'the band grows with its lines');
  const notes = all(svg, 'g').find((g) => attr(g, 'class') === 'notes') as Element;
  const paragraphs = all(notes, 'g');
  assert.equal(paragraphs.length, 2);
  const lines = all(paragraphs[0] as Element, 'text');
  assert.ok(lines.length >= 3, 'a long note wraps');
  for (const t of lines) assert.ok(num(t, 'x') < width);
  assert.match(out, /<tspan font-weight="bold">Model \(dashed\):<\/tspan>/);
  assert.equal(all(paragraphs[0] as Element, 'line').length, 1, 'a line sample keys the note to its lines');
  assert.equal(all(paragraphs[1] as Element, 'line').length, 0);
  // The notes lie below the last panel and inside the document.
  const last = all(svg, 'g')
    .filter((g) => attr(g, 'class') === 'panel')
    .at(-1) as Element;
  const panelTop = Number(/translate\([\d.]+,([\d.]+)\)/.exec(attr(last, 'transform') ?? '')?.[1]);
  const noteYs = all(notes, 'text').map((t) => num(t, 'y'));
  assert.ok(Math.min(...noteYs) > panelTop + 200 && Math.max(...noteYs) < num(svg, 'height'));
});
