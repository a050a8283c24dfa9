/**
 * How busy the rest of the machine was while a bench measured: CPU time used
 * by other processes, from the OS's per-CPU counters minus this process's
 * own (all its threads). A result measured while something else ran is
 * flagged, not silently kept.
 *
 * @module
 */

import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

/**
 * CPU use over a measured span, in percent of all CPUs.
 *
 * @example
 * ```ts
 * const stop = watchNoise();
 * await work();
 * const { othersPct }: Noise = stop();
 * ```
 */
export interface Noise {
  readonly wallMs: number;
  /** The whole machine's busy share. */
  readonly machineBusyPct: number;
  /** This process's share (main thread and workers, and children whose CPU time was given). */
  readonly selfPct: number;
  /** Everything else: other processes and the kernel's own work. */
  readonly othersPct: number;
}

/**
 * Others' share of the CPUs (percent) above which a whole bench is marked disturbed.
 *
 * @example
 * ```ts
 * if (noise.othersPct > DISTURBED_PCT) console.warn('rerun on a quiet machine');
 * ```
 */
export const DISTURBED_PCT = 10;

function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/**
 * Starts watching; the returned function stops and reports. Child processes
 * (the Python peer) count as "others" unless their CPU time is passed to
 * the stop function as `childCpuMs`.
 *
 * @example
 * ```ts
 * const stop = watchNoise();
 * await runRounds();
 * const noise = stop();
 * if (noise.othersPct > DISTURBED_PCT) console.warn('disturbed: rerun');
 * ```
 */
export function watchNoise(): (childCpuMs?: number) => Noise {
  const wall0 = performance.now();
  const m0 = machineTimes();
  const self0 = process.cpuUsage();
  return (childCpuMs = 0) => {
    const self = process.cpuUsage(self0);
    const m1 = machineTimes();
    const total = m1.total - m0.total;
    const busy = m1.busy - m0.busy;
    const selfMs = (self.user + self.system) / 1000 + childCpuMs;
    const pct = (x: number): number => (total > 0 ? Math.round((x / total) * 1000) / 10 : 0);
    return {
      wallMs: Math.round(performance.now() - wall0),
      machineBusyPct: pct(busy),
      selfPct: pct(selfMs),
      othersPct: Math.max(0, pct(busy - selfMs)),
    };
  };
}

/**
 * One line describing `noise`, with a warning when others used more than
 * {@link DISTURBED_PCT}% of the CPUs.
 *
 * @example
 * ```ts
 * console.log(formatNoise(stop()));
 * // noise: this process 97.1% of CPUs, others 0.8% over 12,345 ms
 * ```
 */
export function formatNoise(noise: Noise): string {
  const line = `noise: this process ${noise.selfPct}% of CPUs, others ${noise.othersPct}% over ${noise.wallMs.toLocaleString('en-US')} ms`;
  return noise.othersPct > DISTURBED_PCT ? `${line} — DISTURBED: something else was running; rerun` : line;
}
