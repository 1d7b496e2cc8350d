/**
 * The event contract in one place, for agent and controller alike: the NATS subject scheme and the codec of an
 * event (proto/events.proto). Nothing else encodes, decodes or names an event subject; the raw file's records are
 * the codec's JSON form of the same message, never a hand-written copy.
 */
import type { JsonValue } from '@protobuf-ts/runtime';
import { Event, EventBatch } from '../proto/gen/events';

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

/**
 * Subject on which the controller says, as a decimal number S, that every event 1..S of `node` in `runId` is on its
 * disk (fsynced in events.raw.jsonl). Core NATS, not JetStream: an acknowledgement that is lost is repeated by the
 * next one. An agent listens on `writtenAckSubject('*', node)`.
 */
export function writtenAckSubject(runId: string, node: string): string {
  return `faultline.acks.${runId}.${node}`;
}

/**
 * Subject on which online checking publishes each anomaly it finds during a run: one JSON message per anomaly
 * (`{ checker, anomaly, operations, time, ... }`, controller/online/online-check.ts). Core NATS, not in the stream.
 */
export function alertsSubject(runId: string): string {
  return `faultline.${runId}.alerts`;
}

/** NATS header marking a message whose data is an `EventBatch` (its value: how many events it holds). */
export const BATCH_HEADER = 'Faultline-Batch';

/** The message id of a batch holding events `from..to`: a resend of the same batch is stored once. */
export function batchMessageId(runId: string, node: string, from: number, to: number): string {
  return `${runId}.${node}.${from}-${to}`;
}

/**
 * An `EventBatch` made of events already encoded with `encodeEvent`, without decoding them again: its wire form is
 * each event's encoding framed as field 1 (tag 0x0a, varint length).
 */
export function encodeBatch(encoded: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const r of encoded) {
    const frame = [0x0a];
    let n = r.length;
    while (n > 0x7f) {
      frame.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    frame.push(n);
    const header = Uint8Array.from(frame);
    parts.push(header, r);
    size += header.length + r.length;
  }
  return Buffer.concat(parts, size);
}

/**
 * The events of one NATS message: an `EventBatch` when the message has the batch header, else one event.
 * @throws Error when `data` is neither.
 */
export function decodeMessage(data: Uint8Array, isBatch: boolean): EventRecord[] {
  return isBatch ? EventBatch.fromBinary(data).events : [Event.fromBinary(data)];
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

/** A line of events.raw.jsonl, parsed, as the event it was written from. @throws Error when it is not one. */
export function rawToEvent(raw: RawEvent): EventRecord {
  return Event.fromJson(raw as unknown as JsonValue);
}
