/**
 * A private PostgreSQL server for tests and benchmarks that need a real server but not the lab: initdb in a fresh
 * temporary folder, run as the `postgres` OS user through setpriv, listening on 127.0.0.1 and a free port (no
 * libfaketime). `stop()` shuts it down and removes its folder. Needs root and the Debian package (or
 * `FAULTLINE_PG_BIN`).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_BIN = process.env['FAULTLINE_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

/** Why a private server cannot run here, or undefined when it can. */
export function pgServerSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (the server runs as the postgres user through setpriv)';
  if (!existsSync(join(PG_BIN, 'postgres'))) return `PostgreSQL is not installed in ${PG_BIN}`;
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class PrivatePgServer {
  #proc: ChildProcess | undefined;
  readonly root = mkdtempSync(join(tmpdir(), 'faultline-pg-'));
  readonly host = '127.0.0.1';

  constructor(readonly port: number) {}

  static async start(): Promise<PrivatePgServer> {
    const s = new PrivatePgServer(await freePort());
    try {
      await s.#start();
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  client(): pg.Client {
    const c = new pg.Client({ host: this.host, port: this.port, user: 'postgres', database: 'postgres' });
    c.on('error', () => undefined);
    return c;
  }

  async #start(): Promise<void> {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(this.root, uid, gid);
    const data = join(this.root, 'data');
    const asPg = ['--reuid', 'postgres', '--regid', 'postgres', '--init-groups', '--'];
    execFileSync('setpriv', [...asPg, join(PG_BIN, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { stdio: 'ignore', cwd: this.root });
    const settings = {
      listen_addresses: this.host, port: String(this.port), unix_socket_directories: '', shared_buffers: '32MB',
      // In the data dir, not /dev/shm: a killed server leaves nothing behind.
      dynamic_shared_memory_type: 'mmap', max_connections: '300', deadlock_timeout: '100ms',
    };
    this.#proc = spawn('setpriv', [...asPg, join(PG_BIN, 'postgres'), '-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])], { stdio: ['ignore', 'ignore', 'pipe'], cwd: this.root });
    this.#proc.stderr!.resume();
    for (let i = 0; ; i++) {
      const c = this.client();
      try {
        await c.connect();
        await c.end();
        return;
      } catch {
        await c.end().catch(() => undefined);
        if (i > 150 || this.#proc.exitCode !== null) throw new Error('Cannot start PostgreSQL: it does not answer');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Fast shutdown (SIGKILL after 10 s), then the folder is removed. Safe to call twice. */
  async stop(): Promise<void> {
    const p = this.#proc;
    if (p && p.exitCode === null && p.signalCode === null) {
      const gone = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGINT');
      const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
