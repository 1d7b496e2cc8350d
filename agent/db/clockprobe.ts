import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { faketimeEnv, findLibfaketime, removeFaketimeShm } from '../faults/clock-faketime';
import { clockprobeSpec } from '../../core/databases/clockprobe';
import type { ClientFactory } from '../workload/client';
import { DB_MARKER_ENV, type ClockReach, type Database, type DbSetupSpec, type DbState } from './database';
import { ManagedProcess } from './managed-process';
import { killStalePid, writePidFile } from './pid-file';

export const CLOCKPROBE_PORT = 7395;
const PROGRAM_NAME = 'clock-probe.js';

/** The fixture program, found from the repository root whether we run from dist/ or from source. */
function findProgram(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return resolve(__dirname, '../../test/fixtures/programs', PROGRAM_NAME);
    dir = up;
  }
  return join(dir, 'test/fixtures/programs', PROGRAM_NAME);
}

/**
 * `clockprobe`: a stand-in database for clock-fault tests. One member is a tiny Node TCP server
 * (test/fixtures/programs/clock-probe.js) that answers each connection with its own `Date.now()`. It runs under
 * libfaketime like any faketime-capable DB would, so a clock fault takes the same path as on a real database,
 * and what the process sees can be read over TCP. It has no cluster and no primary.
 */
export class ClockProbeDatabase implements Database {
  readonly name = 'clockprobe';
  readonly peerPort = CLOCKPROBE_PORT;
  readonly commandMarker = PROGRAM_NAME;
  readonly spec = clockprobeSpec;
  /** No workload: the clock tests read the probe over TCP themselves. */
  readonly clients: Readonly<Record<string, ClientFactory>> = {};
  #proc: ManagedProcess | undefined;
  #spec: DbSetupSpec | undefined;
  #lastPid: number | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly program = findProgram(),
  ) {}

  get #pidFile(): string {
    return join(this.dataDir, 'clockprobe.pid');
  }
  get #timestampFile(): string {
    return join(this.dataDir, 'faketime', 'clockprobe.offset');
  }

  async installProblem(): Promise<string | undefined> {
    if (!existsSync(this.program)) return `clockprobe needs ${this.program}, which is missing`;
    if (findLibfaketime() === undefined) return 'clockprobe runs under libfaketime, which is not installed (apt-get install -y faketime)';
    return undefined;
  }

  async setup(spec: DbSetupSpec): Promise<void> {
    const problem = await this.installProblem();
    if (problem) throw new Error(`Cannot set up clockprobe: ${problem}`);
    await this.kill();
    this.reapOrphan();
    mkdirSync(this.dataDir, { recursive: true });
    this.#spec = spec;
    this.#proc = new ManagedProcess({
      command: process.execPath,
      args: [this.program, '--host', spec.address, '--port', String(CLOCKPROBE_PORT)],
      env: { ...faketimeEnv(this.#timestampFile), [DB_MARKER_ENV]: 'clockprobe' },
      logFile: join(this.dataDir, 'clockprobe.log'),
      stopGraceMs: 2000,
    });
  }

  async start(): Promise<number> {
    if (!this.#proc) throw new Error('Cannot start clockprobe: it is not set up on this node');
    const pid = await this.#proc.start();
    this.#lastPid = pid;
    writePidFile(this.#pidFile, pid);
    return pid;
  }

  async stop(): Promise<void> {
    await this.#proc?.stop();
    this.#cleanShm();
  }

  async kill(): Promise<void> {
    await this.#proc?.kill();
    this.#cleanShm();
  }

  pause(): void {
    if (!this.#proc) throw new Error('Cannot pause clockprobe: it is not set up on this node');
    this.#proc.pause();
  }

  resume(): void {
    this.#proc?.resume();
  }

  async teardown(): Promise<void> {
    await this.kill();
    this.reapOrphan();
    rmSync(this.#timestampFile, { force: true }); // nothing runs under it any more
    this.#proc = undefined;
    this.#spec = undefined;
  }

  logs(maxBytes: number): Buffer {
    return this.#proc?.readLog(maxBytes) ?? Buffer.alloc(0);
  }

  state(): DbState {
    return this.#proc ? this.#proc.state : 'not-set-up';
  }

  pid(): number | undefined {
    return this.#proc?.pid;
  }

  setupSpec(): DbSetupSpec | undefined {
    return this.#spec;
  }

  async notReady(): Promise<string | undefined> {
    await Promise.resolve();
    return this.state() === 'running' ? undefined : `clockprobe is ${this.state()}`;
  }

  clientEndpoint(): string | undefined {
    return this.#spec ? `tcp://${this.#spec.address}:${CLOCKPROBE_PORT}` : undefined;
  }

  clockReach(): ClockReach {
    return { faketime: true, timestampFile: this.#timestampFile };
  }

  async isPrimary(): Promise<boolean | undefined> {
    return undefined;
  }

  reapOrphan(): number | undefined {
    const pid = killStalePid(this.#pidFile, PROGRAM_NAME);
    if (pid !== undefined) removeFaketimeShm(pid);
    return pid;
  }

  #cleanShm(): void {
    if (this.#lastPid !== undefined) removeFaketimeShm(this.#lastPid);
  }
}
