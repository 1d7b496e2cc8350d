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
