/**
 * Reads a history file in any format `faultline check` accepts: our history.jsonl, Jepsen/Knossos EDN
 * (one op map per line, or one whole vector/list), Porcupine's etcd log and kv formats.
 * `readHistoryFile` is the only I/O here; everything else is pure.
 */
import { readFileSync } from 'node:fs';
import { HistoryFormatError, namingFile } from '../errors';
import { EdnSymbol, Keyword, parseEdn, parseEdnElements, type EdnValue } from './edn';
import type { Op, OpType, ProcessId } from './operation';

export type HistoryFormat = 'jsonl' | 'edn' | 'porcupine-etcd' | 'porcupine-kv';

const OP_TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);
const ETCD_LINE = /^\S+\s+jepsen\.util\s+-\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/;

/**
 * Reads and parses one history file.
 * @throws HistoryFormatError(detail, line, file) when the file cannot be read or parsed.
 */
export function readHistoryFile(path: string): { format: HistoryFormat; ops: Op[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new HistoryFormatError(`cannot open file (${code})`, undefined, path, { cause: err });
  }
  const format = path.endsWith('.log') && text.trim() === '' ? 'porcupine-etcd' : undefined;
  const parsed = parseHistoryText(text, path);
  return format ? { format, ops: parsed.ops } : parsed;
}

/** Guesses the format from the first meaningful line. */
export function detectHistoryFormat(text: string): HistoryFormat {
  for (const raw of text.split('\n', 200)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) continue;
    if (ETCD_LINE.test(line)) return 'porcupine-etcd';
    if (line.startsWith('{"') || line.startsWith('{ "')) return 'jsonl';
    if (line.startsWith('{:') && /:key\s/.test(line) && /:f\s+:(get|put|append)\b/.test(line)) return 'porcupine-kv';
    return 'edn';
  }
  return 'jsonl';
}

/**
 * Detects the format and parses every event into an `Op` (index = event position, line = source line).
 * Keywords become plain strings, EDN maps plain objects keyed by keyword name, sets arrays.
 * Times are kept only when every event has one and they never decrease (else file order is time order).
 * @throws HistoryFormatError(detail, line, file)
 */
export function parseHistoryText(text: string, file?: string): { format: HistoryFormat; ops: Op[] } {
  // A .jsonl file is JSON lines whatever its first line looks like: a broken first line must be reported as
  // broken JSON, not as a bad EDN op map.
  const format = file !== undefined && file.endsWith('.jsonl') ? 'jsonl' : detectHistoryFormat(text);
  try {
    let ops: Op[];
    switch (format) {
      case 'jsonl':
        ops = parseJsonl(text);
        return { format, ops };
      case 'porcupine-etcd':
        ops = parseEtcdLog(text);
        break;
      case 'edn':
      case 'porcupine-kv':
        ops = parseEdnHistory(text);
        break;
    }
    normaliseTimes(ops);
    return { format, ops };
  } catch (err) {
    const named = err instanceof HistoryFormatError ? readAs(err, format, text, file) : err;
    throw file !== undefined ? namingFile(named, file) : named;
  }
}

const FORMAT_NAMES: Record<HistoryFormat, string> = {
  jsonl: 'JSON lines',
  edn: 'Jepsen EDN',
  'porcupine-etcd': 'a Porcupine etcd log',
  'porcupine-kv': 'Porcupine kv EDN',
};

/** The error with the format the file was read as named in it, and why, when that was a guess from its content. */
function readAs(err: HistoryFormatError, format: HistoryFormat, text: string, file: string | undefined): HistoryFormatError {
  if (err.readAs !== undefined) return err;
  const byName = format === 'jsonl' && file?.endsWith('.jsonl') === true;
  const first = text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith(';'))?.trim() ?? '';
  const hint = format === 'edn' && first.startsWith('{') && !first.startsWith('{:') ? '; JSON lines must start with {" or be named .jsonl' : '';
  const why = byName ? 'by its .jsonl name' : `from its first line${hint}`;
  return new HistoryFormatError(err.detail, err.line, err.file, { cause: err, readAs: `${FORMAT_NAMES[format]}, ${why}` });
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

function parseType(v: unknown, line: number): OpType {
  if (typeof v !== 'string' || !OP_TYPES.has(v)) {
    throw new HistoryFormatError(`unknown op type ${JSON.stringify(v ?? null)} (expected invoke, ok, fail or info)`, line);
  }
  return v as OpType;
}

function parseProcess(v: unknown, line: number): ProcessId {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (v === 'nemesis') return 'nemesis';
  throw new HistoryFormatError(`process must be an integer or "nemesis", got ${JSON.stringify(v ?? null)}`, line);
}

function parseJsonl(text: string): Op[] {
  const ops: Op[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
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
  }
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

/** EDN value -> plain JS: keywords/symbols to strings, maps to objects keyed by name, sets to arrays. */
export function ednToPlain(v: EdnValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Keyword || v instanceof EdnSymbol) return v.name;
  if (Array.isArray(v)) return v.map(ednToPlain);
  if (v instanceof Set) return [...v].map(ednToPlain);
  const o: Record<string, unknown> = {};
  for (const [k, val] of v) o[typeof k === 'string' ? k : k instanceof Keyword || k instanceof EdnSymbol ? k.name : JSON.stringify(ednToPlain(k))] = ednToPlain(val);
  return o;
}

function parseEdnHistory(text: string): Op[] {
  const ops: Op[] = [];
  for (const { value, line } of parseEdnElements(text)) {
    if (!(value instanceof Map)) throw new HistoryFormatError('expected an op map like {:process 0, :type :invoke, :f :read}', line);
    const o = ednToPlain(value) as Record<string, unknown>;
    if (typeof o.f !== 'string' && typeof o.f !== 'number') throw new HistoryFormatError('op map has no :f', line);
    const op: Op = { index: ops.length, type: parseType(o.type, line), process: parseProcess(o.process, line), f: String(o.f), value: o.value ?? null, line };
    if (o.key !== undefined && o.key !== null) op.key = typeof o.key === 'string' ? o.key : JSON.stringify(o.key);
    if (typeof o.time === 'number') op.time = o.time;
    if (o.error !== undefined && o.error !== null) op.error = typeof o.error === 'string' ? o.error : JSON.stringify(o.error);
    if (typeof o.node === 'string') op.node = o.node;
    ops.push(op);
  }
  return ops;
}

function parseEtcdLog(text: string): Op[] {
  const ops: Op[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const line = i + 1;
    const m = ETCD_LINE.exec(raw);
    if (!m) throw new HistoryFormatError('expected "INFO jepsen.util - <process> <type> <f> <value>"', line);
    const [, proc, type, f, rest] = m;
    const one = (s: string): unknown => {
      const forms = parseEdn(s);
      if (forms.length !== 1) throw new HistoryFormatError(`expected one EDN value, got "${s}"`, line);
      return ednToPlain(forms[0]!.value);
    };
    let parsed: [unknown, unknown, unknown, unknown];
    try {
      parsed = [one(proc!), one(type!), one(f!), rest!.trim() === '' ? null : one(rest!)];
    } catch (err) {
      if (err instanceof HistoryFormatError) throw new HistoryFormatError(err.detail, line, undefined, { cause: err });
      throw err;
    }
    const [p, t, fn, value] = parsed;
    if (typeof fn !== 'string') throw new HistoryFormatError(`f must be a keyword, got "${f}"`, line);
    ops.push({ index: ops.length, type: parseType(t, line), process: parseProcess(p, line), f: fn, value, line });
  }
  return ops;
}
