/**
 * The machine a result was measured on, printed with and stored beside every
 * result: numbers without it cannot be compared.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, hostname, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { repoRoot } from './paths.js';
import { findPython } from './python.js';

function packageVersion(path: string): string {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * What {@link machineInfo} reports.
 *
 * @example
 * ```ts
 * const { cpuModel, cores, node } = await machineInfo();
 * ```
 */
export interface MachineInfo {
  /** ISO time the bench started. */
  readonly date: string;
  readonly hostname: string;
  readonly cpuModel: string;
  /** Logical CPUs the OS reports. */
  readonly cores: number;
  /** CPUs this process may use (`os.availableParallelism()`), the pool's default width. */
  readonly availableParallelism: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly v8: string;
  readonly piscina: string;
  /** corepool's own version (its package.json). */
  readonly corepool: string;
  readonly comlink: string;
  /** Python version, or `null` when no `python3` was found. */
  readonly python: string | null;
  /** 1-minute load average when the bench started: a busy machine shows here. */
  readonly loadAverage1m: number;
}

/**
 * Describes this machine and runtime.
 *
 * @example
 * ```ts
 * const info = await machineInfo();
 * console.log(formatMachine(info));
 * ```
 */
export async function machineInfo(): Promise<MachineInfo> {
  const cpuList = cpus();
  const python = await findPython();
  return {
    date: new Date().toISOString(),
    hostname: hostname(),
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    availableParallelism: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${process.platform} ${release()} ${arch()}`,
    node: process.version,
    v8: process.versions.v8,
    piscina: Piscina.version,
    corepool: packageVersion(join(repoRoot(), 'package.json')),
    comlink: packageVersion(join(repoRoot(), 'node_modules', 'comlink', 'package.json')),
    python: python?.version ?? null,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/**
 * A one-paragraph, human-readable form of {@link MachineInfo}.
 *
 * @example
 * ```ts
 * console.log(formatMachine(await machineInfo()));
 * // machine: AMD EPYC, 2 cores (2 usable), 7.8 GiB, linux 6.1 x64, load 0.05
 * // runtime: node v20.20.2 (V8 11.3), piscina 5.3.2, python 3.11.7
 * ```
 */
export function formatMachine(info: MachineInfo): string {
  return [
    `machine: ${info.cpuModel}, ${info.cores} cores (${info.availableParallelism} usable), ${info.memoryGiB} GiB, ${info.os}, host ${info.hostname}, load ${info.loadAverage1m}`,
    `runtime: node ${info.node} (V8 ${info.v8}), corepool ${info.corepool}, piscina ${info.piscina}, comlink ${info.comlink}, python ${info.python ?? 'not found'}`,
    `date:    ${info.date}`,
  ].join('\n');
}
