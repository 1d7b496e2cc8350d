import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Random } from '../../core/generator/random';
import type { RunState } from '../../controller/run/run-state';
import { CLI, runCli, tempDir } from '../support/processes';

/**
 * A run's controller SIGKILLed at a random moment on a real 3-node etcd lab, then either taken over by a new
 * controller (`faultline resume RUN_DIR`: the leases taken back in time, or lapsed and the agents' heals accepted)
 * or finished offline (`faultline resume RUN_DIR --finish`). Either way the history is gapless, and its verdict
 * equals the one `faultline check` gives the same history. The moments are drawn from a seed, printed
 * (FAULTLINE_TEST_SEED=N repeats them).
 */
const PREFIX = 'flv';
const NODES = ['n1', 'n2', 'n3'];
const SEED = Number(process.env['FAULTLINE_TEST_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const rng = new Random(SEED);
const root = process.getuid?.() === 0;
const skip = root ? false : 'needs root (network namespaces)';

before(async () => {
  if (!root) return;
  process.stdout.write(`# resume tests: seed ${SEED} (FAULTLINE_TEST_SEED=${SEED} repeats the kill moments)\n`);
  const up = await runCli(['lab', 'up', '--nodes', String(NODES.length), '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
});

after(async () => {
  if (root) await runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 });
});

function lines(path: string): number {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0).length;
}

interface Started {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<void>;
}

function startRun(t: { after(fn: () => unknown): void }, store: string, extra: string[]): Started {
  const run = spawn(process.execPath, [
    CLI, 'run', '--nodes', 'lab', '--lab-prefix', PREFIX, '--db', 'etcd', '--workload', 'register',
    '--concurrency', '6', '--rate', '150', '--recovery-time', '1', '--store', store, '--seed', String(rng.int(1_000_000)), ...extra,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FAULTLINE_LOG_LEVEL: 'info' } });
  let stderr = '';
  run.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  run.stdout!.resume();
  const exited = new Promise<void>((resolve) => run.once('exit', () => resolve()));
  t.after(() => {
    if (run.exitCode === null && run.signalCode === null) run.kill('SIGKILL');
  });
  return { child: run, stderr: () => stderr, exited };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what} (seed ${SEED}):\n${log()}`);
    await sleep(50);
  }
}

function runDirOf(store: string): string | undefined {
  const base = join(store, 'etcd-register');
  if (!existsSync(base)) return undefined;
  const runs = readdirSync(base);
  return runs.length === 1 ? join(base, runs[0]!) : undefined;
}

function runState(dir: string): RunState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'run-state.json'), 'utf8')) as RunState;
  } catch {
    return undefined; // not written yet
  }
}

/** Every publisher's sequence numbers in events.raw.jsonl: 1..max, each once. */
function assertRawGapless(dir: string): Record<string, number> {
  const seen = new Map<string, Set<number>>();
  for (const line of readFileSync(join(dir, 'events.raw.jsonl'), 'utf8').split('\n')) {
    if (!line) continue;
    const ev = JSON.parse(line) as { node: string; seq: number | string };
    const set = seen.get(ev.node) ?? new Set<number>();
    const seq = Number(ev.seq);
    assert.ok(!set.has(seq), `seq ${seq} of ${ev.node} appears twice in events.raw.jsonl (seed ${SEED})`);
    set.add(seq);
    seen.set(ev.node, set);
  }
  const max: Record<string, number> = {};
  for (const [node, set] of seen) {
    max[node] = Math.max(...set);
    assert.equal(set.size, max[node], `events.raw.jsonl of ${node} holds ${set.size} of 1..${max[node]} (seed ${SEED})`);
  }
  return max;
}

interface HistoryOp {
  type: string;
  process: number | string;
  f: string;
  value: unknown;
  error?: string;
}

function history(dir: string): HistoryOp[] {
  return readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryOp);
}

/** Runs until a fault is in force, then SIGKILLs the controller at a seeded moment of it; returns the run folder. */
async function killDuringFault(t: { after(fn: () => unknown): void; diagnostic(s: string): void }, store: string, timeLimitS: number): Promise<{ dir: string; activeId: string; run: Started }> {
  const run = startRun(t, store, ['--time-limit', String(timeLimitS), '--nemesis', 'partition', '--nemesis-interval', '5']);
  await waitFor('the cluster', () => run.stderr().includes('"msg":"cluster ready"'), 120_000, run.stderr);
  const dir = runDirOf(store)!;
  // The controller still runs: resuming its folder is refused.
  const early = await runCli(['resume', dir], { timeoutMs: 60_000 });
  assert.equal(early.code, 254, early.stderr);
  assert.match(early.stderr, /^faultline: Cannot resume ".*": its controller \(pid \d+\) is still running\n$/);
  const nthFault = 1 + rng.int(2);
  const intoFaultMs = rng.int(2000);
  let faultsSeen = 0;
  let lastId = '';
  const active = () => {
    const s = runState(dir);
    return s?.nemesisInFlight === undefined ? s?.nemesis?.active?.id : undefined;
  };
  await waitFor(`fault ${nthFault} in force`, () => {
    const id = active();
    if (id && id !== lastId) {
      lastId = id;
      faultsSeen++;
    }
    return faultsSeen >= nthFault;
  }, 90_000, run.stderr);
  await sleep(intoFaultMs);
  assert.equal(active(), lastId, `fault ${lastId} still in force ${intoFaultMs} ms later (seed ${SEED})`);
  run.child.kill('SIGKILL');
  await run.exited;
  t.diagnostic(`seed ${SEED}: controller killed ${intoFaultMs} ms into fault ${nthFault} (${lastId})`);
  assert.ok(!existsSync(join(dir, 'results.json')), 'the killed run left no verdict');
  return { dir, activeId: lastId, run };
}

test('resume: a controller SIGKILLed during a fault is taken over within the lease; the run goes on to its end with a gapless history whose verdict an offline check repeats', { timeout: 240_000, skip }, async (t) => {
  const store = tempDir(t, 'store-resume-');
  const timeLimitS = 20;
  const { dir, activeId } = await killDuringFault(t, store, timeLimitS);
  const before = lines(join(dir, 'events.raw.jsonl'));
  const startedAt = Date.now();

  const resumed = await runCli(['resume', dir], { timeoutMs: 200_000 });
  assert.ok(resumed.code === 0 || resumed.code === 1 || resumed.code === 2, `seed ${SEED}\n${resumed.stdout}\n${resumed.stderr}`);
  assert.match(resumed.stderr, /faultline: resumed .*: controller pid \d+ last recorded [\d.]+s before; reattached n1,n2,n3; leases: n1 taken back, n2 taken back, n3 taken back/);
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
    valid: unknown;
    gaps: unknown[];
    stats: { byNode: Record<string, unknown> };
    online?: { agrees: boolean; disagreements: string[]; checkers: Record<string, unknown>; windows: { checked: number; leftToFinal: number } };
  };
  assert.deepEqual(results.gaps, [], `no sequence gap (seed ${SEED})`);
  assert.deepEqual(Object.keys(results.stats.byNode).sort(), NODES);
  const max = assertRawGapless(dir);
  assert.ok(lines(join(dir, 'events.raw.jsonl')) > before, 'the resumed run appended events');
  // The resumed run checked online too, from the events on disk on, and agrees with the final check.
  assert.ok(results.online, `results.json of the resumed run has its online verdict (seed ${SEED})`);
  assert.ok(Object.keys(results.online.checkers).length > 0, `some checker ran online: ${JSON.stringify(results.online)}`);
  assert.equal(results.online.agrees, true, `online and final agree: ${results.online.disagreements.join('; ')}`);
  // Fed the events on disk first: without them every live event would wait for sequence number 1, and no window
  // would ever open.
  assert.ok(results.online.windows.checked + results.online.windows.leftToFinal > 0, `the resumed run's online checker took the run's operations: ${JSON.stringify(results.online)}`);

  // The recovery is in the history: what was reattached, each lease, the fault found still in force.
  const ops = history(dir);
  const resume = ops.find((o) => o.process === 'nemesis' && o.f === 'resume' && o.type === 'ok');
  assert.ok(resume, 'a resume event in the history');
  const value = resume.value as { reattached: string[]; leases: Record<string, string>; faultsInForce: Record<string, string[]>; healedByAgents: Record<string, string[]> };
  assert.deepEqual(value.reattached.sort(), NODES);
  assert.deepEqual(value.healedByAgents, {}, 'nothing healed by the agents: the leases were taken back in time');
  assert.ok(Object.values(value.faultsInForce).some((ids) => ids.includes(activeId)), `the partition ${activeId} was still in force when the new controller came (${JSON.stringify(value.faultsInForce)})`);
  // The schedule went on: faults after the resume, and the final heal.
  const after = ops.slice(ops.indexOf(resume));
  assert.ok(after.some((o) => o.process === 'nemesis' && o.f === 'stop-partition' && o.type === 'ok'), 'the resumed run healed the partition');
  assert.ok(after.some((o) => o.process === 'nemesis' && o.f === 'verify-heal'), 'the resumed run ran the final heal');
  // Client operations on every node after the resume: the workloads went on.
  for (const n of NODES) assert.ok(after.some((o) => typeof o.process === 'number' && (o as unknown as { node: string }).node === n), `operations from ${n} after the resume`);
  // Every node is torn down: only the agent runs in each namespace.
  for (const n of NODES) {
    const pids = execFileSync('ip', ['netns', 'pids', `${PREFIX}-${n}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const cmds = pids.map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch { return ''; } }).filter(Boolean);
    assert.deepEqual(cmds.filter((c) => !/ agent --node /.test(c)), [], `only the agent left in ${PREFIX}-${n}`);
  }

  const offline = await runCli(['check', join(dir, 'history.jsonl')], { timeoutMs: 300_000 });
  assert.equal(resumed.code, offline.code, `seed ${SEED}: resume said ${resumed.stdout}; offline check said ${offline.stdout}${offline.stderr}`);
  const finished = await runCli(['resume', dir], { timeoutMs: 60_000 });
  assert.equal(finished.code, 254);
  assert.match(finished.stderr, /^faultline: Cannot resume ".*": the run is finished already \(results.json exists\)\n$/);
  t.diagnostic(`seed ${SEED}: resumed in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; ${before} events on disk before, last seqs ${JSON.stringify(max)}; verdict ${String(results.valid)} both ways; online ${JSON.stringify(results.online)}`);
});

test('resume: after the lease lapsed, the agents\' heals are accepted and recorded, their workloads restart under fresh process ids, and the history stays gapless', { timeout: 240_000, skip }, async (t) => {
  const store = tempDir(t, 'store-resume-late-');
  const { dir, activeId } = await killDuringFault(t, store, 30);
  const state = runState(dir)!;
  // Past the lease (10 s): every agent healed and stopped its workload.
  await sleep(state.leaseMs + 2000);
  const resumed = await runCli(['resume', dir], { timeoutMs: 200_000 });
  assert.ok(resumed.code === 0 || resumed.code === 1 || resumed.code === 2, `seed ${SEED}\n${resumed.stdout}\n${resumed.stderr}`);
  assert.match(resumed.stderr, /leases: n1 lapsed, n2 lapsed, n3 lapsed; healed by the agents meanwhile: n1: partition-\d+; n2: partition-\d+; n3: partition-\d+; workloads restarted on n1,n2,n3/);
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { gaps: unknown[] };
  assert.deepEqual(results.gaps, [], `no sequence gap (seed ${SEED})`);
  assertRawGapless(dir);
  const ops = history(dir);
  const resume = ops.find((o) => o.process === 'nemesis' && o.f === 'resume' && o.type === 'ok')!;
  const value = resume.value as { healedByAgents: Record<string, string[]>; workloadsRestarted: Record<string, number[]> };
  assert.ok(Object.values(value.healedByAgents).every((ids) => ids.includes(activeId)), `the agents healed ${activeId} (${JSON.stringify(value.healedByAgents)})`);
  assert.deepEqual(Object.keys(value.workloadsRestarted).sort(), NODES);
  // The heal the agents did is a stop-partition of unknown time, and the restarted processes are new ids.
  const idx = ops.indexOf(resume);
  assert.ok(ops.slice(idx).some((o) => o.f === 'stop-partition' && o.type === 'info' && /healed by the agents/.test(o.error ?? '')));
  const before = new Set(ops.slice(0, idx).filter((o) => typeof o.process === 'number').map((o) => o.process));
  for (const ids of Object.values(value.workloadsRestarted)) for (const p of ids) assert.ok(!before.has(p), `process ${p} is new`);
  const offline = await runCli(['check', join(dir, 'history.jsonl')], { timeoutMs: 300_000 });
  assert.equal(resumed.code, offline.code, `seed ${SEED}: resume said ${resumed.stdout}; offline check said ${offline.stdout}${offline.stderr}`);
});

test('resume --finish: a run whose controller was SIGKILLed ends with a gapless, checked history whose verdict an offline check repeats', { timeout: 240_000, skip }, async (t) => {
  const store = tempDir(t, 'store-finish-');
  const run = startRun(t, store, ['--time-limit', '40', '--nemesis', 'partition', '--nemesis-interval', '4']);
  await waitFor('the cluster', () => run.stderr().includes('"msg":"cluster ready"'), 120_000, run.stderr);
  // A seeded moment of the main phase: between 2 and 14 s after the workload started.
  const killAfterMs = 2000 + rng.int(12_000);
  await sleep(killAfterMs);
  run.child.kill('SIGKILL');
  await run.exited;
  const dir = runDirOf(store)!;
  assert.ok(!existsSync(join(dir, 'results.json')), 'the killed run left no verdict');
  const before = lines(join(dir, 'events.raw.jsonl'));

  const finish = await runCli(['resume', dir, '--finish'], { timeoutMs: 200_000 });
  assert.ok(finish.code === 0 || finish.code === 1 || finish.code === 2, `${finish.stdout}\n${finish.stderr}`);
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { valid: unknown; gaps: unknown[]; stats: { byNode: Record<string, unknown> } };
  assert.deepEqual(results.gaps, [], `no sequence gap (seed ${SEED})`);
  assert.deepEqual(Object.keys(results.stats.byNode).sort(), NODES);
  assertRawGapless(dir);
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
  t.diagnostic(`seed ${SEED}: controller killed ${killAfterMs} ms into the workload; ${before} events on disk, ${after} after finishing; verdict ${String(results.valid)} both ways`);
});
