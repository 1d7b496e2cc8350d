import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promisify } from 'node:util';
import type { Op } from '../../core/history/operation';
import { dbLeftovers } from '../support/leftovers';
import { labSkipReason, REPO_ROOT } from '../support/netns';
import { runCli, tempDir } from '../support/processes';

const execFileAsync = promisify(execFile);

/**
 * Redis 7 + Sentinel on a real 5-node lab ("fld"): the primary isolated for 15 s loses the writes it acknowledged
 * (Jepsen's "Call Me Maybe: Redis"), found by set-full, linearizability and the counter checker; with no nemesis
 * the same run is valid; a clock fault reaches the redis-server through libfaketime. The runs use the plans in
 * plans/ with fixed seeds. After every run nothing of Redis is left: no process, data directory or listening port.
 */
const PREFIX = 'fld';
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const plan = (name: string): string => join(REPO_ROOT, 'plans', `${name}.yaml`);

interface LabNodeStatus { name: string; namespace: string; address: string }

function readJsonl(path: string): Op[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Op);
}

function onlyRun(store: string, testName: string): string {
  const dir = join(store, testName);
  const runs = readdirSync(dir);
  assert.equal(runs.length, 1, `one run in ${dir}`);
  return join(dir, runs[0]!);
}

interface Results {
  valid: unknown;
  gaps: unknown[];
  checks: Record<string, { valid: unknown; anomalies: Record<string, number>; [k: string]: unknown }>;
}

function results(dir: string): Results {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
}

/** Acceptance 5: no redis-server or redis-sentinel of ours, no data directory, nothing listening on 6379/26379. */
const STARTED_MS = Date.now();
function madeSinceStart(path: string): boolean {
  try {
    return statSync(path).mtimeMs >= STARTED_MS - 1000;
  } catch {
    return false; // removed while we looked
  }
}

function assertRedisGone(): void {
  assert.deepEqual(dbLeftovers(['redis'], [PREFIX]), [], 'redis processes or data directories left');
  for (const n of NODES) {
    const ns = `${PREFIX}-${n}`;
    const listening = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-ltnH'], { encoding: 'utf8' });
    assert.doesNotMatch(listening, /:(6379|26379)\s/, `a redis port still listens in ${ns}:\n${listening}`);
    const procs = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const pid of procs) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue; // exited while we looked
      }
      assert.doesNotMatch(cmd, /^\S*redis-(server|sentinel)\b/, `redis process ${pid} left in ${ns}: ${cmd}`);
    }
  }
  // Only files made while this file's runs went on: other runs on the host (a user's, a parallel suite's) are not ours.
  const shm = existsSync('/dev/shm')
    ? readdirSync('/dev/shm').filter((f) => /^(sem\.)?faketime_[a-z]+_(\d+)$/.test(f) && !existsSync(`/proc/${/(\d+)$/.exec(f)![1]}`) && madeSinceStart(join('/dev/shm', f)))
    : [];
  assert.deepEqual(shm, [], 'libfaketime shm files of processes that are gone');
}

const run = (args: string[]) => runCli(['run', ...args, '--lab-prefix', PREFIX], { timeoutMs: 240_000 });

test('Redis + Sentinel on a 5-node lab: the isolated primary loses acknowledged writes', { timeout: 600_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  t.after(async () => {
    await runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 });
  });
  const up = await runCli(['lab', 'up', '--nodes', '5', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
  const lab = (JSON.parse((await runCli(['lab', 'status', '--json', '--prefix', PREFIX])).stdout) as { nodes: LabNodeStatus[] }).nodes;

  await t.test('set, primary isolated: exit 1, the lost adds counted and named', async () => {
    const store = tempDir(t, 'fld-set-');
    const res = await run([plan('redis-set'), '--seed', '11', '--store', store]);
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /verdict: INVALID/);
    const dir = onlyRun(store, 'redis-set');
    const r = results(dir);
    const sf = r.checks['set-full']!;
    assert.equal(sf.valid, false);
    const lostCount = sf['lostCount'] as number;
    const lost = sf['lost'] as number[];
    assert.ok(lostCount > 0, 'acknowledged adds were lost');
    assert.equal(sf.anomalies['lost'], lostCount);
    assert.ok(lost.length > 0 && lost.length <= lostCount);
    t.diagnostic(`set: ${lostCount} acknowledged adds lost of ${String(sf['acknowledgedCount'])} acknowledged`);
    // The summary names the lost elements.
    assert.match(res.stdout, /lost ×\d+/);
    assert.ok(res.stdout.includes(`lost: ${lost[0]}`) || lost.some((e) => res.stdout.includes(String(e))), 'the summary names lost elements');
    // Each element reported lost was known to be in the set (Jepsen's set-full: its add was acknowledged, or a read
    // saw it; an add of unknown outcome that a client next to the old primary read back counts too) and is in no
    // node's final read.
    const history = readJsonl(join(dir, 'history.jsonl'));
    const acked = new Set(history.filter((o) => o.f === 'add' && o.type === 'ok').map((o) => o.value as number));
    for (const o of history) if (o.f === 'read' && o.type === 'ok' && Array.isArray(o.value)) for (const e of o.value as number[]) acked.add(e);
    const finals = history.filter((o) => o.f === 'read' && o.type === 'ok' && typeof o.process === 'number' && o.process >= 1_000_000);
    assert.equal(new Set(finals.map((o) => o.node)).size, NODES.length, 'every node made its final reads');
    const finallyRead = new Set(finals.flatMap((o) => o.value as number[]));
    for (const e of lost) {
      assert.ok(acked.has(e), `lost element ${e} was known to be in the set (acknowledged or read)`);
      assert.ok(!finallyRead.has(e), `lost element ${e} is absent from every final read`);
    }
    const cut = history.find((o) => o.process === 'nemesis' && o.f === 'start-partition' && o.type === 'ok');
    assert.match(JSON.stringify(cut?.value), /"primary":"n1"/, 'the partition isolated the primary (n1 at the start)');
    assertRedisGone();
  });

  await t.test('set, no nemesis: exit 0', async () => {
    const store = tempDir(t, 'fld-none-');
    const res = await run([plan('redis-set'), '--nemesis', 'none', '--seed', '12', '--store', store]);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /verdict: VALID/);
    const r = results(onlyRun(store, 'redis-set'));
    assert.equal(r.checks['set-full']!['lostCount'], 0);
    assert.deepEqual(r.gaps, []);
    assertRedisGone();
  });

  await t.test('register, primary isolated: not linearizable, with the failing window', async () => {
    const store = tempDir(t, 'fld-reg-');
    const res = await run([plan('redis-register'), '--seed', '13', '--store', store]);
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /not linearizable/);
    const dir = onlyRun(store, 'redis-register');
    const lin = results(dir).checks['linearizable']!;
    assert.equal(lin.valid, false);
    const evidence = lin['evidence'] as { key: string; failingOp: { f: string; process: number }; subHistory: unknown[] };
    assert.ok(evidence.key.length > 0 && evidence.failingOp.f.length > 0 && evidence.subHistory.length >= 2, JSON.stringify(evidence));
    assert.ok(existsSync(join(dir, 'linearizability.html')), 'the failing window is drawn');
    assert.match(readFileSync(join(dir, 'linearizability.html'), 'utf8'), new RegExp(evidence.key));
    assertRedisGone();
  });

  await t.test('counter, primary isolated: the lost increments are reported', async () => {
    const store = tempDir(t, 'fld-ctr-');
    const res = await run([plan('redis-counter'), '--seed', '14', '--store', store]);
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    const counter = results(onlyRun(store, 'redis-counter')).checks['counter']!;
    assert.equal(counter.valid, false);
    const lostAmount = counter['lostAmount'] as number;
    assert.ok(lostAmount > 0, 'the final reads are below the acknowledged increments');
    assert.equal(counter.anomalies['lost-increments'], lostAmount);
    assert.match(res.stdout, /lost increments: the last read is \d+ below/);
    t.diagnostic(`counter: final reads ${lostAmount} below the acknowledged increments (summed over keys)`);
    assertRedisGone();
  });

  await t.test('clock faults: the run runs its course, the offsets are in the nemesis events and reach redis-server', async () => {
    const store = tempDir(t, 'fld-clk-');
    // Read each node's redis TIME while the run goes on: the shifted node must report the shifted time.
    const skewMs = new Map<string, number>();
    let polling = true;
    const poll = (async () => {
      while (polling) {
        await Promise.all(lab.map(async (n) => {
          const before = Date.now();
          try {
            const { stdout } = await execFileAsync('ip', ['netns', 'exec', n.namespace, 'redis-cli', '-h', n.address, 'TIME'], { timeout: 2000 });
            const [s, us] = stdout.trim().split('\n').map(Number);
            const mid = (before + Date.now()) / 2;
            const skew = s! * 1000 + us! / 1000 - mid;
            if (Math.abs(skew) > Math.abs(skewMs.get(n.name) ?? 0)) skewMs.set(n.name, skew);
          } catch {
            // not up yet, or already torn down
          }
        }));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const res = await run(['--db', 'redis', '--workload', 'set', '--nodes', 'lab', '--time-limit', '24', '--nemesis', 'clock', '--nemesis-interval', '8', '--seed', '1', '--store', store]);
    polling = false;
    await poll;
    assert.ok(res.code === 0 || res.code === 1, `the run ran its course: exit ${res.code}\n${res.stdout}\n${res.stderr}`);
    const history = readJsonl(join(onlyRun(store, 'redis-set'), 'history.jsonl'));
    const starts = history.filter((o) => o.process === 'nemesis' && o.f === 'start-clock' && o.type === 'ok');
    assert.ok(starts.length >= 1, 'a clock fault was applied');
    const offsets = starts.flatMap((o) => Object.entries((o.value as { nodes: Record<string, { clockOffsetMs: number }> }).nodes).map(([node, s]) => ({ node, ms: s.clockOffsetMs })));
    const shifted = offsets.filter((o) => o.ms !== 0);
    assert.ok(shifted.length >= 1, `a node's offset is in the nemesis events: ${JSON.stringify(offsets)}`);
    for (const s of shifted.filter((o) => Math.abs(o.ms) >= 300)) {
      const seen = skewMs.get(s.node) ?? 0;
      t.diagnostic(`${s.node}: offset ${s.ms} ms, redis TIME seen ${Math.round(seen)} ms off`);
      assert.ok(Math.sign(seen) === Math.sign(s.ms) && Math.abs(seen) >= Math.abs(s.ms) / 2, `redis-server on ${s.node} did not follow the ${s.ms} ms offset (saw ${Math.round(seen)} ms)`);
    }
    const verify = history.find((o) => o.process === 'nemesis' && o.f === 'verify-heal' && o.type === 'ok');
    assert.ok(verify, 'the heal was verified, offsets back to zero');
    assertRedisGone();
  });
});
