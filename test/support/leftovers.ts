/**
 * What faultline may leave behind on a host, and the baseline that tells the suite's own leftovers apart from
 * what already existed when the suite started (a user's running lab, say). `scripts/test.sh` records the baseline
 * into the file named by FAULTLINE_TEST_BASELINE before the first test; `test/e2e/zz-leftovers.test.ts` fails on
 * anything found at the end that is not in it. Without the variable the baseline is empty: everything counts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { faultlineLeftovers } from './netns';
import { FAKETIME_SHM_FILE } from '../../agent/faults/clock-faketime';

export { faultlineLeftovers };

/** Processes started by a faultline agent as a DB member carry FAULTLINE_DB in their environment. */
function faultlineDbProcesses(): { pid: number; state: string; env: Map<string, string> }[] {
  const out: { pid: number; state: string; env: Map<string, string> }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8');
      if (!environ.includes('FAULTLINE_DB=')) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = /\)\s+(\S)/.exec(stat.slice(stat.lastIndexOf(')')))?.[1] ?? '?';
      const env = new Map(environ.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      out.push({ pid: Number(name), state, env });
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return out;
}

/**
 * DB modules whose processes must all be gone once their test is over (a torn-down cluster stops both of a
 * Redis member's processes). etcd members may outlive a test that killed the controller, until `lab down`.
 */
export const MUST_STOP_DBS: readonly string[] = ['redis'];

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '?';
  }
}

/**
 * Running DB processes of the modules in `dbs` (recognised by FAULTLINE_DB), and their data directories left in
 * any lab's agent data dirs (`<home>/labs/<lab>/nodes/<node>/<db>`). Only `labs` (prefixes) when given.
 */
export function dbLeftovers(dbs: readonly string[] = MUST_STOP_DBS, labs?: readonly string[]): string[] {
  const left: string[] = [];
  const home = join(process.env['FAULTLINE_HOME'] ?? '/var/lib/faultline', 'labs');
  for (const p of faultlineDbProcesses()) {
    const db = p.env.get('FAULTLINE_DB') ?? '';
    if (!dbs.includes(db)) continue;
    const cmd = commandOf(p.pid);
    if (labs !== undefined && !labs.some((l) => namespaceOf(p.pid).startsWith(`${l}-`))) continue; // another lab's
    left.push(`${db} process ${p.pid} still running (${cmd})`);
  }
  if (existsSync(home)) {
    for (const lab of readdirSync(home)) {
      if (labs !== undefined && !labs.includes(lab)) continue;
      const nodes = join(home, lab, 'nodes');
      if (!existsSync(nodes)) continue;
      for (const node of readdirSync(nodes)) for (const db of dbs) if (existsSync(join(nodes, node, db))) left.push(`${db} data directory ${join(nodes, node, db)} left`);
    }
  }
  return left;
}

/** The named network namespace `pid` runs in ('' for the host's or an unnamed one). */
function namespaceOf(pid: number): string {
  try {
    return execFileSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** Paused DB processes, DB processes or offset files with a non-zero clock offset, orphaned libfaketime shm files. */
export function processLeftovers(): string[] {
  const left: string[] = [...dbLeftovers()];
  for (const p of faultlineDbProcesses()) {
    if (p.state === 'T' || p.state === 't') left.push(`paused ${p.env.get('FAULTLINE_DB') ?? 'DB'} process ${p.pid}`);
    const file = p.env.get('FAKETIME_TIMESTAMP_FILE');
    if (file !== undefined && existsSync(file) && !/^\+0(\.0+)?\s*$/.test(readFileSync(file, 'utf8'))) {
      left.push(`process ${p.pid} runs under a clock offset (${file}: ${readFileSync(file, 'utf8').trim()})`);
    }
  }
  // Offset files in any lab's agent data dirs (FAULTLINE_HOME or the default) must be gone or at zero.
  const home = join(process.env['FAULTLINE_HOME'] ?? '/var/lib/faultline', 'labs');
  if (existsSync(home)) {
    for (const lab of readdirSync(home)) {
      const nodes = join(home, lab, 'nodes');
      if (!existsSync(nodes)) continue;
      for (const node of readdirSync(nodes)) {
        const dir = join(nodes, node, 'faketime');
        if (!existsSync(dir)) continue;
        for (const f of readdirSync(dir)) {
          const text = readFileSync(join(dir, f), 'utf8');
          if (f.endsWith('.offset') && !/^\+0(\.0+)?\s*$/.test(text)) left.push(`offset file ${join(dir, f)}: ${text.trim()}`);
        }
      }
    }
  }
  left.push(...sqlLeftovers(home));
  left.push(...faketimeShmLeftovers());
  return left;
}

/**
 * libfaketime shm files (`faketime_shm_<pid>`, `sem.faketime_sem_<pid>`) named after a pid that no longer runs:
 * leftovers, since the agent removes its DB processes' files by pid.
 */
export function faketimeShmLeftovers(shmDir = '/dev/shm'): string[] {
  if (!existsSync(shmDir)) return [];
  return readdirSync(shmDir)
    .filter((f) => {
      const m = FAKETIME_SHM_FILE.exec(f);
      return m !== null && !existsSync(`/proc/${m[1]}`);
    })
    .map((f) => `${shmDir}/${f} of a process that is gone`);
}

/** The SQL databases' modules: their servers, data dirs and ports. */
const SQL_DBS = ['postgres', 'mariadb', 'galera'];
/** Ports our SQL servers listen on (PostgreSQL, MariaDB/Galera client, Galera replication). */
const SQL_PORTS = [15432, 13306, 14567];

/**
 * A PostgreSQL, MariaDB or Galera server started by an agent (any state), a data dir of one left in a lab node's
 * data dir, a listener on one of their ports on this host, or PostgreSQL shared memory in /dev/shm.
 */
function sqlLeftovers(labsHome: string): string[] {
  const left: string[] = [];
  for (const p of faultlineDbProcesses()) {
    const db = p.env.get('FAULTLINE_DB') ?? '';
    if (SQL_DBS.includes(db)) left.push(`${db} process ${p.pid}`);
  }
  if (existsSync(labsHome)) {
    for (const lab of readdirSync(labsHome)) {
      const nodes = join(labsHome, lab, 'nodes');
      if (!existsSync(nodes)) continue;
      for (const node of readdirSync(nodes)) for (const db of SQL_DBS) if (existsSync(join(nodes, node, db))) left.push(`${db} data dir ${join(nodes, node, db)}`);
    }
  }
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const port = Number.parseInt(cols[1]?.split(':')[1] ?? '', 16);
      if (cols[3] === '0A' && SQL_PORTS.includes(port)) left.push(`a listener on port ${port} (${table})`);
    }
  }
  if (existsSync('/dev/shm')) for (const f of readdirSync('/dev/shm')) if (/^PostgreSQL\.\d+$/.test(f)) left.push(`/dev/shm/${f}`);
  return left;
}

/** Everything found now: network resources and process state. */
export async function allLeftovers(): Promise<string[]> {
  return [...(await faultlineLeftovers()), ...processLeftovers()];
}

/** What existed before the suite started (empty when no baseline was recorded). */
export function baseline(): Set<string> {
  const file = process.env['FAULTLINE_TEST_BASELINE'];
  if (file === undefined || file === '' || !existsSync(file)) return new Set();
  return new Set(JSON.parse(readFileSync(file, 'utf8')) as string[]);
}

/** Items of `found` that were not already there before the suite. */
export function sinceBaseline(found: readonly string[]): string[] {
  const before = baseline();
  return found.filter((item) => !before.has(item));
}

/** `node dist/test/support/leftovers.js FILE`: record the baseline; print what was found to stderr. */
async function main(file: string): Promise<void> {
  const found = await allLeftovers();
  writeFileSync(file, JSON.stringify(found));
  if (found.length > 0) {
    process.stderr.write(
      `note: ${found.length} faultline resource(s) existed before the suite (e.g. ${found[0]}); ` +
        `the suite leaves them alone and does not count them as its leftovers (remove a lab with: faultline lab down --prefix P)\n`,
    );
  }
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node dist/test/support/leftovers.js BASELINE_FILE\n');
    process.exit(254);
  }
  main(file).catch((err: unknown) => {
    process.stderr.write(`could not record the leftover baseline: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
