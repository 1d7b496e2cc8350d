import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { MY_SQL } from '../../../core/databases/mariadb-sql';
import { mariadbSpec } from '../../../core/databases/mariadb';
import { galeraSpec } from '../../../core/databases/galera';
import type { DatabaseSpec } from '../../../core/databases';
import { faketimeEnv, findLibfaketime, removeFaketimeShm, removeGoneFaketimeShmOf } from '../../faults/clock-faketime';
import type { ClientFactory } from '../../workload/client';
import { DB_MARKER_ENV, type ClockReach, type Database, type DbSetupSpec, type DbState } from '../database';
import { ManagedProcess } from '../managed-process';
import { killStalePid, writePidFile } from '../pid-file';
import { MY_PORT } from './mariadb-connection';
import { myBankClient, myListAppendClient, myRwRegisterClient } from './txn-clients';

const execFileAsync = promisify(execFile);
const MARIADBD = process.env['FAULTLINE_MARIADBD'] ?? '/usr/sbin/mariadbd';
const INSTALL_DB = 'mariadb-install-db';
/** mariadbd starts as root and switches to this OS user itself (the pid stays the same). */
const MY_USER = 'mysql';

/** The single server runs on the first member; every node's clients connect to it. */
const serverOf = (members: readonly { address: string }[]): string => members[0]!.address;
/** Galera's group communication port (in each node's namespace). */
export const GALERA_PORT = 14567;
/** Galera's provider library (Debian galera-4). */
const GALERA_PROVIDER = '/usr/lib/galera/libgalera_smm.so';

/**
 * MariaDB 10.11, single node: the first member runs mariadbd (a fresh data dir from mariadb-install-db at setup,
 * grant tables skipped: lab only), listening on the node's address; the other members run clients only. Runs
 * under libfaketime when it is installed.
 */
export class MariaDbDatabase implements Database {
  readonly name: string;
  readonly spec: DatabaseSpec;
  readonly clients: Readonly<Record<string, ClientFactory>>;
  readonly peerPort: number;
  readonly commandMarker = 'mariadbd';
  #proc: ManagedProcess | undefined;
  #spec: DbSetupSpec | undefined;
  #serves = false;
  #clientStarted = false;
  #bootstrapped = false;
  #installing: ChildProcess | undefined;
  #lastPid: number | undefined;

  /**
   * `galera`: every member runs a server with wsrep on (the first bootstraps with --wsrep-new-cluster, the others
   * join it; a restarted member rejoins), and clients talk to their own node's member.
   */
  constructor(
    private readonly dataDir: string,
    private readonly galera = false,
  ) {
    this.name = galera ? 'galera' : 'mariadb';
    this.spec = galera ? galeraSpec : mariadbSpec;
    this.peerPort = galera ? GALERA_PORT : MY_PORT;
    const hostOf = galera ? (ctx: { address: string }) => ctx.address : (ctx: { members: { address: string }[] }) => serverOf(ctx.members);
    this.clients = { bank: myBankClient(hostOf), 'list-append': myListAppendClient(hostOf), 'rw-register': myRwRegisterClient(hostOf) };
  }

  get #root(): string {
    return join(this.dataDir, 'mariadb');
  }
  get #data(): string {
    return join(this.#root, 'data');
  }
  get #pidFile(): string {
    return join(this.dataDir, 'mariadb.pid');
  }
  get #timestampFile(): string {
    return join(this.dataDir, 'faketime', 'mariadb.offset');
  }

  async installProblem(): Promise<string | undefined> {
    try {
      const { stdout } = await execFileAsync(MARIADBD, ['--version'], { timeout: 5000 });
      if (!/MariaDB/.test(stdout)) return `${MARIADBD} --version did not report MariaDB`;
      await execFileAsync('id', ['-u', MY_USER], { timeout: 5000 });
    } catch {
      return 'MariaDB is not installed on this node: install the Debian package mariadb-server (apt-get install -y mariadb-server)';
    }
    if (this.galera && !existsSync(GALERA_PROVIDER)) return `Galera is not installed on this node (${GALERA_PROVIDER} is missing): install the Debian package galera-4 (apt-get install -y galera-4)`;
    return undefined;
  }

  async setup(spec: DbSetupSpec): Promise<void> {
    const problem = await this.installProblem();
    if (problem) throw new Error(`Cannot set up mariadb: ${problem}`);
    await this.#proc?.kill();
    this.reapOrphan();
    rmSync(this.#root, { recursive: true, force: true });
    this.#spec = spec;
    this.#clientStarted = false;
    this.#serves = this.galera || spec.address === serverOf(spec.members);
    this.#proc = undefined;
    if (!this.#serves) return;
    mkdirSync(this.#root, { recursive: true });
    try {
      await this.#installDb();
    } catch (err) {
      // Seen now and then with several nodes installing at once; a fresh data dir and a second try do it.
      rmSync(this.#data, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      if (this.#spec !== spec) throw err;
      await this.#installDb();
    }
    this.#bootstrapped = false;
    this.#proc = this.#makeProcess(spec, []);
  }

  /** mariadb-install-db into the fresh data dir; the child is remembered so a teardown during setup can stop it. */
  async #installDb(): Promise<void> {
    // Its own process group: it runs a bootstrap mariadbd, which a stop must reach too.
    const child = spawn(INSTALL_DB, ['--no-defaults', `--datadir=${this.#data}`, `--user=${MY_USER}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => killGroup(child.pid), 60_000);
    this.#installing = child;
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (c) => resolve(c));
      });
      clearTimeout(timer);
      if (code !== 0) {
        const errors = output.split('\n').filter((l) => /ERROR|error/.test(l)).slice(0, 3).join(' ');
        throw new Error(`mariadb-install-db failed (exit ${code}): ${errors || output.trim().split('\n').slice(-3).join(' ')}`);
      }
    } finally {
      this.#installing = undefined;
    }
  }

  #makeProcess(spec: DbSetupSpec, extra: string[]): ManagedProcess {
    return new ManagedProcess({
      command: MARIADBD,
      args: [
        '--no-defaults',
        `--datadir=${this.#data}`,
        `--user=${MY_USER}`,
        `--bind-address=${spec.address}`,
        `--port=${MY_PORT}`,
        `--socket=${join(this.#data, 'mysqld.sock')}`,
        `--pid-file=${join(this.#data, 'mariadbd.pid')}`,
        '--skip-grant-tables',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=64M',
        '--innodb-lock-wait-timeout=1',
        `--innodb-flush-log-at-trx-commit=${spec.options['flush-log-at-trx-commit'] ?? '1'}`,
        '--max-connections=500',
        ...(this.galera ? this.#wsrepArgs(spec) : []),
        ...extra,
      ],
      env: { ...(findLibfaketime() !== undefined ? faketimeEnv(this.#timestampFile) : process.env), [DB_MARKER_ENV]: this.name },
      logFile: join(this.dataDir, 'mariadb.log'),
      stopGraceMs: 10_000,
    });
  }

  #wsrepArgs(spec: DbSetupSpec): string[] {
    const gcomm = spec.members.map((m) => `${m.address}:${GALERA_PORT}`).join(',');
    return [
      '--wsrep-on=ON',
      `--wsrep-provider=${GALERA_PROVIDER}`,
      `--wsrep-cluster-address=gcomm://${gcomm}`,
      `--wsrep-cluster-name=${spec.clusterToken.slice(0, 60)}`,
      `--wsrep-node-address=${spec.address}`,
      `--wsrep-node-name=${spec.node}`,
      `--wsrep-provider-options=gmcast.listen_addr=tcp://${spec.address}:${GALERA_PORT};ist.recv_addr=${spec.address}:14568;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S`,
      `--wsrep-sst-receive-address=${spec.address}:14444`,
      '--wsrep-sst-method=rsync',
      '--binlog-format=ROW',
      '--default-storage-engine=InnoDB',
      '--innodb-autoinc-lock-mode=2',
    ];
  }

  async start(): Promise<number> {
    if (!this.#spec) throw new Error(`Cannot start ${this.name}: it is not set up on this node`);
    if (!this.#serves) {
      this.#clientStarted = true;
      return 0;
    }
    // The first Galera member bootstraps a new cluster, once; after that (a restart) every member rejoins.
    if (this.#proc?.pid === undefined) {
      const bootstrap = this.galera && !this.#bootstrapped && this.#spec.address === serverOf(this.#spec.members);
      if (bootstrap) this.#bootstrapped = true;
      this.#proc = this.#makeProcess(this.#spec, bootstrap ? ['--wsrep-new-cluster'] : []);
    }
    const pid = await this.#proc!.start();
    this.#lastPid = pid;
    writePidFile(this.#pidFile, pid);
    return pid;
  }

  async stop(): Promise<void> {
    this.#clientStarted = false;
    await this.#proc?.stop();
    this.#cleanShm();
  }

  async kill(): Promise<void> {
    await this.#proc?.kill();
    this.#cleanShm();
  }

  pause(): void {
    if (!this.#proc) throw new Error('Cannot pause mariadb: no server runs on this node (it only runs clients)');
    this.#proc.pause();
  }

  resume(): void {
    this.#proc?.resume();
  }

  async teardown(): Promise<void> {
    // A teardown can arrive while setup still runs mariadb-install-db (another node's setup failed): stop it first.
    const installing = this.#installing;
    if (installing && installing.exitCode === null) {
      const exited = new Promise((resolve) => installing.once('exit', resolve));
      killGroup(installing.pid);
      await exited;
    }
    await this.#proc?.kill();
    this.#cleanShm();
    this.reapOrphan();
    rmSync(this.#root, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    rmSync(this.#timestampFile, { force: true });
    this.#proc = undefined;
    this.#spec = undefined;
    this.#clientStarted = false;
  }

  logs(maxBytes: number): Buffer {
    return this.#proc?.readLog(maxBytes) ?? Buffer.alloc(0);
  }

  state(): DbState {
    if (!this.#spec) return 'not-set-up';
    if (!this.#serves) return this.#clientStarted ? 'running' : 'stopped';
    return this.#proc?.state ?? 'stopped';
  }

  pid(): number | undefined {
    return this.#proc?.pid;
  }

  setupSpec(): DbSetupSpec | undefined {
    return this.#spec;
  }

  /** The server answers and has the schema (created here); a client-only node: the server has the schema. */
  async notReady(): Promise<string | undefined> {
    const spec = this.#spec;
    if (!spec || this.state() !== 'running') return `mariadb is ${this.state()}`;
    const host = this.galera ? spec.address : serverOf(spec.members);
    let c: mysql.Connection | undefined;
    try {
      c = await mysql.createConnection({ host, port: MY_PORT, user: 'root', connectTimeout: 2000 });
      c.on('error', () => undefined);
      if (this.galera) {
        const why = await galeraNotSynced(c);
        if (why !== undefined) return why;
        if (spec.address !== serverOf(spec.members)) {
          const [rows] = await c.query("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'faultline' AND table_name = 'accounts'");
          return Number((rows as { n: number }[])[0]?.n ?? 0) > 0 ? undefined : 'the schema has not replicated here yet';
        }
      }
      await c.query('CREATE DATABASE IF NOT EXISTS faultline');
      await c.query('USE faultline');
      if (this.#serves) {
        for (const sql of MY_SQL.schema) await c.query(sql);
        return undefined;
      }
      const [rows] = await c.query("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'faultline' AND table_name = 'accounts'");
      return Number((rows as { n: number }[])[0]?.n ?? 0) > 0 ? undefined : 'the schema is not there yet';
    } catch (err) {
      return `mariadb on ${host} does not serve yet: ${(err as Error).message}`;
    } finally {
      c?.destroy();
    }
  }

  clockReach(): ClockReach {
    if (findLibfaketime() === undefined) return { faketime: false, reason: 'libfaketime is not installed (apt-get install -y faketime)' };
    return { faketime: true, timestampFile: this.#timestampFile };
  }

  /** MariaDB: the server's node. Galera (multi-primary): a member that is synced in the primary component. */
  async isPrimary(): Promise<boolean | undefined> {
    if (!this.#spec || !this.#serves || this.state() !== 'running') return false;
    if (!this.galera) return true;
    let c: mysql.Connection | undefined;
    try {
      c = await mysql.createConnection({ host: this.#spec.address, port: MY_PORT, user: 'root', connectTimeout: 2000 });
      c.on('error', () => undefined);
      return (await galeraNotSynced(c)) === undefined;
    } catch {
      return false;
    } finally {
      c?.destroy();
    }
  }

  hostsServer(): boolean {
    return this.#spec === undefined || this.#serves;
  }

  reapOrphan(): number | undefined {
    const pid = killStalePid(this.#pidFile, 'mariadbd');
    if (pid !== undefined) removeFaketimeShm(pid);
    // A crashed agent's mysql-user helpers (Galera state transfer) left theirs too.
    const uid = mysqlUid();
    if (uid !== undefined) removeGoneFaketimeShmOf(uid);
    return pid;
  }

  #cleanShm(): void {
    if (this.#lastPid !== undefined) removeFaketimeShm(this.#lastPid);
    // mariadbd runs as the mysql user and (Galera) execs state-transfer helpers under libfaketime: theirs too.
    const uid = mysqlUid();
    if (uid !== undefined) removeGoneFaketimeShmOf(uid);
  }
}

/** The mysql OS user's uid from /etc/passwd, or undefined when there is none. */
function mysqlUid(): number | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${MY_USER}:`));
    const uid = line !== undefined ? Number(line.split(':')[2]) : NaN;
    return Number.isInteger(uid) ? uid : undefined;
  } catch {
    return undefined;
  }
}

/** Why a Galera member does not serve yet: not synced (joining, donor, ...) or not in the primary component. */
async function galeraNotSynced(c: mysql.Connection): Promise<string | undefined> {
  const [rows] = await c.query("SHOW STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_status', 'wsrep_ready')");
  const status = Object.fromEntries((rows as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name, r.Value]));
  if (status['wsrep_cluster_status'] !== 'Primary') return `galera member not in the primary component (${status['wsrep_cluster_status'] ?? '?'})`;
  if (status['wsrep_local_state_comment'] !== 'Synced') return `galera member is ${status['wsrep_local_state_comment'] ?? '?'}, not synced`;
  if (status['wsrep_ready'] !== 'ON') return 'galera member is not ready';
  return undefined;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
