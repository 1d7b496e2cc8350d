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
