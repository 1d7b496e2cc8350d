/**
 * Turns the raw events a run collected (`events.raw.jsonl`, in arrival order) into `history.jsonl`: ordered on the
 * run's timeline, numbered. Memory stays bounded however long the run was: events are sorted in chunks that are
 * spilled to disk and then merged (an external merge sort), and lines are streamed, never joined into one string.
 */
import { createReadStream, createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Op, OpType } from '../core/history/operation';
import type { RawEvent } from './history-collector';

const OP_TYPES = new Set<OpType>(['invoke', 'ok', 'fail', 'info']);

/** How many events are sorted in memory at a time before a chunk is spilled (about 100-200 MB of objects). */
export const DEFAULT_CHUNK_EVENTS = 250_000;

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

/** Timeline order; ties by node and sequence, which keeps each publisher's own order. */
function compareOps(a: Omit<Op, 'index'>, b: Omit<Op, 'index'>): number {
  return a.time! - b.time! || (a.node! < b.node! ? -1 : a.node! > b.node! ? 1 : a.seq! - b.seq!);
}

/** Buffered line writer that respects backpressure. */
class LineWriter {
  #out: WriteStream;
  #chunk = '';
  #done: Promise<void>;

  constructor(path: string) {
    this.#out = createWriteStream(path);
    this.#done = new Promise<void>((resolve, reject) => {
      this.#out.once('finish', resolve);
      this.#out.once('error', reject);
    });
  }

  async write(line: string): Promise<void> {
    this.#chunk += `${line}\n`;
    if (this.#chunk.length < 1 << 20) return;
    const chunk = this.#chunk;
    this.#chunk = '';
    if (!this.#out.write(chunk)) await new Promise<void>((resolve) => this.#out.once('drain', () => resolve()));
  }

  async close(): Promise<void> {
    this.#out.end(this.#chunk);
    this.#chunk = '';
    await this.#done;
  }
}

/** Reads a jsonl file one parsed line at a time. */
async function* jsonLines<T>(path: string): AsyncGenerator<T> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as T;
}

/** The ops of a history.jsonl file, one at a time, without holding the file in memory. */
export function readHistoryOps(historyPath: string): AsyncGenerator<Op> {
  return jsonLines<Op>(historyPath);
}

/** A binary min-heap of the merge's current heads, by timeline order. */
class MergeHeap {
  #items: { op: Omit<Op, 'index'>; source: number }[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(item: { op: Omit<Op, 'index'>; source: number }): void {
    const a = this.#items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (compareOps(a[parent]!.op, a[i]!.op) <= 0) break;
      [a[parent], a[i]] = [a[i]!, a[parent]!];
      i = parent;
    }
  }

  pop(): { op: Omit<Op, 'index'>; source: number } {
    const a = this.#items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && compareOps(a[l]!.op, a[m]!.op) < 0) m = l;
        if (r < a.length && compareOps(a[r]!.op, a[m]!.op) < 0) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Reads the raw events file, orders the events on the run's timeline, numbers them and writes `history.jsonl`.
 * At most `chunkEvents` events are in memory at once. Returns the number of events written.
 */
export async function buildHistoryFile(rawPath: string, historyPath: string, opts: { chunkEvents?: number } = {}): Promise<number> {
  const chunkEvents = opts.chunkEvents ?? DEFAULT_CHUNK_EVENTS;
  const runs: string[] = [];
  let chunk: Omit<Op, 'index'>[] = [];
  const spill = async (): Promise<void> => {
    chunk.sort(compareOps);
    const path = `${historyPath}.chunk${runs.length}`;
    runs.push(path);
    const w = new LineWriter(path);
    for (const op of chunk) await w.write(JSON.stringify(op));
    await w.close();
    chunk = [];
  };
  try {
    for await (const ev of jsonLines<RawEvent>(rawPath)) {
      chunk.push(eventToOp(ev));
      if (chunk.length >= chunkEvents) await spill();
    }
    const out = new LineWriter(historyPath);
    let index = 0;
    if (runs.length === 0) {
      // Everything fit in one chunk: no merge needed.
      chunk.sort(compareOps);
      for (const op of chunk) await out.write(JSON.stringify({ index: index++, ...op }));
      chunk = [];
    } else {
      if (chunk.length > 0) await spill();
      const sources = runs.map((path) => jsonLines<Omit<Op, 'index'>>(path));
      const heap = new MergeHeap();
      for (let s = 0; s < sources.length; s++) {
        const first = await sources[s]!.next();
        if (!first.done) heap.push({ op: first.value, source: s });
      }
      while (heap.size > 0) {
        const { op, source } = heap.pop();
        await out.write(JSON.stringify({ index: index++, ...op }));
        const next = await sources[source]!.next();
        if (!next.done) heap.push({ op: next.value, source });
      }
    }
    await out.close();
    return index;
  } finally {
    for (const path of runs) rmSync(path, { force: true });
  }
}

/**
 * `buildHistoryFile`, then the whole history read back into memory: for short runs and tests. A long run's
 * controller streams the file instead (`readHistoryOps`).
 */
export async function buildHistory(rawPath: string, historyPath: string, opts: { chunkEvents?: number } = {}): Promise<Op[]> {
  await buildHistoryFile(rawPath, historyPath, opts);
  const ops: Op[] = [];
  for await (const op of readHistoryOps(historyPath)) ops.push(op);
  return ops;
}
