import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const CORPUS = process.env.FAULTLINE_CORPUS ?? resolve(ROOT, '../shared/corpus');

function check(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'check', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('faultline check exits 0 for a valid history, 1 with HTML evidence for an invalid one', { timeout: 60_000 }, (t) => {
  const out = mkdtempSync(join(tmpdir(), 'fl-check-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const ok = check(join(CORPUS, 'porcupine/kv/c10-ok.txt'));
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /valid: linearizable \(kv/);
  const bad = check(join(CORPUS, 'knossos/cas-register/bad/rethink-fail-minimal.edn'), '--out', out, '--json');
  assert.equal(bad.code, 1, bad.stderr);
  const result = JSON.parse(bad.stdout) as { valid: unknown; model: string; evidence: { failingOp: { line: number } }; evidenceHtml: string };
  assert.equal(result.valid, false);
  assert.equal(result.model, 'cas-register');
  assert.ok(result.evidence.failingOp.line > 0);
  assert.ok(existsSync(result.evidenceHtml));
  assert.deepEqual(readdirSync(out), ['rethink-fail-minimal.edn.linearizability.html']);
});

test('faultline check exits 2 when the time limit is exhausted (unknown, never a guess)', { timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Some keys of Porcupine's c50-ok need tens of thousands of search steps: far more than 1 ms.
  const r = check(join(CORPUS, 'porcupine/kv/c50-ok.txt'), '--time-limit', '0.001', '--model', 'kv');
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stdout, /unknown/);
});

test('faultline check rejects malformed input with one line naming the line, exit 254', { timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: [string, string, RegExp][] = [
    ['truncated.jsonl', '{"type":"invoke","process":1,"f":"read","value":null}\n{"type":"ok","process":1,"f":"re', /line 2: invalid JSON/],
    ['type.jsonl', '{"type":"invoke","process":1,"f":"read","value":null}\n{"type":"done","process":1,"f":"read","value":1}\n', /line 2: unknown op type/],
    ['orphan.jsonl', '{"type":"invoke","process":1,"f":"write","value":1}\n{"type":"ok","process":1,"f":"write","value":1}\n{"type":"ok","process":2,"f":"read","value":1}\n', /line 3: .*no matching invocation/],
    ['bad.edn', '{:process 0 :type :invoke :f :read}\n{:process 0 :type :ok :f :read :value [1 2}\n', /line 2: invalid EDN/],
  ];
  for (const [name, text, re] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text);
    const r = check(file);
    assert.equal(r.code, 254, `${name}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

/** Writes `lines` (one Jepsen op map each) as an EDN history and checks it with `args`. */
function checkEdn(dir: string, name: string, lines: string[], ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return check(file, ...args);
}

const op = (type: string, process: number, f: string, value: string, time: number): string =>
  `{:type :${type}, :f :${f}, :value ${value}, :process ${process}, :time ${time}}`;

test('faultline check --checker runs the invariant checkers: each one says valid for a sound history and INVALID naming what broke', { timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const adds = [op('invoke', 0, 'add', '1', 10), op('ok', 0, 'add', '1', 20), op('invoke', 1, 'add', '2', 15), op('ok', 1, 'add', '2', 25)];
  // set-full: 2 acknowledged, then a read without it (lost) vs. reads that keep both.
  const setOk = checkEdn(dir, 'set-ok.edn', [...adds, op('invoke', 2, 'read', 'nil', 30), op('ok', 2, 'read', '#{1 2}', 40), op('invoke', 2, 'read', 'nil', 50), op('ok', 2, 'read', '[2 1]', 60)], '--checker', 'set-full');
  assert.equal(setOk.code, 0, setOk.stdout + setOk.stderr);
  assert.match(setOk.stdout, /set-full: valid: 2 elements added \(2 acknowledged\): 2 stable/);
  const setLost = checkEdn(dir, 'set-lost.edn', [...adds, op('invoke', 2, 'read', 'nil', 30), op('ok', 2, 'read', '#{1 2}', 40), op('invoke', 2, 'read', 'nil', 50), op('ok', 2, 'read', '[1]', 60)], '--checker', 'set-full', '--json');
  assert.equal(setLost.code, 1, setLost.stdout + setLost.stderr);
  const lost = JSON.parse(setLost.stdout) as { valid: unknown; results: { 'set-full': { lost: unknown[]; lostCount: number } } };
  assert.equal(lost.valid, false);
  assert.deepEqual(lost.results['set-full'].lost, [2]);
  // counter: an unacknowledged (info) increment may or may not count; a read of 2 after +1 ok and +1 info is fine, 3 is not.
  const incs = [op('invoke', 0, 'add', '1', 10), op('ok', 0, 'add', '1', 20), op('invoke', 1, 'add', '1', 30), op('info', 1, 'add', '1', 40)];
  assert.equal(checkEdn(dir, 'counter-ok.edn', [...incs, op('invoke', 2, 'read', 'nil', 50), op('ok', 2, 'read', '2', 60)], '--checker', 'counter').code, 0);
  const over = checkEdn(dir, 'counter-bad.edn', [...incs, op('invoke', 2, 'read', 'nil', 50), op('ok', 2, 'read', '3', 60)], '--checker', 'counter');
  assert.equal(over.code, 1, over.stdout);
  assert.match(over.stdout, /read 3 by process 2 \(event 4, line 5\) outside \[1, 2\]/);
  // --init moves the counter's start.
  assert.equal(checkEdn(dir, 'counter-init.edn', [...incs, op('invoke', 2, 'read', 'nil', 50), op('ok', 2, 'read', '12', 60)], '--checker', 'counter', '--init', '10').code, 0);
  // bank: totals must be conserved (and match --bank-total when given).
  const transfer = [op('invoke', 0, 'transfer', '{:from 0, :to 1, :amount 5}', 10), op('ok', 0, 'transfer', '{:from 0, :to 1, :amount 5}', 20)];
  const bankOk = checkEdn(dir, 'bank-ok.edn', [...transfer, op('invoke', 1, 'read', 'nil', 30), op('ok', 1, 'read', '{0 5, 1 15}', 40)], '--checker', 'bank', '--bank-total', '20');
  assert.equal(bankOk.code, 0, bankOk.stdout + bankOk.stderr);
  const bankBad = checkEdn(dir, 'bank-bad.edn', [...transfer, op('invoke', 1, 'read', 'nil', 30), op('ok', 1, 'read', '{0 5, 1 10}', 40)], '--checker', 'bank', '--bank-total', '20');
  assert.equal(bankBad.code, 1, bankBad.stdout);
  assert.match(bankBad.stdout, /wrong-total .* total 15, expected 20/);
  // total-queue and unique-ids, composed: one duplicate id makes the whole verdict INVALID.
  const q = [op('invoke', 0, 'enqueue', '7', 10), op('ok', 0, 'enqueue', '7', 20), op('invoke', 1, 'dequeue', 'nil', 30), op('ok', 1, 'dequeue', '7', 40)];
  const ids = [op('invoke', 2, 'generate', 'nil', 10), op('ok', 2, 'generate', '100', 20), op('invoke', 3, 'generate', 'nil', 30), op('ok', 3, 'generate', '100', 40)];
  const both = checkEdn(dir, 'queue-ids.edn', [...q, ...ids].sort((a, b) => Number(/:time (\d+)/.exec(a)![1]) - Number(/:time (\d+)/.exec(b)![1])), '--checker', 'total-queue,unique-ids');
  assert.equal(both.code, 1, both.stdout + both.stderr);
  assert.match(both.stdout, /total-queue: valid: 1 enqueued/);
  assert.match(both.stdout, /unique-ids: INVALID: .* 1 duplicated\n {4}duplicated: 100 ×2/);
});

test('faultline check --checker checks a keyed history per key: one counter per key, never one key\'s adds in another\'s reads', { timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Jepsen's independent tuples: key a counts to 1, key b to 5. As one counter, the read of 1 would be "outside [6, 6]".
  const tuples = (readB: number): string[] => [
    op('invoke', 0, 'add', '[:a 1]', 10), op('ok', 0, 'add', '[:a 1]', 20),
    op('invoke', 1, 'add', '[:b 5]', 10), op('ok', 1, 'add', '[:b 5]', 20),
    op('invoke', 2, 'read', '[:a nil]', 30), op('ok', 2, 'read', '[:a 1]', 40),
    op('invoke', 3, 'read', '[:b nil]', 30), op('ok', 3, 'read', `[:b ${readB}]`, 40),
  ].sort((x, y) => Number(/:time (\d+)/.exec(x)![1]) - Number(/:time (\d+)/.exec(y)![1]));
  const ok = checkEdn(dir, 'counter-keys.edn', tuples(5), '--checker', 'counter', '--independent');
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /checked per key: 2 keys/);
  assert.match(ok.stdout, /counter: valid in all 2 keys/);
  const bad = checkEdn(dir, 'counter-keys-bad.edn', tuples(6), '--checker', 'counter', '--independent', '--json');
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  const r = JSON.parse(bad.stdout) as { valid: unknown; keyCount: number; results: { counter: { invalidKeys: string[] } }; keys: Record<string, { valid: unknown }> };
  assert.equal(r.valid, false);
  assert.equal(r.keyCount, 2);
  assert.deepEqual(r.results.counter.invalidKeys, ['b']);
  assert.equal(r.keys['a']!.valid, true);
  // Our own history.jsonl with a key on each op is split the same way without --independent.
  const jsonl = join(dir, 'keyed.jsonl');
  const ev = (index: number, type: string, process: number, f: string, key: string, value: unknown, time: number): string =>
    JSON.stringify({ index, type, process, f, key, value, time, uncertainty: 0 });
  writeFileSync(jsonl, [
    ev(0, 'invoke', 0, 'add', 'x', 1, 10), ev(1, 'invoke', 1, 'add', 'y', 5, 10), ev(2, 'ok', 0, 'add', 'x', 1, 20), ev(3, 'ok', 1, 'add', 'y', 5, 20),
    ev(4, 'invoke', 2, 'read', 'x', null, 30), ev(5, 'ok', 2, 'read', 'x', 1, 40),
  ].join('\n') + '\n');
  const keyed = check(jsonl, '--checker', 'counter');
  // Key y has no read: nothing was checked there, so the verdict is unknown (exit 2), never valid.
  assert.equal(keyed.code, 2, keyed.stdout + keyed.stderr);
  assert.match(keyed.stdout, /counter: unknown in 1 of 2 keys \(y\)/);
});

test('faultline check --checker rejects unknown checkers, --model together with --checker, and values of the wrong shape (line named), exit 254', { timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines = [op('invoke', 0, 'add', '1', 10), op('ok', 0, 'add', '1', 20), op('invoke', 2, 'read', 'nil', 30), op('ok', 2, 'read', '1', 40)];
  for (const [args, pattern] of [
    [['--checker', 'sets'], /unknown checker "sets"/],
    [['--checker', 'counter', '--model', 'set'], /either --model .* or --checker/],
    [['--checker', 'bank', '--bank-total', 'lots'], /--bank-total must be a number/],
    [['--checker', 'set-full'], /line 4: set read must return a list of elements, got 1/],
    [['--checker', 'counter', '--time-limit', '5'], /--time-limit do not apply to --checker/],
    [['--checker', 'counter', '--independent'], /line 1: --independent expects \[key value\] tuples/],
    [['--bank-total', '5'], /--bank-total only apply to the invariant checkers: add --checker/],
  ] as const) {
    const r = checkEdn(dir, 'h.edn', lines, ...args);
    assert.equal(r.code, 254, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('faultline check --checker takes any checker of the registry: lock-holders finds two holders of one lock', { timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'check-registry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'lock.jsonl');
  const ev = (index: number, type: string, process: number, f: string, time: number) => JSON.stringify({ index, type, process, f, key: 'l1', value: null, time, uncertainty: 0 });
  // Process 1 holds l1 from 20 to its release at 60; process 2 acquires it at 40 (and releases at 80): two holders.
  writeFileSync(file, [ev(0, 'invoke', 1, 'acquire', 10), ev(1, 'ok', 1, 'acquire', 20), ev(2, 'invoke', 2, 'acquire', 30), ev(3, 'ok', 2, 'acquire', 40), ev(4, 'invoke', 1, 'release', 60), ev(5, 'ok', 1, 'release', 70), ev(6, 'invoke', 2, 'release', 80), ev(7, 'ok', 2, 'release', 90)].join('\n') + '\n');
  const bad = check(file, '--checker', 'lock-holders');
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /lock-holders: INVALID: two-holders ×1/);
  const json = JSON.parse(check(file, '--checker', 'lock-holders', '--json').stdout) as { valid: unknown; results: Record<string, { anomalies: Record<string, number> }> };
  assert.equal(json.valid, false);
  assert.equal(json.results['lock-holders']!.anomalies['two-holders'], 1);
  const unknown = check(file, '--checker', 'lock-holders,nope');
  assert.equal(unknown.code, 254);
  assert.match(unknown.stderr, /unknown checker "nope" \(the registry has linearizable, set-full/);
});
