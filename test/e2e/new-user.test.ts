/**
 * What a new user trips over, one test each (issue 11, item 4; the fault command's new default and the
 * libfaketime leftovers are tested in report-lab.test.ts and faketime-shm.test.ts): installing the command on
 * the PATH, a run against nodes that are not there, `check` on an empty history, a malformed line in a .jsonl
 * file, where `check` writes its evidence, and one wording for a failing operation in `run` and `check`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeVerdict } from '../../cli/verdict-summary';
import type { RunVerdict } from '../../controller/run/run-check';
import { startNatsServer } from '../../controller/nats-server';
import { CLI, ROOT, freePort, runCli, tempDir } from '../support/processes';

function cli(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A register history that is not linearizable: a read returns 2, which nobody wrote. */
const STALE = [
  { index: 0, type: 'invoke', process: 0, f: 'write', key: 'k', value: 1, time: 1000 },
  { index: 1, type: 'ok', process: 0, f: 'write', key: 'k', value: 1, time: 2000 },
  { index: 2, type: 'invoke', process: 1, f: 'read', key: 'k', value: null, time: 3000 },
  { index: 3, type: 'ok', process: 1, f: 'read', key: 'k', value: 2, time: 4000 },
].map((o) => JSON.stringify(o)).join('\n') + '\n';

test('npm install -g puts faultline on the PATH', { timeout: 120_000 }, (t) => {
  // Into a prefix of its own, so the machine's global bin is left alone; `npm link` does the same into the global one.
  const prefix = tempDir(t, 'npm-prefix-');
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', ROOT], { encoding: 'utf8', timeout: 100_000 });
  assert.equal(install.status, 0, install.stderr);
  const r = spawnSync('faultline', ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}` } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '0.1.0');
});

test('a run against a lab that is not up, or an agent that does not answer, fails before announcing the run', { timeout: 120_000 }, async (t) => {
  const store = tempDir(t, 'store-pre-');
  const noLab = await runCli(['run', '--nodes', 'lab', '--lab-prefix', 'flrnone', '--time-limit', '60', '--store', store]);
  assert.equal(noLab.code, 254, noLab.stderr);
  assert.match(noLab.stderr, /^faultline: Cannot run on the lab: it is not up/);
  assert.doesNotMatch(noLab.stderr, /faultline: running/);
  assert.equal(noLab.stdout, '');

  const nats = await startNatsServer({ host: '127.0.0.1', port: await freePort(), dir: tempDir(t, 'nats-pre-') });
  t.after(() => nats.stop());
  const deadPort = await freePort();
  const noAgent = await runCli(['run', '--nodes', `n1=127.0.0.1:${deadPort}`, '--insecure', '--nats', nats.url, '--time-limit', '60', '--store', store, '--json']);
  assert.equal(noAgent.code, 254, noAgent.stderr);
  assert.match(noAgent.stderr, /Cannot reach agent "n1"/);
  assert.doesNotMatch(noAgent.stderr, /faultline: running/);
  assert.equal(noAgent.stdout, '', 'no JSON object for a run that never started');
  assert.deepEqual(readdirSync(store), [], 'no run folder for a run that never started');
});

test('check on an empty history, or one where nothing completed, says unknown (exit 2), as a run does', (t) => {
  const dir = tempDir(t, 'check-empty-');
  writeFileSync(join(dir, 'empty.jsonl'), '');
  const empty = cli(['check', 'empty.jsonl'], dir);
  assert.equal(empty.code, 2, empty.stdout + empty.stderr);
  assert.match(empty.stdout, /empty\.jsonl: unknown: nothing to check/);
  const json = cli(['check', 'empty.jsonl', '--json'], dir);
  assert.equal(json.code, 2);
  assert.equal((JSON.parse(json.stdout) as { valid: unknown }).valid, 'unknown');
  writeFileSync(join(dir, 'only-info.jsonl'), '{"type":"invoke","process":0,"f":"write","value":1}\n{"type":"info","process":0,"f":"write","value":1}\n');
  assert.equal(cli(['check', 'only-info.jsonl'], dir).code, 2);
  writeFileSync(join(dir, 'txn.edn'), '');
  const txn = cli(['check', 'txn.edn', '--model', 'list-append'], dir);
  assert.equal(txn.code, 2, txn.stdout + txn.stderr);
  assert.match(txn.stdout, /unknown: nothing to check/);
  assert.ok(!existsSync(join(dir, 'store')), 'no evidence for nothing');
});

test('a malformed line of a .jsonl file is reported in JSON terms, naming the format the file was read as', (t) => {
  const dir = tempDir(t, 'check-bad-');
  // The first line is what used to make the file read as EDN.
  writeFileSync(join(dir, 'h.jsonl'), '[0, "invoke"]\n{"type":"invoke","process":0,"f":"read","value":null}\n');
  const r = cli(['check', 'h.jsonl'], dir);
  assert.equal(r.code, 254);
  assert.equal(r.stderr, 'faultline: Cannot read history "h.jsonl" (read as JSON lines, by its .jsonl name) at line 1: expected one JSON object per line\n');
  assert.doesNotMatch(r.stderr, /op map|:process/);
  writeFileSync(join(dir, 'h.txt'), '{type: "invoke"}\n');
  const edn = cli(['check', 'h.txt'], dir);
  assert.equal(edn.code, 254);
  assert.match(edn.stderr, /\(read as Jepsen EDN, from its first line; JSON lines must start with \{" or be named \.jsonl\) at line 1: /);
});

test('check writes its evidence under the store, not beside the input, and says where', (t) => {
  const dir = tempDir(t, 'check-evidence-');
  const input = tempDir(t, 'check-input-');
  writeFileSync(join(input, 'history.jsonl'), STALE);
  const r = cli(['check', join(input, 'history.jsonl')], dir);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.deepEqual(readdirSync(input), ['history.jsonl'], 'evidence written beside the input');
  const m = /evidence: (\S+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const html = m[1]!;
  assert.ok(html.startsWith(join(dir, 'store', 'check', 'history.jsonl')), html);
  assert.ok(existsSync(html));
  const other = tempDir(t, 'check-store-');
  const r2 = cli(['check', join(input, 'history.jsonl'), '--store', other, '--json'], dir);
  const out = JSON.parse(r2.stdout) as { evidenceHtml: string };
  assert.ok(out.evidenceHtml.startsWith(join(other, 'check')), out.evidenceHtml);
});

test('run and check describe the same failing operation in the same words', (t) => {
  const dir = tempDir(t, 'wording-');
  writeFileSync(join(dir, 'history.jsonl'), STALE);
  const text = cli(['check', 'history.jsonl', '--out', dir], dir);
  const json = JSON.parse(cli(['check', 'history.jsonl', '--out', dir, '--json'], dir).stdout) as NonNullable<RunVerdict['checks']['linearizable']>;
  const verdict: RunVerdict = { valid: false, gaps: [], checks: { linearizable: json } };
  const run = summarizeVerdict(verdict, dir);
  const described = 'read 2 by process 1 (event 2, line 3), ok, impossible once the register held 1';
  assert.ok(text.stdout.includes(`cannot linearize ${described}`), text.stdout);
  assert.ok(run.includes(`cannot linearize ${described}`), run);
});
