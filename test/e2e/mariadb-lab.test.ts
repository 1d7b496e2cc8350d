import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

test('an isolation level the database lacks is one line, exit 254 (postgres has no read-uncommitted)', async () => {
  const res = await runCli(['run', '--db', 'postgres', '--workload', 'bank', '--isolation', 'read-uncommitted']);
  assert.equal(res.code, 254);
  assert.match(res.stderr.trim(), /^faultline: Cannot run: --isolation read-uncommitted: postgres does not offer it/);
  assert.equal(res.stderr.trim().split('\n').length, 1);
});
