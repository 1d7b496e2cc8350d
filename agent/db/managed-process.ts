import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, existsSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeFaketimeShm } from '../faults/clock-faketime';

export type ProcessState = 'stopped' | 'running' | 'paused';

/** Options for one long-running server process the agent manages (a DB member). */
export interface ManagedProcessOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  logFile: string;
  /** Grace period between SIGTERM and SIGKILL. */
  stopGraceMs: number;
}

/**
 * A DB server process: start, SIGTERM-then-SIGKILL stop, kill -9, SIGSTOP/SIGCONT.
 * The process runs in its own process group so that signals reach any children too.
 */
export class ManagedProcess {
  #child: ReturnType<typeof spawn> | undefined;
  #exited: Promise<void> = Promise.resolve();
  #paused = false;

  constructor(private readonly opts: ManagedProcessOptions) {}

  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  get state(): ProcessState {
    if (this.pid === undefined) return 'stopped';
    return this.#paused ? 'paused' : 'running';
  }

  /** Starts the process unless it is already running. @throws Error when it cannot be spawned. */
  async start(): Promise<number> {
    const running = this.pid;
    if (running !== undefined) return running;
    const fd = openSync(this.opts.logFile, 'a');
    try {
      const child = spawn(this.opts.command, this.opts.args, {
        env: this.opts.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      this.#child = child;
      this.#paused = false;
      this.#exited = new Promise((resolve) =>
        child.once('exit', () => {
          // A process under libfaketime leaves its shared-memory files when it ends without running libfaketime's
          // destructor (killed, or exiting on its own through _exit, as a Galera member that cannot join does).
          // It is reaped now: its files are nobody's.
          if (child.pid !== undefined) removeFaketimeShm(child.pid);
          resolve();
        }),
      );
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      return child.pid!;
    } finally {
      closeSync(fd);
    }
  }

  /** SIGTERM, then SIGKILL after the grace period. Resumes a paused process first so it can exit. */
  async stop(): Promise<void> {
    if (this.pid === undefined) return;
    this.#signal('SIGCONT');
    this.#signal('SIGTERM');
    const exited = await Promise.race([this.#exited.then(() => true), sleep(this.opts.stopGraceMs, false)]);
    if (!exited) await this.kill();
  }

  /** kill -9 the whole process group and wait for the exit. */
  async kill(): Promise<void> {
    if (this.pid === undefined) return;
    this.#signal('SIGKILL');
    await this.#exited;
    this.#paused = false;
  }

  pause(): void {
    if (this.pid === undefined) throw new Error('Cannot pause: the process is not running');
    this.#signal('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    if (this.pid === undefined) return;
    this.#signal('SIGCONT');
    this.#paused = false;
  }

  /** The last `maxBytes` of the log file. */
  readLog(maxBytes: number): Buffer {
    if (!existsSync(this.opts.logFile)) return Buffer.alloc(0);
    const size = statSync(this.opts.logFile).size;
    const buf = readFileSync(this.opts.logFile);
    return size > maxBytes ? buf.subarray(size - maxBytes) : buf;
  }

  #signal(sig: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig); // the group: detached made the child its leader
    } catch (err) {
      // ESRCH: it exited between our check and the signal; nothing left to signal.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}
