/**
 * Errors cross threads as data, not through structured clone, which keeps only
 * `message` and the built-in class and drops `code`, subclasses and most own
 * properties. The sending side flattens an error into a {@link WireError}; the
 * receiving side rebuilds an object that has the same `name`, `message`,
 * `code`, own properties and `cause`, whose `stack` is the thrower's stack, and
 * which is `instanceof` the nearest built-in class (or the corepool error
 * class of that name).
 *
 * A thrown value that is not an `Error` (`throw 'x'`) travels as itself.
 *
 * @module
 */

import { errorClasses } from './errors.js';

/** A flattened error, safe to post to another thread. */
export interface WireError {
  readonly kind: 'error';
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** The nearest built-in constructor in the prototype chain, e.g. `TypeError`. */
  readonly base: string;
  /** Own enumerable properties other than message/stack/cause/errors (includes `code`). */
  readonly props: Record<string, unknown>;
  readonly cause?: WireThrown;
  readonly errors?: WireThrown[];
}

/** A thrown value that was not an Error. */
export interface WireValue {
  readonly kind: 'value';
  readonly value: unknown;
}

export type WireThrown = WireError | WireValue;

const builtins: ReadonlyMap<string, ErrorConstructor> = new Map<string, ErrorConstructor>([
  ['Error', Error],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['EvalError', EvalError],
  ['URIError', URIError],
  ['AggregateError', AggregateError as unknown as ErrorConstructor],
]);

const skipped = new Set(['message', 'stack', 'cause', 'errors']);

function cloneable(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
}

function baseName(err: Error): string {
  for (let proto = Object.getPrototypeOf(err); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const ctor = (proto as { constructor?: unknown }).constructor;
    if (ctor === DOMException) return 'DOMException';
    if (typeof ctor === 'function' && builtins.get(ctor.name) === ctor) return ctor.name;
    if (typeof ctor === 'function' && errorClasses.get(ctor.name) === ctor) return ctor.name;
  }
  return 'Error';
}

/**
 * Flattens a thrown value for posting to another thread.
 *
 * @example
 * ```ts
 * port.postMessage(encodeError(Object.assign(new RangeError('bad'), { code: 'E_BAD' })));
 * ```
 */
export function encodeError(thrown: unknown, depth = 0): WireThrown {
  if (!(thrown instanceof Error)) return { kind: 'value', value: cloneable(thrown) };
  const props: Record<string, unknown> = {};
  const aggregate = thrown instanceof AggregateError;
  for (const key of Object.keys(thrown)) {
    // `errors` travels apart only for an AggregateError; on any other error it is an ordinary property.
    if (skipped.has(key) && (key !== 'errors' || aggregate)) continue;
    props[key] = cloneable((thrown as unknown as Record<string, unknown>)[key]);
  }
  // `code` is often an own property, but a class may define it on the prototype.
  const code = (thrown as { code?: unknown }).code;
  if (code !== undefined && !('code' in props)) props.code = cloneable(code);
  const wire: {
    -readonly [K in keyof WireError]: WireError[K];
  } = {
    kind: 'error',
    name: String(thrown.name),
    message: String(thrown.message),
    stack: typeof thrown.stack === 'string' ? thrown.stack : undefined,
    base: baseName(thrown),
    props,
  };
  if (depth < 8 && 'cause' in thrown) wire.cause = encodeError(thrown.cause, depth + 1);
  if (depth < 8 && aggregate) {
    wire.errors = Array.from(thrown.errors as unknown[], (e) => encodeError(e, depth + 1));
  }
  return wire;
}

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: false });
}

/**
 * Rebuilds a value flattened by {@link encodeError}.
 *
 * @example
 * ```ts
 * const err = decodeError(message.error);
 * err instanceof RangeError; // true when a RangeError (or subclass) was thrown
 * ```
 */
export function decodeError(wire: WireThrown): unknown {
  if (wire.kind === 'value') return wire.value;
  // Constructed, not Object.create()d: a real error (util.types.isNativeError)
  // that structured clone can send on to another thread as an error.
  let err: Error;
  if (wire.base === 'DOMException') {
    err = new DOMException(wire.message, wire.name);
  } else {
    const Ctor: new (message: string) => Error = errorClasses.get(wire.base) ?? builtins.get(wire.base) ?? Error;
    err = Ctor === (AggregateError as unknown) ? new AggregateError([], wire.message) : new Ctor(wire.message);
    if (err.name !== wire.name) define(err, 'name', wire.name);
  }
  if (wire.stack !== undefined) define(err, 'stack', wire.stack);
  else delete (err as { stack?: string }).stack;
  for (const [key, value] of Object.entries(wire.props)) {
    Object.defineProperty(err, key, { value, writable: true, configurable: true, enumerable: true });
  }
  if (wire.cause !== undefined) define(err, 'cause', decodeError(wire.cause));
  if (wire.errors !== undefined) define(err, 'errors', wire.errors.map(decodeError));
  return err;
}
