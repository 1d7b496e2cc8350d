import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'dist/cli/main.js');

function check(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'check', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const WRITE_SKEW_EDN = `{:type :invoke, :f :txn, :value [[:r :x nil] [:append :y 1]], :process 0, :time 10, :index 0}
{:type :invoke, :f :txn, :value [[:r :y nil] [:append :x 2]], :process 1, :time 20, :index 1}
{:type :ok, :f :txn, :value [[:r :x []] [:append :y 1]], :process 0, :time 30, :index 2}
{:type :ok, :f :txn, :value [[:r :y []] [:append :x 2]], :process 1, :time 40, :index 3}
{:type :invoke, :f :txn, :value [[:r :x nil] [:r :y nil]], :process 2, :time 50, :index 4}
{:type :ok, :f :txn, :value [[:r :x [2]] [:r :y [1]]], :process 2, :time 60, :index 5}
`;

test('faultline check --model list-append: write skew is invalid for serializable, valid for SI, with evidence', { timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-txn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'history.edn');
  writeFileSync(file, WRITE_SKEW_EDN);
  const ser = check('--model', 'list-append', '--consistency', 'serializable', '--out', dir, file);
  assert.equal(ser.code, 1, ser.stderr + ser.stdout);
  assert.match(ser.stdout, /G2-item/);
  assert.match(ser.stdout, /rw-precedes/);
  assert.ok(existsSync(join(dir, 'elle', 'G2-item-1.svg')));
  assert.match(readFileSync(join(dir, 'elle', 'G2-item-1.svg'), 'utf8'), /^<\?xml[\s\S]*<svg[\s\S]*rw[\s\S]*<\/svg>\s*$/);
  assert.match(readFileSync(join(dir, 'elle', 'explanation.txt'), 'utf8'), /G2-item/);
  const si = check('--model', 'list-append', '--consistency', 'snapshot-isolation', '--json', file);
  assert.equal(si.code, 0, si.stderr);
  const result = JSON.parse(si.stdout) as { valid: boolean; models: { strongestPossible: string[] } };
  assert.equal(result.valid, true);
  assert.ok(result.models.strongestPossible.includes('strong-snapshot-isolation'));
});

test('faultline check --model list-append: a malformed transaction exits 254 with one line naming it', { timeout: 60_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-txn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'history.jsonl');
  writeFileSync(
    file,
    [
      { index: 0, type: 'invoke', process: 0, f: 'txn', value: [['append', 1, 1]] },
      { index: 1, type: 'ok', process: 0, f: 'txn', value: [['append', 1, 1]] },
      { index: 2, type: 'invoke', process: 0, f: 'txn', value: [['append', 1]] },
      { index: 3, type: 'ok', process: 0, f: 'txn', value: [['append', 1]] },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n') + '\n',
  );
  const r = check('--model', 'list-append', file);
  assert.equal(r.code, 254);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /line 4: micro-op must be \[f, key, value\]/);
});
