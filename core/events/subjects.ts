/**
 * The NATS subject scheme shared by agents and the controller. Run ids and node names are NATS-token safe.
 */

/** Subject for one publisher's events in one run (captured by the event stream). */
export function eventSubject(runId: string, node: string): string {
  return `faultline.events.${runId}.${node}`;
}

/**
 * Subject on which the controller says, as a decimal number S, that every event 1..S of `node` in `runId` is on its
 * disk (fsynced). Core NATS, not JetStream: an acknowledgement that is lost is repeated by the next one.
 */
export function writtenAckSubject(runId: string, node: string): string {
  return `faultline.acks.${runId}.${node}`;
}

/** NATS header marking a message whose data is an `EventBatch` (its value: how many events it holds). */
export const BATCH_HEADER = 'Faultline-Batch';
