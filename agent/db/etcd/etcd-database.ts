import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import { etcdSpec } from '../../../core/databases/etcd';
import { GO_CLOCK_REFUSAL } from '../../faults/clock-faketime';
import type { ClientFactory } from '../../workload/client';
import { DB_MARKER_ENV, type ClockReach, type Database, type DbSetupSpec, type DbState } from '../database';
import { ManagedProcess } from '../managed-process';
import { killStalePid, writePidFile } from '../pid-file';
import { ETCD_PEER_PORT, etcdEndpoint } from './etcd-connection';
import { etcdListAppendClient } from './list-append-client';
import { etcdLockClient } from './lock-client';
import { etcdRegisterClient } from './register-client';
import { etcdSetClient } from './set-client';

const execFileAsync = promisify(execFile);

/**
 * One etcd 3.4 member (Debian package `etcd-server`), configured for fast failover in the lab
 * (heartbeat 100 ms, election 1000 ms, pre-vote so an isolated member does not inflate the term).
 */
export class EtcdDatabase implements Database {
  readonly name = 'etcd';
  readonly spec = etcdSpec;
  readonly clients: Readonly<Record<string, ClientFactory>> = {
    register: etcdRegisterClient,
    set: etcdSetClient,
    'list-append': etcdListAppendClient,
    lock: etcdLockClient,
  };
  readonly peerPort = ETCD_PEER_PORT;
  readonly commandMarker = 'etcd';
  #proc: ManagedProcess | undefined;
  #spec: DbSetupSpec | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly binary = 'etcd',
  ) {}

  get #memberDir(): string {
    return join(this.dataDir, 'etcd');
  }
  get #pidFile(): string {
    return join(this.dataDir, 'etcd.pid');
  }

  async installProblem(): Promise<string | undefined> {
    try {
      const { stdout } = await execFileAsync(this.binary, ['--version'], { timeout: 5000 });
      if (!/etcd Version: 3\./.test(stdout)) return `"${this.binary} --version" did not report etcd 3.x`;
      return undefined;
    } catch {
      return `etcd is not installed on this node: install the Debian package etcd-server (apt-get install -y etcd-server)`;
    }
  }

  async setup(spec: DbSetupSpec): Promise<void> {
    const problem = await this.installProblem();
    if (problem) throw new Error(`Cannot set up etcd: ${problem}`);
    await this.#proc?.kill();
    killStalePid(this.#pidFile, 'etcd');
    rmSync(this.#memberDir, { recursive: true, force: true });
    mkdirSync(this.#memberDir, { recursive: true });
    this.#spec = spec;
    const peer = (addr: string) => `http://${addr}:${ETCD_PEER_PORT}`;
    const client = etcdEndpoint(spec.address);
    this.#proc = new ManagedProcess({
      command: this.binary,
      args: [
        '--name', spec.node,
        '--data-dir', join(this.#memberDir, 'data'),
        '--listen-peer-urls', peer(spec.address),
        '--initial-advertise-peer-urls', peer(spec.address),
        '--listen-client-urls', client,
        '--advertise-client-urls', client,
        '--initial-cluster', spec.members.map((m) => `${m.node}=${peer(m.address)}`).join(','),
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', spec.clusterToken,
        '--heartbeat-interval', '100',
        '--election-timeout', '1000',
        '--pre-vote',
        '--snapshot-count', '10000',
        '--log-outputs', 'stderr',
      ],
      env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.env['ETCD_UNSUPPORTED_ARCH'] ?? '', [DB_MARKER_ENV]: 'etcd' },
      logFile: join(this.dataDir, 'etcd.log'),
      stopGraceMs: 10_000,
    });
  }

  async start(): Promise<number> {
    if (!this.#proc) throw new Error('Cannot start etcd: it is not set up on this node');
    const pid = await this.#proc.start();
    writePidFile(this.#pidFile, pid);
    return pid;
  }

  async stop(): Promise<void> {
    await this.#proc?.stop();
  }

  async kill(): Promise<void> {
    await this.#proc?.kill();
  }

  pause(): void {
    if (!this.#proc) throw new Error('Cannot pause etcd: it is not set up on this node');
    this.#proc.pause();
  }

  resume(): void {
    this.#proc?.resume();
  }

  async teardown(): Promise<void> {
    await this.#proc?.kill(); // its data is deleted next, so there is nothing to shut down gracefully
    killStalePid(this.#pidFile, 'etcd');
    rmSync(this.#memberDir, { recursive: true, force: true });
    this.#proc = undefined;
    this.#spec = undefined;
  }

  logs(maxBytes: number): Buffer {
    return this.#proc?.readLog(maxBytes) ?? Buffer.alloc(0);
  }

  state(): DbState {
    if (!this.#proc) return 'not-set-up';
    return this.#proc.state;
  }

  pid(): number | undefined {
    return this.#proc?.pid;
  }

  clientEndpoint(): string | undefined {
    return this.#spec ? etcdEndpoint(this.#spec.address) : undefined;
  }

  setupSpec(): DbSetupSpec | undefined {
    return this.#spec;
  }

  /** Ready once a linearizable write and read through this member succeed (the cluster has a leader). */
  async notReady(): Promise<string | undefined> {
    if (!this.#spec || this.state() !== 'running') return `etcd is ${this.state()}`;
    const etcd = new Etcd3({ hosts: [etcdEndpoint(this.#spec.address)], faultHandling: { host: () => noop, global: noop } });
    try {
      const token = `${this.#spec.node}-${Date.now()}`;
      await etcd.put(`faultline-ready/${this.#spec.node}`).value(token).options({ deadline: Date.now() + 2000 }).exec();
      const back = await etcd.get(`faultline-ready/${this.#spec.node}`).options({ deadline: Date.now() + 2000 }).string();
      return back === token ? undefined : 'etcd returned another value for the readiness key';
    } catch (err) {
      return `etcd does not serve yet: ${(err as Error).message}`;
    } finally {
      etcd.close();
    }
  }

  clockReach(): ClockReach {
    return { faketime: false, reason: `etcd ${GO_CLOCK_REFUSAL}` };
  }

  /** Asks the local member's maintenance status API whether it is the leader; false when it does not answer. */
  async isPrimary(): Promise<boolean | undefined> {
    const endpoint = this.clientEndpoint();
    if (endpoint === undefined || this.state() !== 'running') return false;
    try {
      const res = await fetch(`${endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) });
      if (!res.ok) return false;
      const status = (await res.json()) as { header?: { member_id?: string }; leader?: string };
      return status.leader !== undefined && status.leader === status.header?.member_id;
    } catch {
      return false; // a member that cannot answer (paused, partitioned from us, starting) is not acting as primary
    }
  }

  /** Kills a member left behind by a previous agent process that crashed. */
  reapOrphan(): number | undefined {
    return killStalePid(this.#pidFile, 'etcd');
  }
}
