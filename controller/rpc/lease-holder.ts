import type * as grpc from '@grpc/grpc-js';
import type { AgentMessage, ControllerMessage } from '../../proto/gen/agent';
import type { AgentClient } from './agent-client';
import { endStream } from './end-stream';

/**
 * Holds an agent's lease for `faultline fault`: a session stream that only sends heartbeats. Unlike a run's
 * AgentSession it sends no clock mapping, so an ad-hoc fault next to a running test never moves that test's
 * timeline. When this process dies, the heartbeats stop and the agent heals everything once the lease lapses.
 */
export class LeaseHolder {
  #stream: grpc.ClientDuplexStream<ControllerMessage, AgentMessage> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: AgentClient,
    readonly leaseMs: number,
  ) {}

  open(): void {
    const stream = this.client.raw.session();
    this.#stream = stream;
    stream.on('error', () => undefined); // the agent going away is seen by the fault calls themselves
    stream.on('data', () => undefined);
    const beat = (): void => {
      stream.write({ body: { oneofKind: 'heartbeat', heartbeat: { leaseMs: this.leaseMs, release: false } } });
    };
    beat();
    this.#timer = setInterval(beat, Math.max(200, Math.floor(this.leaseMs / 4)));
  }

  /**
   * Stops the heartbeats. With `release` (the fault is healed) the agent drops the lease at once instead of letting
   * it lapse, and the stream is ended gracefully so that the release is delivered before the call goes away.
   */
  async close(release = false): Promise<void> {
    clearInterval(this.#timer);
    const stream = this.#stream;
    this.#stream = undefined;
    if (stream === undefined) return;
    if (!release) {
      stream.end();
      stream.cancel();
      return;
    }
    stream.write({ body: { oneofKind: 'heartbeat', heartbeat: { leaseMs: 0, release: true } } });
    await endStream(stream);
  }
}
