/**
 * The event contract in one place, for agent and controller alike: the NATS subject scheme and the codec of an
 * event (proto/events.proto). Nothing else encodes, decodes or names an event subject; the raw file's records are
 * the codec's JSON form of the same message, never a hand-written copy.
 */
import { Event } from '../proto/gen/events';

/** One event as published (binary) and as written to events.raw.jsonl (its JSON form). */
export type EventRecord = Event;

/** Every run's events, all publishers: what the JetStream stream captures. */
export const ALL_EVENTS_SUBJECT = 'faultline.events.>';

/** Subject for one publisher's events in one run. Run ids and node names are NATS-token safe. */
export function eventSubject(runId: string, node: string): string {
  return `faultline.events.${runId}.${node}`;
}

/** Every publisher's events of one run: what the run's consumer filters on. */
export function runEventsSubject(runId: string): string {
  return `faultline.events.${runId}.>`;
}

/** The message id JetStream deduplicates by: a resend of the same event is stored once. */
export function eventMessageId(runId: string, node: string, seq: number): string {
  return `${runId}.${node}.${seq}`;
}

export function encodeEvent(ev: EventRecord): Uint8Array {
  return Event.toBinary(ev);
}

/** @throws Error when `data` is not an encoded event. */
export function decodeEvent(data: Uint8Array): EventRecord {
  return Event.fromBinary(data);
}

/** The event as one line of events.raw.jsonl (every field present). */
export function eventToJsonLine(ev: EventRecord): string {
  return JSON.stringify(Event.toJson(ev, { emitDefaultValues: true }));
}

/**
 * A line of events.raw.jsonl read back: the JSON form's numbers may be strings (int64) or numbers; callers take
 * them with Number().
 */
export type RawEvent = { [K in keyof EventRecord]: EventRecord[K] extends number ? number | string : EventRecord[K] };
