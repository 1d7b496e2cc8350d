import type { JetStreamClient, NatsConnection } from 'nats';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeEvent, eventMessageId, eventSubject, type EventRecord } from '../events/contract';
import type { Timeline } from './timeline';

export const CONTROLLER_NODE = 'controller';

/**
 * Publishes the controller's own events (nemesis actions) into the run's stream with their own gapless sequence.
 * Each publish waits for JetStream's ack and retries: these are few, and each must be in the history.
 */
export class ControllerEvents {
  #seq = 0;
  #js: JetStreamClient;

  /** `lastSeq`: the sequence number the run's controller events reached already (a resumed run continues it). */
  constructor(
    nc: NatsConnection,
    private readonly runId: string,
    private readonly timeline: Timeline,
    lastSeq = 0,
  ) {
    this.#js = nc.jetstream({ timeout: 5000 });
    this.#seq = lastSeq;
  }

  get lastSeq(): number {
    return this.#seq;
  }

  async nemesis(type: 'invoke' | 'ok' | 'info', f: string, value: unknown, error = ''): Promise<void> {
    const ev: EventRecord = {
      runId: this.runId,
      node: CONTROLLER_NODE,
      seq: ++this.#seq,
      process: -1,
      type,
      f,
      key: '',
      valueJson: JSON.stringify(value ?? null),
      error,
      timeNanos: this.timeline.now(),
      uncertaintyNanos: 0,
      agentMonoNanos: Number(process.hrtime.bigint()),
    };
    const data = encodeEvent(ev);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#js.publish(eventSubject(this.runId, CONTROLLER_NODE), data, {
          msgID: eventMessageId(this.runId, CONTROLLER_NODE, ev.seq),
        });
        return;
      } catch (err) {
        if (attempt >= 10) throw new Error(`Cannot record nemesis event "${f}": ${(err as Error).message}`, { cause: err });
        await sleep(200 * attempt);
      }
    }
  }
}
