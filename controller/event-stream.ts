import { ALL_EVENTS_SUBJECT, runEventsSubject } from '../events/contract';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager, type NatsConnection } from 'nats';

export const EVENT_STREAM = 'FAULTLINE_EVENTS';

/**
 * Creates the JetStream stream that captures every run's events, or leaves it as it is. Deduplication by message id
 * (over the window) makes the agents' resends after a crash or a lost ack idempotent.
 */
export async function ensureEventStream(nc: NatsConnection): Promise<JetStreamManager> {
  const jsm = await nc.jetstreamManager({ timeout: 10_000 });
  try {
    await jsm.streams.info(EVENT_STREAM);
  } catch {
    await jsm.streams.add({
      name: EVENT_STREAM,
      subjects: [ALL_EVENTS_SUBJECT],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      duplicate_window: 10 * 60 * 1e9,
      max_bytes: 4 * 1024 ** 3,
      max_age: 7 * 24 * 3600 * 1e9,
    });
  }
  return jsm;
}

/** A durable consumer for one run's events: a restarted controller resumes where this one stopped. */
export async function ensureRunConsumer(jsm: JetStreamManager, runId: string): Promise<string> {
  const durable = `run-${runId}`;
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
