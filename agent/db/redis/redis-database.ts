import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisSpec } from '../../../core/databases/redis';
import { faketimeEnv, findLibfaketime, removeFaketimeShm } from '../../faults/clock-faketime';
import type { ClientFactory } from '../../workload/client';
import { DB_MARKER_ENV, type ClockReach, type Database, type DbSetupSpec, type DbState } from '../database';
import { ManagedProcess } from '../managed-process';
import { killStalePid, writePidFile } from '../pid-file';
import { redisCounterClient } from './counter-client';
import { MASTER_NAME, initialPrimary, pairsToMap, parseInfo, REDIS_PORT, SENTINEL_PORT, sentinelConfig, serverConfig } from './redis-config';
import { withDirect } from './redis-connection';
import { redisRegisterClient } from './register-client';
import { redisSetClient } from './set-client';

const execFileAsync = promisify(execFile);

/**
 * Redis's jemalloc deadlocks under libfaketime; glibc's malloc debug library, preloaded before libfaketime, avoids
 * it (NOTES.md, "Clocks").
 */
export const MALLOC_DEBUG_PATHS = ['/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0', '/usr/lib/aarch64-linux-gnu/libc_malloc_debug.so.0'];

const SERVER_MARKER = 'redis-server';
const SENTINEL_MARKER = 'redis-sentinel';
/** Readiness and primary queries give up after this long (a paused or cut-off member does not answer). */
const QUERY_TIMEOUT_MS = 1500;

/**
 * One Redis member (Debian `redis-server`, `redis-sentinel`): two processes of ours per node, the redis-server
 * (primary on the first member, a replica of it on the others; AOF on) and a Sentinel monitoring the primary
 * (quorum: a majority). Faults (kill, pause, clock) reach the redis-server only: its Sentinel keeps running, as it
 * would on a real host where only the database crashed. The redis-server runs under libfaketime when it is
 * installed, so a clock fault can shift it; its Sentinel keeps the true time.
 */
export class RedisDatabase implements Database {
  readonly name = 'redis';
  readonly spec = redisSpec;
  readonly clients: Readonly<Record<string, ClientFactory>> = {
    set: redisSetClient,
    register: redisRegisterClient,
    counter: redisCounterClient,
  };
  readonly peerPort = REDIS_PORT;
  readonly commandMarker = SERVER_MARKER;
  #server: ManagedProcess | undefined;
  #sentinel: ManagedProcess | undefined;
  #spec: DbSetupSpec | undefined;
  #serverPids: number[] = [];

  constructor(
    private readonly dataDir: string,
    private readonly serverBinary = 'redis-server',
    private readonly sentinelBinary = 'redis-sentinel',
  ) {}

  /** Data and configuration of both processes; removed by teardown. */
  get #memberDir(): string {
    return join(this.dataDir, 'redis');
  }
  get #serverPidFile(): string {
    return join(this.dataDir, 'redis-server.pid');
  }
  get #sentinelPidFile(): string {
    return join(this.dataDir, 'redis-sentinel.pid');
  }
  get #timestampFile(): string {
    return join(this.dataDir, 'faketime', 'redis.offset');
  }
  get #serverLog(): string {
    return join(this.dataDir, 'redis-server.log');
  }
  get #sentinelLog(): string {
    return join(this.dataDir, 'redis-sentinel.log');
  }

  async installProblem(): Promise<string | undefined> {
    for (const bin of [this.serverBinary, this.sentinelBinary]) {
      try {
        const { stdout } = await execFileAsync(bin, ['--version'], { timeout: 5000 });
        if (!/v=7\./.test(stdout)) return `"${bin} --version" did not report Redis 7.x`;
      } catch {
        return 'Redis is not installed on this node: install the Debian packages redis-server and redis-sentinel (apt-get install -y redis-server redis-sentinel)';
      }
    }
    return undefined;
  }

  /** Why a clock fault cannot reach this member, or undefined when libfaketime (with the malloc workaround) can. */
  #faketimeProblem(): string | undefined {
    if (findLibfaketime() === undefined) return 'redis runs under libfaketime only when it is installed (apt-get install -y faketime)';
    if (!MALLOC_DEBUG_PATHS.some((p) => existsSync(p))) return "redis needs glibc's libc_malloc_debug.so.0 to run under libfaketime, and it is missing";
    return undefined;
  }

  #serverEnv(): NodeJS.ProcessEnv {
    const base = { ...process.env, [DB_MARKER_ENV]: 'redis' };
    if (this.#faketimeProblem() !== undefined) return base;
    const env = faketimeEnv(this.#timestampFile, base);
    env['LD_PRELOAD'] = `${MALLOC_DEBUG_PATHS.find((p) => existsSync(p))!}:${env['LD_PRELOAD'] ?? ''}`;
    return env;
  }

  async setup(spec: DbSetupSpec): Promise<void> {
    const problem = await this.installProblem();
    if (problem) throw new Error(`Cannot set up redis: ${problem}`);
    await this.#killAll();
    this.reapOrphan();
    rmSync(this.#memberDir, { recursive: true, force: true });
    const serverDir = join(this.#memberDir, 'server');
    const sentinelDir = join(this.#memberDir, 'sentinel');
    mkdirSync(serverDir, { recursive: true });
    mkdirSync(sentinelDir, { recursive: true });
    for (const log of [this.#serverLog, this.#sentinelLog]) rmSync(log, { force: true }); // one run's logs at a time
    const serverConf = join(serverDir, 'redis.conf');
    const sentinelConf = join(sentinelDir, 'sentinel.conf');
    writeFileSync(serverConf, serverConfig(spec, serverDir));
    writeFileSync(sentinelConf, sentinelConfig(spec, sentinelDir)); // Sentinel rewrites it: it must be ours and writable
    this.#spec = spec;
    this.#server = new ManagedProcess({
      command: this.serverBinary,
      args: [serverConf],
      env: this.#serverEnv(),
      logFile: this.#serverLog,
      stopGraceMs: 5000,
    });
    this.#sentinel = new ManagedProcess({
      command: this.sentinelBinary,
      args: [sentinelConf],
      env: { ...process.env, [DB_MARKER_ENV]: 'redis' },
      logFile: this.#sentinelLog,
      stopGraceMs: 5000,
    });
  }

  /** Starts whichever of the two is not running (after a kill only the redis-server is down); returns its pid. */
  async start(): Promise<number> {
    if (!this.#server || !this.#sentinel) throw new Error('Cannot start redis: it is not set up on this node');
    const pid = await this.#server.start();
    writePidFile(this.#serverPidFile, pid);
    if (!this.#serverPids.includes(pid)) this.#serverPids.push(pid);
    writePidFile(this.#sentinelPidFile, await this.#sentinel.start());
    return pid;
  }

  async stop(): Promise<void> {
    await Promise.all([this.#server?.stop(), this.#sentinel?.stop()]);
    this.#cleanShm();
  }

  /** kill -9 of the redis-server only; its Sentinel goes on watching. */
  async kill(): Promise<void> {
    await this.#server?.kill();
    this.#cleanShm();
  }

  pause(): void {
    if (!this.#server) throw new Error('Cannot pause redis: it is not set up on this node');
    this.#server.pause();
  }

  resume(): void {
    this.#server?.resume();
  }

  async teardown(): Promise<void> {
    await this.#killAll(); // the data is deleted next: nothing to shut down gracefully
    this.reapOrphan();
    rmSync(this.#memberDir, { recursive: true, force: true });
    rmSync(this.#timestampFile, { force: true });
    this.#server = undefined;
    this.#sentinel = undefined;
    this.#spec = undefined;
  }

  /** Both logs: the redis-server's, then the Sentinel's (failovers are told there). */
  logs(maxBytes: number): Buffer {
    const server = this.#server?.readLog(Math.floor(maxBytes / 2)) ?? Buffer.alloc(0);
    const sentinel = this.#sentinel?.readLog(Math.floor(maxBytes / 2)) ?? Buffer.alloc(0);
    return Buffer.concat([Buffer.from('==> redis-server <==\n'), server, Buffer.from('\n==> redis-sentinel <==\n'), sentinel]);
  }

  state(): DbState {
    return this.#server ? this.#server.state : 'not-set-up';
  }

  pid(): number | undefined {
    return this.#server?.pid;
  }

  setupSpec(): DbSetupSpec | undefined {
    return this.#spec;
  }

  /**
   * Ready once replication is linked (the first member has every other as an online replica; the others have
   * their link to it up) and the local Sentinel sees the primary up, all n-1 replicas and all n-1 other
   * Sentinels. From a fresh start the Sentinels need 1-8 s to find each other.
   */
  async notReady(): Promise<string | undefined> {
    const spec = this.#spec;
    if (!spec || this.state() !== 'running') return `redis-server is ${this.state()}`;
    if (this.#sentinel?.state !== 'running') return `redis-sentinel is ${this.#sentinel?.state ?? 'not set up'}`;
    const others = spec.members.length - 1;
    try {
      const info = parseInfo(await withDirect(spec.address, REDIS_PORT, QUERY_TIMEOUT_MS, (r) => r.info('replication')));
      if (spec.node === initialPrimary(spec).node) {
        const online = [...info.entries()].filter(([k, v]) => /^slave\d+$/.test(k) && v.includes('state=online')).length;
        if (info.get('role') !== 'master' || online < others) return `primary has ${online} of ${others} replicas online`;
      } else if (info.get('role') !== 'slave' || info.get('master_link_status') !== 'up') {
        return `replica link is ${info.get('master_link_status') ?? info.get('role') ?? '?'}`;
      }
      const master = pairsToMap(await withDirect(spec.address, SENTINEL_PORT, QUERY_TIMEOUT_MS, (s) => s.call('SENTINEL', 'MASTER', MASTER_NAME)));
      const flags = master.get('flags') ?? '?';
      const slaves = Number(master.get('num-slaves') ?? 0);
      const sentinels = Number(master.get('num-other-sentinels') ?? 0);
      if (flags !== 'master' || slaves < others || sentinels < others) {
        return `Sentinel sees the primary as ${flags}, ${slaves} of ${others} replicas, ${sentinels} of ${others} other Sentinels`;
      }
      return undefined;
    } catch (err) {
      return `redis does not answer yet: ${(err as Error).message}`;
    }
  }

  clockReach(): ClockReach {
    const problem = this.#faketimeProblem();
    return problem === undefined ? { faketime: true, timestampFile: this.#timestampFile } : { faketime: false, reason: problem };
  }

  /** ROLE on this node's redis-server: a member that does not answer (paused, starting) is not acting as primary. */
  async isPrimary(): Promise<boolean | undefined> {
    if (!this.#spec || this.state() !== 'running') return false;
    try {
      const role = await withDirect(this.#spec.address, REDIS_PORT, QUERY_TIMEOUT_MS, (r) => r.call('ROLE'));
      return Array.isArray(role) && role[0] === 'master';
    } catch {
      return false;
    }
  }

  /** Kills a redis-server and a Sentinel left behind by a previous agent process that crashed. */
  reapOrphan(): number | undefined {
    const sentinel = killStalePid(this.#sentinelPidFile, SENTINEL_MARKER);
    const server = killStalePid(this.#serverPidFile, SERVER_MARKER);
    if (server !== undefined) removeFaketimeShm(server);
    return server ?? sentinel;
  }

  async #killAll(): Promise<void> {
    await Promise.all([this.#server?.kill(), this.#sentinel?.kill()]);
    this.#cleanShm();
  }

  /** libfaketime's shm files of every redis-server we ran that has exited. */
  #cleanShm(): void {
    const live = this.#server?.pid;
    this.#serverPids = this.#serverPids.filter((pid) => {
      if (pid === live) return true;
      removeFaketimeShm(pid);
      return false;
    });
  }
}
