import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lifo } from '../support/cleanup';
import { currentController } from '../../controller/run/run-state';
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

test('faultline run rejects an unknown --db, --workload, --db-opt key or value, or a pair with no client: one line naming what exists, exit 254', async () => {
  assertOneLineError(await runCli(['run', '--db', 'mongodb']), /--db must be one of etcd, redis, postgres, mariadb, galera \(got "mongodb"\)/);
  assertOneLineError(await runCli(['run', '--workload', 'queue']), /--workload must be one of register, set, counter, bank, list-append, rw-register, lock \(got "queue"\)/);
  assertOneLineError(await runCli(['run', '--time-limit', 'soon']), /--time-limit must be/);
  assertOneLineError(await runCli(['run', '--db', 'etcd', '--db-opt', 'wait=1']), /unknown --db-opt "wait" for etcd \(it has read-consistency, lock-ttl\)/);
  assertOneLineError(await runCli(['run', '--db', 'redis', '--workload', 'set', '--db-opt', 'appendfsync=sometimes']), /--db-opt appendfsync=sometimes for redis: must be one of always, everysec, no/);
  assertOneLineError(await runCli(['run', '--db', 'redis', '--workload', 'lock']), /redis has no client for the lock workload; the pairs that exist are etcd\/register, .*redis\/counter/);
  assertOneLineError(await runCli(['run', '--db', 'etcd', '--workload', 'bank']), /etcd has no client for the bank workload/);
  // Nothing was started: these fail before any node is contacted (the default --nodes lab is not even looked up).
  assertOneLineError(await runCli(['run', '--db', 'etcd', '--nemesis', 'clock']), /etcd is a Go program/);
});

test('faultline run PLAN.yaml: unknown keys and bad values are refused in one line naming the file, exit 254', async (t) => {
  const dir = tempDir(t, 'plan-');
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'db: etcd\ntime-limt: 40\n');
  assertOneLineError(await runCli(['run', bad]), /Cannot read plan ".*bad\.yaml": unknown key "time-limt" \(plans take db, workload, time-limit/);
  const typed = join(dir, 'typed.yaml');
  writeFileSync(typed, 'time-limit: soon\n');
  assertOneLineError(await runCli(['run', typed]), /time-limit must be a number/);
  assertOneLineError(await runCli(['run', join(dir, 'missing.yaml')]), /Cannot read plan .*no such file/);
  assertOneLineError(await runCli(['run', '--replay', dir]), /Cannot replay .*has no plan\.json/);
  // The plan's values are used, and a flag given on the command line wins over them.
  const plan = join(dir, 'plan.yaml');
  writeFileSync(plan, 'db: mongodb\nworkload: set\n');
  assertOneLineError(await runCli(['run', plan]), /--db must be one of etcd, redis, postgres, mariadb, galera \(got "mongodb"\)/);
  assertOneLineError(await runCli(['run', plan, '--db', 'redis', '--db-opt', 'wait=x']), /--db-opt wait=x for redis/);
  // --replay reads a stored plan.json; the command line still wins.
  const runDir = join(dir, 'run');
  mkdirSync(runDir);
  writeFileSync(join(runDir, 'plan.json'), JSON.stringify({ runId: 'r', db: 'redis', workload: 'set', seed: 42, timeLimitMs: 40_000, concurrency: 10, rateHz: 100, nemesis: ['partition'], nemesisIntervalMs: 15_000, partitionShape: 'isolate', partitionTarget: 'primary', clockStrategy: 'faketime', readConsistency: 'linearizable', recoveryMs: 5000, opTimeoutMs: 1500, keyCount: 5, keyPeriodMs: 5000, checkTimeLimitMs: 300_000, dbOptions: { wait: '0' } }));
  assertOneLineError(await runCli(['run', '--replay', runDir, '--workload', 'lock']), /redis has no client for the lock workload/);
});

test('faultline rejects an unknown command or option with exit 254', async () => {
  const res = await runCli(['frobnicate']);
  assert.equal(res.code, 254);
  const opt = await runCli(['run', '--no-such-flag']);
  assert.equal(opt.code, 254);
  assert.match(opt.stderr, /unknown option/);
});

test('faultline lab up refuses a bad --nats-cluster size, --nats with --nats-cluster, and a malformed --nats list, in one line, exit 254', async () => {
  assertOneLineError(await runCli(['lab', 'up', '--prefix', 'flpx', '--nats-cluster', '2']), /^faultline: Cannot bring the lab up: --nats-cluster must be 3 or 5$/);
  assertOneLineError(await runCli(['lab', 'up', '--prefix', 'flpx', '--nats-cluster', '3', '--nats', 'nats://127.0.0.1:4222']), /not both$/);
  assertOneLineError(await runCli(['lab', 'up', '--prefix', 'flpx', '--nats', 'nats://127.0.0.1:4222,http://x']), /is not a nats:\/\/ URL or a comma-separated list of them$/);
});

test('faultline resume refuses, in one line with exit 254, what it cannot take over: no run folder, a finished run, no run-state.json, a live controller, another boot, a run still setting up', async (tc) => {
  const t = lifo(tc);
  assertOneLineError(await runCli(['resume', '/nonexistent-run']), /^faultline: Cannot resume "\/nonexistent-run": it has no plan.json/);
  assertOneLineError(await runCli(['resume', '/nonexistent-run', '--finish']), /^faultline: Cannot finish "\/nonexistent-run": it has no plan.json/);
  const done = tempDir(t, 'finished-run-');
  writeFileSync(join(done, 'plan.json'), '{}');
  writeFileSync(join(done, 'results.json'), '{}');
  assertOneLineError(await runCli(['resume', done, '--finish']), /the run is finished already/);
  assertOneLineError(await runCli(['resume', done]), /^faultline: Cannot resume ".*": the run is finished already/);

  const run = tempDir(t, 'dead-run-');
  writeFileSync(join(run, 'plan.json'), JSON.stringify({ runId: 'r1', nodes: [], natsUrl: 'nats://127.0.0.1:1', db: 'etcd', workload: 'register' }));
  assertOneLineError(await runCli(['resume', run]), /^faultline: Cannot resume ".*": it has no run-state.json \(an older faultline made it\); "faultline resume .* --finish" finishes it$/);
  const state = (controller: object, phase = 'running') =>
    writeFileSync(join(run, 'run-state.json'), JSON.stringify({ version: 1, runId: 'r1', controller, previousControllers: [], timelineOriginMonoNanos: 0, consumer: 'run-r1', leaseMs: 10_000, phase, updatedAtMs: 0 }));
  // This test process stands for a controller that still runs.
  state(currentController());
  assertOneLineError(await runCli(['resume', run]), new RegExp(`^faultline: Cannot resume ".*": its controller \\(pid ${process.pid}\\) is still running$`));
  assertOneLineError(await runCli(['resume', run, '--finish']), new RegExp(`^faultline: Cannot finish ".*": its controller \\(pid ${process.pid}\\) is still running$`));
  state({ ...currentController(), pid: 2 ** 22 + 1, bootId: 'another-boot' });
  assertOneLineError(await runCli(['resume', run]), /^faultline: Cannot resume ".*": its controller ran on .* in another boot, so its timeline cannot be continued here; .*--finish" finishes it$/);
  state({ ...currentController(), pid: 2 ** 22 + 1 }, 'setting up');
  assertOneLineError(await runCli(['resume', run]), /^faultline: Cannot resume ".*": its controller died while setting up the cluster; .*--finish" finishes it$/);
});

test('faultline run names an unreachable agent in one line, exit 254', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const res = await runCli(['run', '--nodes', `n1=127.0.0.1:${port}`, '--nats', 'nats://127.0.0.1:1', '--time-limit', '5', '--nemesis', 'none', '--insecure'], { timeoutMs: 60_000 });
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
