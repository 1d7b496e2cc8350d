import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEdn, parseEdnElements, readEdnHistoryForms } from './edn';
import { HistoryFormatError } from '../errors';

const one = (text: string): unknown => {
  const forms = parseEdn(text);
  assert.equal(forms.length, 1, text);
  return forms[0]!.value;
};

test('parseEdn() reads op maps as plain objects keyed by keyword name, with the line each form starts on', () => {
  const forms = parseEdn('{:process 4, :type :invoke, :f :write, :value 2}\n\n{:type :ok :value [1 nil] :time 12}\n');
  assert.equal(forms.length, 2);
  assert.equal(forms[0]!.line, 1);
  assert.equal(forms[1]!.line, 3);
  assert.deepEqual(forms[0]!.value, { process: 4, type: 'invoke', f: 'write', value: 2 });
  assert.deepEqual(forms[1]!.value, { type: 'ok', value: [1, null], time: 12 });
});

test('parseEdn() reads integers in every base and suffix Clojure accepts', () => {
  assert.equal(one('0x4892d85e'), 0x4892d85e);
  assert.equal(one('0XFF'), 255);
  assert.equal(one('-0x10'), -16);
  assert.equal(one('017'), 15);
  assert.equal(one('-017'), -15);
  assert.equal(one('0'), 0);
  assert.equal(one('-0'), 0);
  assert.equal(one('+42'), 42);
  assert.equal(one('2r1010'), 10);
  assert.equal(one('36rZZ'), 1295);
  assert.equal(one('-16rff'), -255);
  assert.equal(one('42N'), 42);
  assert.equal(one('0x10N'), 16);
  // Beyond 2^53 an integer keeps its exact text, so two different values never compare equal.
  assert.equal(one('18446744073709551615N'), '18446744073709551615N');
  assert.equal(one('0xffffffffffffffff'), '18446744073709551615N');
  assert.equal(one('9007199254740993'), '9007199254740993N');
  assert.equal(one('9007199254740991'), 9007199254740991);
});

test('parseEdn() reads floats, BigDecimals, ratios and symbolic values', () => {
  assert.equal(one('-2.5e3'), -2500);
  assert.equal(one('1.'), 1);
  assert.equal(one('1.5M'), 1.5);
  assert.equal(one('7M'), 7);
  assert.equal(one('1e-3'), 0.001);
  assert.equal(one('1/2'), 0.5);
  assert.equal(one('-3/4'), -0.75);
  assert.equal(one('##Inf'), Infinity);
  assert.equal(one('##-Inf'), -Infinity);
  assert.ok(Number.isNaN(one('##NaN')));
});

test('parseEdn() reads characters and strings with every escape', () => {
  assert.deepEqual(one('[\\c \\newline \\space \\tab \\return \\backspace \\formfeed \\u0041 \\o101 \\( \\\\ \\]]'), ['c', '\n', ' ', '\t', '\r', '\b', '\f', 'A', 'A', '(', '\\', ']']);
  assert.equal(one('"a\\"b\\n\\t\\r\\b\\f\\\\\\u00e9\\101\\0"'), 'a"b\n\t\r\b\f\\éA\0');
  assert.equal(one('"multi\nline"'), 'multi\nline');
});

test('parseEdn() reads keywords, namespaced keywords and maps, symbols and sets', () => {
  assert.deepEqual(one('[:ok :jepsen.history/op ::auto sym ns/sym + - / .method nil true false]'), ['ok', 'jepsen.history/op', 'auto', 'sym', 'ns/sym', '+', '-', '/', '.method', null, true, false]);
  assert.deepEqual(one('#:jepsen{:a 1, :b/c 2, "s" 3}'), { 'jepsen/a': 1, 'b/c': 2, s: 3 });
  assert.deepEqual(one('#{1 :x "y"}'), [1, 'x', 'y']);
  assert.deepEqual(one('{[1 2] :v, 3 :w, nil :z}'), { '[1,2]': 'v', '3': 'w', null: 'z' });
});

test('parseEdn() keeps tagged literals opaque, reads record literals as their map, and skips metadata', () => {
  assert.deepEqual(one('#inst "2020-01-01T00:00:00.000-00:00"'), { '#inst': '2020-01-01T00:00:00.000-00:00' });
  assert.deepEqual(one('#uuid "0b8c2a4e-1111-4222-8333-944444444444"'), { '#uuid': '0b8c2a4e-1111-4222-8333-944444444444' });
  assert.deepEqual(one('#error {:cause "boom" :via []}'), { '#error': { cause: 'boom', via: [] } });
  assert.deepEqual(one('#object[java.lang.Thread 0x1f "main"]'), { '#object': ['java.lang.Thread', 0x1f, 'main'] });
  assert.deepEqual(one('#jepsen.history.Op{:index 0, :type :invoke}'), { index: 0, type: 'invoke' });
  assert.deepEqual(one('^{:doc "x"} [1 ^:private 2 ^String "s"]'), [1, 2, 's']);
  assert.deepEqual(one("['a @b `c ~d ~@e #'f]"), ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.equal(one('#"a\\d+\\"b"'), 'a\\d+\\"b');
});

test('parseEdn() skips comments, commas, #! lines and #_ discards', () => {
  assert.deepEqual(one('#!/usr/bin/env bb\n(1, 2 ; a comment { [\n #_ :gone #_ #_ 3 4 5)'), [1, 2, 5]);
});

test('parseEdn() keeps a map key named __proto__ as data', () => {
  const v = one('{:__proto__ {:polluted true}}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('parseEdnElements() spreads one top-level vector into its elements with their lines', () => {
  const els = parseEdnElements('[{:a 1}\n {:a\n 2}\n ; x\n {:a 3}]\n');
  assert.deepEqual(els.map((e) => e.line), [1, 2, 5]);
});

test('readEdnHistoryForms() gives the same forms whatever the chunk boundaries', () => {
  const text = '[{:a 0x10, :b "x\\ny" :c \\space}\n {:a 2r11 :b #{:k} :c 1.5M}\n {:a nil :b #inst "2020" :c -7}]\n';
  const whole: unknown[] = [];
  readEdnHistoryForms([text], (v) => whole.push(v));
  for (let size = 1; size <= 9; size++) {
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
    const got: { v: unknown; line: number }[] = [];
    readEdnHistoryForms(chunks, (v, line) => got.push({ v, line }));
    assert.deepEqual(got.map((g) => g.v), whole, `chunks of ${size}`);
    assert.deepEqual(got.map((g) => g.line), [1, 2, 3]);
  }
});

test('parseEdn() throws HistoryFormatError naming the line of malformed input', () => {
  const cases: [string, number][] = [
    ['{:a 1}\n{:a 2', 2],
    ['{:a 1}\n\n[1 2}', 3],
    ['{:a 1}\n"abc', 2],
    ['{:a}', 1],
    ['\n\n)', 3],
    ['{:a 1.2.3}', 1],
    ['\n08', 2],
    ['\n\n2r102', 3],
    ['{:a 1 :a 2}', 1],
    ['#{1 1}', 1],
    ['"\\q"', 1],
    ['\\abc', 1],
    ['#?(:clj 1)', 1],
    ['1/0', 1],
    ['#', 1],
    ['##Foo', 1],
    [`${'['.repeat(2000)}`, 1],
  ];
  for (const [text, line] of cases) {
    assert.throws(() => parseEdn(text), (err: unknown) => err instanceof HistoryFormatError && err.line === line && !err.message.includes('\n'), text.slice(0, 40));
  }
});
