/**
 * The linearizability checker: pairs the history, splits it per key, runs the search on each key and,
 * for an invalid key, gathers evidence a person can check by hand.
 */
import { HistoryFormatError } from '../errors';
import { HistoryColumns } from '../history/columns';
import { pairOps } from '../history/pair';
import type { Op, PairedOp } from '../history/operation';
import { createModel, type ModelName } from '../models';
import type { Model } from '../models/model';
import { partitionByKey } from './partition';
import { splitHistory } from './split-history';
import { searchLinearization, startSearch, toColumns, type ResumableSearch, type SearchBudget, type SearchColumns, type SearchEntry, type SearchOutcome } from './wgl';

export type Validity = true | false | 'unknown';

export interface LinearizableOptions {
  model: ModelName;
  /** Values are Jepsen `[key value]` tuples, checked per key. */
  independent?: boolean;
  /** Wall-clock budget for the whole check, in milliseconds. */
  timeLimitMs?: number;
  /** Budget for the memo table of one key's search, estimated in bytes. */
  maxMemoryBytes?: number;
  /** Initial model state (plain JSON); each model documents its default. */
  init?: unknown;
  /** register, cas-register: an `ok` read of nil constrains nothing (Knossos's reading); default: it observes nil. */
  knossosNil?: boolean;
  /** Re-check under the other reading of nil reads when that could change the verdict (default true). */
  compareNilReadings?: boolean;
  /** Gather evidence for an invalid key (default true); the benchmark turns it off to time verdicts alone. */
  evidence?: boolean;
  /** Search every key even after one is found invalid (default: stop, as Porcupine does). */
  exhaustive?: boolean;
  /** Stop minimising evidence after this many milliseconds (default: 2,000, and at most 50 ms + 4× the failing key's search time). */
  evidenceTimeLimitMs?: number;
}

/** An operation as shown in evidence. */
export interface OpSummary {
  /** Index of the invocation event in the history. */
  index: number;
  process: number;
  f: string;
  type: 'ok' | 'fail' | 'info';
  /** Argument as invoked. */
  invokeValue: unknown;
  /** Result (ok) or the invocation's value. */
  value: unknown;
  /** Time window in which it may have taken effect (ns, or event positions); end is null when unbounded. */
  start: number;
  end: number | null;
  /** 1-based source line of the invocation, when known. */
  line?: number;
}

/** Why a key is not linearizable. */
export interface LinearizabilityEvidence {
  key: string;
  /**
   * The op that cannot be linearized: the op with a known outcome that blocks the search of the smallest
   * failing sub-history (or, when minimisation did not finish, of the whole key).
   */
  failingOp?: OpSummary;
  /** The op that the whole key's search could not linearize after `longestPrefix`. */
  blockedAfterPrefix?: OpSummary;
  /** The longest linearizable prefix the search found, in linearization order. */
  longestPrefix: OpSummary[];
  /** Model state after that prefix. */
  stateAfterPrefix: string;
  /**
   * A smallest failing sub-history found: a time-prefix of the key's history with read-only ops removed
   * where possible. It is not linearizable on its own, which proves the whole history is not.
   */
  subHistory: OpSummary[];
  /** True when minimisation ran out of its time budget (the sub-history may not be minimal). */
  minimisationCut: boolean;
}

export interface KeySummary {
  key: string;
  valid: Validity;
  /** Ops the search considered (after dropping those that constrain nothing). */
  ops: number;
  configurations: number;
  reason?: string;
}

export interface LinearizabilityResult {
  valid: Validity;
  model: string;
  /** Client operations in the history (invocations). */
  opCount: number;
  keyCount: number;
  invalidKeys: string[];
  unknownKeys: string[];
  perKey: KeySummary[];
  evidence?: LinearizabilityEvidence;
  stats: { elapsedMs: number; configurations: number; backtracks: number };
  /**
   * register, cas-register: present when the history has `ok` reads of nil and the other reading of them gives a
   * different verdict. `knossosNil` is the reading this verdict was reached under the other one with.
   */
  nilReading?: { knossosNil: boolean; valid: Validity };
  error?: string;
}

interface Partition {
  key: string;
  /** Ops the search considers. */
  size: number;
  columns(): SearchColumns;
  /** The PairedOp of entry `i`. */
  pairedOf(i: number): PairedOp;
}

function entriesOf(part: Partition): SearchEntry[] {
  const { ops, start, end } = part.columns();
  return ops.map((op, i) => ({ op, start: start[i]!, end: end[i]! }));
}

/** A history as the checker takes it: ops, or the columns a file was read into. */
export type HistoryInput = readonly Op[] | HistoryColumns;

/** The source line of the event with index `index`, when known. */
function lineOf(history: HistoryInput, index: number): number | undefined {
  if (history instanceof HistoryColumns) {
    if (history.indices === undefined) return index >= 0 && index < history.length ? history.line[index] : undefined;
    return lineOf(history.toOps(), index);
  }
  const op = history[index];
  return op && op.index === index ? op.line : history.find((o) => o.index === index)?.line;
}

function prepare(history: HistoryInput, key: string, ops: PairedOp[], model: Model<unknown>): Partition {
  const paired: PairedOp[] = [];
  const entries: SearchEntry[] = [];
  for (const p of ops) {
    let s;
    try {
      s = model.prepare(p);
    } catch (err) {
      if (err instanceof HistoryFormatError && err.line === undefined) {
        throw new HistoryFormatError(err.detail, lineOf(history, p.index), undefined, { cause: err });
      }
      throw err;
    }
    if (s === null) continue;
    paired.push(p);
    entries.push({ op: s, start: p.start, end: s.known ? p.end : Infinity });
  }
  const columns = toColumns(entries);
  return { key, size: entries.length, columns: () => columns, pairedOf: (i) => paired[i]! };
}

function summarise(history: HistoryInput, p: PairedOp): OpSummary {
  const s: OpSummary = { index: p.index, process: p.process, f: p.f, type: p.type, invokeValue: p.invokeValue, value: p.value, start: p.start, end: Number.isFinite(p.end) ? p.end : null };
  const line = lineOf(history, p.index);
  if (line !== undefined) s.line = line;
  return s;
}

/**
 * Truncates a partition at time `t` (Jepsen's history prefix): ops invoked after `t` are removed and ops
 * completing after `t` become pending (read-only ones are dropped). Any prefix of a linearizable
 * history is linearizable, so a failing prefix proves the whole history fails.
 */
function truncate(model: Model<unknown>, entries: readonly SearchEntry[], t: number): number[] {
  const keep: number[] = [];
  entries.forEach((e, i) => {
    if (e.start > t) return;
    if (e.end > t && e.op.known && model.isReadOnly(e.op)) return;
    keep.push(i);
  });
  return keep;
}

function subset(model: Model<unknown>, entries: readonly SearchEntry[], idx: readonly number[], t: number): SearchEntry[] {
  return idx.map((i) => {
    const e = entries[i]!;
    return e.end > t && e.end !== Infinity ? { op: { ...e.op, known: false }, start: e.start, end: Infinity } : e;
  });
}

/** Finds a small failing sub-history; every candidate is re-checked, and only a definite `false` shrinks it. */
function minimise(make: () => Model<unknown>, part: Partition, deadlineMs: number): { idx: number[]; cut: boolean; blocked?: number } {
  const entries = entriesOf(part);
  const r = minimiseIdx(make, entries, deadlineMs);
  const model = make();
  const out = searchLinearization(model, subset(model, entries, r.idx, r.t), { deadlineMs: Date.now() + 1000 });
  return out.valid === false && out.blocked !== undefined ? { ...r, blocked: r.idx[out.blocked]! } : r;
}

function minimiseIdx(make: () => Model<unknown>, entries: readonly SearchEntry[], deadlineMs: number): { idx: number[]; cut: boolean; t: number } {
  const model = make();
  const fails = (idx: number[], t: number): boolean => searchLinearization(make(), subset(model, entries, idx, t), { deadlineMs }).valid === false;
  const ends = [...new Set(entries.filter((e) => e.end !== Infinity).map((e) => e.end))].sort((a, b) => a - b);
  // Binary search for the earliest cut-off time whose prefix fails.
  let lo = 0;
  let hi = ends.length - 1;
  let cut = false;
  while (lo < hi) {
    if (Date.now() > deadlineMs) {
      cut = true;
      lo = hi;
      break;
    }
    const mid = (lo + hi) >> 1;
    if (fails(truncate(model, entries, ends[mid]!), ends[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  const t = ends[hi] ?? Infinity;
  let idx = truncate(model, entries, t);
  if (!fails(idx, t)) {
    idx = entries.map((_, i) => i); // cannot happen for a failing history; keep the whole key to stay honest
    return { idx, cut: true, t: Infinity };
  }
  // Remove read-only ops (removing a read from a linearizable history keeps it linearizable).
  for (let chunk = Math.max(1, idx.length >> 1); chunk >= 1; chunk >>= 1) {
    for (let i = idx.length - 1; i >= 0; i -= chunk) {
      if (Date.now() > deadlineMs) return { idx, cut: true, t };
      const drop = new Set(idx.slice(Math.max(0, i - chunk + 1), i + 1).filter((j) => entries[j]!.op.known && model.isReadOnly(entries[j]!.op)));
      if (drop.size === 0) continue;
      const cand = idx.filter((j) => !drop.has(j));
      if (fails(cand, t)) idx = cand;
    }
    if (chunk === 1) break;
  }
  return { idx, cut, t };
}

/**
 * Checks that a history is linearizable with respect to a model, key by key.
 * @throws HistoryFormatError when the history is malformed or an op does not fit the model.
 */
export function checkLinearizable(history: HistoryInput, opts: LinearizableOptions): LinearizabilityResult {
  const t0 = Date.now();
  const deadlineMs = opts.timeLimitMs !== undefined ? t0 + opts.timeLimitMs : undefined;
  const make = (): Model<unknown> => createModel(opts.model, opts.init, opts.knossosNil ? { knossosNil: true } : {});
  const { opCount, parts, nilRead } = splitForSearch(history, opts.independent ?? false, make);
  const perKey: KeySummary[] = [];
  const invalid: { part: Partition; outcome: Extract<SearchOutcome, { valid: false }> }[] = [];
  let configurations = 0;
  let backtracks = 0;
  const keys = parts.map((p) => p.key);
  // Keys are searched in rounds with a growing step budget, so that one hard key cannot hide an easy
  // failing one; once a key is invalid the history is invalid and, unless `exhaustive`, the rest stop.
  const summaries = new Map<string, KeySummary>();
  const searches = new Map<string, ResumableSearch>();
  const budget: SearchBudget = {};
  if (deadlineMs !== undefined) budget.deadlineMs = deadlineMs;
  if (opts.maxMemoryBytes !== undefined) budget.maxMemoryBytes = opts.maxMemoryBytes;
  const searchOf = (part: Partition): ResumableSearch => {
    let s = searches.get(part.key);
    if (!s) searches.set(part.key, (s = startSearch(make(), part.columns(), budget)));
    return s;
  };
  const searchMs = new Map<string, number>();
  let pending = parts;
  for (let stepLimit = 4096; pending.length > 0; stepLimit *= 8) {
    const still: Partition[] = [];
    for (const part of pending) {
      if (invalid.length > 0 && !opts.exhaustive) {
        summaries.set(part.key, { key: part.key, valid: 'unknown', ops: part.size, configurations: summaries.get(part.key)?.configurations ?? 0, reason: 'not searched: another key is invalid' });
        continue;
      }
      const ts = Date.now();
      const outcome = searchOf(part).resume(stepLimit);
      searchMs.set(part.key, (searchMs.get(part.key) ?? 0) + Date.now() - ts);
      if (outcome.valid !== 'unknown' || outcome.reason !== 'step-limit') {
        searches.delete(part.key); // finished: let its memo table go
        configurations += outcome.stats.configurations;
        backtracks += outcome.stats.backtracks;
      }
      const s: KeySummary = { key: part.key, valid: outcome.valid, ops: part.size, configurations: outcome.stats.configurations };
      if (outcome.valid === 'unknown') s.reason = outcome.reason;
      summaries.set(part.key, s);
      if (outcome.valid === false) invalid.push({ part, outcome });
      if (outcome.valid === 'unknown' && outcome.reason === 'step-limit') still.push(part);
    }
    pending = still;
  }
  for (const k of keys) perKey.push(summaries.get(k)!);
  const invalidKeys = perKey.filter((k) => k.valid === false).map((k) => k.key);
  const unknownKeys = perKey.filter((k) => k.valid === 'unknown').map((k) => k.key);
  const result: LinearizabilityResult = {
    valid: invalidKeys.length > 0 ? false : unknownKeys.length > 0 ? 'unknown' : true,
    model: opts.model,
    opCount,
    keyCount: parts.length,
    invalidKeys,
    unknownKeys,
    perKey,
    stats: { elapsedMs: 0, configurations, backtracks },
  };
  const first = invalid[0];
  if (first && opts.evidence !== false) {
    const { part, outcome } = first;
    // Minimising costs repeated searches: bound it by the evidence limit and by a multiple of the search's own time.
    // An explicit limit is honoured as given; by default, at most 2 s and at most 50 ms + 4x the key's search.
    const evidenceDeadline = Date.now() + (opts.evidenceTimeLimitMs ?? Math.min(2000, 50 + 4 * (searchMs.get(part.key) ?? 0)));
    const { idx, cut, blocked } = minimise(make, part, evidenceDeadline);
    const ev: LinearizabilityEvidence = {
      key: part.key,
      longestPrefix: outcome.longestPrefix.map((i) => summarise(history, part.pairedOf(i))),
      stateAfterPrefix: outcome.stateAfterPrefix,
      subHistory: idx.map((i) => summarise(history, part.pairedOf(i))),
      minimisationCut: cut,
    };
    if (outcome.blocked !== undefined) ev.blockedAfterPrefix = summarise(history, part.pairedOf(outcome.blocked));
    const failing = blocked ?? outcome.blocked;
    if (failing !== undefined) ev.failingOp = summarise(history, part.pairedOf(failing));
    result.evidence = ev;
  }
  // Knossos's reading drops constraints, so it can only turn false into true: compare only where it can differ.
  if ((opts.model === 'register' || opts.model === 'cas-register') && opts.compareNilReadings !== false && nilRead) {
    const knossosNil = !(opts.knossosNil ?? false);
    if (knossosNil ? result.valid === false : result.valid === true) {
      const rest = opts.timeLimitMs !== undefined ? Math.max(1, opts.timeLimitMs - (Date.now() - t0)) : undefined;
      const other = checkLinearizable(history, { ...opts, knossosNil, evidence: false, compareNilReadings: false, ...(rest !== undefined ? { timeLimitMs: rest } : {}) });
      if (other.valid !== result.valid) result.nilReading = { knossosNil, valid: other.valid };
    }
  }
  result.stats.elapsedMs = Date.now() - t0;
  return result;
}

/**
 * Each key's search entries, in sorted key order: the fast split when it can decide, else pairOps and
 * partitionByKey (which throw the precise error for a malformed history).
 */
function splitForSearch(history: HistoryInput, independent: boolean, make: () => Model<unknown>): { opCount: number; parts: Partition[]; nilRead: boolean } {
  const fast = splitHistory(history, independent, make);
  if (fast) return { opCount: fast.opCount, parts: fast.keys, nilRead: fast.hasNilRead };
  const ops = history instanceof HistoryColumns ? history.toOps() : history;
  const paired = pairOps(ops);
  const groups = partitionByKey(paired, independent);
  const parts = [...groups.keys()].sort().map((k) => prepare(ops, k, groups.get(k)!, make()));
  return { opCount: paired.length, parts, nilRead: hasNilRead(groups) };
}

function hasNilRead(groups: ReadonlyMap<string, readonly PairedOp[]>): boolean {
  for (const ops of groups.values()) for (const o of ops) if (o.f === 'read' && o.type === 'ok' && (o.value === null || o.value === undefined)) return true;
  return false;
}
