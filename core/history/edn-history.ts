/**
 * Jepsen's history files as ops: EDN op maps (one per line, one whole vector, or `#jepsen.history.Op{...}`
 * records), Jepsen's tab-separated `history.txt`, and Porcupine's etcd logs (the same lines behind a log prefix).
 * The op-map reader is the fast path: it reads the keys it knows straight into an `Op`, without a generic map.
 */
import { HistoryFormatError } from '../errors';
import { EdnReader, NeedMoreInput, isDelimiterCode, keyOf, readEdnHistoryForms } from './edn';
import { EdnOpScanner } from './edn-scan';
import { K_ERROR, K_F, K_INDEX, K_KEY, K_NODE, K_PROCESS, K_TIME, K_TYPE, K_VALUE } from './op-bytes';
import { EdnColumnScanner } from './edn-columns';
import { HistoryColumns } from './columns';
import { newOp } from './op-shape';
import type { Op, OpType, ProcessId } from './operation';

const OP_TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);

/** Ops as read, with Jepsen's `:index` of each (undefined where absent), for ordering. */
export interface ReadOps {
  ops: Op[];
  jepsenIndex: (number | undefined)[];
}

export function parseType(v: unknown, line: number): OpType {
  if (v === 'invoke' || v === 'ok' || v === 'info' || v === 'fail') return v;
  if (typeof v !== 'string' || !OP_TYPES.has(v)) {
    throw new HistoryFormatError(`unknown op type ${JSON.stringify(v ?? null) ?? String(v)} (expected invoke, ok, fail or info)`, line);
  }
  return v as OpType;
}

export function parseProcess(v: unknown, line: number): ProcessId {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (v === 'nemesis') return 'nemesis';
  throw new HistoryFormatError(`process must be an integer or :nemesis, got ${JSON.stringify(v ?? null) ?? String(v)}`, line);
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}

const FIELD_BITS: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, { type: K_TYPE, process: K_PROCESS, f: K_F, value: K_VALUE, time: K_TIME, index: K_INDEX, key: K_KEY, error: K_ERROR, node: K_NODE });

/** The field bit of the keyword name at `p` (after its colon) when it is a known op key ending at a delimiter. */
function knownKey(t: string, p: number): number {
  const is = (name: string, bit: number): number => (t.startsWith(name, p) && endsAt(t, p + name.length) ? bit : 0);
  switch (t.charCodeAt(p)) {
    case 116: // t
      return t.charCodeAt(p + 1) === 121 ? is('type', K_TYPE) : is('time', K_TIME);
    case 102: // f
      return endsAt(t, p + 1) ? K_F : 0;
    case 118: // v
      return is('value', K_VALUE);
    case 112: // p
      return is('process', K_PROCESS);
    case 105: // i
      return is('index', K_INDEX);
    case 107: // k
      return is('key', K_KEY);
    case 101: // e
      return is('error', K_ERROR);
    case 110: // n
      return is('node', K_NODE);
    default:
      return 0;
  }
}

const KEY_LENGTH: Record<number, number> = { [K_TYPE]: 4, [K_PROCESS]: 7, [K_F]: 1, [K_VALUE]: 5, [K_TIME]: 4, [K_INDEX]: 5, [K_KEY]: 3, [K_ERROR]: 5, [K_NODE]: 4 };

/** True when position `p` ends a token (a delimiter, or the end of a final text). */
function endsAt(t: string, p: number): boolean {
  if (p >= t.length) return true;
  const c = t.charCodeAt(p);
  return c === 32 || c === 44 || c === 125 || c === 10 || isDelimiterCode(c);
}

/** Reads one op map (after its `{`) straight into an Op. */
function readOpMap(r: EdnReader, line: number, out: ReadOps): void {
  const t = r.text;
  let seen = 0;
  let extra: Set<string> | undefined;
  let type: unknown;
  let process: unknown;
  let f: unknown;
  let value: unknown = null;
  let time: unknown;
  let index: unknown;
  let key: unknown;
  let error: unknown;
  let node: unknown;
  for (;;) {
    let c = t.charCodeAt(r.pos);
    while (c === 32 || c === 44) c = t.charCodeAt(++r.pos);
    if (c !== 58 && c !== 125) {
      if (!r.skip()) r.eof(`"{" opened on line ${line} is never closed`, line);
      c = t.charCodeAt(r.pos);
    }
    if (c === 125) {
      r.pos++;
      break;
    }
    if (c === 93 || c === 41) r.fail(`expected "}" to close the map opened on line ${line} but found "${t[r.pos]!}"`);
    const keyLine = r.line;
    let bit = 0;
    let k: string | undefined;
    if (c === 58) {
      bit = knownKey(t, r.pos + 1);
      if (bit !== 0) {
        if (r.pos + 1 + KEY_LENGTH[bit]! >= t.length && !r.final) r.eof('a keyword at the end of a chunk');
        r.pos += 1 + KEY_LENGTH[bit]!;
      } else k = r.readKeyword();
    } else k = keyOf(r.read());
    c = t.charCodeAt(r.pos);
    while (c === 32 || c === 44) c = t.charCodeAt(++r.pos);
    if (!r.skip()) r.eof(`"{" opened on line ${line} is never closed`, line);
    c = t.charCodeAt(r.pos);
    if (c === 125) r.fail(`map literal opened on line ${line} has an odd number of forms`, line);
    if (bit === 0) {
      bit = FIELD_BITS[k!] ?? 0; // a known key written another way ("type", 'type)
      if (bit === 0) {
        extra ??= new Set();
        if (extra.has(k!)) r.fail(`duplicate key ${JSON.stringify(k)} in a map`, keyLine);
        extra.add(k!);
        r.read();
        continue;
      }
    }
    if (seen & bit) r.fail(`duplicate key ${JSON.stringify(k ?? Object.keys(FIELD_BITS).find((n) => FIELD_BITS[n] === bit))} in a map`, keyLine);
    seen |= bit;
    const v = c === 58 ? r.readKeyword() : (c >= 48 && c <= 57) || c === 45 ? r.readNumber() : r.read();
    switch (bit) {
      case K_TYPE: type = v; break;
      case K_PROCESS: process = v; break;
      case K_F: f = v; break;
      case K_VALUE: value = v; break;
      case K_TIME: time = v; break;
      case K_INDEX: index = v; break;
      case K_KEY: key = v; break;
      case K_ERROR: error = v; break;
      default: node = v;
    }
  }
  pushOp(out, line, type, process, f, value, time, index, key, error, node);
}

function pushOp(out: ReadOps, line: number, type: unknown, process: unknown, f: unknown, value: unknown, time: unknown, index: unknown, key: unknown, error: unknown, node: unknown): void {
  if (typeof f !== 'string' && typeof f !== 'number') throw new HistoryFormatError('op map has no :f', line);
  const op = newOp(out.ops.length, parseType(type, line), parseProcess(process, line), String(f), value ?? null, line);
  if (key !== undefined && key !== null) op.key = text(key);
  if (typeof time === 'number' && Number.isFinite(time)) op.time = time;
  if (error !== undefined && error !== null) op.error = text(error);
  if (typeof node === 'string') op.node = node;
  out.ops.push(op);
  out.jepsenIndex.push(typeof index === 'number' && Number.isInteger(index) ? index : undefined);
}

/** An op map the generic reader read (one carrying metadata, say). */
function pushOpObject(out: ReadOps, line: number, v: unknown): void {
  const isMap = v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isMap || !['type', 'process', 'f'].some((k) => Object.prototype.hasOwnProperty.call(v, k))) throw new HistoryFormatError('expected an op map like {:process 0, :type :invoke, :f :read}', line);
  const o = v as Record<string, unknown>;
  const own = (k: string): unknown => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
  pushOp(out, line, own('type'), own('process'), own('f'), own('value'), own('time'), own('index'), own('key'), own('error'), own('node'));
}

/** Reads one form as an op: an op map the fast way, anything else (a record literal, metadata) the generic way. */
function readOpForm(r: EdnReader, out: ReadOps): undefined {
  const line = r.line;
  if (r.text.charCodeAt(r.pos) !== 123) {
    pushOpObject(out, line, r.read());
    return undefined;
  }
  r.pos++;
  readOpMap(r, line, out);
  return undefined;
}

/**
 * Reads EDN history text (in chunks) into ops: op maps or `#jepsen.history.Op{...}` records, top-level or in one
 * vector. Keywords become strings, maps objects, sets arrays.
 * @throws HistoryFormatError naming the line.
 */
export function parseEdnOps(chunks: Iterable<string>): ReadOps {
  const out: ReadOps = { ops: [], jepsenIndex: [] };
  readEdnHistoryForms(chunks, () => undefined, (r) => readOpForm(r, out));
  return out;
}

/** Columns read from a Jepsen file, with each event's `:index` (NaN where it has none), before ordering. */
export interface ReadColumns {
  columns: HistoryColumns;
  jepsenIndex: Float64Array;
}

/**
 * As {@link parseEdnBytes}, into columns: lines holding one op map of the common shape are read by
 * {@link EdnColumnScanner} straight from the bytes into the columns; any other line, or the rest of the file from
 * it, as parseEdnBytes reads it, each op it makes pushed into the columns. `expected`: about how many events.
 * @throws HistoryFormatError naming the line.
 */
export function parseEdnColumns(chunks: Iterable<Buffer>, fast = true, expected?: number): ReadColumns {
  // The caller guesses from the file's size at one event per 100 bytes; Jepsen's op lines run 65-100 bytes. Room
  // never written costs no memory, and growing the columns part way costs a copy of them all: err high.
  const columns = new HistoryColumns(expected === undefined ? undefined : Math.ceil(expected * 1.5));
  let jepsenIndex = new Float64Array(columns.type.length);
  const setIndex = (i: number, x: number): void => {
    if (i >= jepsenIndex.length) {
      const bigger = new Float64Array(Math.max(jepsenIndex.length * 2, i + 1));
      bigger.set(jepsenIndex);
      jepsenIndex = bigger;
    }
    jepsenIndex[i] = x;
  };
  // The slow path's ops, moved into the columns as soon as they are read.
  const slow: ReadOps = { ops: [], jepsenIndex: [] };
  const flush = (): void => {
    for (let k = 0; k < slow.ops.length; k++) setIndex(columns.pushOp(slow.ops[k]!), slow.jepsenIndex[k] ?? NaN);
    slow.ops.length = 0;
    slow.jepsenIndex.length = 0;
  };
  const done = (): ReadColumns => ({ columns, jepsenIndex: jepsenIndex.subarray(0, columns.length) });
  const sc = new EdnColumnScanner(columns);
  const it = chunks[Symbol.iterator]();
  let line = 1;
  let started = false;
  // The opening bracket of the vector (or list) holding the whole history, once stepped into.
  let outer: { close: number; line: number } | undefined;
  for (;;) {
    const next = it.next();
    if (next.done === true) {
      // Its closing bracket is never read by the scanner: the full reader reads on from the line holding it.
      if (outer !== undefined) readEdnHistoryForms([''], () => undefined, undefined, { line, started, outer });
      return done();
    }
    const b = next.value;
    const end = b.length;
    let p = 0;
    while (p < end) {
      const q = fast ? sc.scan(b, p, end, line) : -1;
      if (q >= 0) {
        if (!sc.blank) {
          setIndex(columns.length - 1, sc.index);
          started = true;
        }
        line++;
        p = q;
        continue;
      }
      if (fast && !started) {
        // The first form opens a vector or list of all the ops (as Knossos writes them): step into it, and read
        // its ops line by line like top-level ones.
        let s = p;
        while (s < end && (b[s] === 32 || b[s] === 44 || b[s] === 9 || b[s] === 13 || b[s] === 12 || b[s] === 11)) s++;
        if (s < end && (b[s] === 91 || b[s] === 40)) {
          outer = { close: b[s] === 91 ? 93 : 41, line };
          started = true;
          p = s + 1;
          continue;
        }
      }
      const nl = b.indexOf(10, p);
      const stop = nl < 0 ? end : nl + 1;
      const read = readLineAlone(b.toString('utf8', p, stop), line, slow, started);
      if (read < 0) {
        readEdnHistoryForms(restOf(b.toString('utf8', p, end), it), () => undefined, (r) => {
          readOpForm(r, slow);
          flush();
          return undefined;
        }, { line, started, outer });
        return done();
      }
      flush();
      if (read > 0) started = true;
      line++;
      p = stop;
    }
  }
}

/**
 * As {@link parseEdnOps}, from the file's bytes (chunks that end after a newline, but the last; each is read before
 * the next is asked for). Lines holding one op map of the common shape are read by {@link EdnOpScanner} straight
 * from the bytes; any other line by the full reader, alone when it holds whole forms, else the full reader reads
 * the rest of the file from it. Either way the ops are exactly those parseEdnOps reads.
 * @throws HistoryFormatError naming the line.
 */
export function parseEdnBytes(chunks: Iterable<Buffer>, fast = true): ReadOps {
  const out: ReadOps = { ops: [], jepsenIndex: [] };
  const sc = new EdnOpScanner();
  const it = chunks[Symbol.iterator]();
  let line = 1;
  let started = false;
  for (;;) {
    const next = it.next();
    if (next.done === true) return out;
    const b = next.value;
    const end = b.length;
    let p = 0;
    while (p < end) {
      const q = fast ? sc.scan(b, p, end) : -1;
      if (q >= 0) {
        if (!sc.blank) {
          pushOp(out, line, sc.type, sc.process, sc.f, sc.value, sc.time, sc.index, sc.key, sc.error, sc.node);
          started = true;
        }
        line++;
        p = q;
        continue;
      }
      const nl = b.indexOf(10, p);
      const stop = nl < 0 ? end : nl + 1;
      const read = readLineAlone(b.toString('utf8', p, stop), line, out, started);
      if (read < 0) {
        readEdnHistoryForms(restOf(b.toString('utf8', p, end), it), () => undefined, (r) => readOpForm(r, out), { line, started });
        return out;
      }
      if (read > 0) started = true;
      line++;
      p = stop;
    }
  }
}

/**
 * Reads one line's forms with the full reader. Returns how many it read, or -1 (having pushed nothing) when the
 * line does not hold whole forms (a form goes on past it), when it holds an error (the full reader, reading on,
 * reports it as it would), or when it holds the history's first form (which may open a vector of all of them).
 */
function readLineAlone(text: string, line: number, out: ReadOps, started: boolean): number {
  const before = out.ops.length;
  const r = new EdnReader(text, false, line);
  try {
    while (r.skip()) {
      if (!started) return -1;
      readOpForm(r, out);
    }
    return out.ops.length - before;
  } catch (err) {
    if (!(err instanceof NeedMoreInput) && !(err instanceof HistoryFormatError)) throw err;
    out.ops.length = before;
    out.jepsenIndex.length = before;
    return -1;
  }
}

/** `first`, then the remaining chunks of `it` decoded, each as it is asked for. */
function* restOf(first: string, it: Iterator<Buffer>): Generator<string> {
  yield first;
  for (;;) {
    const n = it.next();
    if (n.done === true) return;
    yield n.value.toString('utf8');
  }
}

/** A Jepsen `history.txt` line: process, type, f, value and an optional error, separated by tabs. */
export const TXT_LINE = /^(-?\d+|:nemesis)\t:(invoke|ok|fail|info)\t/;
/** A Porcupine etcd log line: the same fields behind a log prefix. */
export const ETCD_LINE = /^\S+\s+jepsen\.util\s+-\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/;

function one(s: string, line: number): unknown {
  const r = new EdnReader(s, true, line);
  if (!r.skip()) throw new HistoryFormatError(`expected an EDN value, got "${s}"`, line);
  const v = r.read();
  if (r.skip()) throw new HistoryFormatError(`expected one EDN value, got "${s}"`, line);
  return v;
}

function pushFields(out: ReadOps, line: number, proc: string, type: string, f: string, value: string, error?: string): void {
  const fn = one(f, line);
  if (typeof fn !== 'string') throw new HistoryFormatError(`f must be a keyword, got "${f}"`, line);
  const op = newOp(out.ops.length, parseType(one(type, line), line), parseProcess(one(proc, line), line), fn, value.trim() === '' ? null : one(value, line), line);
  if (error !== undefined && error !== '') op.error = error;
  out.ops.push(op);
  out.jepsenIndex.push(undefined);
}

/** Calls `onLine` for every line of the chunked text, with its 1-based number. */
export function forEachLine(chunks: Iterable<string>, onLine: (raw: string, line: number) => void): void {
  let carry = '';
  let line = 0;
  for (const chunk of chunks) {
    const s = carry === '' ? chunk : carry + chunk;
    let start = 0;
    for (;;) {
      const nl = s.indexOf('\n', start);
      if (nl < 0) break;
      onLine(s.slice(start, nl), ++line);
      start = nl + 1;
    }
    carry = s.slice(start);
  }
  if (carry !== '') onLine(carry, ++line);
}

/**
 * Reads Jepsen's `history.txt` (`process<TAB>:type<TAB>:f<TAB>value[<TAB>error]`, as `jepsen.util/print-history`
 * writes it). The error is free text; everything else is EDN.
 * @throws HistoryFormatError naming the line.
 */
export function parseJepsenTxt(chunks: Iterable<string>): ReadOps {
  const out: ReadOps = { ops: [], jepsenIndex: [] };
  forEachLine(chunks, (raw, line) => {
    const s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (s.trim() === '') return;
    const parts = s.split('\t');
    if (parts.length < 3 || !TXT_LINE.test(s)) throw new HistoryFormatError('expected "<process>\\t:<type>\\t:<f>\\t<value>" (Jepsen history.txt)', line);
    pushFields(out, line, parts[0]!, parts[1]!, parts[2]!, parts[3] ?? '', parts.length > 4 ? parts.slice(4).join('\t') : undefined);
  });
  return out;
}

/**
 * Reads Porcupine's etcd log (`INFO  jepsen.util - <process> <type> <f> <value>`).
 * @throws HistoryFormatError naming the line.
 */
export function parseEtcdLog(chunks: Iterable<string>): ReadOps {
  const out: ReadOps = { ops: [], jepsenIndex: [] };
  forEachLine(chunks, (raw, line) => {
    const s = raw.trim();
    if (s === '') return;
    const m = ETCD_LINE.exec(s);
    if (!m) throw new HistoryFormatError('expected "INFO jepsen.util - <process> <type> <f> <value>"', line);
    pushFields(out, line, m[1]!, m[2]!, m[3]!, m[4]!);
  });
  return out;
}
