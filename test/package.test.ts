/**
 * The package as npm packs it: what a user installs, not what the repository
 * holds. `npm pack --dry-run --ignore-scripts --json` lists the files without
 * building, writing or fetching anything; the build that `prepare` runs is
 * compiled to a temporary directory.
 *
 * The working tree's `dist/` is packed as it is, after the full build that
 * `npm test` runs (tests, benches, examples, bench workers and source maps
 * included), so `files` must keep all of that out by itself.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import process from 'node:process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { packageRoot } from './fixtures/pkg-root.js';

const run = promisify(execFile);
const root = packageRoot(import.meta.url);

interface Manifest {
  readonly license?: unknown;
  readonly repository?: { readonly type?: unknown; readonly url?: unknown };
  readonly bugs?: unknown;
  readonly homepage?: unknown;
  readonly exports?: unknown;
  readonly main?: unknown;
  readonly types?: unknown;
  readonly scripts?: Readonly<Record<string, string>>;
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;

/** Runs npm: the one running this test under `npm test`, else the one on the PATH. */
function npm(args: readonly string[]): Promise<{ stdout: string }> {
  const cli = process.env.npm_execpath;
  const options = { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 } as const;
  return cli !== undefined && /\.[cm]?js$/.test(cli)
    ? run(process.execPath, [cli, ...args], options)
    : run('npm', args, options);
}

/** The paths `npm pack` would put in the tarball, relative to the package root, with `/`. */
async function packedFiles(): Promise<Set<string>> {
  const { stdout } = await npm(['pack', '--dry-run', '--ignore-scripts', '--json']);
  const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  return new Set(pack.files.map((f) => f.path));
}

const packed = await packedFiles();
const list = (): string => [...packed].sort().join('\n');

/** The code of a packed module with its comments removed (their examples name files that are not modules). */
function code(path: string): string {
  return readFileSync(join(root, path), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

const modules = (): string[] => [...packed].filter((path) => /\.(?:[cm]?js|d\.[cm]?ts)$/.test(path));

test('the pack holds the library, its worker entries, package.json, README and LICENSE; no tests, benches or examples', () => {
  for (const path of ['package.json', 'README.md', 'LICENSE'])
    assert.ok(packed.has(path), `${path} missing:\n${list()}`);
  for (const path of packed) {
    assert.ok(
      ['package.json', 'README.md', 'LICENSE'].includes(path) || /^dist\/(?:src|workers)\//.test(path),
      `${path} should not be packed:\n${list()}`,
    );
    assert.doesNotMatch(path, /^dist\/workers\/bench-/, 'a bench worker is packed');
    assert.doesNotMatch(path, /\.tsbuildinfo$/, 'build state is packed');
  }
  assert.equal(manifest.license, 'MIT');
  assert.match(
    readFileSync(join(root, 'LICENSE'), 'utf8'),
    /^MIT License\n\nCopyright \(c\) \d{4} corepool contributors\n/,
  );
});

test('every exports, main and types target is packed', () => {
  const targets: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') targets.push(value);
    else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) walk(v);
  };
  walk(manifest.exports);
  walk(manifest.main);
  walk(manifest.types);
  assert.ok(targets.length >= 4, `exports, main and types expected: ${JSON.stringify(targets)}`);
  for (const target of targets) {
    const path = posix.normalize(target);
    assert.ok(packed.has(path), `${target} is not packed (not built? run npm run build):\n${list()}`);
  }
});

test('every module a packed module imports, and every worker it starts, is packed', () => {
  let seen = 0;
  for (const path of modules()) {
    const dir = posix.dirname(path);
    const text = code(path);
    // './x.js', "../src/y.js": imports, exports, require() and either branch of a ternary.
    for (const [, specifier] of text.matchAll(/['"](\.\.?\/[^'"\s]+\.(?:[cm]?js|json))['"]/g)) {
      const target = posix.join(dir, specifier as string);
      assert.ok(packed.has(target), `${path} refers to ${specifier}, which is not packed`);
      seen++;
    }
    // `../workers/host.${…}`: a worker started by URL, its extension chosen at run time.
    for (const [, stem] of text.matchAll(/`(\.\.?\/[^`$\s]+)\.\$\{/g)) {
      const base = posix.join(dir, stem as string);
      assert.ok(
        ['js', 'cjs', 'mjs'].some((ext) => packed.has(`${base}.${ext}`)),
        `${path} starts ${stem}.*, and no such module is packed`,
      );
      seen++;
    }
  }
  assert.ok(seen > 50, `too few references found (${seen}); is the pattern still right?`);
});

test('every packed source map points at sources that are packed', () => {
  for (const path of [...packed].filter((p) => p.endsWith('.map'))) {
    const map = JSON.parse(readFileSync(join(root, path), 'utf8')) as { sources: string[]; sourceRoot?: string };
    for (const source of map.sources) {
      const target = posix.join(posix.dirname(path), map.sourceRoot ?? '', source);
      assert.ok(packed.has(target), `${path} points at ${target}, which is not packed`);
    }
  }
});

test('the manifest says where the repository is and where to report bugs', () => {
  assert.equal(manifest.repository?.type, 'git');
  assert.match(String(manifest.repository?.url), /^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/);
  assert.match(JSON.stringify(manifest.bugs), /^\{"url":"https:\/\/github\.com\/.+\/issues"\}$/);
  assert.match(String(manifest.homepage), /^https:\/\//);
});

test('the prepare script builds exactly the packed dist/ files, so a git install gets the published package', async (t) => {
  const project = /^tsc -p (\S+)$/.exec(manifest.scripts?.prepare ?? '')?.[1];
  assert.ok(project !== undefined, `prepare should be "tsc -p <config>": ${manifest.scripts?.prepare}`);
  const out = mkdtempSync(join(tmpdir(), 'corepool-prepare-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  await run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', project, '--outDir', out], { cwd: root });
  const built = readdirSync(out, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => posix.join('dist', relative(out, join(entry.parentPath, entry.name)).replaceAll('\\', '/')))
    .sort();
  const packedDist = [...packed].filter((path) => path.startsWith('dist/')).sort();
  assert.deepEqual(
    packedDist,
    built,
    'the packed dist/ differs from what prepare builds (a stale file in dist/? remove dist/ and build again)',
  );
  assert.ok(!existsSync(join(out, 'workers', 'bench-kernels.js')), 'prepare builds no bench workers');
});
