import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, runCli, tempDir } from '../support/processes';

/**
 * `faultline resume RUN_DIR --finish` on a real 3-node etcd lab: the controller of a run under partitions is killed
 * with SIGKILL at a random moment of its main phase; nobody resumes it; finishing it offline drains JetStream and the
 * agents' spools into a history with no gap, tears the cluster down, and its verdict equals an offline check's.
 */
const PREFIX = 'flpr';
const NODES = ['n1', 'n2', 'n3'];

function lines(path: string): number {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0).length;
}

test('resume --finish: a run whose controller was SIGKILLed ends with a gapless, checked history whose verdict an offline check repeats', { timeout: 600_000, skip: process.getuid?.() !== 0 ? 'needs root (network namespaces)' : false }, async (t) => {
  t.after(async () => {
    await runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 });
  });
  const up = await runCli(['lab', 'up', '--nodes', String(NODES.length), '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
  const store = tempDir(t, 'store-finish-');
  const run = spawn(process.execPath, [
    CLI, 'run', '--nodes', 'lab', '--lab-prefix', PREFIX, '--db', 'etcd', '--workload', 'register',
    '--time-limit', '40', '--nemesis', 'partition', '--nemesis-interval', '4', '--concurrency', '6', '--rate', '150',
    '--recovery-time', '1', '--store', store,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FAULTLINE_LOG_LEVEL: 'info' } });
  let stderr = '';
  run.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => run.once('exit', () => resolve()));
  t.after(() => {
    if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
  });
  // A random moment of the main phase: between 2 and 14 s after the workload started.
  const deadline = Date.now() + 120_000;
  while (!stderr.includes('"msg":"cluster ready"') && Date.now() < deadline && run.exitCode === null) await sleep(100);
  assert.ok(stderr.includes('"msg":"cluster ready"'), stderr);
  const killAfterMs = 2000 + Math.floor(Math.random() * 12_000);
  await sleep(killAfterMs);
  run.kill('SIGKILL');
  await exited;
  const runs = readdirSync(join(store, 'etcd-register'));
  assert.equal(runs.length, 1);
  const dir = join(store, 'etcd-register', runs[0]!);
  assert.ok(!existsSync(join(dir, 'results.json')), 'the killed run left no verdict');
  const before = lines(join(dir, 'events.raw.jsonl'));

  const finish = await runCli(['resume', dir, '--finish'], { timeoutMs: 300_000 });
  assert.ok(finish.code === 0 || finish.code === 1 || finish.code === 2, `${finish.stdout}\n${finish.stderr}`);
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { valid: unknown; gaps: unknown[]; stats: { byNode: Record<string, unknown> } };
  assert.deepEqual(results.gaps, [], 'no sequence gap');
  assert.deepEqual(Object.keys(results.stats.byNode).sort(), NODES);
  const after = lines(join(dir, 'events.raw.jsonl'));
  assert.ok(after > before, `finishing drained events the dead controller never wrote (${before} -> ${after})`);
  for (const n of NODES) assert.ok(existsSync(join(dir, 'nodes', n, 'etcd.log')), `etcd log of ${n} collected`);
  // The cluster is gone: only the agent runs in each namespace.
  for (const n of NODES) {
    const pids = execFileSync('ip', ['netns', 'pids', `${PREFIX}-${n}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const cmds = pids.map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch { return ''; } }).filter(Boolean);
    assert.deepEqual(cmds.filter((c) => !/ agent --node /.test(c)), [], `only the agent left in ${PREFIX}-${n}`);
  }

  const offline = await runCli(['check', join(dir, 'history.jsonl')], { timeoutMs: 300_000 });
  assert.equal(finish.code, offline.code, `finish said ${finish.stdout}; offline check said ${offline.stdout}${offline.stderr}`);
  t.diagnostic(`controller killed ${killAfterMs} ms into the workload; ${before} events on disk, ${after} after finishing; verdict ${String(results.valid)} both ways`);
});
