/**
 * Runs one example by name:
 *
 * ```sh
 * npm run example -- pool-apply-async
 * npm run example            # lists the examples
 * ```
 *
 * Each example is a module `examples/<name>.ts` that exports
 * `main(): Promise<void>` and prints to stdout. To add one, write that module
 * and add its line to {@link examples}.
 *
 * @module
 */

import process from 'node:process';

/** Every example, by name: what it shows. Its module is `./<name>.js`. */
const examples: Readonly<Record<string, string>> = {
  hello: 'Pool.map: the hello world, four numbers squared on worker threads',
  'pool-apply-async': 'Pool.applyAsync: four tasks on three workers; the caller does not wait (apply_async)',
  'pool-apply': 'Pool.apply: the same four tasks, one after another (apply)',
  'process-basic': 'Process: one child printing the time five times; its pid, name and isAlive()',
  'process-many': 'Process: three children at once; cpuCount() and activeChildren()',
  'process-class': 'Process subclass: a clock whose run() prints the time n times',
  lock: 'Lock: two processes append to one file, with hold() and with acquire/release',
  semaphore: 'Semaphore(2): five processes, at most two inside at a time',
  event: 'Event: set by the main thread; one waiter without a timeout, one with',
  queue: 'Queue: putNowait/getNowait between a writer and a reader; QueueFull, QueueEmpty',
  pipe: 'Pipe: the parent sends 1..5 to a consumer process, which reads until EOFError',
  table: 'Pool + SharedArray: a 1,000,000-row column table aggregated per category, zero copies',
};

interface Example {
  main(): Promise<void>;
}

function usage(): string {
  const width = Math.max(...Object.keys(examples).map((name) => name.length));
  const rows = Object.entries(examples).map(([name, what]) => `  ${name.padEnd(width)}  ${what}`);
  return ['usage: npm run example -- <name>', '', 'examples:', ...rows].join('\n');
}

const name = process.argv[2];
if (name === undefined || name === '--help' || name === '-h') {
  console.log(usage());
} else if (!Object.hasOwn(examples, name)) {
  console.error(`unknown example: ${JSON.stringify(name)}\n\n${usage()}`);
  process.exitCode = 1;
} else {
  const example = (await import(`./${name}.js`)) as Example;
  await example.main();
}
