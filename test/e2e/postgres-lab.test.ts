import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { labSkipReason } from '../support/netns';
import { runCli, tempDir } from '../support/processes';
import { lifo } from '../support/cleanup';

/**
 * PostgreSQL 15 on a 3-node lab ("flq"): the primary runs on n1, clients run on every node against it (n2 and n3
 * run no server). Real servers, real transactions, fixed seeds, short runs. Every test checks that nothing of
 * PostgreSQL's is left (no process in any namespace, no data dir).
 */
const PREFIX = 'flq';
const NODES = ['n1', 'n2', 'n3'];
const LABS = join(process.env['FAULTLINE_HOME'] ?? '/var/lib/faultline', 'labs');
let skip: string | undefined;

interface CheckVerdict {
  valid: boolean | 'unknown';
  anomalies: Record<string, number>;
  summary: string[];
}
interface Results {
  valid: boolean | 'unknown';
  gaps: unknown[];
  stats: { ok: number; fail: number; info: number; faults?: Record<string, number> };
  checks: Record<string, CheckVerdict>;
}

function latestRun(store: string, testName: string): string {
  const dir = join(store, testName);
  const runs = readdirSync(dir).sort();
  return join(dir, runs[runs.length - 1]!);
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** No postgres process in any node's namespace and no postgres data dir in any node's data dir. */
function assertNothingLeft(): void {
  for (const n of NODES) {
    const ns = `${PREFIX}-${n}`;
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const cmds = pids.map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      } catch {
        return '';
      }
    });
    assert.deepEqual(cmds.filter((c) => /postgres/.test(c)), [], `postgres processes left in ${ns}`);
    assert.equal(existsSync(join(LABS, PREFIX, 'nodes', n, 'postgres')), false, `postgres data dir left on ${n}`);
  }
}

const run = (store: string, extra: string[]) => [
  'run', '--nodes', 'lab', '--lab-prefix', PREFIX, '--db', 'postgres', '--concurrency', '10', '--rate', '100',
  '--keys', '5', '--key-period', '5', '--recovery-time', '2', '--store', store, ...extra,
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

test('postgres list-append at repeatable-read: G2-item (write skew), its cycle explained edge by edge', { timeout: 300_000 }, async (tc) => {
  if (skip) return tc.skip(skip);
  const store = tempDir(lifo(tc), 'pg-store-');
  const res = await runCli(run(store, ['--workload', 'list-append', '--isolation', 'repeatable-read', '--nemesis', 'none', '--time-limit', '20', '--seed', '11']), { timeoutMs: 240_000 });
  assertNothingLeft();
  assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
  const dir = latestRun(store, 'postgres-list-append');
  const plan = readJson<{ dbOptions: Record<string, string>; isolation: string; statements: string[] }>(join(dir, 'plan.json'));
  assert.equal(plan.dbOptions['isolation'], 'repeatable-read');
  assert.equal(plan.isolation, 'repeatable-read');
  assert.ok(plan.statements.some((s) => /ON CONFLICT \(k\) DO UPDATE SET v = lists\.v/.test(s)), 'the append statement is recorded');
  const r = readJson<Results>(join(dir, 'results.json'));
  assert.deepEqual(r.gaps, []);
  const la = r.checks['list-append']!;
  assert.equal(la.valid, false);
  assert.ok((la.anomalies['G2-item'] ?? 0) > 0, `G2-item expected, got ${JSON.stringify(la.anomalies)}`);
  // Snapshot isolation forbids every cycle with fewer than two adjacent anti-dependencies.
  for (const forbidden of ['G0', 'G1a', 'G1b', 'G1c', 'G-single', 'G-nonadjacent', 'lost-update']) assert.equal(la.anomalies[forbidden], undefined, `${forbidden} at repeatable-read: ${JSON.stringify(la.anomalies)}`);
  const text = la.summary.join('\n');
  assert.match(text, /G2-item/);
  assert.match(text, /1\. T\d+ .*rw-precedes T\d+/, 'first edge explained');
  assert.match(text, /2\. T\d+ .*rw-precedes T\d+/, 'second edge explained');
  assert.match(text, /a cycle/);
  assert.match(res.stdout, /G2-item/);
});

/**
 * What PostgreSQL 15.18's serializable is found to guarantee here (docs/sql.md, "Serializable is not always
 * serializable"): usually valid; rarely a G2-item cycle of three committed transactions with two adjacent rw edges
 * (the dangerous structure its SSI exists to abort), also seen outside faultline (`npm run bench:pg-ssi`). Snapshot
 * isolation, which SSI is built on, still holds: no other anomaly may appear.
 */
function assertSerializableOrKnownG2(la: CheckVerdict, what: string): void {
  if (la.valid === true) {
    assert.deepEqual(la.anomalies, {});
    return;
  }
  assert.equal(la.valid, false, `${what}: ${la.summary.join('\n')}`);
  // G2-item, possibly also as the -process / -realtime variants a cycle through process or real-time order makes.
  const names = Object.keys(la.anomalies);
  assert.ok(names.includes('G2-item') && names.every((a) => /^G2-item(-process|-realtime)?$/.test(a)), `${what}: only PostgreSQL's known G2-item may appear: ${JSON.stringify(la.anomalies)}`);
  const rwEdges = la.summary.join('\n').match(/^\s+\d+\. T\d+ .*rw-precedes T\d+/gm) ?? [];
  assert.ok(rwEdges.length >= 2, `${what}: the cycle is explained edge by edge, with its two anti-dependencies: ${la.summary.join('\n')}`);
}

test('postgres list-append at serializable: valid, or only the rare G2-item PostgreSQL 15.18 lets through', { timeout: 300_000 }, async (tc) => {
  if (skip) return tc.skip(skip);
  const store = tempDir(lifo(tc), 'pg-store-');
  const res = await runCli(run(store, ['--workload', 'list-append', '--isolation', 'serializable', '--nemesis', 'none', '--time-limit', '20', '--seed', '11']), { timeoutMs: 240_000 });
  assertNothingLeft();
  const dir = latestRun(store, 'postgres-list-append');
  const r = readJson<Results>(join(dir, 'results.json'));
  const la = r.checks['list-append']!;
  if (la.valid !== true) {
    // Rare (see docs/sql.md): keep the evidence, the temporary store is removed after the test.
    const keep = `/tmp/faultline-pg-serializable-${Date.now()}`;
    cpSync(dir, keep, { recursive: true });
    tc.diagnostic(`serializable run invalid (${JSON.stringify(la.anomalies)}); its folder is kept in ${keep}`);
  }
  assertSerializableOrKnownG2(la, 'serializable');
  // Serialization failures are definite aborts, recorded as fail; with no faults nothing is in doubt.
  assert.ok(r.stats.fail > 0 && r.stats.ok > 100, JSON.stringify(r.stats));
  assert.equal(r.stats.info, 0);
  assert.equal(res.code, la.valid === true ? 0 : 1, `${res.stdout}\n${res.stderr}`);
});

test('postgres bank at serializable under --nemesis kill of the primary: totals conserved, valid', { timeout: 300_000 }, async (tc) => {
  if (skip) return tc.skip(skip);
  const store = tempDir(lifo(tc), 'pg-store-');
  const res = await runCli(
    run(store, ['--workload', 'bank', '--isolation', 'serializable', '--nemesis', 'kill', '--nemesis-target', 'primary', '--nemesis-interval', '5', '--time-limit', '30', '--seed', '12']),
    { timeoutMs: 240_000 },
  );
  assertNothingLeft();
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  const r = readJson<Results>(join(latestRun(store, 'postgres-bank'), 'results.json'));
  assert.deepEqual(r.gaps, []);
  assert.ok((r.stats.faults?.['kill'] ?? 0) >= 2, `the primary was killed: ${JSON.stringify(r.stats.faults)}`);
  assert.equal(r.checks['bank']!.valid, true, r.checks['bank']!.summary.join('\n'));
  assert.deepEqual(r.checks['bank']!.anomalies, {});
});

test('postgres primary + hot standby, list-append at repeatable-read reading from the standby, 60 s: completes, verdict explained', { timeout: 300_000 }, async (tc) => {
  if (skip) return tc.skip(skip);
  const store = tempDir(lifo(tc), 'pg-store-');
  const res = await runCli(
    run(store, ['--workload', 'list-append', '--isolation', 'repeatable-read', '--nemesis', 'none', '--time-limit', '60', '--seed', '13', '--db-opt', 'replicas=1', '--db-opt', 'read-from=replica']),
    { timeoutMs: 240_000 },
  );
  assertNothingLeft();
  assert.ok(res.code === 0 || res.code === 1, `a verdict: ${res.code}\n${res.stdout}\n${res.stderr}`);
  const dir = latestRun(store, 'postgres-list-append');
  const r = readJson<Results>(join(dir, 'results.json'));
  assert.deepEqual(r.gaps, []);
  const la = r.checks['list-append']!;
  assert.notEqual(la.valid, 'unknown');
  assert.ok(la.summary.length > 0);
  // The standby on n2 streamed from the primary and served the clients' read-only transactions.
  const standbyLog = readFileSync(join(dir, 'nodes', 'n2', 'postgres.log'), 'utf8');
  assert.match(standbyLog, /started streaming WAL from primary/);
  assert.match(standbyLog, /connection authorized: .*application_name=faultline-client/);
  tc.diagnostic(`standby run: ${la.valid === true ? 'valid' : `invalid: ${JSON.stringify(la.anomalies)}`}`);
});

interface Matrix {
  complete: boolean;
  rows: { params: Record<string, string>; runs: { dir: string | null; valid: boolean | 'unknown'; anomalies: Record<string, number> }[] }[];
}

function onlyMatrix(store: string): string {
  const dirs = readdirSync(join(store, 'matrix'));
  assert.equal(dirs.length, 1, `one matrix folder: ${dirs.join(', ')}`);
  return join(store, 'matrix', dirs[0]!);
}

const matrixArgs = (store: string, extra: string[]) => [
  'matrix', '--nodes', 'lab', '--lab-prefix', PREFIX, '--db', 'postgres', '--workload', 'list-append', '--nemesis', 'none',
  '--recovery-time', '1', '--seed', '5', '--store', store, ...extra,
];

test('faultline matrix over the three isolation levels: a table that agrees with the single runs, matrix.json and matrix.md, exit 1', { timeout: 600_000 }, async (tc) => {
  if (skip) return tc.skip(skip);
  const store = tempDir(lifo(tc), 'pg-matrix-');
  const res = await runCli(matrixArgs(store, ['--vary', 'isolation=read-committed,repeatable-read,serializable', '--time-limit', '15']), { timeoutMs: 540_000 });
  assertNothingLeft();
  assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
  const dir = onlyMatrix(store);
  const m = readJson<Matrix>(join(dir, 'matrix.json'));
  assert.equal(m.complete, true);
  assert.deepEqual(m.rows.map((r) => r.params['isolation']), ['read-committed', 'repeatable-read', 'serializable']);
  const [rc, rr, ser] = m.rows.map((r) => r.runs[0]!);
  for (const run of [rc, rr, ser]) assert.ok(run!.dir !== null && existsSync(join(run!.dir, 'results.json')), 'each run has its folder');
  assert.equal(rc!.valid, false);
  assert.ok(Object.keys(rc!.anomalies).some((a) => /^(G-single|G-nonadjacent|lost-update)/.test(a)), `read committed: ${JSON.stringify(rc!.anomalies)}`);
  assert.equal(rr!.valid, false);
  assert.ok((rr!.anomalies['G2-item'] ?? 0) > 0, `repeatable read: ${JSON.stringify(rr!.anomalies)}`);
  assert.equal(rr!.anomalies['G-single'], undefined);
  assertSerializableOrKnownG2({ valid: ser!.valid, anomalies: ser!.anomalies, summary: ser!.valid === true ? [] : readJson<Results>(join(ser!.dir!, 'results.json')).checks['list-append']!.summary }, 'matrix serializable');
  // The table: one row per level, the verdict, the anomaly names with counts, the folder of the run.
  const md = readFileSync(join(dir, 'matrix.md'), 'utf8');
  assert.match(md, /^\| isolation \| verdicts \| anomalies \| run \|$/m);
  assert.match(md, new RegExp(`^\\| repeatable-read \\| INVALID \\| .*G2-item ×${rr!.anomalies['G2-item']}.* \\| ${rr!.dir} \\|$`, 'm'));
  if (ser!.valid === true) assert.match(md, /^\| serializable \| valid \| — \| .+ \|$/m);
  else assert.match(md, /^\| serializable \| INVALID \| G2-item ×\d+.* \| .+ \|$/m);
  assert.ok(res.stdout.includes(md.trim()), 'the table is printed');
});

test('faultline matrix: Ctrl-C stops after the current run and still writes the table of what ran', { timeout: 600_000 }, async (tc) => {
  if (skip) return tc.skip(skip);
  const store = tempDir(lifo(tc), 'pg-matrix-');
  let child: ChildProcess | undefined;
  let stderr = '';
  let interrupted = false;
  const res = await runCli(matrixArgs(store, ['--vary', 'isolation=read-committed,serializable', '--time-limit', '10']), {
    timeoutMs: 300_000,
    onSpawn: (c) => {
      child = c;
      c.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Ctrl-C once the first run is under way.
        if (/run 1\/2/.test(stderr) && !interrupted) {
          interrupted = true;
          c.kill('SIGINT');
        }
      });
    },
  });
  assert.ok(child);
  assertNothingLeft();
  assert.match(res.stderr, /stopping after the current run/);
  assert.doesNotMatch(res.stderr, /run 2\/2/);
  const m = readJson<Matrix>(join(onlyMatrix(store), 'matrix.json'));
  assert.equal(m.complete, false);
  assert.equal(m.rows[0]!.runs.length, 1, 'the run under way finished');
  assert.equal(m.rows[1]!.runs.length, 0, 'no new run started');
  assert.equal(m.rows[0]!.runs[0]!.valid, false, 'the finished run was checked (read committed)');
  assert.match(res.stdout, /stopped early: 1 of 2 runs done/);
  assert.match(readFileSync(join(onlyMatrix(store), 'matrix.md'), 'utf8'), /\| serializable \| not run \|/);
  assert.equal(res.code, 1);
});
