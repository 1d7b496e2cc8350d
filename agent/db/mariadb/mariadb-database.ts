import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { MY_SQL } from '../../../core/databases/mariadb-sql';
import { mariadbSpec } from '../../../core/databases/mariadb';
import { faketimeEnv, findLibfaketime, removeFaketimeShm } from '../../faults/clock-faketime';
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

/**
 * MariaDB 10.11, single node: the first member runs mariadbd (a fresh data dir from mariadb-install-db at setup,
 * grant tables skipped: lab only), listening on the node's address; the other members run clients only. Runs
 * under libfaketime when it is installed.
 */
export class MariaDbDatabase implements Database {
  readonly name = 'mariadb';
  readonly spec = mariadbSpec;
  readonly clients: Readonly<Record<string, ClientFactory>> = {
    bank: myBankClient((ctx) => serverOf(ctx.members)),
    'list-append': myListAppendClient((ctx) => serverOf(ctx.members)),
    'rw-register': myRwRegisterClient((ctx) => serverOf(ctx.members)),
  };
  readonly peerPort = MY_PORT;
  readonly commandMarker = 'mariadbd';
  #proc: ManagedProcess | undefined;
  #spec: DbSetupSpec | undefined;
  #serves = false;
  #clientStarted = false;
  #lastPid: number | undefined;

  constructor(private readonly dataDir: string) {}

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
      return undefined;
    } catch {
      return 'MariaDB is not installed on this node: install the Debian package mariadb-server (apt-get install -y mariadb-server)';
    }
  }

  async setup(spec: DbSetupSpec): Promise<void> {
    const problem = await this.installProblem();
    if (problem) throw new Error(`Cannot set up mariadb: ${problem}`);
    await this.#proc?.kill();
    this.reapOrphan();
    rmSync(this.#root, { recursive: true, force: true });
    this.#spec = spec;
    this.#clientStarted = false;
    this.#serves = spec.address === serverOf(spec.members);
    this.#proc = undefined;
    if (!this.#serves) return;
    mkdirSync(this.#root, { recursive: true });
    await execFileAsync(INSTALL_DB, ['--no-defaults', `--datadir=${this.#data}`, `--user=${MY_USER}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { timeout: 60_000 });
    this.#proc = new ManagedProcess({
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
      ],
      env: { ...(findLibfaketime() !== undefined ? faketimeEnv(this.#timestampFile) : process.env), [DB_MARKER_ENV]: 'mariadb' },
      logFile: join(this.dataDir, 'mariadb.log'),
      stopGraceMs: 10_000,
    });
  }

  async start(): Promise<number> {
    if (!this.#spec) throw new Error('Cannot start mariadb: it is not set up on this node');
    if (!this.#serves) {
      this.#clientStarted = true;
      return 0;
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
    await this.#proc?.kill();
    this.#cleanShm();
    this.reapOrphan();
    rmSync(this.#root, { recursive: true, force: true });
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
    return this.#proc!.state;
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
    const host = serverOf(spec.members);
    let c: mysql.Connection | undefined;
    try {
      c = await mysql.createConnection({ host, port: MY_PORT, user: 'root', connectTimeout: 2000 });
      c.on('error', () => undefined);
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

  async isPrimary(): Promise<boolean | undefined> {
    return this.#serves && this.state() === 'running';
  }

  hostsServer(): boolean {
    return this.#spec === undefined || this.#serves;
  }

  reapOrphan(): number | undefined {
    const pid = killStalePid(this.#pidFile, 'mariadbd');
    if (pid !== undefined) removeFaketimeShm(pid);
    return pid;
  }

  #cleanShm(): void {
    if (this.#lastPid !== undefined) removeFaketimeShm(this.#lastPid);
  }
}
