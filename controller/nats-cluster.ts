import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import { setTimeout as sleep } from 'node:timers/promises';
import { canConnect, freePort } from './nats-server';

/** One member of a NATS cluster: enough to start it again with the same identity, ports and data. */
export interface NatsMember {
  name: string;
  host: string;
  port: number;
  clusterPort: number;
  /** Its configuration file; its JetStream data and log are beside it. */
  configPath: string;
  pid?: number;
}

export interface NatsClusterOptions {
  host: string;
  size: number;
  dir: string;
  /** Leave the servers running after this process exits (the lab's); otherwise they die with us. */
  detached?: boolean;
  /** Extra configuration text added to every member's file (e.g. authorization). */
  extraConfig?: string;
  /** The user that `waitForJetStream` connects as, when `extraConfig` requires one. */
  auth?: NatsUserPass;
}

/** A NATS user and password (the connect options of nats.js). */
export interface NatsUserPass {
  user: string;
  pass: string;
}

let syncAlways: boolean | undefined;
const PROBE_STREAM = 'FAULTLINE_PROBE';

/**
 * Whether this nats-server accepts `jetstream { sync_interval: always }` (fsync after every write): 2.10 and later.
 * nats-server 2.9.10, Debian 12's, rejects the field ("unknown field"). Checked once with `nats-server -t`.
 */
export function natsSupportsSyncAlways(): boolean {
  if (syncAlways === undefined) {
    const r = spawnSync('nats-server', ['-t', '-c', '/dev/stdin'], { input: 'jetstream { sync_interval: always }\n', encoding: 'utf8' });
    syncAlways = r.status === 0;
  }
  return syncAlways;
}

/** The configuration file of one member. */
export function natsMemberConfig(m: NatsMember, peers: NatsMember[], extraConfig = ''): string {
  const routes = peers.filter((p) => p.name !== m.name).map((p) => `nats-route://${p.host}:${p.clusterPort}`);
  return [
    `server_name: ${m.name}`,
    `listen: "${m.host}:${m.port}"`,
    'jetstream {',
    `  store_dir: "${join(m.configPath, '..', 'jetstream')}"`,
    ...(natsSupportsSyncAlways() ? ['  sync_interval: always'] : []),
    '}',
    'cluster {',
    '  name: faultline',
    `  listen: "${m.host}:${m.clusterPort}"`,
    `  routes: [${routes.map((r) => `"${r}"`).join(', ')}]`,
    '}',
    extraConfig,
    '',
  ].join('\n');
}

/** Plans a cluster: names, free ports, one folder per member with its configuration file written. */
export async function planNatsCluster(opts: NatsClusterOptions): Promise<NatsMember[]> {
  const members: NatsMember[] = [];
  for (let i = 1; i <= opts.size; i++) {
    const dir = join(opts.dir, `nats-${i}`);
    mkdirSync(join(dir, 'jetstream'), { recursive: true });
    members.push({ name: `nats-${i}`, host: opts.host, port: await freePort(opts.host), clusterPort: await freePort(opts.host), configPath: join(dir, 'nats-server.conf') });
  }
  for (const m of members) writeMemberConfig(m, members, opts.extraConfig);
  return members;
}

/** Writes (or rewrites) one member's configuration file, 0600: it may hold the users' passwords. */
export function writeMemberConfig(m: NatsMember, peers: NatsMember[], extraConfig = ''): void {
  writeFileSync(m.configPath, natsMemberConfig(m, peers, extraConfig), { mode: 0o600 });
  chmodSync(m.configPath, 0o600);
}

/** Starts one member from its configuration file and returns its pid once it accepts clients. */
export async function startNatsMember(m: NatsMember, detached: boolean): Promise<number> {
  const log = openSync(join(m.configPath, '..', 'nats-server.log'), 'a');
  const child = spawn('nats-server', ['-c', m.configPath], { stdio: ['ignore', log, log], detached });
  closeSync(log);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new Error('Cannot start NATS: nats-server is not installed (apt-get install -y nats-server)') : err),
    );
  });
  if (detached) child.unref();
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(m.host, m.port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Cannot start NATS member ${m.name} on ${m.host}:${m.port}: see ${join(m.configPath, '..', 'nats-server.log')}`);
    }
    await sleep(50);
  }
  return child.pid!;
}

export function clusterUrl(members: NatsMember[]): string {
  return members.map((m) => `nats://${m.host}:${m.port}`).join(',');
}

/**
 * Waits until the cluster's JetStream can place a stream on `min(size, 3)` servers (a fresh cluster needs a few
 * seconds to elect a meta leader and learn its peers).
 * @throws Error after `timeoutMs`.
 */
export async function waitForJetStream(url: string, size: number, timeoutMs: number, auth?: NatsUserPass): Promise<void> {
  const nc = await connect({ servers: url.split(','), maxReconnectAttempts: -1, timeout: 5000, ...(auth ?? {}) });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        // The meta leader alone is not enough: placing a stream needs every peer known. Probe with one.
        const jsm = await nc.jetstreamManager({ timeout: 2000 });
        await jsm.streams.add({ name: PROBE_STREAM, subjects: ['faultline.probe.jetstream'], num_replicas: Math.min(size, 3), max_msgs: 1 });
        await jsm.streams.delete(PROBE_STREAM);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`Cannot use JetStream on the NATS cluster ${url}: ${(err as Error).message}`, { cause: err });
        await sleep(250);
      }
    }
  } finally {
    await nc.close();
  }
}

/** Plans, starts and waits for a JetStream cluster of `size` servers. */
export async function startNatsCluster(opts: NatsClusterOptions): Promise<NatsMember[]> {
  const members = await planNatsCluster(opts);
  for (const m of members) m.pid = await startNatsMember(m, opts.detached === true);
  await waitForJetStream(clusterUrl(members), members.length, 30_000, opts.auth);
  return members;
}
