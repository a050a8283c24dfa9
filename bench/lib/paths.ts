/**
 * Where the benchmarks find their files, whether they run compiled
 * (`dist/bench/…`) or from source through a TypeScript loader (`bench/…`).
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The repository root: the nearest directory above this file holding a
 * `package.json`.
 *
 * @example
 * ```ts
 * join(repoRoot(), 'bench', 'results'); // '/work/main/bench/results'
 * ```
 * @throws {Error} when no `package.json` is found above this file.
 */
export function repoRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * The URL of a compiled module of `workers/`, for a pool or piscina to load.
 * Built, `workers/` sits beside `bench/` in `dist/`.
 *
 * @example
 * ```ts
 * new Piscina({ filename: workerUrl('bench-piscina') });
 * ```
 */
export function workerUrl(name: string): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`../../workers/${name}.${ext}`, import.meta.url).href;
}
