/**
 * Bounded, seeded fuzzing of the history readers: random and mutated input never crashes the reader (only a
 * HistoryFormatError, one line, naming the line, may come out), the byte reader's fast paths answer exactly as the
 * text reader does, and chunk boundaries never change what is read.
 * FAULTLINE_FUZZ_SEED and FAULTLINE_FUZZ_CASES reproduce or widen a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryFormatError } from '../errors';
import { Random } from '../generator/random';
import { parseEdnOps, parseJepsenTxt } from './edn-history';
import { parseHistoryBytes, parseHistoryBytesColumns, parseHistoryText } from './read-history';

const SEED = Number(process.env.FAULTLINE_FUZZ_SEED ?? 20261201);
const CASES = Number(process.env.FAULTLINE_FUZZ_CASES ?? 4000);

const SEEDS = [
  '{:type :invoke, :f :write, :value 0x4892d85e, :process 3, :time 1, :index 0}\n{:type :ok, :f :write, :value 1228068958, :process 3, :time 2, :index 1}\n',
  '[{:process 0 :type :invoke :f :txn :value [[:append 3 1] [:r 4 nil]]}\n {:process 0 :type :ok :f :txn :value [[:append 3 1] [:r 4 [1 2]]]}\n {:process :nemesis :type :info :f :start :value #{"n1" "n2"}}]\n',
  '#jepsen.history.Op{:index 0, :time 7, :type :invoke, :process 1, :f :cas, :value [2r10 017]}\n#jepsen.history.Op{:index 1, :time 9, :type :fail, :process 1, :f :cas, :value [2 15], :error #error {:cause "x"}}\n',
  '{"index":0,"type":"invoke","process":3,"f":"cas","key":"k3","value":[1,4],"time":12}\n{"index":1,"type":"ok","process":3,"f":"cas","key":"k3","value":[1,4],"time":13}\n',
  '0\t:invoke\t:read\tnil\n0\t:ok\t:read\t3N\n:nemesis\t:info\t:start\t{:a 1/2, :b \\c, :c "s\\n"}\n1\t:invoke\t:add\t[3 nil]\n1\t:info\t:add\t[3 nil]\ttimeout\n',
  'INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\nINFO  jepsen.util - 2\t:info\t:cas\t:timed-out\n',
  '{:process 0, :type :invoke, :f :get, :key "3", :value nil}\n{:process 0, :type :ok, :f :get, :key "3", :value ""}\n',
  '; comment\n^{:meta 1} {:process 0 :type :invoke :f :read :value #inst "2020-01-01" #_ :gone :extra ##Inf}\n',
];
const ALPHABET = '{}[]()#:;"\\^\'`~@,. \t\n\r0123456789xXrRNMeE+-/_abcfnilokvalueprocesstype\u00e9\u2028';

/** True when the reader ended with an answer or with a well-formed refusal; throws (failing the test) on a crash. */
function survives(input: string, what: string): boolean {
  // The byte reader (with its fast paths) must answer exactly as the text reader does.
  let fast: unknown;
  try {
    fast = parseHistoryBytes(Buffer.from(input, 'utf8'));
  } catch (err) {
    fast = err instanceof HistoryFormatError ? err.message : err;
  }
  let columns: unknown;
  try {
    const r = parseHistoryBytesColumns(Buffer.from(input, 'utf8'));
    columns = { format: r.format, ops: r.columns.toOps() };
  } catch (err) {
    columns = err instanceof HistoryFormatError ? err.message : err;
  }
  assert.deepStrictEqual(columns, fast, `${what}: the column reader differs on ${JSON.stringify(input.slice(0, 300))}`);
  try {
    const r = parseHistoryText(input);
    assert.deepStrictEqual(fast, r, `${what}: the byte reader differs on ${JSON.stringify(input.slice(0, 300))}`);
    return true;
  } catch (err) {
    if (err instanceof HistoryFormatError) assert.equal(fast, err.message, `${what}: the byte reader differs on ${JSON.stringify(input.slice(0, 300))}`);
    if (!(err instanceof HistoryFormatError)) {
      assert.fail(`${what}: crashed with ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} on ${JSON.stringify(input.slice(0, 300))}`);
    }
    assert.ok(!err.message.includes('\n'), `${what}: a message of more than one line: ${err.message}`);
    assert.match(err.message, /^Cannot read history( \(read as [^()]+\))?( at line \d+)?: \S/, what);
    return false;
  }
}

function mutate(rng: Random, s: string): string {
  let out = s;
  const edits = 1 + rng.int(4);
  for (let i = 0; i < edits; i++) {
    const at = rng.int(out.length + 1);
    switch (rng.int(5)) {
      case 0: out = out.slice(0, at) + out.slice(at + 1 + rng.int(8)); break; // delete
      case 1: out = out.slice(0, at) + rng.pick([...ALPHABET]) + out.slice(at); break; // insert
      case 2: out = out.slice(0, at) + rng.pick([...ALPHABET]) + out.slice(at + 1); break; // replace
      case 3: { const from = rng.int(out.length + 1); out = out.slice(0, at) + out.slice(from, from + rng.int(20)) + out.slice(at); break; } // duplicate
      default: out = out.slice(0, at); // truncate
    }
  }
  return out;
}

test(`history readers survive ${CASES} random and mutated inputs (seed ${SEED}) with a one-line error naming the line or an answer`, () => {
  const rng = new Random(SEED);
  let refused = 0;
  for (let i = 0; i < CASES; i++) {
    let input: string;
    if (i % 4 === 0) {
      const n = rng.int(120);
      input = '';
      for (let j = 0; j < n; j++) input += rng.pick([...ALPHABET]);
    } else {
      input = mutate(rng, rng.pick(SEEDS));
    }
    if (!survives(input, `case ${i}`)) refused++;
  }
  // The unmutated seeds are all readable; most mutations are not.
  for (const s of SEEDS) assert.ok(survives(s, 'seed'), s);
  assert.ok(refused > CASES / 10, `only ${refused} of ${CASES} inputs were refused: the mutations are too weak`);
});

test(`chunk boundaries never change what the EDN and history.txt readers read (seed ${SEED})`, () => {
  const rng = new Random(SEED + 1);
  const read = (f: typeof parseEdnOps, chunks: string[]): string => {
    try {
      return JSON.stringify(f(chunks).ops);
    } catch (err) {
      if (err instanceof HistoryFormatError) return `error at ${String(err.line)}: ${err.detail}`;
      throw err;
    }
  };
  for (let i = 0; i < CASES / 8; i++) {
    const seed = rng.pick(SEEDS);
    const text = rng.int(2) === 0 ? seed : mutate(rng, seed);
    const f = seed.includes('\t:invoke\t') && !seed.startsWith('INFO') ? parseJepsenTxt : parseEdnOps;
    const whole = read(f, [text]);
    const chunks: string[] = [];
    for (let at = 0; at < text.length; ) {
      const n = 1 + rng.int(12);
      chunks.push(text.slice(at, at + n));
      at += n;
    }
    assert.equal(read(f, chunks), whole, JSON.stringify(text));
  }
});
