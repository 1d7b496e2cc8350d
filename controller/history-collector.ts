import type { ConsumerMessages, JetStreamManager, NatsConnection } from 'nats';
import { createWriteStream, type WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { SequenceGap } from '../core/history/completeness';
import { decodeEvent, eventToJsonLine, type EventRecord } from '../events/contract';
import { EVENT_STREAM, ensureEventStream, ensureRunConsumer } from './event-stream';
import { SequenceTracker } from './sequence-tracker';

export type { SequenceGap } from '../core/history/completeness';

/**
 * Consumes one run's events from JetStream as they arrive and appends them, decoded, to a raw events file (one
 * JSON object per line, arrival order). Memory stays bounded however long the run: events go to disk, and only
 * out-of-order sequence numbers are held. Redeliveries are dropped by (node, seq).
 */
export class HistoryCollector {
  readonly tracker = new SequenceTracker();
  #out: WriteStream;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> = Promise.resolve();
  #durable: { jsm: JetStreamManager; name: string } | undefined;
  received = 0;
  duplicates = 0;
  /** Client events received so far, by type (for live progress). */
  readonly counts = { invoke: 0, ok: 0, fail: 0, info: 0 };

  constructor(
    private readonly nc: NatsConnection,
    private readonly runId: string,
    rawPath: string,
    private readonly log: Logger,
  ) {
    this.#out = createWriteStream(rawPath, { flags: 'a' });
  }

  async start(): Promise<void> {
    const jsm = await ensureEventStream(this.nc);
    const durable = await ensureRunConsumer(jsm, this.runId);
    this.#durable = { jsm, name: durable };
    const consumer = await this.nc.jetstream().consumers.get(EVENT_STREAM, durable);
    this.#messages = await consumer.consume({ max_messages: 2000 });
    this.#loop = (async () => {
      for await (const m of this.#messages!) {
        let ev: EventRecord;
        try {
          ev = decodeEvent(m.data);
        } catch (err) {
          this.log.error({ err, subject: m.subject }, 'undecodable event; skipping');
          m.term();
          continue;
        }
        if (this.tracker.add(ev.node, ev.seq)) {
          this.#out.write(`${eventToJsonLine(ev)}\n`);
          this.received++;
          if (Number(ev.process) >= 0 && ev.type in this.counts) this.counts[ev.type as keyof typeof this.counts]++;
        } else {
          this.duplicates++;
        }
        m.ack();
      }
    })();
  }

  /**
   * Waits until every publisher's events up to its last sequence number have arrived, or the timeout passes.
   * Returns the gaps that remain (empty when the history is complete).
   */
  async waitFor(expected: Record<string, number>, timeoutMs: number): Promise<SequenceGap[]> {
    const deadline = Date.now() + timeoutMs;
    const complete = () => Object.entries(expected).every(([node, last]) => this.tracker.contiguous(node) >= last);
    while (!complete() && Date.now() < deadline) await sleep(50);
    const gaps: SequenceGap[] = [];
    for (const [node, last] of Object.entries(expected)) {
      for (const g of this.tracker.gaps(node, last)) gaps.push({ node, ...g });
    }
    return gaps;
  }

  async stop(): Promise<void> {
    this.#messages?.stop();
    await this.#loop;
    if (!this.#out.closed) await new Promise<void>((resolve) => this.#out.end(resolve));
  }

  /**
   * Deletes the run's durable consumer once its history is safely on disk, so consumers do not pile up on the
   * server over many runs (the events themselves stay in the stream until its age limit).
   */
  async deleteConsumer(): Promise<void> {
    if (this.#durable) await this.#durable.jsm.consumers.delete(EVENT_STREAM, this.#durable.name);
    this.#durable = undefined;
  }
}

/** Events as written in the raw file (the codec's JSON form). */
export type { RawEvent } from '../events/contract';
