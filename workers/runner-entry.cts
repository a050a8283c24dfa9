/**
 * piscina's entry point in every `Pool` worker: loads the task runner
 * (`runner.ts`) with `import()` and hands it each task.
 *
 * CommonJS on purpose. piscina loads its entry with `require()` first, and on
 * Node 20 `require()` of an ES module can abort the whole process (V8 fatal
 * error "IsGraphAsync must be used on an instantiated module") when that
 * module graph is being loaded by `import()` at the same time. A CommonJS
 * entry keeps `require()` away from ES modules altogether.
 *
 * Run from source (through tsx), the entry is this `.cts` file; Node 20 does
 * not carry tsx's loader hooks into worker threads, so it registers tsx in
 * this thread before importing the TypeScript runner.
 *
 * @module
 */

type Run = (message: unknown) => Promise<unknown>;

const fromSource = __filename.endsWith('.cts');

async function load(): Promise<Run> {
  if (fromSource) {
    const tsx = (await import('tsx/esm/api' as string)) as { register(): unknown };
    tsx.register();
  }
  const runner = (await import(fromSource ? './runner.ts' : './runner.js')) as { default: Run };
  return runner.default;
}

/**
 * Runs one task message through the runner.
 *
 * @example
 * ```ts
 * const reply = await runTask({ m: moduleUrl, n: 'square', a: [3], k: 0, s: false });
 * ```
 */
async function runTask(message: unknown): Promise<unknown> {
  return (await loading)(message);
}

// Start loading the runner as the worker starts (piscina requires this file
// then), so the first task does not wait for it. A failure surfaces on the
// first task, which rejects with it.
const loading = load();
loading.catch(() => {});

export = runTask;
