/**
 * EdnColumnScanner on its own: which lines it reads straight into the columns (and what it writes there), and
 * that for any other line it answers -1 with the columns as they were. That the column reader, fast and slow,
 * reads what the op readers read is fast-read.test.ts's and read-fuzz.test.ts's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryColumns, T_INFO, T_INVOKE, T_OK, V_ARR, V_NULL, V_NUM, V_STR } from './columns';
import { EdnColumnScanner } from './edn-columns';
import { parseEdnBytes, parseEdnColumns } from './edn-history';
import { Random } from '../generator/random';

function scanAll(text: string, cols = new HistoryColumns(16)): { cols: HistoryColumns; sc: EdnColumnScanner; ends: number[] } {
  const b = Buffer.from(text, 'utf8');
  const sc = new EdnColumnScanner(cols);
  const ends: number[] = [];
  let p = 0;
  let line = 1;
  while (p < b.length) {
    const q = sc.scan(b, p, b.length, line++);
    ends.push(q);
    if (q < 0) break;
    p = q;
  }
  return { cols, sc, ends };
}

test('the common op-map line goes straight into the columns, its value onto the tape, with no JS value', () => {
  const text = '{:type :invoke, :f :cas, :value [207 [nil 3]], :process 1000002, :time 936, :index 2}\n{:type :ok, :f :cas, :value [207 [nil 3]], :process 1000002, :time 940, :index 3}\n';
  const { cols, sc, ends } = scanAll(text);
  assert.deepEqual(ends, [text.indexOf('\n') + 1, text.length]);
  assert.equal(sc.index, 3);
  assert.equal(cols.length, 2);
  assert.equal(cols.objects.length, 0);
  assert.deepEqual([cols.type[0], cols.type[1]], [T_INVOKE, T_OK]);
  assert.equal(cols.string(cols.f[0]!), 'cas');
  assert.equal(cols.f[0], cols.f[1], 'one string id for both');
  assert.deepEqual([cols.process[0], cols.time[0], cols.line[1]], [1000002, 936, 2]);
  const at = cols.value[0]!;
  assert.deepEqual(Array.from(cols.tags.subarray(at, at + 5)), [V_ARR, V_NUM, V_ARR, V_NULL, V_NUM]);
  assert.deepEqual(Array.from(cols.nums.subarray(at, at + 5)), [2, 207, 2, 0, 3]);
  assert.equal(cols.value[1], at + 5);
  assert.deepEqual(cols.opAt(0), { index: 0, type: 'invoke', process: 1000002, f: 'cas', value: [207, [null, 3]], line: 1, time: 936 });
});

test('keys, errors, nodes and dropped fields leave only the value on the tape', () => {
  const text = '{:time :x, :key :k1, :error [:timeout 5], :extra [1 2 3], :node "n2", :process :nemesis, :f :kill, :type :info, :value :all, :index 1.5}\n{:type "ok", :f "read", :process 1.0, :key [1 2]}\n';
  const { cols, sc, ends } = scanAll(text);
  assert.ok(ends.every((q) => q >= 0), `scanned ${JSON.stringify(ends)}`);
  assert.ok(Number.isNaN(sc.index));
  assert.equal(cols.tapeLength, 2);
  assert.deepEqual([cols.tags[0], cols.string(cols.nums[0]!), cols.tags[1]], [V_STR, 'all', V_NULL]);
  assert.deepEqual(cols.toOps(), [
    { index: 0, type: 'info', process: 'nemesis', f: 'kill', value: 'all', line: 1, key: 'k1', error: '["timeout",5]', node: 'n2' },
    { index: 1, type: 'ok', process: 1, f: 'read', value: null, line: 2, key: '[1,2]' },
  ]);
  assert.ok(Number.isNaN(cols.time[0]!));
});

test('blank lines are taken as blank; lines of any other shape are declined with the columns unchanged', () => {
  const blank = scanAll('  \n\n');
  assert.deepEqual(blank.ends, [3, 4]);
  assert.equal(blank.cols.length, 0);
  const declined = [
    '; a comment',
    '[{:type :invoke, :f :read, :value nil, :process 0}',
    '#jepsen.history.Op{:type :invoke, :f :read, :value nil, :process 0}',
    '{:type :invoke, :f :read,',
    '{:type :invoke, :f :read, :value nil, :process 0} {:type :ok, :f :read, :value nil, :process 0}',
    '{:type :invoke, :f :read, :value 0x10, :process 0}',
    '{:type :invoke, :f :read, :value 1e3, :process 0}',
    '{:type :invoke, :f :read, :value 12N, :process 0}',
    '{:type :invoke, :f :read, :value 1234567890123456, :process 0}',
    '{:type :invoke, :f :read, :value #{1 2}, :process 0}',
    '{:type :invoke, :f :read, :value {:a 1}, :process 0}',
    '{:type :invoke, :f :read, :value "a\\nb", :process 0}',
    '{:type :invoke, :f :read, :value "é", :process 0}',
    '{:type :invoke, :f :read, :value sym, :process 0}',
    '{:type :invoke, :f :read, :value ^:m [1], :process 0}',
    '{:type :invoke, :f :read, :value nil, :process 0, :process 1}',
    '{:type :invoke, :f :read, :value nil, :process 0, :x 1, :x 2}',
    '{:type :invoke, :f :read, :value nil}',
    '{:type :bogus, :f :read, :value nil, :process 0}',
    '{:type :invoke, :f 3, :value nil, :process 0}',
    '{:type :invoke, :f :read, :value nil, :process 1.5}',
    '{:type :invoke, :f :read, :value nil, :process :nemesis2}',
    '{:type :invoke, :f ::read, :value nil, :process 0}',
    '{"type" :invoke, :f :read, :value nil, :process 0}',
    '{:type :invoke, :f :read, :value nil, :process 0, :value}',
    `{:type :invoke, :f :read, :value ${'['.repeat(65)}${']'.repeat(65)}, :process 0}`,
  ];
  const cols = new HistoryColumns(16);
  scanAll('{:type :invoke, :f :read, :value [1 2], :process 0}\n', cols);
  for (const line of declined) {
    const before = { length: cols.length, tape: cols.tapeLength };
    const { ends } = scanAll(`${line}\n`, cols);
    assert.deepEqual(ends, [-1], line);
    assert.deepEqual({ length: cols.length, tape: cols.tapeLength }, before, line);
  }
});

test('a line longer than the tape left makes room for itself', () => {
  const cols = new HistoryColumns(16); // 64 tape cells
  const value = `[${Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? 'nil' : String(i))).join(' ')}]`;
  const { ends } = scanAll(`{:type :ok, :f :read, :value ${value}, :process 0}\n`, cols);
  assert.ok(ends[0]! > 0);
  assert.equal(cols.tapeLength, 501);
  assert.deepEqual(cols.valueOf(0), Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? null : i)));
});

test('parseEdnColumns: fast lines, slow lines and forms in between, with :index and line numbers kept', () => {
  const text = [
    '{:type :invoke, :f :read, :value nil, :process 0, :index 7}',
    '; a comment',
    '#jepsen.history.Op{:type :ok, :f :read, :value 0x10, :process 0, :index 8}',
    '{:type :invoke, :f :write,',
    ' :value 1, :process 1, :index 9}',
    '{:type :ok, :f :write, :value 1, :process 1}',
    '',
  ].join('\n');
  const { columns, jepsenIndex } = parseEdnColumns([Buffer.from(text)]);
  assert.deepEqual(Array.from(jepsenIndex), [7, 8, 9, NaN]);
  assert.deepEqual(columns.toOps().map((o) => [o.type, o.f, o.value, o.line]), [
    ['invoke', 'read', null, 1],
    ['ok', 'read', 16, 3],
    ['invoke', 'write', 1, 4],
    ['ok', 'write', 1, 6],
  ]);
});

test('parseEdnColumns reads the same whatever newlines the chunks end at, and what parseEdnBytes reads, a history in one vector too', () => {
  const rng = new Random(20261203);
  const lines = [
    '{:type :invoke, :f :write, :value [1 2], :process 0, :time 10, :index 0}',
    '{:type :ok, :f :write, :value [1 2], :process 0, :time 11, :index 1}',
    '#jepsen.history.Op{:type :invoke, :f :read, :value [1 nil], :process 1, :time 12, :index 2}',
    '{:type :ok, :f :read,\n :value [1 2], :process 1, :time 13, :index 3}',
    '; a comment',
    '',
    '{:type :info, :f :kill, :value :all, :process :nemesis, :time 14, :index 4, :error [:timeout "x"]}',
    '{:type :invoke, :f :read, :value 0x10, :process 2, :time 15, :index 5}',
  ];
  const broken = ['{:type :ok, :f :read,', '{:type :ok, :f :read, :value [1 2]}', '{:type :ok, :f :read, :value [1 2], :process 1, :x 1, :x 2}'];
  let readable = 0;
  for (let c = 0; c < 200; c++) {
    const picked = Array.from({ length: 2 + rng.int(30) }, () => rng.pick(lines));
    if (rng.int(8) === 0) picked.splice(rng.int(picked.length), 0, rng.pick(broken));
    // A third in one vector (or list), as Knossos writes them, closed on the last line or after it.
    const wrap = rng.int(6);
    const joined = picked.join('\n');
    const text = wrap === 0 ? `[${joined}]\n` : wrap === 1 ? `(\n${joined}\n)\n` : `${joined}\n`;
    const b = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let at = 0; at < b.length; ) {
      const nl = b.indexOf(10, at + rng.int(40));
      const to = nl < 0 ? b.length : nl + 1;
      chunks.push(b.subarray(at, to));
      at = to;
    }
    const read = (f: () => { ops: unknown; index: unknown }): unknown => {
      try {
        return f();
      } catch (err) {
        return (err as Error).message;
      }
    };
    const columns = (parts: Buffer[], fast: boolean) => () => {
      const r = parseEdnColumns(parts, fast);
      return { ops: r.columns.toOps(), index: Array.from(r.jepsenIndex, (x) => (Number.isNaN(x) ? undefined : x)) };
    };
    const expected = read(() => {
      const r = parseEdnBytes([b], false);
      return { ops: r.ops, index: r.jepsenIndex };
    });
    assert.deepStrictEqual(read(columns(chunks, true)), expected, JSON.stringify(text));
    assert.deepStrictEqual(read(columns(chunks, false)), expected, JSON.stringify(text));
    if (typeof expected !== 'string') readable++;
  }
  assert.ok(readable > 100 && readable < 200, `${readable} of 200 readable`);
});
