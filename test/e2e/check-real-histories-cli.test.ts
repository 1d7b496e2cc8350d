/**
 * `faultline check` as a new user meets it on real Jepsen output: nil reads, Clojure-EDN and history.txt files,
 * many files and folders in one process, rw-register version-order options, and a command that loads only what it
 * uses. Each test runs the built CLI as a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'dist/cli/main.js');

function run(args: string[], nodeArgs: string[] = []): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...nodeArgs, CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fl-real-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const LOST_WRITE = '{:process 0, :type :invoke, :f :write, :value 39}\n{:process 0, :type :ok, :f :write, :value 39}\n{:process 1, :type :invoke, :f :read, :value nil}\n{:process 1, :type :ok, :f :read, :value nil}\n';

test('faultline check: a read of nil after an acknowledged write is invalid, valid with --knossos-nil, and the output names the difference', { timeout: 60_000 }, (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'lost.edn');
  writeFileSync(file, LOST_WRITE);
  for (const model of ['register', 'cas-register']) {
    const strict = run(['check', file, '--model', model, '--out', dir]);
    assert.equal(strict.code, 1, strict.stdout + strict.stderr);
    assert.match(strict.stdout, /INVALID: not linearizable/);
    assert.match(strict.stdout, /cannot linearize read null by process 1 \(event 2, line 3\)/);
    assert.match(strict.stdout, /with --knossos-nil .* this history is valid/);
    const knossos = run(['check', file, '--model', model, '--knossos-nil', '--json']);
    assert.equal(knossos.code, 0, knossos.stdout + knossos.stderr);
    const r = JSON.parse(knossos.stdout) as { valid: unknown; nilReading: unknown };
    assert.equal(r.valid, true);
    assert.deepEqual(r.nilReading, { knossosNil: false, valid: false });
  }
  const refused = run(['check', file, '--model', 'etcd-register', '--knossos-nil']);
  assert.equal(refused.code, 254);
  assert.match(refused.stderr, /^faultline: Cannot check: --knossos-nil only applies to --model register and cas-register/);
});

test('faultline check reads what Jepsen writes: Clojure numbers and tags, records, and history.txt', { timeout: 60_000 }, (t) => {
  const dir = tempDir(t);
  const edn = join(dir, 'history.edn');
  writeFileSync(edn, [
    '#jepsen.history.Op{:index 0, :time 5, :type :invoke, :process 0, :f :write, :value 0x4892d85e}',
    '#jepsen.history.Op{:index 1, :time 9, :type :ok, :process 0, :f :write, :value 0x4892d85e}',
    '{:index 3, :time 2, :type :ok, :process 1, :f :read, :value 1217583198N}',
    '{:index 2, :time 1, :type :invoke, :process 1, :f :read, :value nil, :meta ^{:x 1} #inst "2020-01-01"}',
    '{:index 4, :type :info, :process :nemesis, :f :start, :value #error {:cause "partition"}}',
    '',
  ].join('\n'));
  const r = run(['check', edn, '--model', 'cas-register']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /valid: linearizable \(cas-register, 2 ops/);
  const txt = join(dir, 'history.txt');
  writeFileSync(txt, '0\t:invoke\t:write\t1\n0\t:ok\t:write\t1\n:nemesis\t:info\t:start\tnil\n1\t:invoke\t:read\tnil\n1\t:ok\t:read\t2\n');
  const bad = run(['check', txt, '--json', '--out', dir]);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  const j = JSON.parse(bad.stdout) as { format: string; model: string; valid: unknown };
  assert.deepEqual([j.format, j.model, j.valid], ['jepsen-txt', 'cas-register', false]);
});

test('faultline check names the line and what was expected in one line for malformed files (exit 254)', { timeout: 60_000 }, (t) => {
  const dir = tempDir(t);
  const cases: [string, string, RegExp][] = [
    ['a.edn', '{:process 0, :type :invoke, :f :read}\n{:process 0, :type :ok, :f :read, :value [1 2}\n', /at line 2: invalid EDN: expected "\]" to close the form opened on line 2 but found "\}"/],
    ['b.edn', '{:process 0, :type :invoke, :f :read, :value 08}\n', /at line 1: invalid EDN: invalid number "08"/],
    ['c.txt', '0\t:invoke\t:read\tnil\n0 :ok :read 1\n', /at line 2: expected "<process>\\t:<type>\\t:<f>\\t<value>"/],
    ['d.jsonl', '{"type":"invoke","process":0,"f":"read","value":null}\n{"type":"ok","process":0,"f":"read"\n', /at line 2: invalid JSON/],
  ];
  for (const [name, text, re] of cases) {
    const file = join(dir, name);
    writeFileSync(file, text);
    const r = run(['check', file]);
    assert.equal(r.code, 254, `${name}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    // The message names the file, the format it was read as, the line and what was expected.
    assert.match(r.stderr, new RegExp(`^faultline: Cannot read history "${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" \\(read as [^)]*\\) ${re.source}`), name);
  }
});

test('faultline check FILE... and DIR check every history in one process with one summary', { timeout: 60_000 }, (t) => {
  const dir = tempDir(t);
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  writeFileSync(join(dir, 'lost.edn'), LOST_WRITE);
  writeFileSync(join(sub, 'ok.edn'), '{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n');
  writeFileSync(join(sub, 'broken.edn'), '{:process 0, :type :invoke\n');
  writeFileSync(join(sub, 'notes.html'), '<p>not a history</p>');
  const r = run(['check', dir, '--model', 'cas-register', '--out', join(dir, 'evidence')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /lost\.edn: INVALID/);
  assert.match(r.stdout, /ok\.edn: valid/);
  assert.match(r.stderr, /broken\.edn" \(read as Jepsen EDN[^)]*\) at line 1: invalid EDN: "\{" opened on line 1 is never closed/);
  assert.match(r.stdout, /^checked 3 histories in \d+\.\d\d s: 1 valid, 1 invalid, 0 unknown, 1 unreadable$/m);
  const two = run(['check', join(sub, 'ok.edn'), join(sub, 'ok.edn'), '--json']);
  assert.equal(two.code, 0, two.stdout + two.stderr);
  const lines = two.stdout.trim().split('\n').map((l) => JSON.parse(l) as { valid?: unknown; summary?: { histories: number; valid: number } });
  assert.equal(lines.length, 3);
  assert.deepEqual([lines[2]!.summary!.histories, lines[2]!.summary!.valid], [2, 2]);
});

test('faultline check --wfr-keys finds G0 where the default inference finds G1c, and names the inference', { timeout: 60_000 }, (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'wfr.edn');
  // T1 reads y=2 then writes x=1, y=1; T2 reads x=1 then writes x=2, y=2.
  writeFileSync(file, [
    '{:process 0, :type :invoke, :f :txn, :value [[:r :y nil] [:w :x 1] [:w :y 1]]}',
    '{:process 1, :type :invoke, :f :txn, :value [[:r :x nil] [:w :x 2] [:w :y 2]]}',
    '{:process 0, :type :ok, :f :txn, :value [[:r :y 2] [:w :x 1] [:w :y 1]]}',
    '{:process 1, :type :ok, :f :txn, :value [[:r :x 1] [:w :x 2] [:w :y 2]]}',
    '',
  ].join('\n'));
  const wfr = run(['check', file, '--model', 'rw-register', '--wfr-keys', '--out', dir]);
  assert.equal(wfr.code, 1, wfr.stdout + wfr.stderr);
  assert.match(wfr.stdout, /^ {2}G0 ×1:/m);
  assert.match(wfr.stdout, /version order inferred from: initial-state \(every key starts at nil\), wfr-keys \(a transaction's write of a key follows the version it read\)$/m);
  const plain = run(['check', file, '--model', 'rw-register', '--out', dir]);
  assert.equal(plain.code, 1, plain.stdout + plain.stderr);
  assert.doesNotMatch(plain.stdout, /G0 ×/);
  assert.match(plain.stdout, /^ {2}G1c ×1:/m);
  assert.match(plain.stdout, /version order inferred from: initial-state \(every key starts at nil\)$/m);
  const wrongModel = run(['check', file, '--model', 'cas-register', '--wfr-keys']);
  assert.equal(wrongModel.code, 254);
});

test('faultline check loads no gRPC and no NATS, and --help loads no command at all', { timeout: 60_000 }, (t) => {
  const dir = tempDir(t);
  const probe = join(dir, 'probe.js');
  // Runs inside the CLI process: at exit, names the heavy modules that were loaded.
  writeFileSync(probe, "process.on('exit', () => { const heavy = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](@grpc|nats|@protobuf-ts|etcd3)[\\\\/]|[\\\\/]dist[\\\\/](controller|agent)[\\\\/](?!errors)/.test(k)); process.stderr.write('HEAVY ' + JSON.stringify(heavy) + '\\n'); });\n");
  const file = join(dir, 'ten.edn');
  const lines: string[] = [];
  for (let i = 0; i < 5; i++) lines.push(`{:process ${i}, :type :invoke, :f :write, :value ${i}}`, `{:process ${i}, :type :ok, :f :write, :value ${i}}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const c = run(['check', file], ['--require', probe]);
  assert.equal(c.code, 0, c.stdout + c.stderr);
  assert.match(c.stderr, /^HEAVY \[\]$/m);
  const h = run(['--help'], ['--require', probe]);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stderr, /^HEAVY \[\]$/m);
  for (const name of ['demo', 'run', 'check', 'lab', 'agent', 'fault']) assert.match(h.stdout, new RegExp(`^ {2}${name}\\b`, 'm'));
});
