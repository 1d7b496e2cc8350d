import { execFile, execFileSync as execFileSyncImpl } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { postgresSpec } from '../../../core/databases/postgres';
import { faketimeEnv, findLibfaketime, removeFaketimeShm } from '../../faults/clock-faketime';
import type { ClientFactory } from '../../workload/client';
import { DB_MARKER_ENV, type ClockReach, type Database, type DbSetupSpec, type DbState } from '../database';
import { ManagedProcess } from '../managed-process';
import { killStalePid, writePidFile } from '../pid-file';
import { PG_PORT, PG_SCHEMA, pgTopology } from './postgres-connection';
import { pgBankClient, pgListAppendClient, pgRwRegisterClient } from './txn-clients';

const execFileAsync = promisify(execFile);

/** Debian's PostgreSQL 15 binaries. FAULTLINE_PG_BIN points at another build (and lets tests stand in a missing one). */
const PG_BIN = process.env['FAULTLINE_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
/** PostgreSQL refuses to run as root: its data directory belongs to this OS user, and it runs as it. */
const PG_USER = 'postgres';

type Role = 'primary' | 'standby' | 'client';

/**
 * One node of a PostgreSQL cluster. The first member runs the primary (initdb at setup); with `replicas=N` the
 * next N members run hot standbys, cloned from the primary with pg_basebackup when they first start and
 * streaming from it; the other members run no server (role `client`: their clients talk to the primary, and a
 * kill or pause there has nothing to hit). The server runs as the `postgres` OS user through setpriv (which execs,
 * so the pid we hold is the postmaster's), in its own process group, under libfaketime when it is installed.
 */
export class PostgresDatabase implements Database {
  readonly name = 'postgres';
  readonly spec = postgresSpec;
  readonly clients: Readonly<Record<string, ClientFactory>> = {
    bank: pgBankClient,
    'list-append': pgListAppendClient,
    'rw-register': pgRwRegisterClient,
  };
  readonly peerPort = PG_PORT;
  readonly commandMarker = 'postgres';
  #proc: ManagedProcess | undefined;
  #spec: DbSetupSpec | undefined;
  #role: Role = 'client';
  #clientStarted = false;
  #lastPid: number | undefined;

  constructor(private readonly dataDir: string) {}

  get #root(): string {
    return join(this.dataDir, 'postgres');
  }
  get #pgData(): string {
    return join(this.#root, 'data');
  }
  get #pidFile(): string {
    return join(this.dataDir, 'postgres.pid');
  }
  get #timestampFile(): string {
    return join(this.dataDir, 'faketime', 'postgres.offset');
  }

  async installProblem(): Promise<string | undefined> {
    try {
      const { stdout } = await execFileAsync(join(PG_BIN, 'postgres'), ['--version'], { timeout: 5000 });
      if (!/PostgreSQL\)? 15\./.test(stdout)) return `${PG_BIN}/postgres --version did not report PostgreSQL 15`;
    } catch {
      return 'PostgreSQL 15 is not installed on this node: install the Debian package postgresql (apt-get install -y postgresql)';
    }
    try {
      await execFileAsync('id', ['-u', PG_USER], { timeout: 5000 });
    } catch {
      return `PostgreSQL refuses to run as root and there is no "${PG_USER}" OS user (the Debian package postgresql creates it)`;
    }
    return undefined;
  }

  async #asPostgres(command: string, args: string[], timeoutMs: number): Promise<void> {
    await execFileAsync('setpriv', ['--reuid', PG_USER, '--regid', PG_USER, '--init-groups', '--', command, ...args], { timeout: timeoutMs });
  }

  async setup(spec: DbSetupSpec): Promise<void> {
    const problem = await this.installProblem();
    if (problem) throw new Error(`Cannot set up postgres: ${problem}`);
    await this.#proc?.kill();
    this.reapOrphan();
    this.#removeData();
    this.#spec = spec;
    this.#clientStarted = false;
    const { primary, standbys } = pgTopology(spec.members, spec.options);
    this.#role = spec.address === primary ? 'primary' : standbys.includes(spec.address) ? 'standby' : 'client';
    if (this.#role === 'client') {
      this.#proc = undefined;
      return;
    }
    mkdirSync(this.#root, { recursive: true });
    chownPostgres(this.#root);
    if (this.#role === 'primary') {
      await this.#asPostgres(join(PG_BIN, 'initdb'), ['-D', this.#pgData, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], 60_000);
      writeFileSync(join(this.#pgData, 'pg_hba.conf'), 'host all all 0.0.0.0/0 trust\nhost replication all 0.0.0.0/0 trust\n');
      chownPostgres(join(this.#pgData, 'pg_hba.conf'));
    }
    // libfaketime is preloaded into postgres only, not into setpriv: a root process under it would make a
    // semaphore the postgres user cannot open. `env` (run as postgres, not preloaded) sets LD_PRELOAD and execs.
    const faked = findLibfaketime() !== undefined ? faketimeEnv(this.#timestampFile) : undefined;
    const { LD_PRELOAD: preload, ...faketimeVars } = faked ?? {};
    const env: NodeJS.ProcessEnv = { ...(faked ? faketimeVars : process.env), [DB_MARKER_ENV]: 'postgres' };
    const preloadArgs = preload !== undefined ? ['/usr/bin/env', `LD_PRELOAD=${preload}`] : [];
    const settings: Record<string, string> = {
      listen_addresses: spec.address,
      port: String(PG_PORT),
      unix_socket_directories: '',
      shared_buffers: '32MB',
      // Dynamic shared memory in the data dir (pg_dynshmem), not /dev/shm: a killed server leaves nothing behind.
      dynamic_shared_memory_type: 'mmap',
      max_connections: '300',
      fsync: 'on',
      synchronous_commit: spec.options['synchronous-commit'] ?? 'on',
      wal_level: 'replica',
      max_wal_senders: '10',
      hot_standby: 'on',
      hot_standby_feedback: 'on',
      deadlock_timeout: '100ms',
      log_min_messages: 'warning',
      // Each client connection is logged with its application_name, so a run shows which server served clients.
      log_connections: 'on',
      log_line_prefix: '%m [%p] ',
    };
    // With standbys, a synchronous commit waits for one of them (synchronous_commit decides how far).
    if (this.#role === 'primary' && standbys.length > 0) settings['synchronous_standby_names'] = 'ANY 1 (*)';
    this.#proc = new ManagedProcess({
      command: 'setpriv',
      args: ['--reuid', PG_USER, '--regid', PG_USER, '--init-groups', '--', ...preloadArgs, join(PG_BIN, 'postgres'), '-D', this.#pgData, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
      env,
      logFile: join(this.dataDir, 'postgres.log'),
      stopGraceMs: 10_000,
    });
  }

  async start(): Promise<number> {
    if (!this.#spec) throw new Error('Cannot start postgres: it is not set up on this node');
    if (this.#role === 'client') {
      this.#clientStarted = true;
      return 0;
    }
    if (this.#role === 'standby' && !existsSync(join(this.#pgData, 'PG_VERSION'))) await this.#cloneFromPrimary();
    const pid = await this.#proc!.start();
    this.#lastPid = pid;
    writePidFile(this.#pidFile, pid);
    return pid;
  }

  /** pg_basebackup of the primary into an empty data dir, retried while the primary is still starting. */
  async #cloneFromPrimary(): Promise<void> {
    const { primary } = pgTopology(this.#spec!.members, this.#spec!.options);
    const deadline = Date.now() + 25_000;
    for (;;) {
      rmSync(this.#pgData, { recursive: true, force: true });
      try {
        await this.#asPostgres(join(PG_BIN, 'pg_basebackup'), ['-h', primary, '-p', String(PG_PORT), '-U', 'postgres', '-D', this.#pgData, '-R', '-X', 'stream', '-c', 'fast', '--no-sync'], 20_000);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`Cannot start the postgres standby: pg_basebackup from ${primary} failed: ${(err as Error).message.split('\n').slice(-2).join(' ')}`);
        await sleep(500);
      }
    }
  }

  async stop(): Promise<void> {
    this.#clientStarted = false;
    await this.#proc?.stop();
    this.#cleanShm();
  }

  async kill(): Promise<void> {
    if (this.#role === 'client') return; // nothing runs here to kill
    await this.#proc?.kill();
    this.#cleanShm();
  }

  pause(): void {
    if (!this.#proc) throw new Error('Cannot pause postgres: no server runs on this node (it only runs clients)');
    this.#proc.pause();
  }

  resume(): void {
    this.#proc?.resume();
  }

  async teardown(): Promise<void> {
    await this.#proc?.kill(); // its data is deleted next, so there is nothing to shut down gracefully
    this.#cleanShm();
    this.reapOrphan();
    this.#removeData();
    rmSync(this.#timestampFile, { force: true });
    this.#proc = undefined;
    this.#spec = undefined;
    this.#clientStarted = false;
  }

  /**
   * Deletes the data dir, first freeing the System V shared memory segment a killed postmaster leaves behind
   * (its id is on line 7 of postmaster.pid), once no process of ours uses it any more.
   */
  #removeData(): void {
    const pidFile = join(this.#pgData, 'postmaster.pid');
    if (existsSync(pidFile)) {
      const lines = readFileSync(pidFile, 'utf8').split('\n');
      const pid = Number(lines[0]);
      const shmId = /^\s*\d+\s+(\d+)\s*$/.exec(lines[6] ?? '')?.[1];
      if (shmId !== undefined && !(Number.isInteger(pid) && existsSync(`/proc/${pid}`))) {
        try {
          execFileSyncQuiet('ipcrm', ['-m', shmId]);
        } catch {
          // already gone
        }
      }
    }
    rmSync(this.#root, { recursive: true, force: true });
  }

  logs(maxBytes: number): Buffer {
    return this.#proc?.readLog(maxBytes) ?? Buffer.alloc(0);
  }

  state(): DbState {
    if (!this.#spec) return 'not-set-up';
    if (this.#role === 'client') return this.#clientStarted ? 'running' : 'stopped';
    return this.#proc!.state;
  }

  pid(): number | undefined {
    return this.#proc?.pid;
  }

  setupSpec(): DbSetupSpec | undefined {
    return this.#spec;
  }

  /**
   * The primary: it answers and has the schema (created here, idempotently). A standby: it answers, is in
   * recovery, streams from the primary and has received the schema. A client-only node: the primary has the schema.
   */
  async notReady(): Promise<string | undefined> {
    const spec = this.#spec;
    if (!spec || this.state() !== 'running') return `postgres is ${this.state()}`;
    const { primary } = pgTopology(spec.members, spec.options);
    const host = this.#role === 'client' ? primary : spec.address;
    const c = new pg.Client({ host, port: PG_PORT, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000, query_timeout: 5000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      if (this.#role === 'primary') {
        for (const sql of PG_SCHEMA) await c.query(sql);
        return undefined;
      }
      if (this.#role === 'standby') {
        const r = await c.query("SELECT pg_is_in_recovery() AS rec, (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS status");
        const row = r.rows[0] as { rec: boolean; status: string | null };
        if (!row.rec) return 'the standby is not in recovery';
        if (row.status !== 'streaming') return `the standby does not stream from the primary yet (${row.status ?? 'no wal receiver'})`;
      }
      const t = await c.query("SELECT to_regclass('accounts') IS NOT NULL AS ok");
      return (t.rows[0] as { ok: boolean }).ok ? undefined : 'the schema is not there yet';
    } catch (err) {
      return `postgres on ${host} does not serve yet: ${(err as Error).message}`;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  clockReach(): ClockReach {
    if (findLibfaketime() === undefined) return { faketime: false, reason: 'libfaketime is not installed (apt-get install -y faketime)' };
    return { faketime: true, timestampFile: this.#timestampFile };
  }

  /** The primary's node while its server answers as not in recovery; every other node is not primary. */
  async isPrimary(): Promise<boolean | undefined> {
    if (!this.#spec || this.#role !== 'primary' || this.state() !== 'running') return false;
    const c = new pg.Client({ host: this.#spec.address, port: PG_PORT, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000, query_timeout: 2000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const r = await c.query('SELECT pg_is_in_recovery() AS rec');
      return (r.rows[0] as { rec: boolean }).rec === false;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /** Client-only nodes (neither the primary nor a standby) run no server. */
  hostsServer(): boolean {
    return this.#spec === undefined || this.#role !== 'client';
  }

  reapOrphan(): number | undefined {
    const pid = killStalePid(this.#pidFile, 'postgres');
    if (pid !== undefined) removeFaketimeShm(pid);
    return pid;
  }

  #cleanShm(): void {
    if (this.#lastPid !== undefined) removeFaketimeShm(this.#lastPid);
  }
}

function chownPostgres(path: string): void {
  const uid = Number(execFileSyncQuiet('id', ['-u', PG_USER]).trim());
  const gid = Number(execFileSyncQuiet('id', ['-g', PG_USER]).trim());
  chownSync(path, uid, gid);
}

function execFileSyncQuiet(cmd: string, args: string[]): string {
  return execFileSyncImpl(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}
