import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../history/operation';
import { checkCounter, compose } from './invariants';
import { checkPerKey } from './invariant-check';

const counterOnly = compose({ counter: (h: readonly Op[]) => checkCounter(h) });
const read = (value: number): Op[] => [
  { index: 0, process: 0, type: 'invoke', f: 'read', value: null, time: 0 },
  { index: 1, process: 0, type: 'ok', f: 'read', value, time: 1 },
];

test('checkPerKey() keeps a key named __proto__ like any other, and says unknown when there is no key at all', () => {
  const r = checkPerKey(new Map([['__proto__', read(3)], ['a', read(0)]]), counterOnly, ['counter']);
  assert.equal(r.valid, false);
  assert.deepEqual(r.results['counter']!.invalidKeys, ['__proto__']);
  assert.ok(Object.prototype.hasOwnProperty.call(r.keys, '__proto__'));
  assert.equal(JSON.parse(JSON.stringify(r)).keys.__proto__.valid, false);
  const none = checkPerKey(new Map(), counterOnly, ['counter']);
  assert.equal(none.valid, 'unknown');
  assert.equal(none.results['counter']!.valid, 'unknown');
});
