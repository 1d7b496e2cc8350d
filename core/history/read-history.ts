/**
 * Reads a history file in any format `faultline check` accepts: our history.jsonl, Jepsen/Knossos EDN
 * (one op map per line, one whole vector/list, or `#jepsen.history.Op{...}` records), Jepsen's `history.txt`,
 * Porcupine's etcd log and kv formats. Files are read in chunks, so a large file is never one string.
 * `readHistoryFile` is the only I/O here; everything else is pure.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { HistoryFormatError, namingFile } from '../errors';
import { ETCD_LINE, TXT_LINE, forEachLine, parseEdnBytes, parseEdnColumns, parseEdnOps, parseEtcdLog, parseJepsenTxt, parseProcess, parseType, type ReadColumns, type ReadOps } from './edn-history';
import { HistoryColumns } from './columns';
import { JsonlColumnScanner } from './jsonl-columns';
import { JsonlOpScanner } from './jsonl-scan';
import { newOp } from './op-shape';
import type { Op } from './operation';

export type HistoryFormat = 'jsonl' | 'edn' | 'jepsen-txt' | 'porcupine-etcd' | 'porcupine-kv';

const CHUNK_BYTES = 4 << 20;

/**
 * The file's bytes, chunk by chunk. Each chunk ends after a newline byte (always a character boundary in UTF-8),
 * except the last. The chunk is a view of one reused buffer: read it before asking for the next.
 */
function* fileByteChunks(fd: number, first: Buffer): Generator<Buffer> {
  let buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, first.length * 2));
  first.copy(buf, 0);
  let have = first.length;
  for (;;) {
    if (have === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2); // one line longer than a chunk
      buf.copy(bigger, 0, 0, have);
      buf = bigger;
    }
    const n = readSync(fd, buf, have, buf.length - have, null);
    have += n;
    if (n === 0) {
      if (have > 0) yield buf.subarray(0, have);
      return;
    }
    const cut = buf.subarray(0, have).lastIndexOf(10) + 1;
    if (cut === 0) continue;
    yield buf.subarray(0, cut);
    buf.copy(buf, 0, cut, have);
    have -= cut;
  }
}

/** The file's text, chunk by chunk (as fileByteChunks cuts it); an all-ASCII chunk is decoded as Latin-1, a copy. */
function* textChunks(chunks: Iterable<Buffer>): Generator<string> {
  for (const b of chunks) yield b.toString(isAscii(b) ? 'latin1' : 'utf8');
}

/**
 * Reads and parses one history file, streaming it in chunks.
 * @throws HistoryFormatError(detail, line, file) when the file cannot be read or parsed.
 */
export function readHistoryFile(path: string): { format: HistoryFormat; ops: Op[] } {
  const { fd, format, first, head } = openHistory(path);
  try {
    return { format, ops: parseByteChunks(format, fileByteChunks(fd, first), path, head) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads one history file into columns (columns.ts), streaming it in chunks: what `faultline check` reads, where
 * a checker takes columns. history.jsonl and Jepsen EDN are read straight into them; other formats as ops first.
 * The events are exactly readHistoryFile's (`toOps()` gives its ops), and so is any error.
 * @throws HistoryFormatError(detail, line, file) when the file cannot be read or parsed.
 */
export function readHistoryColumns(path: string): { format: HistoryFormat; columns: HistoryColumns } {
  const { fd, format, first, head } = openHistory(path);
  try {
    // About one event per 100 bytes (our lines and Jepsen's are 80-130 bytes): the arrays are sized once.
    const expected = Math.ceil(fstatSync(fd).size / 100);
    return { format, columns: parseColumnChunks(format, fileByteChunks(fd, first), path, head, true, expected) };
  } finally {
    closeSync(fd);
  }
}

/**
 * As {@link parseHistoryBytes}, into columns. `fast` false reads every line the slow way (for tests).
 * @throws HistoryFormatError(detail, line, file)
 */
export function parseHistoryBytesColumns(bytes: Buffer, file?: string, fast = true): { format: HistoryFormat; columns: HistoryColumns } {
  const head = bytes.subarray(0, 1 << 16).toString('utf8');
  const format = file !== undefined && file.endsWith('.jsonl') ? 'jsonl' : detectHistoryFormat(head);
  return { format, columns: parseColumnChunks(format, [bytes], file, head, fast) };
}

function parseColumnChunks(format: HistoryFormat, chunks: Iterable<Buffer>, file: string | undefined, head: string, fast = true, expected?: number): HistoryColumns {
  try {
    switch (format) {
      case 'jsonl':
        return parseJsonlColumns(chunks, fast, expected);
      case 'edn':
      case 'porcupine-kv': {
        const r = parseEdnColumns(chunks, fast, expected);
        orderColumnsByJepsenIndex(r);
        normaliseColumnTimes(r.columns);
        return r.columns;
      }
      default:
        return HistoryColumns.fromOps(parseByteChunks(format, chunks, file, head, fast));
    }
  } catch (err) {
    const named = err instanceof HistoryFormatError ? readAs(err, format, head, file) : err;
    throw file !== undefined ? namingFile(named, file) : named;
  }
}

/** orderByJepsenIndex, on columns. */
function orderColumnsByJepsenIndex({ columns, jepsenIndex }: ReadColumns): void {
  const n = columns.length;
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const x = jepsenIndex[i]!;
    if (Number.isNaN(x)) return;
    if (i > 0 && x <= jepsenIndex[i - 1]!) sorted = false;
  }
  if (sorted) return;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => jepsenIndex[a]! - jepsenIndex[b]! || a - b);
  for (let i = 1; i < n; i++) {
    if (jepsenIndex[order[i]!] === jepsenIndex[order[i - 1]!]) {
      const a = columns.line[order[i - 1]!]!;
      const b = columns.line[order[i]!]!;
      throw new HistoryFormatError(`two events have :index ${jepsenIndex[order[i]!]!} (the other is on line ${Math.min(a, b)})`, Math.max(a, b));
    }
  }
  columns.reorder(order);
}

/** normaliseTimes, on columns. */
function normaliseColumnTimes(c: HistoryColumns): void {
  let last = -Infinity;
  for (let i = 0; i < c.length; i++) {
    const t = c.time[i]!;
    if (Number.isNaN(t) || t < last) {
      c.time.fill(NaN, 0, c.length);
      return;
    }
    last = t;
  }
}

/** Opens a history file and reads enough of its start (up to 64 KiB) to detect the format. */
function openHistory(path: string): { fd: number; format: HistoryFormat; first: Buffer; head: string } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new HistoryFormatError(`cannot open file (${code})`, undefined, path, { cause: err });
  }
  try {
    const head = Buffer.allocUnsafe(1 << 16);
    let n: number;
    try {
      n = readSync(fd, head, 0, head.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'read error';
      throw new HistoryFormatError(`cannot read file (${code})`, undefined, path, { cause: err });
    }
    const first = head.subarray(0, n);
    const text = new StringDecoder('utf8').write(first);
    // A .jsonl file is JSON lines whatever its first line looks like: a broken first line must be reported as
    // broken JSON, not as a bad EDN op map.
    const format: HistoryFormat =
      text.trim() === '' && n < head.length && path.endsWith('.log') ? 'porcupine-etcd' : path.endsWith('.jsonl') ? 'jsonl' : detectHistoryFormat(text);
    return { fd, format, first, head: text };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Reads one history file as readHistoryFile does, giving its ops to `onOps` in order, a batch at a time (the array is
 * reused: keep the ops, not it). JSON lines are streamed, so the file's ops are never all held at once; other
 * formats are read whole first (Jepsen EDN is put in :index order). Any read error is thrown after the batches
 * before it were given.
 * @throws HistoryFormatError(detail, line, file) as readHistoryFile does.
 */
export function forEachHistoryOp(path: string, onOps: (ops: readonly Op[]) => void): { format: HistoryFormat } {
  const { fd, format, first, head } = openHistory(path);
  try {
    if (format !== 'jsonl') {
      onOps(parseByteChunks(format, fileByteChunks(fd, first), path, head));
      return { format };
    }
    parsing(format, path, head, () => parseJsonlBytes(fileByteChunks(fd, first), true, onOps));
    return { format };
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
  return { format, ops: parsing(format, file, text.slice(0, 1 << 16), () => parseChunks(format, [text])) };
}

/**
 * As {@link parseHistoryText}, from the file's bytes: JSON lines and EDN op maps of the common shape are read
 * straight from the bytes (jsonl-scan.ts, edn-scan.ts), every other line as parseHistoryText reads it, so the ops
 * (and any error) are exactly parseHistoryText's. `fast` false reads every line the slow way (for tests).
 * @throws HistoryFormatError(detail, line, file)
 */
export function parseHistoryBytes(bytes: Buffer, file?: string, fast = true): { format: HistoryFormat; ops: Op[] } {
  const head = bytes.subarray(0, 1 << 16).toString('utf8');
  const format = file !== undefined && file.endsWith('.jsonl') ? 'jsonl' : detectHistoryFormat(head);
  return { format, ops: parseByteChunks(format, [bytes], file, head, fast) };
}

/** `head`: the start of the file, to say why it was read as `format` when it cannot be. */
function parseByteChunks(format: HistoryFormat, chunks: Iterable<Buffer>, file: string | undefined, head: string, fast = true): Op[] {
  return parsing(format, file, head, () => {
    switch (format) {
      case 'jsonl':
        return parseJsonlBytes(chunks, fast);
      case 'edn':
      case 'porcupine-kv':
        return parseEdnBytes(chunks, fast);
      default:
        return parseChunks(format, textChunks(chunks));
    }
  });
}

function parseChunks(format: HistoryFormat, chunks: Iterable<string>): Op[] | ReadOps {
  switch (format) {
    case 'jsonl':
      return parseJsonl(chunks);
    case 'porcupine-etcd':
      return parseEtcdLog(chunks);
    case 'jepsen-txt':
      return parseJepsenTxt(chunks);
    case 'edn':
    case 'porcupine-kv':
      return parseEdnOps(chunks);
  }
}

/** Runs a reader: Jepsen formats put in order, and any format error named with the file and the format. */
function parsing(format: HistoryFormat, file: string | undefined, head: string, read: () => Op[] | ReadOps): Op[] {
  try {
    const r = read();
    if (Array.isArray(r)) return r;
    const ops = orderByJepsenIndex(r);
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

const NUMBER_FIELDS = ['time', 'uncertainty', 'seq'] as const;

/** One parsed JSON line as an Op. @throws HistoryFormatError naming the line. */
function jsonlOp(o: unknown, line: number, index: number): Op {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new HistoryFormatError('expected one JSON object per line', line);
  const r = o as Record<string, unknown>;
  if (typeof r.f !== 'string') throw new HistoryFormatError('field "f" must be a string', line);
  const op = newOp(index, parseType(r.type, line), parseProcess(r.process, line), r.f, r.value ?? null, line);
  if (r.key !== undefined && r.key !== null) op.key = typeof r.key === 'string' ? r.key : JSON.stringify(r.key);
  for (const k of NUMBER_FIELDS) {
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
  return op;
}

function parseJsonl(chunks: Iterable<string>): Op[] {
  const ops: Op[] = [];
  let line = 0;
  // A block of whole lines (each ending in a newline) is parsed as one JSON array, which is several times faster
  // than a parse per line; a block that does not parse so (a blank line, a malformed one) is read line by line,
  // which names the line.
  const block = (body: string): void => {
    let lines = 0;
    for (let i = body.indexOf('\n'); i >= 0; i = body.indexOf('\n', i + 1)) lines++;
    let all: unknown;
    try {
      all = JSON.parse(`[${body.slice(0, -1).replaceAll('\n', ',')}]`);
    } catch {
      all = undefined;
    }
    if (Array.isArray(all) && all.length === lines) {
      for (let i = 0; i < lines; i++) ops.push(jsonlOp(all[i], line + 1 + i, ops.length));
      line += lines;
      return;
    }
    forEachLine([body], (rawLine, l) => jsonlLine(rawLine, line + l, ops));
    line += lines;
  };
  let carry = '';
  for (const chunk of chunks) {
    const s = carry === '' ? chunk : carry + chunk;
    const cut = s.lastIndexOf('\n') + 1;
    carry = s.slice(cut);
    if (cut > 0) block(s.slice(0, cut));
  }
  if (carry.trim() !== '') block(`${carry}\n`);
  return checkJsonlTimes(ops);
}

/** One line of JSON lines read the slow way (JSON.parse, then jsonlOp), pushed onto `ops`; blank lines push nothing. */
function jsonlLine(rawLine: string, line: number, ops: Op[], index = ops.length): void {
  const raw = rawLine.trim();
  if (raw === '') return;
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch (err) {
    throw new HistoryFormatError(`invalid JSON (${(err as Error).message})`, line);
  }
  ops.push(jsonlOp(o, line, index));
}

/**
 * JSON lines from the file's bytes: the common line by JsonlOpScanner, any other by jsonlLine. With `onOps`, the
 * ops go to it a few hundred at a time (in a reused array) and are not kept; the times check is done all the same.
 */
function parseJsonlBytes(chunks: Iterable<Buffer>, fast: boolean, onOps?: (ops: readonly Op[]) => void): Op[] {
  const ops: Op[] = [];
  const times = new TimesCheck();
  const scanner = new JsonlOpScanner();
  let line = 0;
  let index = 0;
  for (const b of chunks) {
    const end = b.length;
    let p = 0;
    while (p < end) {
      line++;
      const before = ops.length;
      const q = fast ? scanner.scan(b, p, end, line, index, ops) : -1;
      if (q >= 0) {
        p = q;
      } else {
        const nl = b.indexOf(10, p);
        const stop = nl < 0 ? end : nl;
        jsonlLine(b.toString('utf8', p, stop), line, ops, index);
        p = stop + 1;
      }
      if (ops.length > before) index++;
      // Small batches, so that streamed ops die young (before a scavenge has to copy them).
      if (onOps !== undefined && ops.length >= 256) {
        for (const op of ops) times.add(op);
        onOps(ops);
        ops.length = 0;
      }
    }
    if (onOps !== undefined) {
      for (const op of ops) times.add(op);
      onOps(ops);
      ops.length = 0;
    }
  }
  if (onOps === undefined) for (const op of ops) times.add(op);
  times.check();
  return ops;
}

/** JSON lines from the file's bytes into columns: the common line by JsonlColumnScanner, any other by jsonlLine. */
function parseJsonlColumns(chunks: Iterable<Buffer>, fast: boolean, expected?: number): HistoryColumns {
  const cols = new HistoryColumns(expected);
  const scanner = new JsonlColumnScanner(cols);
  const slow: Op[] = [];
  let line = 0;
  for (const b of chunks) {
    const end = b.length;
    let p = 0;
    while (p < end) {
      line++;
      const q = fast ? scanner.scan(b, p, end, line) : -1;
      if (q >= 0) {
        p = q;
        continue;
      }
      const nl = b.indexOf(10, p);
      const stop = nl < 0 ? end : nl;
      jsonlLine(b.toString('utf8', p, stop), line, slow, cols.length);
      if (slow.length > 0) cols.pushOp(slow.pop()!);
      p = stop + 1;
    }
  }
  // As TimesCheck: every client event timed, or none.
  let timed = false;
  let untimed = -1;
  for (let i = 0; i < cols.length; i++) {
    if (Number.isNaN(cols.process[i]!)) continue;
    if (Number.isNaN(cols.time[i]!)) {
      if (untimed < 0) untimed = i;
    } else timed = true;
  }
  if (timed && untimed >= 0) {
    throw new HistoryFormatError('some events have a "time" and this one has none: give every event a time, or none', cols.line[untimed]);
  }
  return cols;
}

/**
 * Times and line numbers are different scales: a history gives every client event a time, or none (nemesis
 * events are not ordered against operations by any checker).
 */
class TimesCheck {
  #timed = false;
  #untimed: Op | undefined;

  add(o: Op): void {
    if (o.process === 'nemesis') return;
    if (o.time !== undefined) this.#timed = true;
    else this.#untimed ??= o;
  }

  /** @throws HistoryFormatError naming the first untimed client event when some are timed. */
  check(): void {
    if (this.#timed && this.#untimed !== undefined) {
      throw new HistoryFormatError('some events have a "time" and this one has none: give every event a time, or none', this.#untimed.line);
    }
  }
}

function checkJsonlTimes(ops: Op[]): Op[] {
  const times = new TimesCheck();
  for (const o of ops) times.add(o);
  times.check();
  return ops;
}
