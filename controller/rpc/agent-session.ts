import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { AgentMessage, ClockMapping, ControllerMessage, PublisherProgress } from '../../proto/gen/agent';
import type { AgentClient } from './agent-client';
import { endStream } from './end-stream';
import { AgentUnavailableError } from '../errors';
import type { Timeline } from '../timeline';
import { clockBoundViolation } from '../../core/time/clock-bounds';

export interface ClockViolation {
  node: string;
  /** By how much the offset moved beyond what uncertainty and the drift bound allow. */
  exceededNanos: number;
  atTimeNanos: number;
}

/** How many ping/pong exchanges make one sync; the one with the shortest round trip wins (NTP's filter). */
const PINGS_PER_SYNC = 8;
const RESYNC_EVERY_MS = 5000;

interface Sample {
  offsetNanos: number;
  uncertaintyNanos: number;
  agentMonoNanos: number;
}

/**
 * The controller's side of an agent session: it holds the agent's lease (a heartbeat every quarter lease) and
 * keeps the agent's clock mapped onto the run's timeline (a burst of pings at open, then every few seconds).
 * Closing the session does not heal anything by itself; the agent heals when the lease lapses.
 */
export class AgentSession {
  #stream: grpc.ClientDuplexStream<ControllerMessage, AgentMessage> | undefined;
  #pending = new Map<number, { sentAt: number; resolve: (s: Sample) => void; abandon: () => void }>();
  #nextId = 1;
  #timers: NodeJS.Timeout[] = [];
  #closed = false;
  /** Wait before opening a broken stream again: 200 ms, doubling while it keeps breaking, reset by an answer. */
  #reattachDelayMs = 200;
  mapping: ClockMapping | undefined;
  /** Resyncs that disagreed with the previous mapping by more than the drift bound allows. */
  readonly clockViolations: ClockViolation[] = [];
  /** Date.now() of the agent's last answer on the session (for live progress). */
  lastHeardAt = 0;
  /** Called with each of the agent's progress markers for this session's run (online checking's watermark). */
  onProgress: ((p: PublisherProgress) => void) | undefined;

  constructor(
    readonly client: AgentClient,
    private readonly timeline: Timeline,
    private readonly log: Logger,
    private readonly leaseMs: number,
  ) {}

  /** Opens the stream and completes a first clock sync. @throws AgentUnavailableError */
  async open(): Promise<void> {
    this.#attach();
    await this.sync();
    const hb = setInterval(
      () => this.#send({ body: { oneofKind: 'heartbeat', heartbeat: { leaseMs: this.leaseMs, release: false } } }),
      Math.max(200, Math.floor(this.leaseMs / 4)),
    );
    const resync = setInterval(() => {
      this.sync().catch((err: unknown) => {
        if (!this.#closed) this.log.warn({ err, node: this.client.node.name }, 'clock resync failed');
      });
    }, RESYNC_EVERY_MS);
    this.#timers.push(hb, resync);
  }

  /**
   * Opens the session stream and renews the lease on it. A stream that breaks while the session is open (a
   * keepalive missed on a loaded machine, the agent restarted) is opened again, so that the heartbeats keep the lease
   * instead of being written into a dead stream until the lease lapses.
   */
  #attach(): void {
    const stream = this.client.raw.session();
    this.#stream = stream;
    stream.on('data', (msg: AgentMessage) => {
      this.#reattachDelayMs = 200;
      if (msg.body.oneofKind === 'progress') {
        this.lastHeardAt = Date.now();
        if (msg.body.progress.runId === this.timeline.id) this.onProgress?.(msg.body.progress);
        return;
      }
      if (msg.body.oneofKind !== 'pong') return;
      this.lastHeardAt = Date.now();
      const pending = this.#pending.get(msg.body.pong.id);
      if (!pending) return;
      this.#pending.delete(msg.body.pong.id);
      const receivedAt = this.timeline.now();
      const rtt = receivedAt - pending.sentAt;
      pending.resolve({
        offsetNanos: Math.round((pending.sentAt + receivedAt) / 2 - msg.body.pong.agentMonoNanos),
        uncertaintyNanos: Math.ceil(rtt / 2) + 1000,
        agentMonoNanos: msg.body.pong.agentMonoNanos,
      });
    });
    let broken = false;
    const reattach = (err?: Error): void => {
      if (broken || this.#closed || this.#stream !== stream) return;
      broken = true;
      const delayMs = this.#reattachDelayMs;
      this.#reattachDelayMs = Math.min(delayMs * 2, 2000);
      if (delayMs === 200) this.log.warn({ err, node: this.client.node.name }, 'agent session broke, opening it again');
      const timer = setTimeout(() => {
        if (!this.#closed) this.#attach();
      }, delayMs);
      timer.unref();
    };
    stream.on('error', (err) => reattach(err));
    stream.on('close', () => reattach());
    this.#send({ body: { oneofKind: 'heartbeat', heartbeat: { leaseMs: this.leaseMs, release: false } } });
  }

  /** Measures the agent's clock offset and sends the new mapping. @throws AgentUnavailableError on no answer. */
  async sync(timeoutMs = 5000): Promise<ClockMapping> {
    const samples: Sample[] = [];
    for (let i = 0; i < PINGS_PER_SYNC; i++) samples.push(await this.#ping(timeoutMs));
    const best = samples.reduce((a, b) => (b.uncertaintyNanos < a.uncertaintyNanos ? b : a));
    const mapping: ClockMapping = {
      timelineId: this.timeline.id,
      offsetNanos: best.offsetNanos,
      uncertaintyNanos: best.uncertaintyNanos,
      syncedAtAgentMonoNanos: best.agentMonoNanos,
    };
    if (this.mapping) {
      const exceededNanos = clockBoundViolation(
        { offsetNanos: this.mapping.offsetNanos, uncertaintyNanos: this.mapping.uncertaintyNanos, atAgentMonoNanos: this.mapping.syncedAtAgentMonoNanos },
        { offsetNanos: mapping.offsetNanos, uncertaintyNanos: mapping.uncertaintyNanos, atAgentMonoNanos: mapping.syncedAtAgentMonoNanos },
      );
      if (exceededNanos > 0) {
        this.clockViolations.push({ node: this.client.node.name, exceededNanos, atTimeNanos: this.timeline.now() });
        this.log.warn({ node: this.client.node.name, exceededNanos }, 'agent clock drifted beyond the assumed bound');
      }
    }
    this.#send({ body: { oneofKind: 'mapping', mapping } });
    this.mapping = mapping;
    return mapping;
  }

  /**
   * Ends the session. With `release` (the run healed this agent), the agent stops its lease timer at once instead of
   * letting the lease run out, so a lease left running cannot heal faults applied after the run.
   */
  async close(release = false): Promise<void> {
    const releasing = release && !this.#closed;
    if (releasing) this.#send({ body: { oneofKind: 'heartbeat', heartbeat: { leaseMs: 0, release: true } } });
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    // A ping in flight gets no answer any more: end it now rather than with a warning seconds later.
    for (const p of this.#pending.values()) p.abandon();
    this.#pending.clear();
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream === undefined) return;
    if (releasing) return endStream(stream); // so that the release reaches the agent before the call goes away
    stream.end();
    stream.cancel();
  }

  #ping(timeoutMs: number): Promise<Sample> {
    const id = this.#nextId++;
    return new Promise<Sample>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AgentUnavailableError(this.client.node.name, this.client.node.agent, 'no answer to a clock-sync ping'));
      }, timeoutMs);
      this.#pending.set(id, {
        sentAt: this.timeline.now(),
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        abandon: () => {
          clearTimeout(timer);
          reject(new AgentUnavailableError(this.client.node.name, this.client.node.agent, 'the session was closed during a clock-sync ping'));
        },
      });
      this.#send({ body: { oneofKind: 'ping', ping: { id } } });
    });
  }

  #send(msg: ControllerMessage): void {
    if (!this.#closed) this.#stream?.write(msg);
  }
}
