/**
 * Reads a run folder (history.jsonl, results.json, plan.json) into what report.html draws: every client operation
 * as columns of typed arrays (so a page can hold a million of them), the fault windows, the clock offsets and
 * timestamp uncertainty per node, and the checkers' results as stored. The history is streamed, never parsed whole.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readHistoryOps } from '../history-builder';
import type { Op } from '../../core/history/operation';

/** Outcome codes in the `type` column. `open` = invoked, never completed (counts as info). */
export const OUTCOME = { ok: 0, fail: 1, info: 2, open: 3 } as const;

/** One fault from its start to its stop (or the run's end when it was never stopped). */
export interface FaultWindow {
  kind: string;
  /** ms on the run's timeline (0 = first event). */
  startMs: number;
  endMs: number;
  /** The nodes it hit, when the nemesis said. */
  nodes: string[];
  description: string;
  /** The stop never came: the band runs to the end of the history. */
  open: boolean;
}

/** A nemesis event as the report lists it. */
export interface NemesisEvent {
  index: number;
  atMs: number;
  type: string;
  f: string;
  value: unknown;
}

export interface ReportColumns {
  count: number;
  /** ms since the first event, at invocation. */
  start: Float64Array;
  /** ms from invocation to completion; for open ops, to the end of the history. */
  dur: Float32Array;
  process: Int32Array;
  type: Uint8Array;
  f: Uint16Array;
  node: Uint16Array;
  /** Index into `keys`, 0 when the op has no key. */
  key: Uint32Array;
  /** Index into `errors`, 0 when the completion carried no error text. */
  err: Uint32Array;
  /** Index of the invocation event in history.jsonl. */
  index: Uint32Array;
  /** 1 when a checker looked at the op. */
  checked: Uint8Array;
  /** Invocation timestamp uncertainty, µs. */
  uncertaintyUs: Float32Array;
}

export interface ReportTables {
  fs: string[];
  nodes: string[];
  keys: string[];
  errors: string[];
  /** One JSON text per op: the completion's value for ok ops, else the invocation's. */
  values: string[];
}

export interface ReportMeta {
  title: string;
  runDir: string;
  generatedAt: string;
  /** Wall-clock-free timeline: ns of the first event, and the history's length in ms. */
  t0Nanos: number;
  spanMs: number;
  events: number;
  counts: { ok: number; fail: number; info: number; open: number; unchecked: number };
  plan: Record<string, unknown> | null;
  results: Record<string, unknown> | null;
  faults: FaultWindow[];
  nemesis: NemesisEvent[];
  /** Per node, step points [ms, offset ms] of the clock offset the nemesis reported in force. */
  clockOffsets: Record<string, [number, number][]>;
  /** Per node, per bucket [bucket start ms, max uncertainty µs]. */
  uncertainty: { bucketMs: number; byNode: Record<string, [number, number][]> };
  /** Files of the run folder the report links to (relative names). */
  files: string[];
  /** Set when no client op completed `ok`: such a run proves nothing. */
  noOk: boolean;
  /** Invocation indexes the checkers' evidence names. */
  evidenceIndexes: number[];
  traceFile?: string;
}

export interface ReportData {
  meta: ReportMeta;
  columns: ReportColumns;
  tables: ReportTables;
}

class Interner {
  readonly list: string[];
  readonly #ids = new Map<string, number>();
  constructor(first?: string) {
    this.list = first === undefined ? [] : [first];
    if (first !== undefined) this.#ids.set(first, 0);
  }
  id(s: string): number {
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.list.length;
      this.list.push(s);
      this.#ids.set(s, id);
    }
    return id;
  }
}

/** Growable typed column. */
class Column<T extends Float64Array | Float32Array | Int32Array | Uint8Array | Uint16Array | Uint32Array> {
  data: T;
  constructor(private readonly make: (n: number) => T) {
    this.data = make(1024);
  }
  set(i: number, v: number): void {
    if (i >= this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[i] = v;
  }
  get(i: number): number {
    return this.data[i]!;
  }
  done(n: number): T {
    return this.data.subarray(0, n) as T;
  }
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // A missing or broken results.json / plan.json still leaves a history worth showing.
    return null;
  }
}

/** Invocation indexes named by any checker's evidence (linearizability's failing op and window, ...). */
export function evidenceIndexes(results: Record<string, unknown> | null): number[] {
  const out = new Set<number>();
  const checks = (results?.['checks'] ?? {}) as Record<string, unknown>;
  for (const r of Object.values(checks)) {
    const ev = (r as { evidence?: Record<string, unknown> } | null)?.evidence;
    if (!ev || typeof ev !== 'object') continue;
    for (const field of ['failingOp', 'blockedAfterPrefix']) {
      const op = ev[field] as { index?: unknown } | undefined;
      if (typeof op?.index === 'number') out.add(op.index);
    }
    const sub = ev['subHistory'];
    if (Array.isArray(sub)) for (const op of sub as { index?: unknown }[]) if (typeof op?.index === 'number') out.add(op.index);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Which ops some checker looked at: an op whose key a checker searched (linearizability's per-key list, without
 * the keys it skipped). A checker with no per-key list looked at every client op when it reached a verdict of its
 * own. With no checker result at all (an incomplete history, an interrupted run) nothing was looked at.
 */
function checkedKeyFilter(results: Record<string, unknown> | null): (key: string) => boolean {
  const checks = Object.values((results?.['checks'] ?? {}) as Record<string, Record<string, unknown> | null>).filter(
    (c): c is Record<string, unknown> => c !== null && typeof c === 'object',
  );
  if (checks.length === 0) return () => false;
  const everything = checks.some((c) => !Array.isArray(c['perKey']) && c['error'] === undefined);
  if (everything) return () => true;
  const searched = new Set<string>();
  for (const c of checks) {
    for (const k of (c['perKey'] as { key: string; reason?: string }[] | undefined) ?? []) {
      if (k.reason === undefined || !/^(not searched|time-limit)/.test(k.reason)) searched.add(k.key);
    }
  }
  return (key) => searched.has(key);
}

const FAULT_STOP = /^stop-(.+)$/;
const FAULT_START = /^start-(.+)$/;

/** Nodes a nemesis op names: grudge keys, a `nodes` list or map, a `node`. */
function nodesOf(value: unknown): string[] {
  if (!value || typeof value !== 'object') return [];
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['nodes'])) return (v['nodes'] as unknown[]).map(String);
  if (v['nodes'] && typeof v['nodes'] === 'object') return Object.keys(v['nodes']);
  if (v['grudge'] && typeof v['grudge'] === 'object') return Object.keys(v['grudge']).sort();
  if (typeof v['node'] === 'string') return [v['node']];
  return [];
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  const v = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of ['description', 'shape', 'target', 'bump', 'percent', 'rate', 'delay']) if (v[k] !== undefined && typeof v[k] !== 'object') parts.push(k === 'description' ? String(v[k]) : `${k} ${String(v[k])}`);
  return parts.join(', ');
}

/** Reads a run folder into report data. @throws when the folder has no history.jsonl. */
export async function readReportData(runDir: string, opts: { uncertaintyBuckets?: number } = {}): Promise<ReportData> {
  const historyPath = join(runDir, 'history.jsonl');
  if (!existsSync(historyPath)) throw new RangeError(`Cannot build a report: no history.jsonl in "${runDir}"`);
  const plan = readJson(join(runDir, 'plan.json'));
  const results = readJson(join(runDir, 'results.json'));
  const isChecked = checkedKeyFilter(results);

  const fs = new Interner();
  const nodes = new Interner();
  const keys = new Interner('');
  const errors = new Interner('');
  const values: string[] = [];
  const start = new Column((n) => new Float64Array(n));
  const dur = new Column((n) => new Float32Array(n));
  const process = new Column((n) => new Int32Array(n));
  const type = new Column((n) => new Uint8Array(n));
  const f = new Column((n) => new Uint16Array(n));
  const node = new Column((n) => new Uint16Array(n));
  const key = new Column((n) => new Uint32Array(n));
  const err = new Column((n) => new Uint32Array(n));
  const index = new Column((n) => new Uint32Array(n));
  const checked = new Column((n) => new Uint8Array(n));
  const uncertainty = new Column((n) => new Float32Array(n));

  /** Row of each process's open invocation. */
  const openRow = new Map<number, number>();
  const nemesis: NemesisEvent[] = [];
  let t0: number | undefined;
  let lastMs = 0;
  let count = 0;
  let events = 0;

  for await (const op of readHistoryOps(historyPath)) {
    events++;
    const time = op.time ?? op.index;
    if (t0 === undefined) t0 = time;
    const ms = (time - t0) / 1e6;
    if (ms > lastMs) lastMs = ms;
    if (op.process === 'nemesis') {
      nemesis.push({ index: op.index, atMs: ms, type: op.type, f: op.f, value: op.value });
      continue;
    }
    if (op.type === 'invoke') {
      const row = count++;
      start.set(row, ms);
      dur.set(row, -1);
      process.set(row, op.process);
      type.set(row, OUTCOME.open);
      f.set(row, fs.id(op.f));
      node.set(row, nodes.id(op.node ?? '?'));
      key.set(row, op.key === undefined ? 0 : keys.id(op.key));
      err.set(row, 0);
      index.set(row, op.index);
      checked.set(row, isChecked(op.key ?? '') ? 1 : 0);
      uncertainty.set(row, (op.uncertainty ?? 0) / 1000);
      values[row] = JSON.stringify(op.value ?? null);
      openRow.set(op.process, row);
      continue;
    }
    const row = openRow.get(op.process);
    if (row === undefined) continue; // a completion without invocation: results.json says the history is malformed
    openRow.delete(op.process);
    type.set(row, OUTCOME[op.type]);
    dur.set(row, ms - start.get(row));
    if (op.error !== undefined) err.set(row, errors.id(op.error));
    if (op.type === 'ok') values[row] = JSON.stringify(op.value ?? null);
  }
  for (const row of openRow.values()) dur.set(row, Math.max(0, lastMs - start.get(row)));

  const counts = { ok: 0, fail: 0, info: 0, open: 0, unchecked: 0 };
  const types = type.done(count);
  const checkedCol = checked.done(count);
  for (let i = 0; i < count; i++) {
    const t = types[i]!;
    if (t === OUTCOME.ok) counts.ok++;
    else if (t === OUTCOME.fail) counts.fail++;
    else if (t === OUTCOME.info) counts.info++;
    else counts.open++;
    if (checkedCol[i] === 0) counts.unchecked++;
  }

  const { faults, clockOffsets } = faultWindows(nemesis, lastMs);
  const buckets = opts.uncertaintyBuckets ?? 400;
  const bucketMs = Math.max(1, lastMs / buckets);
  const byNode: Record<string, Map<number, number>> = {};
  const startCol = start.done(count);
  const nodeCol = node.done(count);
  const usCol = uncertainty.done(count);
  for (let i = 0; i < count; i++) {
    const b = Math.floor(startCol[i]! / bucketMs);
    const m = (byNode[nodes.list[nodeCol[i]!]!] ??= new Map());
    if ((m.get(b) ?? -1) < usCol[i]!) m.set(b, usCol[i]!);
  }
  const uncertaintyOut: Record<string, [number, number][]> = {};
  for (const [n, m] of Object.entries(byNode)) uncertaintyOut[n] = [...m.entries()].sort((a, b) => a[0] - b[0]).map(([b, us]) => [b * bucketMs, us]);

  const files: string[] = [];
  const walk = (dir: string, prefix: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(dir, e.name), `${prefix}${e.name}/`);
      else if (e.name !== 'report.html') files.push(`${prefix}${e.name}`);
    }
  };
  walk(runDir, '');

  const title = `${String(plan?.['testName'] ?? 'run')} ${runDir.split('/').filter(Boolean).pop() ?? ''}`;
  return {
    meta: {
      title,
      runDir,
      generatedAt: new Date().toISOString(),
      t0Nanos: t0 ?? 0,
      spanMs: lastMs,
      events,
      counts,
      plan,
      results,
      faults,
      nemesis: nemesis.length <= 20_000 ? nemesis : nemesis.slice(0, 20_000),
      clockOffsets,
      uncertainty: { bucketMs, byNode: uncertaintyOut },
      files,
      noOk: counts.ok === 0,
      evidenceIndexes: evidenceIndexes(results),
    },
    columns: {
      count,
      start: start.done(count),
      dur: dur.done(count),
      process: process.done(count),
      type: types,
      f: f.done(count),
      node: node.done(count),
      key: key.done(count),
      err: err.done(count),
      index: index.done(count),
      checked: checkedCol,
      uncertaintyUs: uncertainty.done(count),
    },
    tables: { fs: fs.list, nodes: nodes.list, keys: keys.list, errors: errors.list, values },
  };
}

/**
 * Pairs each `start-X` with the next `stop-X` (a stop heals every fault of its kind). Times are those of the
 * completions (`ok`/`info`), when the fault was in force or healed; a start that failed opens no window.
 * Clock offsets come from the nodes' replies (`clockOffsetMs`) and verify-heal's `offsets`.
 */
export function faultWindows(nemesis: readonly NemesisEvent[], endMs: number): { faults: FaultWindow[]; clockOffsets: Record<string, [number, number][]> } {
  const faults: FaultWindow[] = [];
  const open = new Map<string, FaultWindow[]>();
  const clockOffsets: Record<string, [number, number][]> = {};
  const invoked = new Map<string, NemesisEvent>();
  const offset = (n: string, at: number, v: number): void => {
    const series = (clockOffsets[n] ??= []);
    const last = series[series.length - 1];
    if (last === undefined || last[1] !== v) series.push([at, v]);
  };
  for (const ev of nemesis) {
    if (ev.type === 'invoke') {
      invoked.set(ev.f, ev);
      continue;
    }
    const inv = invoked.get(ev.f);
    invoked.delete(ev.f);
    const v = ev.value as Record<string, unknown> | null;
    if (v && typeof v === 'object') {
      const replies = v['nodes'];
      if (replies && typeof replies === 'object' && !Array.isArray(replies)) {
        for (const [n, r] of Object.entries(replies as Record<string, { clockOffsetMs?: unknown }>)) {
          if (typeof r?.clockOffsetMs === 'number') offset(n, ev.atMs, r.clockOffsetMs);
        }
      }
      if (v['offsets'] && typeof v['offsets'] === 'object') {
        for (const [n, o] of Object.entries(v['offsets'] as Record<string, unknown>)) if (typeof o === 'number') offset(n, ev.atMs, o);
      }
    }
    if (ev.type === 'fail') continue;
    const startKind = FAULT_START.exec(ev.f)?.[1];
    if (startKind !== undefined) {
      const nodesHit = nodesOf(inv?.value).length > 0 ? nodesOf(inv?.value) : nodesOf(ev.value);
      const w: FaultWindow = { kind: startKind, startMs: ev.atMs, endMs, nodes: nodesHit, description: describe(inv?.value ?? ev.value), open: true };
      faults.push(w);
      open.set(startKind, [...(open.get(startKind) ?? []), w]);
      continue;
    }
    const stopKind = FAULT_STOP.exec(ev.f)?.[1];
    if (stopKind !== undefined) {
      for (const w of open.get(stopKind) ?? []) {
        w.endMs = ev.atMs;
        w.open = false;
      }
      open.delete(stopKind);
      continue;
    }
    if (ev.f === 'verify-heal' || ev.f === 'heal' || ev.f === 'heal-all') {
      for (const list of open.values()) for (const w of list) ((w.endMs = ev.atMs), (w.open = false));
      open.clear();
    }
  }
  return { faults, clockOffsets };
}

/** Only to help tests and the benchmark: a history op as the report reads it. */
export type { Op };
