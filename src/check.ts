/**
 * Argument checking shared by every public constructor and method: one
 * checker for options objects, one way to show a received value, one
 * refusal of arguments a method does not take and of Python's positional
 * form of an options argument.
 *
 * Messages start with the path of what was wrong and end with what was
 * received, shown so that its type is plain: `options.processes must be a
 * positive integer: received the string "4"`.
 *
 * @module
 */

/**
 * A received value as an error message shows it: numbers, booleans, bigints,
 * `null` and `undefined` as themselves, a string quoted and called a string,
 * anything else by its kind (an array of 3, an instance of Foo, function f).
 *
 * @example
 * ```ts
 * describe('4'); // 'the string "4"'
 * describe(4);   // '4'
 * describe([1]); // 'an array of 1'
 * ```
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'symbol':
      return `a symbol (${String(value.description ?? '')})`;
    case 'function':
      return /^class[\s{]/.test(Function.prototype.toString.call(value))
        ? `class ${value.name || '(anonymous)'}`
        : `function ${value.name || '(anonymous)'}`;
    default: {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of ${value.length}`;
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === null || proto === Object.prototype) return 'an object';
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object';
    }
  }
}

/** Edit distance of two short names, to suggest the option meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      const cost = a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

/**
 * Checks an options argument: `undefined` (no options) or a plain object
 * whose own keys are all in `known`. `what` names the call in messages
 * (`Lock.acquire()`, `Pool`). Returns the options, `{}` for `undefined`.
 *
 * @example
 * ```ts
 * const { block, timeout } = checkOptions(options, ['block', 'timeout'], 'Lock.acquire()');
 * checkOptions({ timeot: 5 }, ['block', 'timeout'], 'Lock.acquire()');
 * // TypeError: options.timeot is not a Lock.acquire() option (known: block, timeout); did you mean timeout?
 * ```
 * @throws {TypeError} when `options` is not an object, or has a key not in `known`.
 */
export function checkOptions<K extends string>(
  options: unknown,
  known: readonly K[],
  what: string,
  path = 'options',
): { readonly [P in K]?: unknown } {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${what}: ${path} must be an object: received ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if ((known as readonly string[]).includes(key)) continue;
    const near = known.find((k) => distance(key, k) <= Math.min(2, Math.floor(k.length / 3)));
    throw new TypeError(
      `${path}.${key} is not a ${what} option (known: ${known.length === 0 ? 'none' : known.join(', ')})` +
        (near === undefined ? '' : `; did you mean ${near}?`),
    );
  }
  return options as { readonly [P in K]?: unknown };
}

/**
 * Checks a positive integer.
 *
 * @example
 * ```ts
 * positiveInt(4, 'options.processes'); // 4
 * positiveInt('4', 'options.processes'); // TypeError: options.processes must be a positive integer: received the string "4"
 * ```
 * @throws {TypeError} when `value` is not a number; {@link RangeError} when it is not a positive integer.
 */
export function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new (typeof value === 'number' ? RangeError : TypeError)(
      `${what} must be a positive integer: received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Checks an optional function (a callback).
 *
 * @example
 * ```ts
 * checkFunction(undefined, 'options.callback'); // fine: not given
 * checkFunction(42, 'options.callback'); // TypeError: options.callback must be a function: received 42
 * ```
 * @throws {TypeError} when `value` is given and is not a function.
 */
export function checkFunction(value: unknown, what: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${what} must be a function: received ${describe(value)}`);
  }
}

/**
 * Checks an optional boolean.
 *
 * @example
 * ```ts
 * checkBoolean(false, 'options.block'); // fine
 * checkBoolean(0, 'options.block'); // TypeError: options.block must be a boolean: received 0
 * ```
 * @throws {TypeError} when `value` is given and is not a boolean.
 */
export function checkBoolean(value: unknown, what: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`${what} must be a boolean: received ${describe(value)}`);
  }
}

/**
 * Refuses arguments a method does not take: `extra` holds those after its
 * last parameter (its `...none: never[]`), `what` names the call
 * (`Connection.recv()`). A JavaScript caller's `b.recv({ timeout: 100 })`
 * would otherwise wait forever: an object has its keys refused by the
 * options checker (an empty object passes), anything else is refused as it is.
 *
 * @example
 * ```ts
 * noOptions([{ timeout: 100 }], 'Connection.recv()');
 * // TypeError: options.timeout is not a Connection.recv() option (known: none)
 * noOptions([5], 'Connection.recv()'); // TypeError: Connection.recv() takes no options: received 5
 * ```
 * @throws {TypeError} for any argument in `extra` but `undefined` and `{}`.
 */
export function noOptions(extra: readonly unknown[], what: string): void {
  for (const arg of extra) {
    if (arg === undefined) continue;
    if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) {
      throw new TypeError(`${what} takes no options: received ${describe(arg)}`);
    }
    checkOptions(arg, [], what);
  }
}

/**
 * The error for Python's positional form of an options argument
 * (`put(x, False)`, `Queue(8)`, `Pipe(False)`): `instead` is the object to
 * write (`{ block: false }`).
 *
 * @example
 * ```ts
 * if (typeof options === 'boolean') throw positionalForm('Queue.put()', options, `{ block: ${options} }`);
 * // TypeError: Queue.put(): options must be an object, such as { block: false }: received false (Python's positional form)
 * ```
 */
export function positionalForm(what: string, received: unknown, instead: string, note = ''): TypeError {
  return new TypeError(
    `${what}: options must be an object, such as ${instead}: received ${describe(received)} (Python's positional form${note})`,
  );
}

/**
 * Checks a required function argument (`checkFunction` takes `undefined` as
 * not given).
 *
 * @example
 * ```ts
 * checkFn(predicate, 'Condition.waitFor(predicate)');
 * ```
 * @throws {TypeError} naming `what` when `fn` is not a function.
 */
export function checkFn(fn: unknown, what: string): asserts fn is (...args: never[]) => unknown {
  if (fn === undefined) throw new TypeError(`${what} must be a function: received undefined`);
  checkFunction(fn, what);
}
