/**
 * Taking over a run's durable consumer after its controller died. The dead controller may hold pulled messages it
 * never acknowledged; JetStream redelivers those only after the consumer's ack wait (30 s). So the consumer is made
 * again under the same name, starting right after its acknowledgement floor: every message the dead controller
 * did not acknowledge (the ones it had not fsynced yet, and everything after) comes at once, and the collector drops
 * what is already in events.raw.jsonl by (node, seq).
 */
import { AckPolicy, DeliverPolicy, type JetStreamManager } from 'nats';
import { decodeEvent, eventSubject, runEventsSubject, type EventRecord } from '../../events/contract';
import { CONTROLLER_NODE } from '../controller-events';
import { EVENT_STREAM } from '../event-stream';

export interface ConsumerTakeover {
  consumer: string;
  /** The stream sequence the new consumer starts at; undefined when there was no consumer to take over. */
  fromStreamSeq?: number;
  /** Messages the dead controller had pulled and not acknowledged. */
  unackedByDead?: number;
  /** Messages the old consumer had not delivered yet. */
  pending?: number;
}

function isNotFound(err: unknown): boolean {
  return /not found/i.test(String((err as Error).message));
}

/** @throws Error from JetStream other than "consumer not found". */
export async function takeOverConsumer(jsm: JetStreamManager, consumer: string, runId: string): Promise<ConsumerTakeover> {
  const info = await jsm.consumers.info(EVENT_STREAM, consumer).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (!info) return { consumer }; // the collector makes it anew from the stream's start; resends fill the rest
  const from = Math.max(1, info.ack_floor.stream_seq + 1);
  await jsm.consumers.delete(EVENT_STREAM, consumer);
  await jsm.consumers.add(EVENT_STREAM, {
    durable_name: consumer,
    filter_subject: runEventsSubject(runId),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: from,
    max_ack_pending: 10_000,
  });
  return { consumer, fromStreamSeq: from, unackedByDead: info.num_ack_pending, pending: info.num_pending };
}

/**
 * The last controller event of the run that JetStream holds (it may not be in events.raw.jsonl yet), or undefined.
 * @throws Error from JetStream other than "no message found".
 */
export async function lastControllerEvent(jsm: JetStreamManager, runId: string): Promise<EventRecord | undefined> {
  try {
    const m = await jsm.streams.getMessage(EVENT_STREAM, { last_by_subj: eventSubject(runId, CONTROLLER_NODE) });
    return decodeEvent(m.data);
  } catch (err) {
    if (/no message found|not found/i.test(String((err as Error).message))) return undefined;
    throw err;
  }
}
