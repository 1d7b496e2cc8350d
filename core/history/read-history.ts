/**
 * Reads a history file in any format `faultline check` accepts: our history.jsonl, Jepsen/Knossos EDN
 * (one op map per line, one whole vector/list, or `#jepsen.history.Op{...}` records), Jepsen's `history.txt`,
 * Porcupine's etcd log and kv formats. Files are read in chunks, so a large file is never one string.
 * `readHistoryFile` is the only I/O here; everything else is pure.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { HistoryFormatError, namingFile } from '../errors';
import { ETCD_LINE, TXT_LINE, forEachLine, parseEdnOps, parseEtcdLog, parseJepsenTxt, parseProcess, parseType, type ReadOps } from './edn-history';
import type { Op } from './operation';

export type HistoryFormat = 'jsonl' | 'edn' | 'jepsen-txt' | 'porcupine-etcd' | 'porcupine-kv';

const CHUNK_BYTES = 4 << 20;

/** The file's text, chunk by chunk (UTF-8 decoded; a chunk may end anywhere). */
function* fileChunks(fd: number, first: string): Generator<string> {
  if (first !== '') yield first;
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  const dec = new StringDecoder('utf8');
  for (;;) {
    const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
    if (n === 0) break;
    const s = dec.write(buf.subarray(0, n));
    if (s !== '') yield s;
  }
  const rest = dec.end();
  if (rest !== '') yield rest;
}

/**
 * Reads and parses one history file, streaming it in chunks.
 * @throws HistoryFormatError(detail, line, file) when the file cannot be read or parsed.
 */
export function readHistoryFile(path: string): { format: HistoryFormat; ops: Op[] } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new HistoryFormatError(`cannot open file (${code})`, undefined, path, { cause: err });
  }
  try {
    // Enough of the start to detect the format: whole lines, up to 64 KiB.
    const head = Buffer.allocUnsafe(1 << 16);
    let n: number;
    try {
      n = readSync(fd, head, 0, head.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      throw new HistoryFormatError(`cannot read file (${code})`, undefined, path, { cause: err });
    }
    const dec = new StringDecoder('utf8');
    const first = dec.write(head.subarray(0, n));
    const empty = first.trim() === '' && n < head.length;
    // A .jsonl file is JSON lines whatever its first line looks like: a broken first line must be reported as
    // broken JSON, not as a bad EDN op map.
    const format: HistoryFormat = empty && path.endsWith('.log') ? 'porcupine-etcd' : path.endsWith('.jsonl') ? 'jsonl' : detectHistoryFormat(first);
    // The decoder may hold the first bytes of a split character: hand them to the chunk reader.
    const held = dec.end();
    return { format, ops: parseChunks(format, fileChunks(fd, first + held), path, first) };
  } finally {
    closeSync(fd);
  }
}

/** Guesses the format from the first meaningful line. */
export function detectHistoryFormat(text: string): HistoryFormat {
  for (const raw of text.split('\n', 200)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) continue;
    if (ETCD_LINE.test(line)) return 'porcupine-etcd';
    if (TXT_LINE.test(raw.trimStart())) return 'jepsen-txt';
    if (line.startsWith('{"') || line.startsWith('{ "')) return 'jsonl';
    if (line.startsWith('{:') && /:key\s/.test(line) && /:f\s+:(get|put|append)\b/.test(line)) return 'porcupine-kv';
    return 'edn';
  }
  return 'jsonl';
}

/**
 * Detects the format and parses every event into an `Op` (index = event position, line = source line).
 * Keywords become plain strings, EDN maps plain objects keyed by keyword name, sets arrays.
 * Jepsen formats: events are put in `:index` order when every event has one (as Jepsen orders them), else file
 * order; times are kept only when every event has one and they never decrease in that order (else the order of
 * events is their real-time order).
 * @throws HistoryFormatError(detail, line, file)
 */
export function parseHistoryText(text: string, file?: string): { format: HistoryFormat; ops: Op[] } {
  const format = file !== undefined && file.endsWith('.jsonl') ? 'jsonl' : detectHistoryFormat(text);
  return { format, ops: parseChunks(format, [text], file, text.slice(0, 1 << 16)) };
}

/** `head`: the start of the file, to say why it was read as `format` when it cannot be. */
function parseChunks(format: HistoryFormat, chunks: Iterable<string>, file: string | undefined, head: string): Op[] {
  try {
    let read: ReadOps;
    switch (format) {
      case 'jsonl':
        return parseJsonl(chunks);
      case 'porcupine-etcd':
        read = parseEtcdLog(chunks);
        break;
      case 'jepsen-txt':
        read = parseJepsenTxt(chunks);
        break;
      case 'edn':
      case 'porcupine-kv':
        read = parseEdnOps(chunks);
        break;
    }
    const ops = orderByJepsenIndex(read);
    normaliseTimes(ops);
    return ops;
  } catch (err) {
    const named = err instanceof HistoryFormatError ? readAs(err, format, head, file) : err;
    throw file !== undefined ? namingFile(named, file) : named;
  }
}

const FORMAT_NAMES: Record<HistoryFormat, string> = {
  jsonl: 'JSON lines',
  edn: 'Jepsen EDN',
  'jepsen-txt': "Jepsen's history.txt",
  'porcupine-etcd': 'a Porcupine etcd log',
  'porcupine-kv': 'Porcupine kv EDN',
};

/** The error with the format the file was read as named in it, and why (its name, or a guess from its first line). */
function readAs(err: HistoryFormatError, format: HistoryFormat, head: string, file: string | undefined): HistoryFormatError {
  if (err.readAs !== undefined) return err;
  const byName = format === 'jsonl' && file?.endsWith('.jsonl') === true;
  const first = head.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith(';'))?.trim() ?? '';
  const hint = format === 'edn' && first.startsWith('{') && !first.startsWith('{:') ? '; JSON lines must start with {" or be named .jsonl' : '';
  const why = byName ? 'by its .jsonl name' : `from its first line${hint}`;
  return new HistoryFormatError(err.detail, err.line, err.file, { cause: err, readAs: `${FORMAT_NAMES[format]}, ${why}` });
}

/**
 * Jepsen orders a history by `:index`. When every event has one and file order differs, events are sorted by it
 * (and re-numbered by position); a repeated `:index` is malformed. Sparse or missing indices: file order.
 */
function orderByJepsenIndex({ ops, jepsenIndex }: ReadOps): Op[] {
  let sorted = true;
  for (let i = 0; i < ops.length; i++) {
    const x = jepsenIndex[i];
    if (x === undefined) return ops;
    if (i > 0 && x <= jepsenIndex[i - 1]!) sorted = false;
  }
  if (sorted) return ops;
  const order = ops.map((_, i) => i).sort((a, b) => jepsenIndex[a]! - jepsenIndex[b]! || a - b);
  for (let i = 1; i < order.length; i++) {
    if (jepsenIndex[order[i]!] === jepsenIndex[order[i - 1]!]) {
      const a = ops[order[i - 1]!]!;
      const b = ops[order[i]!]!;
      throw new HistoryFormatError(`two events have :index ${jepsenIndex[order[i]!]!} (the other is on line ${Math.min(a.line ?? 0, b.line ?? 0)})`, Math.max(a.line ?? 0, b.line ?? 0));
    }
  }
  return order.map((j, i) => {
    const op = ops[j]!;
    op.index = i;
    return op;
  });
}

function normaliseTimes(ops: Op[]): void {
  let last = -Infinity;
  for (const op of ops) {
    if (op.time === undefined || op.time < last) {
      for (const o of ops) delete o.time;
      return;
    }
    last = op.time;
  }
}

function parseJsonl(chunks: Iterable<string>): Op[] {
  const ops: Op[] = [];
  forEachLine(chunks, (rawLine, line) => {
    const raw = rawLine.trim();
    if (raw === '') return;
    let o: unknown;
    try {
      o = JSON.parse(raw);
    } catch (err) {
      throw new HistoryFormatError(`invalid JSON (${(err as Error).message})`, line);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new HistoryFormatError('expected one JSON object per line', line);
    const r = o as Record<string, unknown>;
    if (typeof r.f !== 'string') throw new HistoryFormatError('field "f" must be a string', line);
    const op: Op = { index: ops.length, type: parseType(r.type, line), process: parseProcess(r.process, line), f: r.f, value: r.value ?? null, line };
    if (r.key !== undefined && r.key !== null) op.key = typeof r.key === 'string' ? r.key : JSON.stringify(r.key);
    for (const k of ['time', 'uncertainty', 'seq'] as const) {
      const v = r[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || (k !== 'time' && v < 0)) {
        throw new HistoryFormatError(`field "${k}" must be a ${k === 'time' ? '' : 'non-negative '}number of ${k === 'seq' ? 'events' : 'nanoseconds'}`, line);
      }
      op[k] = v;
    }
    if (typeof r.node === 'string') op.node = r.node;
    if (r.error !== undefined && r.error !== null) op.error = typeof r.error === 'string' ? r.error : JSON.stringify(r.error);
    if (op.type === 'ok' && op.process !== 'nemesis' && !('value' in r)) {
      // A missing value would read as nil, which some models take as an observation ("key absent").
      throw new HistoryFormatError('an "ok" completion must carry "value" (null for nil)', line);
    }
    ops.push(op);
  });
  // Times and line numbers are different scales: a history gives every client event a time, or none (nemesis
  // events are not ordered against operations by any checker).
  const client = ops.filter((o) => o.process !== 'nemesis');
  const timed = client.filter((o) => o.time !== undefined).length;
  if (timed > 0 && timed < client.length) {
    const untimed = client.find((o) => o.time === undefined)!;
    throw new HistoryFormatError('some events have a "time" and this one has none: give every event a time, or none', untimed.line);
  }
  return ops;
}

