/**
 * The generic process loop, written once for every (database, workload) pair: one loop per client process, each
 * issuing one operation at a time at the configured rate, publishing an invoke before and a completion after every
 * operation, with a deadline per operation. After an `info` the process id is retired and the loop goes on under
 * a fresh one (`p + concurrency`, Jepsen's rule), so no process ever has two operations open. Stopping lets
 * in-flight operations finish (each has its own deadline), so every invoke gets its completion; then each process
 * runs what its generator's `drain` names (a lock's release), recorded like any other operation.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Random } from '../../core/generator/random';
import type { Completion, GeneratorContext, Invocation, OpGenerator, Workload, WorkloadPhase } from '../../core/workloads';
import type { ClockMapper } from '../clock';
import type { EventPublisher } from '../event-publisher';
import { errorText, type Client, type ClientContext, type ClientFactory } from './client';

export interface RunnerConfig {
  runId: string;
  phase: WorkloadPhase;
  /** Initial process ids this node runs. */
  processes: number[];
  /** Total processes over all nodes: a process retired after `info` continues as `p + concurrency`. */
  concurrency: number;
  /** Operations per second for this node; 0 means as fast as the processes can go. */
  rateHz: number;
  seed: number;
  opTimeoutMs: number;
  generator: GeneratorContext;
}

export type WorkloadState = 'idle' | 'running' | 'stopping' | 'stopped';

/** Extra time past the op timeout before the loop stops waiting for a client that ignores its signal. */
const DEADLINE_GRACE_MS = 1000;

export class WorkloadRunner {
  state: WorkloadState = 'idle';
  invoked = 0;
  completed = 0;
  readonly #stop = new AbortController();
  #loops: Promise<void>[] = [];
  readonly #clients: Client[] = [];

  constructor(
    private readonly config: RunnerConfig,
    private readonly workload: Workload,
    private readonly openClient: ClientFactory,
    private readonly clientContext: Omit<ClientContext, 'phase' | 'opTimeoutMs'>,
    private readonly publisher: EventPublisher,
    private readonly clock: ClockMapper,
    private readonly log: Logger,
  ) {}

  /** @throws RangeError when the workload has no such phase. */
  start(): void {
    const make = this.config.phase === 'final' ? this.workload.finalGenerator?.bind(this.workload) : this.workload.generator.bind(this.workload);
    if (make === undefined) throw new RangeError(`Cannot start the final phase: workload ${this.workload.name} has none`);
    this.state = 'running';
    const rng = new Random(this.config.seed);
    this.#loops = this.config.processes.map((p, i) => {
      const procRng = rng.fork(i);
      return this.#runProcess(p, make(this.config.generator, procRng), procRng);
    });
    // A phase whose generators all finish on their own is done without a stop.
    void Promise.allSettled(this.#loops).then(() => {
      if (this.state === 'running') this.state = 'stopped';
    });
  }

  /** True once every process has finished (its generator ran out, or it was stopped). */
  get finished(): boolean {
    return this.state === 'stopped';
  }

  /** Stops issuing ops and resolves once every in-flight op has completed and been published. */
  async stop(): Promise<void> {
    if (this.state === 'idle') this.state = 'stopped';
    this.#stop.abort();
    await Promise.allSettled(this.#loops);
    await Promise.allSettled(this.#clients.splice(0).map((c) => c.close()));
    this.state = 'stopped';
  }

  async #runProcess(initialProcess: number, gen: OpGenerator, rng: Random): Promise<void> {
    const intervalMs = this.config.rateHz > 0 ? (1000 * this.config.processes.length) / this.config.rateHz : 0;
    let process = initialProcess;
    let client = this.#open();
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
      if (op === undefined) break;
      if (op.delayMs !== undefined && op.delayMs > 0) {
        try {
          await sleep(op.delayMs, undefined, { signal: this.#stop.signal });
        } catch {
          break; // stopped while waiting: the op was not invoked; drain() below says what must still run
        }
      }
      const done = await this.#step(process, client, op);
      gen.complete(op, done);
      if (done.type === 'info') {
        // The op may still take effect later: this process id is retired and the client goes on under a fresh one
        // with a fresh connection, so that no process ever has two ops open (Jepsen's rule).
        process += this.config.concurrency;
        this.log.debug({ process }, 'process retired after info');
        this.#retire(client);
        client = this.#open();
      }
    }
    const last = this.#stop.signal.aborted ? gen.drain?.(process) : undefined;
    if (last !== undefined) gen.complete(last, await this.#step(process, client, last));
  }

  /** Invokes one op and publishes its invoke and completion. */
  async #step(process: number, client: Client, op: Invocation): Promise<Completion> {
    this.publisher.publish({ runId: this.config.runId, process, type: 'invoke', f: op.f, ...(op.key !== undefined ? { key: op.key } : {}), value: op.value });
    this.invoked++;
    const done = await this.#invoke(client, op);
    this.publisher.publish({
      runId: this.config.runId,
      process,
      type: done.type,
      f: op.f,
      ...(op.key !== undefined ? { key: op.key } : {}),
      value: done.value,
      ...(done.error !== undefined ? { error: done.error } : {}),
    });
    this.completed++;
    return done;
  }

  #retire(client: Client): void {
    const i = this.#clients.indexOf(client);
    if (i >= 0) this.#clients.splice(i, 1);
    client.close().catch((err: unknown) => this.log.debug({ err }, 'closing a retired client failed'));
  }

  #open(): Client {
    const client = this.openClient({ ...this.clientContext, phase: this.config.phase, opTimeoutMs: this.config.opTimeoutMs });
    this.#clients.push(client);
    return client;
  }

  /** One op under its deadline. Whatever goes wrong in the client becomes `info`: the op may have happened. */
  async #invoke(client: Client, op: Invocation): Promise<Completion> {
    const deadline = AbortSignal.timeout(this.config.opTimeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Completion>((resolve) => {
      timer = setTimeout(() => resolve({ type: 'info', value: op.value, error: `no answer within ${this.config.opTimeoutMs} ms` }), this.config.opTimeoutMs + DEADLINE_GRACE_MS);
    });
    try {
      return await Promise.race([client.invoke(op, deadline), late]);
    } catch (err) {
      return { type: 'info', value: op.value, error: errorText(err) };
    } finally {
      clearTimeout(timer);
    }
  }
}
