import { createReadStream, createWriteStream } from 'node:fs';
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
 * publisher's own order), numbers them and writes `history.jsonl`, streamed line by line: an hours-long soak's
 * history is larger than the longest string V8 can build. Returns the ops.
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
  // Numbered in place (no second array of copies), with `index` first in each line as readers expect.
  const out = createWriteStream(historyPath);
  const done = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  const history = ops as Op[]; // the same array, each element replaced by its numbered op below
  let chunk = '';
  for (let i = 0; i < ops.length; i++) {
    history[i] = { index: i, ...ops[i]! };
    chunk += `${JSON.stringify(history[i])}\n`;
    if (chunk.length >= 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  out.end(chunk);
  await done;
  return history;
}
