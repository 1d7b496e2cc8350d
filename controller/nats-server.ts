import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface NatsServerOptions {
  host: string;
  port: number;
  /** JetStream storage and the server log go here. */
  dir: string;
  /** Leave running after this process exits (the lab's server); otherwise it dies with us. */
  detached?: boolean;
  /** A config file (e.g. the authorization block of nats-auth.ts); command-line options still apply over it. */
  configFile?: string;
}

export interface NatsServerHandle {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts Debian's `nats-server` with JetStream on one address and waits until it accepts connections.
 * @throws Error with what to install when the binary is missing, or when it does not come up.
 */
export async function startNatsServer(opts: NatsServerOptions): Promise<NatsServerHandle> {
  mkdirSync(join(opts.dir, 'jetstream'), { recursive: true });
  const log = openSync(join(opts.dir, 'nats-server.log'), 'a');
  const child = spawn(
    'nats-server',
    [...(opts.configFile !== undefined ? ['-c', opts.configFile] : []), '-a', opts.host, '-p', String(opts.port), '-js', '-sd', join(opts.dir, 'jetstream'), '--http_port', '0'],
    { stdio: ['ignore', log, log], detached: opts.detached === true },
  );
  closeSync(log);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error('Cannot start NATS: nats-server is not installed (apt-get install -y nats-server)')
          : err,
      ),
    );
  });
  if (opts.detached) child.unref();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(opts.host, opts.port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Cannot start NATS on ${opts.host}:${opts.port}: see ${join(opts.dir, 'nats-server.log')}`);
    }
    await sleep(50);
  }
  return {
    url: `nats://${opts.host}:${opts.port}`,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** A TCP port that is free on `host` right now (the OS picks it). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error(`Cannot find a free port on ${host}`))));
    });
  });
}
