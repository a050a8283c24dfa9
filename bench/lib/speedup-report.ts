/**
 * The speedup bench's output: a table per kernel and the model's table (the
 * chart is `speedup-chart.ts`).
 *
 * @module
 */

import type { DispatchCost, TransferCost } from './calibrate.js';
import { type KernelAnalysis, MODEL_WIDTHS, type Row, TARGET_EFFICIENCY } from './speedup-analysis.js';
import type { KernelMeasured, Peer } from './speedup-run.js';
import { type Column, fmt, formatTable, ms } from './table.js';

const PEER_LABELS: Record<Peer, string> = {
  serial: 'serial loop (main thread)',
  corepool: 'corepool Pool.map',
  piscina: 'raw piscina run()',
  python: 'python Pool.map',
};

/**
 * A peer's name in tables and the chart's legend.
 *
 * @example
 * ```ts
 * peerLabel('piscina'); // 'raw piscina run()'
 * peerLabel('python', '3.11.7'); // 'python 3.11.7 Pool.map'
 * ```
 */
export function peerLabel(peer: Peer, pythonVersion?: string): string {
  if (peer !== 'python') return PEER_LABELS[peer];
  return pythonVersion === undefined ? PEER_LABELS.python : `python ${pythonVersion} Pool.map`;
}

/**
 * A speedup as `1.93x`.
 *
 * @example
 * ```ts
 * times(1.934); // '1.93x'
 * times(120.4); // '120x'
 * ```
 */
export function times(x: number): string {
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
}

/**
 * A fraction as a percentage, `12.3%`.
 *
 * @example
 * ```ts
 * pct(0.0123); // '1.2%'
 * ```
 */
export function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}

/**
 * A duration in ms with a unit that fits: `45 µs`, `3.91 ms`, `1.2 s`.
 *
 * @example
 * ```ts
 * duration(0.045); // '45 µs'
 * ```
 */
export function duration(msValue: number): string {
  if (msValue < 1) return `${(msValue * 1000).toFixed(msValue < 0.01 ? 1 : 0)} µs`;
  return ms(msValue);
}

const COLUMNS: Column[] = [
  { header: 'peer' },
  { header: 'workers', right: true },
  { header: 'time (median)', right: true },
  { header: 'min–max', right: true },
  { header: 'speedup', right: true },
  { header: 'efficiency', right: true },
  { header: 'ideal', right: true },
];

function cells(r: Row, label: string): string[] {
  return [
    label,
    r.workers === 0 ? '—' : String(r.workers),
    ms(r.time.median),
    `${ms(r.time.min)}–${ms(r.time.max)}`,
    times(r.speedup),
    r.efficiency === null ? '—' : pct(r.efficiency),
    `${Math.max(1, r.workers)}x`,
  ];
}

/**
 * One kernel's table: every peer at every width, then the Amdahl fits.
 *
 * @example
 * ```ts
 * console.log(formatKernel(measured, analysis, 2));
 * ```
 */
export function formatKernel(k: KernelMeasured, a: KernelAnalysis, cores: number): string {
  const py = 'skipped' in k.python ? undefined : k.python;
  const byWidth = [...a.rows].sort((x, y) => x.workers - y.workers);
  const body = byWidth.map((r) => cells(r, peerLabel(r.peer)));
  for (const r of a.pythonRows) {
    body.push(
      cells(r, `${r.workers === 0 ? `python ${py?.version ?? ''} serial loop` : peerLabel('python', py?.version)} †`),
    );
  }
  const taskMs = (a.rows[0]?.time.median ?? 0) / k.tasks;
  const lines = [
    `${k.kernel}: ${k.title}; ${fmt(k.tasks)} tasks of ${duration(taskMs)}` +
      (k.bytesPerTask > 0 ? `, ${fmt(k.bytesPerTask / 1024)} KiB shipped per task` : ''),
    formatTable(COLUMNS, body),
  ];
  if (py !== undefined) {
    lines.push(
      `† python ${py.version} (${py.startMethod}) runs a narrower job (${Object.entries(py.params)
        .map(([key, v]) => `${key} ${fmt(v)}`)
        .join(', ')}): compare its speedups (over its own serial loop), not its times.`,
    );
  } else if ('skipped' in k.python) {
    lines.push(`python: skipped (${k.python.skipped})`);
  }
  const fits = (['corepool', 'piscina', 'python'] as const)
    .map((peer) => {
      const f = a.amdahl[peer];
      if (f === null) return undefined;
      const own =
        f.scaling === null || f.oneWorker === null
          ? ''
          : `, ${pct(f.scaling.serialFraction)} of its scaling from 1 worker (where it runs at ${times(f.oneWorker)})`;
      return `  ${peer}: ${pct(f.overSerial.serialFraction)} over the serial loop${own}`;
    })
    .filter((x) => x !== undefined);
  lines.push(
    fits.length === 0
      ? 'Amdahl fit: needs a width from 2 to the core count'
      : [`Amdahl serial fraction, fitted over 2..${cores} workers:`, ...fits].join('\n'),
  );
  return lines.join('\n');
}

/**
 * The model's tables: its measured inputs, its check against this machine,
 * its predictions at 16, 64 and 128 cores and the smallest task for 90 %
 * efficiency.
 *
 * @example
 * ```ts
 * console.log(formatModel(dispatch, transfer, kernels, analyses, 2));
 * ```
 */
export function formatModel(
  dispatch: DispatchCost,
  transfer: TransferCost,
  kernels: readonly KernelMeasured[],
  analyses: readonly KernelAnalysis[],
  cores: number,
): string {
  const lines = [
    'model: T(p) = max(⌈N/p⌉·(c + o)·max(1, (p + u)/C), N·d); S(p) = N·c / T(p)   (README: "The model")',
    `  measured: main thread d₀ = ${duration(dispatch.mainMsPerTask)} per task (dispatch ceiling ${fmt(dispatch.ceilingPerSecond)} tasks/s);` +
      ` transfer ${transfer.msPerMiB.toFixed(3)} ms/MiB to a worker (${transfer.gbPerSecond.toFixed(1)} GB/s),` +
      ` of it ${transfer.mainMsPerMiB.toFixed(3)} ms/MiB on the main thread`,
  ];
  const rows: string[][] = [];
  kernels.forEach((k, i) => {
    const a = analyses[i];
    if (a === undefined) return;
    for (const e of a.model) {
      const at = (w: number): string => {
        const p = e.predicted.find((x) => x.workers === w);
        return p === undefined ? '—' : `${times(p.speedup)} (${pct(p.efficiency)})`;
      };
      rows.push([
        k.kernel,
        fmt(e.tasks),
        duration(e.taskMs),
        duration(e.overheadMs),
        duration(e.dispatchMs),
        e.check.length === 0
          ? '—'
          : e.check
              .map(
                (c) =>
                  `${c.workers}: ${times(c.predicted)} vs ${times(c.measured)} (${c.errorPct >= 0 ? '+' : ''}${c.errorPct.toFixed(1)}%)`,
              )
              .join(', '),
        ...MODEL_WIDTHS.map(at),
      ]);
    }
  });
  lines.push(
    formatTable(
      [
        { header: 'kernel' },
        { header: 'tasks', right: true },
        { header: 'task c', right: true },
        { header: 'overhead o', right: true },
        { header: 'main d', right: true },
        { header: `model vs measured here (${cores} cores)` },
        ...MODEL_WIDTHS.map((w) => ({ header: `at ${w} cores`, right: true })),
      ],
      rows,
    ),
  );
  const widths = analyses[0]?.minTaskMs.map((m) => m.workers) ?? [];
  lines.push(
    `smallest task for ${pct(TARGET_EFFICIENCY)} efficiency, max(9·o, p·d/0.9), with the o and d of each kernel's default task count:`,
    formatTable(
      [{ header: 'kernel' }, ...widths.map((w) => ({ header: `${w} workers`, right: true }))],
      kernels.map((k, i) => [k.kernel, ...(analyses[i]?.minTaskMs.map((m) => duration(m.ms)) ?? [])]),
    ),
  );
  return lines.join('\n');
}
