/**
 * A transaction history in compact form: transactions numbered 0…n-1 (in invocation order) and their
 * micro-operations in flat typed arrays, keys interned to integers. Built from `Op`s with `pairOps`, so
 * Knossos's pairing rules and the clock-uncertainty interval of each transaction come from one place.
 */
import { HistoryFormatError } from '../errors';
import type { Op } from '../history/operation';
import { pairOps } from '../history/pair';

/** Which micro-operation vocabulary the history uses. */
export type TxnModel = 'list-append' | 'rw-register';

/** Outcome codes in `TxnHistory.type`. */
export const OK = 0;
export const FAIL = 1;
export const INFO = 2;

/** Micro-operation codes in `TxnHistory.mopF`: a write (`append` or `w`) or a read (`r`). */
export const WRITE = 0;
export const READ = 1;

/** Micro-op values are numbers or strings: what Jepsen's generators write and what EDN keys become. */
export type Scalar = number | string;

export interface TxnHistory {
  model: TxnModel;
  /** Number of transactions. */
  n: number;
  /** OK, FAIL or INFO (INFO also covers transactions that never completed). */
  type: Uint8Array;
  process: Float64Array;
  /** Earliest time the transaction could have taken effect (invoke time − uncertainty). */
  start: Float64Array;
  /** Latest time it could have taken effect (completion + uncertainty); Infinity for INFO. */
  end: Float64Array;
  /** Index of the invocation event in the history. */
  invokeIndex: Int32Array;
  /** Source line of the completion (or of the invocation when none), 0 when unknown. */
  line: Int32Array;
  /** Micro-ops of transaction t are mopStart[t] … mopStart[t+1]-1. */
  mopStart: Int32Array;
  mopF: Uint8Array;
  mopKey: Int32Array;
  /** Written value, or read result (`null`, a scalar, or a list of scalars). Reads of non-ok txns are unknown. */
  mopValue: unknown[];
  /** Key id -> key as written in the history. */
  keys: Scalar[];
}

const isScalar = (v: unknown): v is Scalar => typeof v === 'number' || typeof v === 'string';

/**
 * Pairs the history and extracts its `txn` operations; other client operations are ignored.
 * @throws HistoryFormatError naming the line of the first malformed transaction.
 */
export function buildTxnHistory(history: readonly Op[], model: TxnModel): TxnHistory {
  const paired = pairOps(history).filter((p) => p.f === 'txn');
  const lineOf = (eventIndex: number): number => {
    const op = history[eventIndex];
    return op !== undefined && op.index === eventIndex ? op.line ?? eventIndex + 1 : eventIndex + 1;
  };
  const n = paired.length;
  const h: TxnHistory = {
    model,
    n,
    type: new Uint8Array(n),
    process: new Float64Array(n),
    start: new Float64Array(n),
    end: new Float64Array(n),
    invokeIndex: new Int32Array(n),
    line: new Int32Array(n),
    mopStart: new Int32Array(n + 1),
    mopF: new Uint8Array(0),
    mopKey: new Int32Array(0),
    mopValue: [],
    keys: [],
  };
  // Count micro-ops first so every array is allocated once, at its final size (fewer full GCs at scale).
  let mopCount = 0;
  for (const p of paired) {
    const v = p.type === 'ok' ? p.value : p.invokeValue;
    if (Array.isArray(v)) mopCount += v.length;
  }
  const mopF = new Uint8Array(mopCount);
  const mopKey = new Int32Array(mopCount);
  const values: unknown[] = new Array<unknown>(mopCount);
  h.mopValue = values;
  const keyIds = new Map<Scalar, number>();
  const writeF = model === 'list-append' ? 'append' : 'w';
  let m = 0;
  for (let t = 0; t < n; t++) {
    const p = paired[t]!;
    h.type[t] = p.type === 'ok' ? OK : p.type === 'fail' ? FAIL : INFO;
    h.process[t] = p.process;
    h.start[t] = p.start;
    h.end[t] = p.end;
    h.invokeIndex[t] = p.index;
    const line = lineOf(p.completionIndex >= 0 ? p.completionIndex : p.index);
    h.line[t] = line;
    h.mopStart[t] = m;
    const ok = p.type === 'ok';
    const value = ok ? p.value : p.invokeValue;
    if (!Array.isArray(value)) {
      throw new HistoryFormatError(`txn value must be a list of micro-ops [f, key, value], got ${show(value)}`, line);
    }
    for (const mop of value as unknown[]) {
      if (!Array.isArray(mop) || mop.length !== 3) {
        throw new HistoryFormatError(`micro-op must be [f, key, value], got ${show(mop)}`, line);
      }
      const [f, key, v] = mop as [unknown, unknown, unknown];
      if (!isScalar(key)) throw new HistoryFormatError(`micro-op key must be a number or string, got ${show(mop)}`, line);
      let code: number;
      if (f === writeF) {
        if (!isScalar(v)) throw new HistoryFormatError(`"${writeF}" value must be a number or string, got ${show(mop)}`, line);
        code = WRITE;
      } else if (f === 'r') {
        if (ok) checkReadValue(model, mop, v, line);
        code = READ;
      } else {
        throw new HistoryFormatError(
          `micro-op function must be "${writeF}" or "r" for the ${model} model, got ${show(mop)}`,
          line,
        );
      }
      let k = keyIds.get(key);
      if (k === undefined) {
        k = h.keys.length;
        keyIds.set(key, k);
        h.keys.push(key);
      }
      mopF[m] = code;
      mopKey[m] = k;
      values[m] = code === READ && !ok ? null : v;
      m++;
    }
  }
  h.mopStart[n] = m;
  h.mopF = mopF;
  h.mopKey = mopKey;
  return h;
}

function checkReadValue(model: TxnModel, mop: unknown, v: unknown, line: number): void {
  if (v === null) return;
  if (model === 'rw-register') {
    if (!isScalar(v)) throw new HistoryFormatError(`"r" value must be nil, a number or a string, got ${show(mop)}`, line);
    return;
  }
  if (!Array.isArray(v) || !v.every(isScalar)) {
    throw new HistoryFormatError(`"r" value must be nil or a list of numbers or strings, got ${show(mop)}`, line);
  }
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Human name of a transaction for explanations: `T<n>` with n = its invocation's history index. */
export function txnName(h: TxnHistory, t: number): string {
  return `T${h.invokeIndex[t]}`;
}

/** The transaction's micro-ops as Jepsen would print them, e.g. `[[append 3 1] [r 4 [1 2]]]`. */
export function formatTxn(h: TxnHistory, t: number, maxMops = 8): string {
  const parts: string[] = [];
  const lo = h.mopStart[t]!;
  const hi = h.mopStart[t + 1]!;
  const writeF = h.model === 'list-append' ? 'append' : 'w';
  for (let i = lo; i < hi && i < lo + maxMops; i++) {
    const f = h.mopF[i] === WRITE ? writeF : 'r';
    const v = h.mopValue[i];
    const vs = v === null ? (h.mopF[i] === READ && h.type[t] !== OK ? '?' : 'nil') : Array.isArray(v) ? `[${v.join(' ')}]` : String(v);
    parts.push(`[${f} ${String(h.keys[h.mopKey[i]!])} ${vs}]`);
  }
  if (hi - lo > maxMops) parts.push(`… ${hi - lo - maxMops} more`);
  return `[${parts.join(' ')}]`;
}

/** `T12 (process 3, line 40)`, or with `(info)` / `(failed)` for transactions without an ok outcome. */
export function txnLabel(h: TxnHistory, t: number): string {
  const ty = h.type[t] === OK ? '' : h.type[t] === FAIL ? ', failed' : ', info';
  return `${txnName(h, t)} (process ${h.process[t]}, line ${h.line[t]}${ty})`;
}
