import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lifo } from '../support/cleanup';
import { freePort, runCli, startAgent, startNats, tempDir } from '../support/processes';

/**
 * A user error: exit 254, the error in exactly one line on stderr, no stack trace. (`run` may first print its
 * one "running ..." progress line, and with --insecure its warning; nothing else.)
 */
function assertOneLineError(res: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(res.code, 254, res.stderr);
  const lines = res.stderr.trim().split('\n').filter((l) => !/^faultline: running /.test(l) && !/^faultline run: WARNING: --insecure/.test(l));
  assert.equal(lines.length, 1, `expected one line, got:\n${res.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
}

test('faultline run rejects an unknown --db and --workload in one line, exit 254', async () => {
  assertOneLineError(await runCli(['run', '--db', 'mongodb']), /--db must be one of etcd \(got "mongodb"\)/);
  assertOneLineError(await runCli(['run', '--workload', 'bank']), /--workload must be one of register \(got "bank"\)/);
  assertOneLineError(await runCli(['run', '--time-limit', 'soon']), /--time-limit must be/);
});

test('faultline rejects an unknown command or option with exit 254', async () => {
  const res = await runCli(['frobnicate']);
  assert.equal(res.code, 254);
  const opt = await runCli(['run', '--no-such-flag']);
  assert.equal(opt.code, 254);
  assert.match(opt.stderr, /unknown option/);
});

test('faultline run names an unreachable agent in one line, exit 254', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const res = await runCli(['run', '--nodes', `n1=127.0.0.1:${port}`, '--nats', 'nats://127.0.0.1:1', '--time-limit', '5', '--insecure'], { timeoutMs: 60_000 });
  assertOneLineError(res, new RegExp(`Cannot reach agent "n1" at 127\\.0\\.0\\.1:${port}`));
});

test('faultline run names the node missing the etcd binary and what to install, exit 254', { timeout: 60_000 }, async (tc) => {
  const t = lifo(tc);
  const nats = await startNats(t);
  const agent = await startAgent(t, { node: 'n1', natsUrl: nats.url, env: { FAULTLINE_ETCD_BIN: '/nonexistent/etcd' } });
  const store = tempDir(t, 'store-');
  const res = await runCli(['run', '--nodes', `n1=${agent.address}`, '--nats', nats.url, '--time-limit', '5', '--nemesis', 'none', '--store', store, '--insecure'], { timeoutMs: 60_000 });
  assertOneLineError(res, /Cannot run on node "n1": etcd is not installed on this node: install the Debian package etcd-server/);
});

test('faultline check rejects a malformed history in one line naming the line, exit 254', async (tc) => {
  const dir = tempDir(lifo(tc), 'hist-');
  const file = join(dir, 'history.jsonl');
  writeFileSync(file, '{"index":0,"type":"invoke","process":1,"f":"read","value":null}\n{"index":1,"type":"ok","process":1,"f":"read","value":\n');
  assertOneLineError(await runCli(['check', file]), /line 2/);
});

test('faultline agent without certificates or --insecure refuses to serve plaintext, in one line', async () => {
  const res = await runCli(['agent', '--node', 'n1', '--listen', '127.0.0.1:1', '--nats', 'nats://127.0.0.1:4222', '--data-dir', '/tmp/x']);
  assertOneLineError(res, /no certificates given: pass --ca, --cert and --key .*or --insecure/);
});

test('faultline run with a --nodes list refuses to talk plaintext unless --insecure is given', async () => {
  assertOneLineError(
    await runCli(['run', '--nodes', 'n1=127.0.0.1:7701', '--nats', 'nats://127.0.0.1:4222']),
    /an explicit --nodes list needs --certs DIR .* or --insecure/,
  );
});

test('faultline check says unknown (exit 2) for a history with a sequence gap instead of judging it', async (tc) => {
  const dir = tempDir(lifo(tc), 'hist-');
  const file = join(dir, 'history.jsonl');
  // n1's events 1-2 (a write of 7) were lost: judging the read of 7 would report a value that was never written.
  writeFileSync(
    file,
    [
      '{"index":0,"type":"invoke","process":0,"f":"read","key":"k","value":null,"time":300,"uncertainty":1,"node":"n1","seq":3}',
      '{"index":1,"type":"ok","process":0,"f":"read","key":"k","value":7,"time":400,"uncertainty":1,"node":"n1","seq":4}',
    ].join('\n') + '\n',
  );
  const res = await runCli(['check', file]);
  assert.equal(res.code, 2, res.stdout + res.stderr);
  assert.match(res.stdout, /unknown: history incomplete, events missing \(node seq\): n1 1-2/);
});
