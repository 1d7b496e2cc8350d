import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { labSkipReason } from '../support/netns';
import { runCli, tempDir } from '../support/processes';
import { lifo } from '../support/cleanup';

/**
 * MariaDB 10.11, single node, on a 3-node lab ("flq"): the server runs on n1, clients on every node. Jepsen found
 * MySQL's and MariaDB's repeatable read to allow lost updates, G-single and G2-item; serializable is serializable.
 */
const PREFIX = 'flq';
const NODES = ['n1', 'n2', 'n3'];
const LABS = join(process.env['FAULTLINE_HOME'] ?? '/var/lib/faultline', 'labs');
let skip: string | undefined;

interface Results {
  valid: boolean | 'unknown';
  gaps: unknown[];
  stats: { ok: number; fail: number; info: number; faults?: Record<string, number> };
  checks: Record<string, { valid: boolean | 'unknown'; anomalies: Record<string, number>; summary: string[] }>;
}

const latest = (store: string, name: string): string => {
  const runs = readdirSync(join(store, name)).sort();
  return join(store, name, runs[runs.length - 1]!);
};
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const execFileAsync = promisify(execFile);

function assertNothingLeft(): void {
  for (const n of NODES) {
    const ns = `${PREFIX}-${n}`;
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const cmds = pids.map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        return '';
      }
    });
    assert.deepEqual(cmds.filter((c) => /mariadbd/.test(c)), [], `mariadbd left in ${ns}`);
    assert.equal(existsSync(join(LABS, PREFIX, 'nodes', n, 'mariadb')), false, `mariadb data dir left on ${n}`);
  }
}

const run = (store: string, extra: string[]) => [
  'run', '--nodes', 'lab', '--lab-prefix', PREFIX, '--db', 'mariadb', '--concurrency', '10', '--rate', '100',
  '--nemesis', 'none', '--time-limit', '20', '--recovery-time', '1', '--seed', '3', '--store', store, ...extra,
];

before(async () => {
  skip = await labSkipReason();
  if (skip) return;
  const up = await runCli(['lab', 'up', '--nodes', '3', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
});

after(async () => {
  if (!skip) await runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 });
});

test('mariadb list-append at repeatable-read: lost update, G-single or G2-item, explained', { timeout: 300_000 }, async (tc) => {
  if (skip) return tc.skip(skip);
  const store = tempDir(lifo(tc), 'my-store-');
  const res = await runCli(run(store, ['--workload', 'list-append', '--isolation', 'repeatable-read']), { timeoutMs: 240_000 });
  assertNothingLeft();
  assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
  const dir = latest(store, 'mariadb-list-append');
  assert.equal(readJson<{ isolation: string }>(join(dir, 'plan.json')).isolation, 'repeatable-read');
  const la = readJson<Results>(join(dir, 'results.json')).checks['list-append']!;
  const jepsen = ['lost-update', 'G-single', 'G2-item'].filter((a) => (la.anomalies[a] ?? 0) > 0);
  assert.ok(jepsen.length > 0, `one of lost-update, G-single, G2-item expected: ${JSON.stringify(la.anomalies)}`);
  const text = la.summary.join('\n');
  assert.match(text, /1\. T\d+ .*(rw|ww|wr)-precedes T\d+/);
  assert.match(text, /a cycle/);
});

test('mariadb list-append at serializable: valid', { timeout: 300_000 }, async (tc) => {
  if (skip) return tc.skip(skip);
  const store = tempDir(lifo(tc), 'my-store-');
  const res = await runCli(run(store, ['--workload', 'list-append', '--isolation', 'serializable']), { timeoutMs: 240_000 });
  assertNothingLeft();
  const r = readJson<Results>(join(latest(store, 'mariadb-list-append'), 'results.json'));
  assert.equal(r.checks['list-append']!.valid, true, r.checks['list-append']!.summary.join('\n'));
  assert.ok(r.stats.ok > 100, JSON.stringify(r.stats));
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
});

interface HistoryOp { process: number | string; type: string; f: string; value: unknown }
const readJsonl = (path: string): HistoryOp[] => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as HistoryOp);

test('clock faults land on the MariaDB server node, and its NOW() follows the offset', { timeout: 150_000 }, async (tc) => {
  if (skip) return tc.skip(skip);
  const store = tempDir(lifo(tc), 'my-clk-');
  const lab = (JSON.parse((await runCli(['lab', 'status', '--json', '--prefix', PREFIX])).stdout) as { nodes: { name: string; namespace: string; address: string }[] }).nodes;
  const n1 = lab.find((n) => n.name === 'n1')!;
  // Ask the server its time while the run goes on (from n1's namespace, over the node's own address).
  let worst = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const before = Date.now();
      try {
        const { stdout } = await execFileAsync('ip', ['netns', 'exec', n1.namespace, 'mariadb', '-h', n1.address, '-P', '13306', '-u', 'root', '-N', '-B', '-e', 'SELECT UNIX_TIMESTAMP(NOW(6))'], { timeout: 2000 });
        const skew = Number(stdout.trim()) * 1000 - (before + Date.now()) / 2;
        if (Math.abs(skew) > Math.abs(worst)) worst = skew;
      } catch {
        // not up yet, or already torn down
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  // Seed 21: the first clock fault is a bump of +1982 ms (seeds with a first fault of about 100 ms show too little).
  const res = await runCli(
    ['run', '--nodes', 'lab', '--lab-prefix', PREFIX, '--db', 'mariadb', '--workload', 'rw-register', '--concurrency', '5', '--rate', '50',
      '--nemesis', 'clock', '--nemesis-interval', '5', '--time-limit', '12', '--recovery-time', '1', '--seed', '21', '--store', store],
    { timeoutMs: 120_000 },
  );
  polling = false;
  await poll;
  assertNothingLeft();
  assert.ok(res.code === 0 || res.code === 1, `the run ran its course: exit ${res.code}\n${res.stdout}\n${res.stderr}`);
  const history = readJsonl(join(latest(store, 'mariadb-rw-register'), 'history.jsonl'));
  const starts = history.filter((o) => o.process === 'nemesis' && o.f === 'start-clock' && o.type === 'ok');
  assert.ok(starts.length >= 1, 'a clock fault was applied');
  let largest = 0;
  const serverPids = new Set<number>();
  for (const o of starts) {
    const v = o.value as { servers: string[]; nodes: Record<string, { clockOffsetMs: number; dbPid: number }> };
    if (v.nodes['n1']!.dbPid > 0) serverPids.add(v.nodes['n1']!.dbPid);
    // n2 and n3 run clients only: the fault is aimed at n1, whatever the rotation picked (one, all).
    assert.deepEqual(v.servers, ['n1'], JSON.stringify(v));
    const shifted = Object.entries(v.nodes).filter(([, s]) => s.clockOffsetMs !== 0).map(([n]) => n);
    assert.deepEqual(shifted, ['n1'], `only the server's clock is shifted: ${JSON.stringify(v.nodes)}`);
    if (Math.abs(v.nodes['n1']!.clockOffsetMs) > Math.abs(largest)) largest = v.nodes['n1']!.clockOffsetMs;
  }
  tc.diagnostic(`largest offset applied on n1: ${largest} ms; MariaDB's NOW() seen at most ${Math.round(worst)} ms off`);
  assert.ok(Math.abs(largest) >= 300, `the seed gives a clock fault large enough to see (${largest} ms)`);
  assert.ok(Math.sign(worst) === Math.sign(largest) && Math.abs(worst) >= Math.abs(largest) / 2, `MariaDB's clock did not follow the ${largest} ms offset (saw ${Math.round(worst)} ms)`);
  assert.ok(history.some((o) => o.process === 'nemesis' && o.f === 'verify-heal' && o.type === 'ok'), 'the heal was verified, offsets back to zero');
  // libfaketime's shm files are named after the process: none of the server's is left.
  const pids = [...serverPids];
  assert.ok(pids.length > 0, 'the events name the server pid');
  assert.deepEqual(readdirSync('/dev/shm').filter((f) => /faketime/.test(f) && pids.some((p) => f.endsWith(`_${p}`))), [], 'no libfaketime shm file of the server is left');
});

test('an isolation level the database lacks is one line, exit 254 (postgres has no read-uncommitted)', async () => {
  const res = await runCli(['run', '--db', 'postgres', '--workload', 'bank', '--isolation', 'read-uncommitted']);
  assert.equal(res.code, 254);
  assert.match(res.stderr.trim(), /^faultline: Cannot run: --isolation read-uncommitted: postgres does not offer it/);
  assert.equal(res.stderr.trim().split('\n').length, 1);
});
