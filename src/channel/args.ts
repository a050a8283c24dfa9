/**
 * Argument checks the channels share on top of src/check.ts: refusing
 * arguments a method does not take, and Python's positional form of an
 * options argument (`q.put(x, False)`), each with what to write instead.
 *
 * @module
 */

import { checkOptions, describe } from '../check.js';

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
