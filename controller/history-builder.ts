import { createReadStream, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Op, OpType } from '../core/history/operation';
import type { RawEvent } from './history-collector';

const OP_TYPES = new Set<OpType>(['invoke', 'ok', 'fail', 'info']);

/** Turns one decoded event into a history op (without its index). */
export function eventToOp(ev: RawEvent): Omit<Op, 'index'> {
  const process = Number(ev.process);
  if (!OP_TYPES.has(ev.type as OpType)) throw new Error(`Cannot build history: event ${ev.node}#${ev.seq} has type "${ev.type}"`);
  const op: Omit<Op, 'index'> = {
    type: ev.type as OpType,
    process: process < 0 ? 'nemesis' : process,
    f: ev.f,
    value: ev.valueJson ? (JSON.parse(ev.valueJson) as unknown) : null,
    time: Number(ev.timeNanos),
    uncertainty: Number(ev.uncertaintyNanos),
    node: ev.node,
    seq: Number(ev.seq),
  };
  if (ev.key) op.key = ev.key;
  if (ev.error) op.error = ev.error;
  return op;
}

/**
 * Reads the raw events file, orders the events on the run's timeline (ties by node and sequence, which keeps each
 * publisher's own order), numbers them and writes `history.jsonl`. Returns the ops.
 */
export async function buildHistory(rawPath: string, historyPath: string): Promise<Op[]> {
  const ops: Omit<Op, 'index'>[] = [];
  const lines = createInterface({ input: createReadStream(rawPath), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    ops.push(eventToOp(JSON.parse(line) as RawEvent));
  }
  ops.sort(
    (a, b) => a.time! - b.time! || (a.node! < b.node! ? -1 : a.node! > b.node! ? 1 : a.seq! - b.seq!),
  );
  const history: Op[] = ops.map((op, index) => ({ index, ...op }));
  writeFileSync(historyPath, history.map((op) => JSON.stringify(op)).join('\n') + (history.length ? '\n' : ''));
  return history;
}
