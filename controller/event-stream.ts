import { ALL_EVENTS_SUBJECT, runEventsSubject } from '../events/contract';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection, type StreamConfig } from 'nats';
import type { Logger } from 'pino';

export const EVENT_STREAM = 'FAULTLINE_EVENTS';

/** The stream's bounds: events older than this, or beyond this many bytes (oldest first), are dropped. */
export const EVENT_STREAM_MAX_AGE_NANOS = 7 * 24 * 3600 * 1e9;
export const EVENT_STREAM_MAX_BYTES = 4 * 1024 ** 3;

/**
 * How many copies of the stream to ask for: 3 when the server we are connected to is part of a cluster (JetStream
 * then keeps the stream on three servers, so losing one loses nothing), else 1.
 */
export function eventStreamReplicas(nc: NatsConnection): number {
  return nc.info?.cluster ? 3 : 1;
}

/**
 * Creates the JetStream stream that captures every run's events, or leaves it as it is. Deduplication by message id
 * (over the window) makes the agents' resends after a crash or a lost ack idempotent. On a cluster the stream is
 * replicated three times; a cluster too small for that gets one copy, with a warning.
 */
export async function ensureEventStream(nc: NatsConnection, log?: Logger): Promise<JetStreamManager> {
  const jsm = await nc.jetstreamManager({ timeout: 5000 });
  try {
    await jsm.streams.info(EVENT_STREAM);
  } catch {
    const config: Partial<StreamConfig> & { name: string } = {
      name: EVENT_STREAM,
      subjects: [ALL_EVENTS_SUBJECT],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      duplicate_window: 10 * 60 * 1e9,
      max_bytes: EVENT_STREAM_MAX_BYTES,
      max_age: EVENT_STREAM_MAX_AGE_NANOS,
      num_replicas: eventStreamReplicas(nc),
    };
    try {
      await jsm.streams.add(config);
    } catch (err) {
      if (config.num_replicas === 1) throw err;
      log?.warn({ err, replicas: config.num_replicas }, 'cannot replicate the event stream; keeping one copy');
      await jsm.streams.add({ ...config, num_replicas: 1 });
    }
  }
  return jsm;
}

/** A durable consumer for one run's events: a restarted controller resumes where this one stopped. */
export async function ensureRunConsumer(jsm: JetStreamManager, runId: string): Promise<string> {
  const durable = runConsumerName(runId);
  try {
    await jsm.consumers.info(EVENT_STREAM, durable);
  } catch {
    await jsm.consumers.add(EVENT_STREAM, {
      durable_name: durable,
      filter_subject: runEventsSubject(runId),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 10_000,
    });
  }
  return durable;
}

export function runConsumerName(runId: string): string {
  return `run-${runId}`;
}
