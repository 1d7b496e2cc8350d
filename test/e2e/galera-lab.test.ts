import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { labSkipReason } from '../support/netns';
import { runCli, tempDir } from '../support/processes';
import { lifo } from '../support/cleanup';

/**
 * Galera (MariaDB 10.11 + galera-4) on 3 nodes ("flq"): a member on every node, clients on their own member,
 * under partitions and kills. Whatever the verdict, the run must complete with a complete history, a verified
 * final heal, and a verdict every checker explains.
 */
const PREFIX = 'flq';
const NODES = ['n1', 'n2', 'n3'];
const LABS = join(process.env['FAULTLINE_HOME'] ?? '/var/lib/faultline', 'labs');
let skip: string | undefined;

interface Results {
  valid: boolean | 'unknown';
  reason?: string;
  gaps: unknown[];
  stats: { ok: number; fail: number; info: number; faults?: Record<string, number> };
  checks: Record<string, { valid: boolean | 'unknown'; anomalies: Record<string, number>; summary: string[] }>;
}

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
    assert.deepEqual(cmds.filter((c) => /mariadbd|rsync/.test(c)), [], `galera processes left in ${ns}`);
    assert.equal(existsSync(join(LABS, PREFIX, 'nodes', n, 'mariadb')), false, `galera data dir left on ${n}`);
  }
}

before(async () => {
  skip = await labSkipReason();
  if (skip) return;
  const up = await runCli(['lab', 'up', '--nodes', '3', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
});

after(async () => {
  if (!skip) await runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 });
});

for (const workload of ['bank', 'list-append']) {
  test(`galera ${workload} under --nemesis partition,kill runs to an explained verdict with a complete history and a verified heal`, { timeout: 300_000 }, async (tc) => {
    if (skip) return tc.skip(skip);
    const store = tempDir(lifo(tc), 'galera-store-');
    const res = await runCli(
      ['run', '--nodes', 'lab', '--lab-prefix', PREFIX, '--db', 'galera', '--workload', workload, '--isolation', 'serializable',
        '--nemesis', 'partition,kill', '--nemesis-interval', '6', '--time-limit', '30', '--recovery-time', '5', '--seed', '4', '--store', store],
      { timeoutMs: 240_000 },
    );
    assertNothingLeft();
    assert.ok(res.code === 0 || res.code === 1, `a verdict (exit 0 or 1): ${res.code}\n${res.stdout}\n${res.stderr}`);
    const runs = readdirSync(join(store, `galera-${workload}`));
    const dir = join(store, `galera-${workload}`, runs[0]!);
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
    assert.deepEqual(r.gaps, [], 'no sequence gap');
    assert.ok((r.stats.faults?.['partition'] ?? 0) >= 1 && (r.stats.faults?.['kill'] ?? 0) >= 1, JSON.stringify(r.stats.faults));
    const verifyHeal = readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"verify-heal"'));
    const heal = verifyHeal.filter((l) => l.includes('"ok"'));
    assert.equal(heal.length, 1, `the final heal was verified: ${verifyHeal.join(' ')}`);
    assert.deepEqual((JSON.parse(heal[0]!) as { value: { problems: string[] } }).value.problems, []);
    const check = Object.values(r.checks)[0]!;
    assert.notEqual(check.valid, 'unknown');
    assert.ok(check.summary.length > 0, 'the verdict is explained');
    assert.match(res.stdout, /^verdict: (VALID|INVALID)/m);
    tc.diagnostic(`galera ${workload}: ${check.summary[0]}`);
  });
}
