import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Random } from '../../core/generator/random';
import { RegisterGenerator } from '../../core/generator/register';
import type { ClockMapper } from '../clock';
import type { EventPublisher } from '../event-publisher';
import { EtcdRegisterClient, type ReadConsistency } from './etcd-register-client';

export interface RegisterWorkloadConfig {
  runId: string;
  endpoint: string;
  processes: number[];
  /** Total processes over all nodes: a process retired after `info` continues as `p + concurrency`. */
  concurrency: number;
  /** Operations per second for this node; 0 means as fast as the processes can go. */
  rateHz: number;
  seed: number;
  readConsistency: ReadConsistency;
  opTimeoutMs: number;
  keyCount: number;
  keyPeriodMs: number;
}

export type WorkloadState = 'idle' | 'running' | 'stopping' | 'stopped';

/**
 * Runs the register workload on this node: one loop per process, each issuing one op at a time at the
 * configured rate, publishing an invoke before and a completion after every op. Stopping lets in-flight ops
 * finish (each has its own deadline) so every invoke gets its completion.
 */
export class RegisterWorkload {
  state: WorkloadState = 'idle';
  invoked = 0;
  completed = 0;
  readonly #stop = new AbortController();
  #loops: Promise<void>[] = [];
  #client: EtcdRegisterClient;

  constructor(
    private readonly config: RegisterWorkloadConfig,
    private readonly publisher: EventPublisher,
    private readonly clock: ClockMapper,
    private readonly log: Logger,
  ) {
    this.#client = new EtcdRegisterClient(config.endpoint, config.readConsistency, config.opTimeoutMs);
  }

  start(): void {
    this.state = 'running';
    const rng = new Random(this.config.seed);
    this.#loops = this.config.processes.map((p, i) => this.#runProcess(p, rng.fork(i)));
  }

  /** Stops issuing ops and resolves once every in-flight op has completed and been published. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    this.#stop.abort();
    await Promise.allSettled(this.#loops);
    this.#client.close();
    this.state = 'stopped';
  }

  async #runProcess(initialProcess: number, rng: Random): Promise<void> {
    const gen = new RegisterGenerator(
      { keyCount: this.config.keyCount, keyPeriodNanos: this.config.keyPeriodMs * 1e6 },
      rng,
    );
    const intervalMs = this.config.rateHz > 0 ? (1000 * this.config.processes.length) / this.config.rateHz : 0;
    let process = initialProcess;
    // Stagger the processes so that a node's ops are spread over the interval rather than bunched.
    let nextAt = Date.now() + rng.next() * intervalMs;
    while (!this.#stop.signal.aborted) {
      const waitMs = nextAt - Date.now();
      if (waitMs > 0) {
        try {
          await sleep(waitMs, undefined, { signal: this.#stop.signal });
        } catch {
          break; // stopped while waiting: no op in flight
        }
      }
      nextAt = Math.max(nextAt + intervalMs, Date.now());
      const op = gen.next(process, this.clock.map().timeNanos);
      this.publisher.publish({ runId: this.config.runId, process, type: 'invoke', f: op.f, key: op.key, value: op.value });
      this.invoked++;
      const done = await this.#client.invoke(op);
      const completion = { runId: this.config.runId, process, type: done.type, f: op.f, key: op.key, value: done.value };
      this.publisher.publish(done.error === undefined ? completion : { ...completion, error: done.error });
      this.completed++;
      if (done.type === 'ok') {
        if (op.f === 'read') gen.observe(op.key, done.value as number | null);
        else if (op.f === 'write') gen.observe(op.key, op.value);
        else gen.observe(op.key, op.value[1]);
      }
      if (done.type === 'info') {
        // The op may still take effect later: this process id is retired and the client goes on under a
        // fresh one, so that no process ever has two ops open (Jepsen's rule).
        process += this.config.concurrency;
        this.log.debug({ process }, 'process retired after info');
      }
    }
  }
}
