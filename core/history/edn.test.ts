import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdnSymbol, keyword, parseEdn, parseEdnElements, type EdnMap } from './edn';
import { HistoryFormatError } from '../errors';

test('parseEdn() reads op maps with interned keyword keys and the line each form starts on', () => {
  const forms = parseEdn('{:process 4, :type :invoke, :f :write, :value 2}\n\n{:type :ok :value [1 nil] :time 12}\n');
  assert.equal(forms.length, 2);
  assert.equal(forms[0]!.line, 1);
  assert.equal(forms[1]!.line, 3);
  const m = forms[0]!.value as EdnMap;
  assert.equal(m.get(keyword('type')), keyword('invoke'));
  assert.equal(m.get(keyword('process')), 4);
  assert.deepEqual((forms[1]!.value as EdnMap).get(keyword('value')), [1, null]);
});

test('parseEdn() handles comments, commas, strings with escapes, chars, sets, tags and discards', () => {
  const [f] = parseEdn(
    '(1, -2.5e3 ; comment { [\n "a\\"b\\n{#" \\c \\newline #{:x} #inst "2020-01-01" #uuid "u" #_ :gone true false nil sym 12345678901234567890N 1/2 ##Inf)',
  );
  const v = f!.value as unknown[];
  assert.equal(v[0], 1);
  assert.equal(v[1], -2500);
  assert.equal(v[2], 'a"b\n{#');
  assert.equal(v[3], 'c');
  assert.equal(v[4], '\n');
  assert.deepEqual(v[5], new Set([keyword('x')]));
  assert.equal(v[6], '2020-01-01');
  assert.equal(v[7], 'u');
  assert.deepEqual(v.slice(8, 11), [true, false, null]);
  assert.ok(v[11] instanceof EdnSymbol && v[11].name === 'sym');
  assert.equal(v[12], 12345678901234567890);
  assert.equal(v[13], 0.5);
  assert.equal(v[14], Infinity);
});

test('parseEdnElements() spreads one top-level vector into its elements with their lines', () => {
  const els = parseEdnElements('[{:a 1}\n {:a\n 2}\n ; x\n {:a 3}]\n');
  assert.deepEqual(els.map((e) => e.line), [1, 2, 5]);
});

test('parseEdn() throws HistoryFormatError naming the line of malformed input', () => {
  const cases: [string, number][] = [
    ['{:a 1}\n{:a 2', 2],
    ['{:a 1}\n\n[1 2}', 3],
    ['{:a 1}\n"abc', 2],
    ['{:a}', 1],
    ['\n\n)', 3],
    ['{:a 1.2.3}', 1],
  ];
  for (const [text, line] of cases) {
    assert.throws(() => parseEdn(text), (err: unknown) => err instanceof HistoryFormatError && err.line === line, text);
  }
});
