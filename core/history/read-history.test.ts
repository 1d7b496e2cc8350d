import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHistoryText } from './read-history';
import { HistoryFormatError } from '../errors';

function throwsAtLine(text: string, line: number, re?: RegExp): void {
  assert.throws(
    () => parseHistoryText(text, 'h.txt'),
    (err: unknown) => err instanceof HistoryFormatError && err.line === line && err.file === 'h.txt' && (!re || re.test(err.message)) && !err.message.includes('\n'),
    text,
  );
}

test('parseHistoryText() reads our jsonl with keys, times and nemesis events', () => {
  const { format, ops } = parseHistoryText(
    [
      '{"index":0,"type":"invoke","process":1,"f":"write","key":"k3","value":4,"time":100,"uncertainty":5,"node":"n1","seq":1}',
      '{"index":1,"type":"info","process":"nemesis","f":"start-partition","value":["n1"]}',
      '',
      '{"index":2,"type":"ok","process":1,"f":"write","key":"k3","value":4,"time":200,"uncertainty":5}',
    ].join('\n'),
  );
  assert.equal(format, 'jsonl');
  assert.equal(ops.length, 3);
  assert.deepEqual(ops[0], { index: 0, type: 'invoke', process: 1, f: 'write', key: 'k3', value: 4, time: 100, uncertainty: 5, node: 'n1', seq: 1, line: 1 });
  assert.equal(ops[1]!.process, 'nemesis');
  assert.equal(ops[2]!.line, 4);
});

test('parseHistoryText() reads Jepsen EDN: keywords become strings, one vector spread into ops', () => {
  const { format, ops } = parseHistoryText('; c\n[{:process 0, :type :invoke, :f :txn, :value [[:append 3 1] [:r 4 nil]]}\n {:process 0 :type :ok :f :txn\n :value [[:append 3 1] [:r 4 [1 2]]]}\n {:process :nemesis :type :info :f :start :value "x #{"}]');
  assert.equal(format, 'edn');
  assert.deepEqual(ops[0]!.value, [['append', 3, 1], ['r', 4, null]]);
  assert.equal(ops[1]!.line, 3);
  assert.equal(ops[2]!.process, 'nemesis');
});

test('parseHistoryText() reads Porcupine etcd logs and kv files', () => {
  const etcd = parseHistoryText('INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\nINFO  jepsen.util - 2\t:info\t:cas\t:timed-out\n');
  assert.equal(etcd.format, 'porcupine-etcd');
  assert.deepEqual(etcd.ops.map((o) => [o.process, o.type, o.f, o.value]), [[2, 'invoke', 'cas', [3, 0]], [2, 'info', 'cas', 'timed-out']]);
  const kv = parseHistoryText('{:process 0, :type :invoke, :f :get, :key "3", :value nil}\n{:process 0, :type :ok, :f :get, :key "3", :value ""}\n');
  assert.equal(kv.format, 'porcupine-kv');
  assert.equal(kv.ops[1]!.key, '3');
  assert.equal(kv.ops[1]!.value, '');
});

test('parseHistoryText() rejects malformed input with one line naming the line', () => {
  throwsAtLine('{"type":"invoke","process":1,"f":"read","value":null}\n{"type":"ok","process":1,"f":"re', 2, /invalid JSON/);
  throwsAtLine('{"type":"invoke","process":1,"f":"read","value":null}\n{"type":"done","process":1,"f":"read","value":1}', 2, /unknown op type/);
  throwsAtLine('{:process 0 :type :invoke :f :read}\n{:process 0 :type :ok :f :read :value [1 2}', 2, /invalid EDN/);
  throwsAtLine('[{:process 0 :type :invoke :f :read}\n {:process 0 :type :ok :f :read}', 1, /never closed/);
  throwsAtLine('{:process 0 :type :invoke :f :read}\n{:process 0 :type :whatever :f :read}', 2, /unknown op type/);
  throwsAtLine('INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\ngarbage', 2);
});

test('parseHistoryText() refuses jsonl where only some events are timed, and an ok without a value', () => {
  const partial = '{"type":"invoke","process":1,"f":"write","value":1,"time":1000000000}\n{"type":"ok","process":1,"f":"write","value":1}\n';
  assert.throws(() => parseHistoryText(partial), (e: unknown) => e instanceof HistoryFormatError && e.line === 2 && /every event a time, or none/.test(e.message));
  const noValue = '{"type":"invoke","process":1,"f":"read","value":null}\n{"type":"ok","process":1,"f":"read"}\n';
  assert.throws(() => parseHistoryText(noValue), (e: unknown) => e instanceof HistoryFormatError && e.line === 2 && /must carry "value"/.test(e.message));
});

test('parseHistoryText() reads Jepsen history.txt: process, type, f, value and an optional error, tab-separated', () => {
  const text = '0\t:invoke\t:write\t0x10\n0\t:ok\t:write\t16\n:nemesis\t:info\t:start\t{"n1" #{"n2"}}\n1\t:invoke\t:read\tnil\n1\t:info\t:read\tnil\tindeterminate: timed out\tafter 5 s\n2\t:invoke\t:cas\t[16 17]\n2\t:fail\t:cas\t[16 17]\n';
  const { format, ops } = parseHistoryText(text);
  assert.equal(format, 'jepsen-txt');
  assert.equal(ops.length, 7);
  assert.deepEqual(ops[0], { index: 0, type: 'invoke', process: 0, f: 'write', value: 16, line: 1 });
  assert.deepEqual(ops[2]!.value, { n1: ['n2'] });
  assert.equal(ops[2]!.process, 'nemesis');
  assert.equal(ops[4]!.error, 'indeterminate: timed out\tafter 5 s');
  assert.deepEqual(ops[5]!.value, [16, 17]);
  throwsAtLine('0\t:invoke\t:write\t1\n0\t:ok\t:write\t[1\n', 2, /never closed/);
  throwsAtLine('0\t:invoke\t:write\t1\n0 :ok :write 1\n', 2, /history\.txt/);
});

test('parseHistoryText() orders Jepsen EDN events by :index, as Jepsen does, when every event has one', () => {
  const text = '{:index 1, :process 0, :type :ok, :f :write, :value 1, :time 50}\n{:index 0, :process 0, :type :invoke, :f :write, :value 1, :time 10}\n{:index 2, :process 1, :type :invoke, :f :read, :value nil, :time 5}\n';
  const { ops } = parseHistoryText(text);
  assert.deepEqual(ops.map((o) => [o.index, o.type, o.line]), [[0, 'invoke', 2], [1, 'ok', 1], [2, 'invoke', 3]]);
  // :time goes backwards in :index order, so the order of events is the real-time order and times are dropped.
  assert.ok(ops.every((o) => o.time === undefined));
  throwsAtLine('{:index 0, :process 0, :type :invoke, :f :read}\n{:index 0, :process 0, :type :ok, :f :read, :value 1}\n', 2, /two events have :index 0/);
});

test('parseHistoryText() keeps file order when :index is sparse, and monotone :time when there is one', () => {
  const { ops } = parseHistoryText('{:index 5, :process 0, :type :invoke, :f :write, :value 1, :time 1}\n{:process 0, :type :ok, :f :write, :value 1, :time 2}\n');
  assert.deepEqual(ops.map((o) => [o.index, o.type, o.time]), [[0, 'invoke', 1], [1, 'ok', 2]]);
});

test('parseHistoryText() reads #jepsen.history.Op records and real-Jepsen values (hex, N, #error)', () => {
  const { format, ops } = parseHistoryText('#jepsen.history.Op{:index 0, :time 1, :type :invoke, :process 0, :f :write, :value 0x4892d85e}\n#jepsen.history.Op{:index 1, :time 2, :type :info, :process 0, :f :write, :value 0x4892d85e, :error #error {:cause "timeout"}}\n');
  assert.equal(format, 'edn');
  assert.equal(ops[0]!.value, 0x4892d85e);
  assert.equal(ops[1]!.error, '{"#error":{"cause":"timeout"}}');
  throwsAtLine('#jepsen.history.Op{:index 0}\n#inst "2020"\n', 1, /:f/);
  throwsAtLine('{:process 0, :type :invoke, :f :read}\n#inst "2020"\n', 2, /expected an op map/);
});

test('parseHistoryText() keeps op-map keys named like Object.prototype members out of the op', () => {
  const { ops } = parseHistoryText('{:process 0, :type :invoke, :f :read, :constructor 1, :__proto__ 2, :toString 3}\n');
  assert.deepEqual(ops[0], { index: 0, type: 'invoke', process: 0, f: 'read', value: null, line: 1 });
});
