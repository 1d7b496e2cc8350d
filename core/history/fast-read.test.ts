/**
 * The byte-level fast paths (jsonl-scan.ts, edn-scan.ts) against the full readers: random op lines, common and
 * odd, read through both give deep-equal ops (−0, doubles, key order aside) or the same one-line error.
 * FAULTLINE_FUZZ_SEED and FAULTLINE_FUZZ_CASES reproduce or widen a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryFormatError } from '../errors';
import { Random } from '../generator/random';
import { parseHistoryBytes, parseHistoryBytesColumns, parseHistoryText } from './read-history';

const SEED = Number(process.env.FAULTLINE_FUZZ_SEED ?? 20261202);
const CASES = Number(process.env.FAULTLINE_FUZZ_CASES ?? 4000);

type Outcome = { ok: true; format: string; ops: unknown } | { ok: false; message: string };

function outcome(read: () => { format: string; ops: unknown }): Outcome {
  try {
    const r = read();
    return { ok: true, format: r.format, ops: r.ops };
  } catch (err) {
    if (!(err instanceof HistoryFormatError)) throw err;
    return { ok: false, message: err.message };
  }
}

/**
 * Reads `text` as a file named `file` five ways (text reader, bytes slow, bytes fast, and into columns slow and
 * fast, made into ops) and wants one answer.
 */
function sameEverywhere(text: string, file: string | undefined, what: string): Outcome {
  const bytes = Buffer.from(text, 'utf8');
  const reference = outcome(() => parseHistoryText(text, file));
  const slow = outcome(() => parseHistoryBytes(bytes, file, false));
  const fast = outcome(() => parseHistoryBytes(bytes, file, true));
  assert.deepStrictEqual(slow, reference, `${what}: the slow byte reader differs from the text reader on ${JSON.stringify(text.slice(0, 400))}`);
  assert.deepStrictEqual(fast, reference, `${what}: the fast path differs from the full reader on ${JSON.stringify(text.slice(0, 400))}`);
  for (const quick of [false, true]) {
    const columns = outcome(() => {
      const r = parseHistoryBytesColumns(bytes, file, quick);
      return { format: r.format, ops: r.columns.toOps() };
    });
    assert.deepStrictEqual(columns, reference, `${what}: the ${quick ? 'fast' : 'slow'} column reader differs from the full reader on ${JSON.stringify(text.slice(0, 400))}`);
  }
  return reference;
}

const KEYWORDS = ['invoke', 'ok', 'fail', 'info', 'read', 'write', 'cas', 'txn', 'append', 'r', 'w', 'nemesis', 'start', 'jepsen/x', 'a:b', 'x-y?', 'bogus'];

function ednScalar(rng: Random): string {
  switch (rng.int(16)) {
    case 0: return 'nil';
    case 1: return rng.pick(['true', 'false', 'truex', 'nilly', 'sym']);
    case 2: return `:${rng.pick(KEYWORDS)}`;
    case 3: return String(rng.int(1000) - 500);
    case 4: return rng.pick(['-0', '0', '007', '0x1F', '2r1010', '12N', '1.5M', '1/2', '-', '+3', '99999999999999999', '123456789012345', '1e3']);
    case 5: return `${rng.int(1000)}.${rng.int(1000)}`;
    case 6: return rng.pick(['-0.0', '1.', '0.1', '00.5', '3.14159265358979', '9007199254740993.5', `${rng.int(1 << 30)}.${rng.int(1 << 30)}`]);
    case 7: return `"${rng.pick(['', 'k1', 'x y', 'tab\there', 'é', 'quote\\"', 'nl\\n', 'oct\\101', 'a long string of text that goes past the interned length'])}"`;
    case 8: return rng.pick(['\\a', '#{1 2}', '#inst "2020"', '{:a 1}', '^:m 1', '#_ 1 2', '##Inf']);
    case 9: return String(rng.int(1 << 31) * 8);
    default: return String(rng.int(100));
  }
}

function ednValue(rng: Random, depth: number): string {
  if (depth < 3 && rng.int(3) === 0) {
    const n = rng.int(6);
    const items = Array.from({ length: n }, () => ednValue(rng, depth + 1));
    const [open, close] = rng.int(6) === 0 ? ['(', ')'] : ['[', ']'];
    return `${open}${items.join(rng.pick([' ', ', ', ',', '  ']))}${close}`;
  }
  return ednScalar(rng);
}

function ednLine(rng: Random, i: number): string {
  const fields: [string, string][] = [
    [':type', rng.int(150) === 0 ? ednScalar(rng) : `:${rng.pick(['invoke', 'ok', 'fail', 'info'])}`],
    [':f', rng.int(150) === 0 ? ednScalar(rng) : `:${rng.pick(['read', 'write', 'cas', 'txn'])}`],
    [':value', ednValue(rng, 0)],
    [':process', rng.int(150) === 0 ? ednScalar(rng) : rng.int(10) === 0 ? ':nemesis' : String(rng.int(5))],
  ];
  if (rng.int(4) !== 0) fields.push([':time', rng.int(10) === 0 ? ednScalar(rng) : String(i * 10 + rng.int(5))]);
  if (rng.int(3) !== 0) fields.push([':index', String(i)]);
  if (rng.int(6) === 0) fields.push([':error', ednValue(rng, 1)]);
  if (rng.int(8) === 0) fields.push([':node', ednScalar(rng)]);
  if (rng.int(8) === 0) fields.push([':key', ednScalar(rng)]);
  if (rng.int(8) === 0) fields.push([`:${rng.pick(['extra', 'debug', 'extra-2', 'tyPe', 'type', 'x', 'y', 'z'])}`, ednValue(rng, 1)]);
  for (let k = fields.length - 1; k > 0; k--) {
    const j = rng.int(k + 1);
    [fields[k], fields[j]] = [fields[j]!, fields[k]!];
  }
  const sep = rng.pick([', ', ' ', ',', ' , ']);
  const body = `{${fields.map(([k, v]) => `${k} ${v}`).join(sep)}}`;
  switch (rng.int(30)) {
    case 0: return `  ${body}  `;
    case 1: return `${body} ; a comment`;
    case 2: return `#jepsen.history.Op${body}`;
    case 3: return `${body}\r`;
    case 4: return `${body} ${body}`;
    case 5: return '';
    case 6: return `{:type :ok, :f :read,\n :value 1, :process 0}`;
    default: return body;
  }
}

function jsonScalar(rng: Random): string {
  if (rng.int(40) === 0) return rng.pick(['nul', 'tru', '01', '-', '1.', '.5', '"tab\there"', '2.5e+400', '"\\x"']); // not JSON, or refused
  switch (rng.int(14)) {
    case 0: return 'null';
    case 1: return rng.pick(['true', 'false']);
    case 2: return JSON.stringify(rng.pick(KEYWORDS));
    case 3: return String(rng.int(1000) - 500);
    case 4: return rng.pick(['-0', '0', '-0.0', '1e3', '1E-2', '123456789012345678', '9007199254740993', '0.1', '1.7976931348623157e308', '-12.5e-3']);
    case 5: return `${rng.int(100000)}.${rng.int(100000)}`;
    case 6: return String(rng.next() * 1e6);
    case 7: return rng.pick(['"\\u0041"', '"é"', '"a\\nb"', '"k1"', '"a long string of text that goes past the interned length"', '""', '"\\"q\\""']);
    case 8: return rng.pick(['{}', '{"a":1}', '{"a":1,"a":2}', '{"__proto__":1}', '{"b":[1,2],"1":3}', '{"constructor":1}', '{ "x" : [ ] }']);
    default: return String(rng.int(100));
  }
}

function jsonValue(rng: Random, depth: number): string {
  if (depth < 3 && rng.int(3) === 0) {
    const n = rng.int(6);
    return `[${Array.from({ length: n }, () => jsonValue(rng, depth + 1)).join(rng.pick([',', ', ', ' ,']))}]`;
  }
  return jsonScalar(rng);
}

function jsonLine(rng: Random, i: number, timed: boolean): string {
  const fields: [string, string][] = [
    ['index', String(i)],
    ['type', rng.int(150) === 0 ? jsonScalar(rng) : JSON.stringify(rng.pick(['invoke', 'ok', 'fail', 'info']))],
    ['process', rng.int(150) === 0 ? jsonScalar(rng) : rng.int(10) === 0 ? '"nemesis"' : String(rng.int(5))],
    ['f', rng.int(150) === 0 ? jsonScalar(rng) : JSON.stringify(rng.pick(['read', 'write', 'txn']))],
  ];
  if (rng.int(60) !== 0) fields.push(['value', jsonValue(rng, 0)]);
  if (rng.int(3) !== 0) fields.push(['key', rng.int(10) === 0 ? jsonScalar(rng) : `"k${rng.int(9)}"`]);
  if (timed ? rng.int(100) !== 0 : rng.int(100) === 0) fields.push(['time', rng.int(40) === 0 ? jsonScalar(rng) : String(i * 10 + rng.int(5) + rng.int(2) * 0.25)]);
  if (rng.int(2) === 0) fields.push(['uncertainty', rng.int(10) === 0 ? jsonScalar(rng) : String(rng.int(300))]);
  if (rng.int(10) === 0) fields.push(['seq', rng.int(4) === 0 ? jsonScalar(rng) : String(i + 1)]);
  if (rng.int(10) === 0) fields.push(['node', rng.int(4) === 0 ? jsonScalar(rng) : '"n1"']);
  if (rng.int(10) === 0) fields.push(['error', jsonValue(rng, 1)]);
  if (rng.int(6) === 0) fields.push([rng.pick(['line', 'extra', 'type', 'f\\u0000', 'valu']), jsonValue(rng, 1)]);
  for (let k = fields.length - 1; k > 0; k--) {
    const j = rng.int(k + 1);
    [fields[k], fields[j]] = [fields[j]!, fields[k]!];
  }
  const sep = rng.pick([',', ', ']);
  const body = `{${fields.map(([k, v]) => `"${k}":${rng.int(8) === 0 ? ' ' : ''}${v}`).join(sep)}}`;
  switch (rng.int(60)) {
    case 0: return `  ${body}\t`;
    case 1: return `${body}\r`;
    case 2: return '';
    case 3: return `${body},`;
    case 4: return `[${body}]`;
    default: return body;
  }
}

test(`random EDN op lines read the same through the fast path and the full reader (seed ${SEED})`, () => {
  const rng = new Random(SEED);
  let read = 0;
  for (let c = 0; c < CASES / 4; c++) {
    const n = 1 + rng.int(8);
    const lines = Array.from({ length: n }, (_, i) => ednLine(rng, i));
    const text = lines.join('\n') + (rng.int(4) === 0 ? '' : '\n');
    if (sameEverywhere(text, rng.int(2) === 0 ? 'history.edn' : undefined, `EDN case ${c}`).ok) read++;
  }
  if (process.env.FAULTLINE_FUZZ_SHOW) console.log(`EDN: ${read} of ${CASES / 4} readable`);
  assert.ok(read > CASES / 8, `only ${read} of ${CASES / 4} EDN histories were readable: the generator is too odd`);
});

test(`random JSON op lines read the same through the fast path and JSON.parse (seed ${SEED})`, () => {
  const rng = new Random(SEED + 1);
  let read = 0;
  for (let c = 0; c < CASES / 4; c++) {
    const n = 1 + rng.int(8);
    const timed = rng.int(4) !== 0;
    const lines = Array.from({ length: n }, (_, i) => jsonLine(rng, i, timed));
    const text = lines.join('\n') + (rng.int(4) === 0 ? '' : '\n');
    if (sameEverywhere(text, 'history.jsonl', `JSONL case ${c}`).ok) read++;
  }
  if (process.env.FAULTLINE_FUZZ_SHOW) console.log(`JSONL: ${read} of ${CASES / 4} readable`);
  assert.ok(read > CASES / 10, `only ${read} of ${CASES / 4} JSONL histories were readable: the generator is too odd`);
});

test('the fast path keeps what the full reader keeps on hand-picked lines', () => {
  const edn = [
    '{:type :invoke, :f :write, :value 3, :process 1, :time 123, :index 5}\n{:type :ok, :f :write, :value 3, :process 1, :time 124, :index 6}\n',
    '{:type :invoke, :f :cas, :value [207 [nil 3]], :process 1000002, :time 4294967296, :index 2}\n',
    '{:type :invoke :f :read :value -0 :process 0 :time -0.0}\n{:type :ok :f :read :value [1.5 -2.25 1. 00.5] :process 0}\n',
    '\n\n{:type :invoke, :f :read, :value nil, :process 0}\n; comment\n{:type :ok, :f :read, :value "x", :process 0, :extra [1 2], :other :k}\n',
    '[{:type :invoke, :f :read, :value nil, :process 0}\n{:type :ok, :f :read, :value nil, :process 0}]\n',
    '{:type :invoke, :f :read, :value nil, :process 0}\n#jepsen.history.Op{:type :ok, :f :read, :value 0x10, :process 0}\n{:type :invoke, :f :read, :value nil, :process 1}\n',
    '{:type :invoke, :f :read, :value nil, :process 0}\n{:type :ok, :f :read,\n :value [1\n 2], :process 0}\n{:type :invoke, :f :read, :value nil, :process 1}\n',
    '{:type :invoke, :f :read, :value nil, :process 0, :type :ok}\n',
    '{:type :invoke, :f :read, :value nil, :process 0, :x 1, :x 2}\n',
    '{:type :invoke, :f :read, :value "é", :process 0}\n{:type :ok, :f :read, :value "\\u00e9", :process 0}\n',
    '{:type :invoke, :f :read, :value nil, :process 0}',
    '{:type :invoke, :f :read, :value nil, :process :nemesis, :node "n1", :key 3, :error [:x "y"]}\r\n',
    '{:type :bogus, :f :read, :value nil, :process 0}\n',
    '{:index 1, :type :invoke, :f :read, :value nil, :process 0, :time 5}\n{:index 0, :type :invoke, :f :read, :value nil, :process 1, :time 9}\n',
    // Fields the column reader reads itself, each way the op reader takes them.
    '{:type "ok", :f "read", :value (1 2), :process "nemesis"}\n{:type :info, :f :read, :value nil, :process 1.0, :index 2.0}\n{:type :fail, :f :w, :value nil, :process -3, :index 1.5}\n',
    '{:type :invoke, :f 3, :value nil, :process 0}\n{:type :invoke, :f 1.5, :value nil, :process 0}\n{:type :invoke, :f nil, :value nil, :process 0}\n',
    '{:type :invoke, :f :read, :value nil, :process 1.5}\n',
    '{:type :invoke, :f :read, :value nil, :process [1]}\n',
    '{:type :invoke, :f :read, :value nil, :process nil}\n',
    '{:type :invoke, :f :read, :value nil, :process 0, :time :x, :index :y}\n{:type :ok, :f :read, :value nil, :process 0, :time [1 2], :index "3"}\n',
    '{:type :invoke, :f :read, :value nil, :process 0, :key [1 :a "b" nil], :error :timeout, :node :n1}\n{:type :ok, :f :read, :value nil, :process 0, :key :k, :error [:a 1.5 true], :node 3}\n',
    '{:type :invoke, :f :read, :value nil, :process 0, :key nil, :error nil, :node nil}\n{:type :ok, :f :read, :value nil, :process 0, :key 1.5, :error true, :node [1]}\n{:type :ok, :f :read, :value nil, :process 0, :key -0.0, :error 7}\n',
    '{:type :invoke, :f :read, :value nil, :process 0, :a 1, :b 2, :c 3, :d 4, :e 5, :g 6, :h 7, :i 8, :j 9, :k 10, :l 11, :m 12, :n 13, :o 14, :p 15, :q 16, :r 17}\n',
    '{:type :invoke, :f :read, :value nil, :process 0, :ab 1, :a 2, :abc 3, :ab 4}\n',
    '{:type :invoke, :f :a-keyword-much-longer-than-thirty-two-bytes, :value ["a string much longer than thirty-two bytes" :another-keyword-much-longer-than-thirty-two-bytes], :process 0}\n',
    '{:type :invoke, :f :read, :value [nil [nil] [1 nil 2] [0] [007] [-1] [nilx] true false], :process 0}\n',
    '{:type :invoke, :f :read, :value [1 -x], :process 0}\n',
    '{:type :invoke, :f :read, :value [1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 123456789012345 1234567890123456], :process 0}\n',
    `{:type :invoke, :f :read, :value ${'['.repeat(64)}1${']'.repeat(64)}, :process 0}\n{:type :ok, :f :read, :value ${'['.repeat(65)}1${']'.repeat(65)}, :process 0}\n`,
    '{:type :ok:, :f :read, :value nil, :process 0}\n{:type :okay, :f :read, :value nil, :process 0}\n',
    '{:type :invoke, :f :read, :value nil, :process :nemesis2}\n',
    '{:type :invoke, :f :read/x, :value nil, :process 0}\n{:type :invoke, :f :read/, :value nil, :process 0}\n',
    '{:type :invoke, :f :read, :value nil, :process 0, :time 12, :index 3}   \n{:type :invoke, :f :read, :value nil, :process 0, :time 012, :index 4}\n',
    '{:type :invoke, :f :read, :process 0, :time 1}\n{:type :ok, :f :read, :process 0, :time 2, :value [1 2]}\n',
    // A history in one vector or list, as Knossos writes them.
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read, :value 3, :process 0, :index 2}\n {:type :invoke, :f :read, :value nil, :process 0, :index 1}]\n',
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read, :value 3, :process 0, :index 2}\n',
    '[\n{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n{:type :ok, :f :read, :value 3, :process 0, :index 2}\n]\n',
    '[]',
    '[ ]\n',
    '(\n{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n)\n',
    '  ({:type :invoke, :f :read, :value nil, :process 0, :index 1}, {:type :ok, :f :read, :value 3, :process 0, :index 2})\n',
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read, :value 3, :process 0, :index 2}]\n{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n',
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1}] [{:type :ok, :f :read, :value 3, :process 0, :index 2}]\n',
    '; comment\n[{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read, :value 3, :process 0, :index 2}]\n',
    '[1 2 3]\n',
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n 5\n {:type :ok, :f :read, :value 3, :process 0, :index 2}]\n',
    '[[{:type :invoke, :f :read, :value nil, :process 0, :index 1}]]\n',
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read, :value 3, :process 0, :index 2} ; comment\n]\n',
    '({:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read, :value 3, :process 0, :index 2}]\n',
    '[#jepsen.history.Op{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read, :value 3, :process 0, :index 2}]\n',
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read, :value 3, :process 0, :index 2}\n]\n\n\n',
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read, :value 3, :process 0, :index 2}\n] ; done\n',
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read, :value 3, :process 0, :index 2}]',
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n {:type :ok, :f :read,\n :value 3, :process 0}]\n',
    '[\n\n{:type :invoke, :f :read, :value nil, :process 0, :index 1}\n',
    '[{:type :invoke, :f :read, :value nil, :process 0, :index 1},\n {:type :ok, :f :read, :value 3, :process 0, :index 2},\n]\n',
    '[ {:type :invoke, :f :read, :value nil, :process 0, :index 1} {:type :ok, :f :read, :value 3, :process 0, :index 2}\n{:type :invoke, :f :read, :value nil, :process 0, :index 1}]\n',
  ];
  for (const t of edn) sameEverywhere(t, undefined, 'EDN');
  const jsonl = [
    '{"index":0,"type":"invoke","process":9,"f":"txn","value":[["r",7,null]],"line":1,"time":153.831333713606,"uncertainty":300}\n',
    '{"type":"invoke","process":0,"f":"read","value":-0,"time":-0.0}\n{"type":"ok","process":0,"f":"read","value":[1e2,0.1,2.5E-3],"time":1}\n',
    '{"type":"invoke","process":0,"f":"read","value":{"b":1,"a":[2],"2":0},"time":1}\n',
    '{"type":"invoke","process":0,"f":"read","value":{"__proto__":1},"time":1}\n',
    '{"type":"invoke","process":0,"f":"read","value":1,"value":2,"time":1}\n',
    '{"type":"ok","process":0,"f":"read","time":1}\n',
    '{"type":"invoke","process":0,"f":"read","value":"\\u00e9","key":5,"error":{"a":1},"node":"n1","seq":1,"time":1}\n',
    '{"type":"invoke","process":0,"f":"read","value":null,"time":1e400}\n',
    '{"type":"invoke","process":0,"f":"read","value":null,"uncertainty":-1,"time":1}\n',
    '\n{"type":"invoke","process":0,"f":"read","value":null}\n\n',
    '{"type":"invoke","process":0,"f":"read","value":null,"time":1}\n{"type":"ok","process":0,"f":"read","value":null}\n',
    '{"type":"invoke","process":0,"f":"read","value":12345678901234567890}',
  ];
  for (const t of jsonl) sameEverywhere(t, 'history.jsonl', 'JSONL');
});
