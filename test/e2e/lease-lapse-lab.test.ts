import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
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
let skip: string | undefined;

before(async () => {
  skip = await labSkipReason();
  if (skip) return;
  const up = await runCli(['lab', 'up', '--nodes', '3', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
});

after(async () => {
  if (!skip) await runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 });
});

type RawEvent = { node: string; process: string | number; type: string; f: string; valueJson: string; timeNanos: string | number };

/** The run's raw events; a last line still being written is left out. */
function rawEvents(dir: string): RawEvent[] {
  return readFileSync(join(dir, 'events.raw.jsonl'), 'utf8').split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as RawEvent];
    } catch {
      return [];
    }
  });
}

/** Each node's lapsed workload restarted once after `from` (ns), under ids no event before used, and went on. */
function assertRestarted(events: RawEvent[], from: number): void {
  const restarts = events.filter((e) => e.f === 'workload-restart' && e.type === 'ok' && Number(e.timeNanos) >= from).map((e) => ({ ...(JSON.parse(e.valueJson) as { node: string; processes: number[] }), at: Number(e.timeNanos) }));
  assert.deepEqual(restarts.map((r) => r.node).sort(), ['n1', 'n2', 'n3'], 'each agent\'s lapsed workload was restarted once');
  // Ids in use before the first restart began (its invoke: a restarted workload's first operations may be stamped
  // before the controller stamps the restart's completion).
  const begun = Math.min(...events.filter((e) => e.f === 'workload-restart' && e.type === 'invoke' && Number(e.timeNanos) >= from).map((e) => Number(e.timeNanos)));
  const before = new Set(events.filter((e) => Number(e.process) >= 0 && Number(e.timeNanos) < begun).map((e) => Number(e.process)));
  for (const r of restarts) {
    for (const p of r.processes) assert.ok(!before.has(p), `process ${p} is new`);
    const after = events.filter((e) => e.node === r.node && r.processes.includes(Number(e.process)) && e.type === 'ok');
    assert.ok(after.length > 20, `${r.node} went on with operations after the restart: ${after.length} ok`);
  }
}

/** The run folder once its state says `phase` (the controller is in its main phase). */
async function waitForPhase(store: string, phase: string, log: () => string): Promise<string> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const runDir = existsSync(join(store, 'latest')) ? join(store, 'latest') : undefined;
    const statePath = runDir ? join(runDir, 'run-state.json') : '';
    if (runDir && existsSync(statePath)) {
      try {
        if ((JSON.parse(readFileSync(statePath, 'utf8')) as { phase: string }).phase === phase) return runDir;
      } catch {
        // being rewritten
      }
    }
    await sleep(250);
  }
  assert.fail(`the run did not reach ${phase}: ${log().slice(-2000)}`);
}

test('a lapsed lease in a live run: the workloads start again under fresh process ids, recorded, and the history is whole', { timeout: 240_000 }, async (t) => {
  if (skip) return t.skip(skip);
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
  const runDir = await waitForPhase(store, 'running', () => err);
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
  assertRestarted(rawEvents(dir), 0);
});

test('a lapsed lease in a resumed run: its watchdog restarts the workloads too, under ids the dead controller\'s run never used', { timeout: 240_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const store = tempDir(t, 'flk-lapse-resume-');
  const run = spawn(process.execPath, [CLI, 'run', '--db', 'etcd', '--workload', 'register', '--nodes', 'lab', '--lab-prefix', PREFIX, '--time-limit', '50', '--rate', '60', '--concurrency', '6', '--nemesis', 'none', '--store', store], { stdio: ['ignore', 'ignore', 'pipe'] });
  let runErr = '';
  run.stderr.on('data', (d: Buffer) => (runErr = (runErr + d.toString()).slice(-20_000)));
  const runExited = new Promise<void>((r) => run.on('close', () => r()));
  t.after(() => {
    if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
  });
  const dir = await waitForPhase(store, 'running', () => runErr);
  await sleep(3000);
  run.kill('SIGKILL');
  await runExited;
  // A new controller takes the run over at once (within the lease), and is then starved past the lease.
  const resumed = spawn(process.execPath, [CLI, 'resume', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stopped = false;
  t.after(() => {
    if (stopped) resumed.kill('SIGCONT');
    if (resumed.exitCode === null) resumed.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  resumed.stdout.on('data', (d: Buffer) => (out += d.toString()));
  resumed.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((r) => resumed.on('close', (c) => r(c)));
  // The takeover is done once its `resume` event is on disk.
  const deadline = Date.now() + 60_000;
  let resume: RawEvent | undefined;
  while (!(resume = rawEvents(dir).find((e) => e.f === 'resume' && e.type === 'ok')) && Date.now() < deadline) await sleep(100);
  assert.ok(resume, `the run was taken over: ${err.slice(-2000)}`);
  assert.deepEqual((JSON.parse(resume.valueJson) as { leases: Record<string, string> }).leases, { n1: 'taken back', n2: 'taken back', n3: 'taken back' }, 'resumed within the lease');
  const resumedAt = Number(resume.timeNanos);
  await sleep(3000);
  resumed.kill('SIGSTOP');
  stopped = true;
  await sleep(13_000);
  resumed.kill('SIGCONT');
  stopped = false;
  const code = await exited;
  assert.ok(code === 0 || code === 1, `the resumed run ran its course: exit ${code}\n${out}\n${err.slice(-3000)}`);
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { valid: unknown; gaps: unknown[] };
  assert.deepEqual(results.gaps, [], 'no gap');
  assert.ok(results.valid === true || results.valid === false, `checked: ${String(results.valid)}`);
  try {
    assertRestarted(rawEvents(dir), resumedAt);
  } catch (e) {
    (e as Error).message += `\nthe resumed controller said:\n${err.split('\n').filter((l) => /watchdog|lease|restart|resumed|phase/.test(l)).slice(-40).join('\n')}`;
    throw e;
  }
});
