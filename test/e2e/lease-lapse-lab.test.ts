import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { labSkipReason } from '../support/netns';
import { CLI, runCli, tempDir } from '../support/processes';

/**
 * A live controller too starved to renew the agents' leases (here: SIGSTOPped for 13 s, past the 10 s lease, on a
 * real 3-node etcd lab): every agent heals and stops its workload. Once the controller runs again, its watchdog
 * starts each stopped workload again under fresh process ids and records it (`workload-restart`), so the main phase
 * goes on with operations instead of staying silent to its end; the history stays gapless and checkable.
 */
const PREFIX = 'flk';

test('a lapsed lease in a live run: the workloads start again under fresh process ids, recorded, and the history is whole', { timeout: 240_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  t.after(async () => {
    await runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 });
  });
  const up = await runCli(['lab', 'up', '--nodes', '3', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
  const store = tempDir(t, 'flk-lapse-');
  const child = spawn(process.execPath, [CLI, 'run', '--db', 'etcd', '--workload', 'register', '--nodes', 'lab', '--lab-prefix', PREFIX, '--time-limit', '45', '--rate', '60', '--concurrency', '6', '--nemesis', 'none', '--store', store], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stopped = false;
  t.after(() => {
    if (stopped) child.kill('SIGCONT');
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  // Wait until the main phase runs (the run folder's state says so), then starve the controller past the lease.
  const deadline = Date.now() + 90_000;
  let runDir: string | undefined;
  while (Date.now() < deadline) {
    runDir = existsSync(join(store, 'latest')) ? join(store, 'latest') : undefined;
    const statePath = runDir ? join(runDir, 'run-state.json') : '';
    if (runDir && existsSync(statePath) && (JSON.parse(readFileSync(statePath, 'utf8')) as { phase: string }).phase === 'running') break;
    await sleep(250);
  }
  assert.ok(runDir, `the run started: ${err.slice(-2000)}`);
  await sleep(5000);
  child.kill('SIGSTOP');
  stopped = true;
  await sleep(13_000);
  child.kill('SIGCONT');
  stopped = false;
  const code = await exited;
  assert.ok(code === 0 || code === 1, `the run ran its course: exit ${code}\n${out}\n${err.slice(-3000)}`);
  const dir = /store: (\S+)/.exec(out)?.[1] ?? runDir;
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { valid: unknown; gaps: unknown[] };
  assert.deepEqual(results.gaps, [], 'no gap');
  assert.ok(results.valid === true || results.valid === false, `checked: ${String(results.valid)}`);

  const events = readFileSync(join(dir, 'events.raw.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { node: string; process: string | number; type: string; f: string; valueJson: string; timeNanos: string | number });
  const restarts = events.filter((e) => e.f === 'workload-restart' && e.type === 'ok').map((e) => ({ ...(JSON.parse(e.valueJson) as { node: string; processes: number[] }), at: Number(e.timeNanos) }));
  assert.deepEqual(restarts.map((r) => r.node).sort(), ['n1', 'n2', 'n3'], 'each agent\'s lapsed workload was restarted once');
  const before = new Set(events.filter((e) => Number(e.process) >= 0 && Number(e.timeNanos) < Math.min(...restarts.map((r) => r.at))).map((e) => Number(e.process)));
  for (const r of restarts) {
    for (const p of r.processes) assert.ok(!before.has(p), `process ${p} is new`);
    const after = events.filter((e) => e.node === r.node && r.processes.includes(Number(e.process)) && e.type === 'ok');
    assert.ok(after.length > 20, `${r.node} went on with operations after the restart: ${after.length} ok`);
  }
});
