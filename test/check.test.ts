/** The shared argument checker: how received values are shown and how options objects are checked. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBoolean, checkFunction, checkOptions, describe, positiveInt } from '../src/check.js';

test('describe shows a received value so that its type is plain', () => {
  class Point {}
  const cases: [unknown, string][] = [
    [4, '4'],
    [-0, '-0'],
    [Number.NaN, 'NaN'],
    ['4', 'the string "4"'],
    ['', 'the string ""'],
    ['x'.repeat(50), `the string "${'x'.repeat(40)}…"`],
    [5n, '5n'],
    [true, 'true'],
    [undefined, 'undefined'],
    [null, 'null'],
    [[1, 2], 'an array of 2'],
    [{ a: 1 }, 'an object'],
    [Object.create(null), 'an object'],
    [new Point(), 'an instance of Point'],
    [new Uint8Array(2), 'an instance of Uint8Array'],
    [function named() {}, 'function named'],
    [() => {}, 'function (anonymous)'],
    [Point, 'class Point'],
    [Symbol('s'), 'a symbol (s)'],
  ];
  for (const [value, shown] of cases) assert.equal(describe(value), shown);
});

test('checkOptions: undefined is no options; known keys pass; the object is returned', () => {
  assert.deepEqual(checkOptions(undefined, ['a'], 'f()'), {});
  const o = { a: 1 };
  assert.equal(checkOptions(o, ['a', 'b'], 'f()'), o);
});

test('checkOptions: an unknown key names it, lists the known ones and suggests a near one', () => {
  assert.throws(() => checkOptions({ timeot: 5 }, ['block', 'timeout'], 'Lock.acquire()'), {
    name: 'TypeError',
    message: 'options.timeot is not a Lock.acquire() option (known: block, timeout); did you mean timeout?',
  });
  assert.throws(() => checkOptions({ zzz: 1 }, ['block', 'timeout'], 'Lock.acquire()'), {
    message: 'options.zzz is not a Lock.acquire() option (known: block, timeout)',
  });
  assert.throws(() => checkOptions({ x: 1 }, [], 'Event.set()'), { message: /\(known: none\)$/ });
  assert.throws(() => checkOptions({ Timeout: 1 }, ['timeout'], 'f()'), { message: /did you mean timeout\?$/ });
  assert.throws(() => checkOptions({ a: 1 }, ['b'], 'Pool resourceLimits', 'options.resourceLimits'), {
    message: /^options\.resourceLimits\.a is not a Pool resourceLimits option/,
  });
});

test('checkOptions: a non-object is refused saying what was received', () => {
  for (const [value, shown] of [
    [5, '5'],
    ['x', 'the string "x"'],
    [null, 'null'],
    [[1], 'an array of 1'],
    [true, 'true'],
  ] as const) {
    assert.throws(() => checkOptions(value, ['a'], 'Queue.put()'), {
      name: 'TypeError',
      message: `Queue.put(): options must be an object: received ${shown}`,
    });
  }
});

test('positiveInt, checkFunction, checkBoolean: TypeError for a wrong type, RangeError for a wrong number', () => {
  assert.equal(positiveInt(3, 'n'), 3);
  assert.throws(() => positiveInt('3', 'n'), {
    name: 'TypeError',
    message: 'n must be a positive integer: received the string "3"',
  });
  assert.throws(() => positiveInt(0, 'n'), { name: 'RangeError', message: 'n must be a positive integer: received 0' });
  assert.throws(() => positiveInt(1.5, 'n'), { name: 'RangeError' });
  checkFunction(undefined, 'cb');
  checkFunction(() => {}, 'cb');
  assert.throws(() => checkFunction('f', 'cb'), {
    name: 'TypeError',
    message: 'cb must be a function: received the string "f"',
  });
  checkBoolean(undefined, 'b');
  checkBoolean(false, 'b');
  assert.throws(() => checkBoolean(0, 'b'), { name: 'TypeError', message: 'b must be a boolean: received 0' });
});
