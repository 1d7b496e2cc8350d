/**
 * A transaction history in compact form: transactions numbered 0…n-1 (in invocation order) and their
 * micro-operations in flat typed arrays, keys interned to integers. Built from `Op`s with `pairOps`, so
 * Knossos's pairing rules and the clock-uncertainty interval of each transaction come from one place.
 */
import { HistoryFormatError } from '../errors';
import type { Op, PairedOp } from '../history/operation';
import { OpPairer } from '../history/pair';

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
  const lineOf = (eventIndex: number): number => {
    const op = history[eventIndex];
    return op !== undefined && op.index === eventIndex ? op.line ?? eventIndex + 1 : eventIndex + 1;
  };
  const b = new TxnHistoryBuilder(model, lineOf);
  for (const op of history) b.add(op);
  return b.finish();
}

/**
 * `buildTxnHistory` one event at a time, for histories streamed from disk: it holds the transactions still open
 * (and those invoked after the oldest open one) and the micro-ops laid out so far, not the events. Errors are
 * kept until `finish`, in the order buildTxnHistory gives them: the first pairing error (as pairOps finds it),
 * else the first malformed transaction in invocation order.
 */
export class TxnHistoryBuilder {
  readonly #pairer = new OpPairer();
  /** Transactions by number until laid out (undefined after). */
  readonly #pending: (PairedOp | undefined)[] = [];
  /** Process -> its open transaction's number. */
  readonly #openTxn = new Map<number, number>();
  #laidOut = 0;
  #pairingError: HistoryFormatError | undefined;
  #invalid: HistoryFormatError | undefined;
  readonly #line: number[] = [];
  // What each transaction keeps once laid out (its PairedOp is dropped), by number.
  readonly #type: number[] = [];
  readonly #process: number[] = [];
  readonly #start: number[] = [];
  readonly #end: number[] = [];
  readonly #invokeIndex: number[] = [];
  readonly #mopStart: number[] = [];
  #mopF = new Uint8Array(1024);
  #mopKey = new Int32Array(1024);
  readonly #values: unknown[] = [];
  #m = 0;
  readonly #keys: Scalar[] = [];
  readonly #keyIds = new Map<Scalar, number>();
  readonly #writeF: string;

  /**
   * `lineOf(eventIndex, op)`: the source line of event `op` (number `eventIndex`), for messages; by default its
   * `line`, else its index + 1.
   */
  constructor(
    readonly model: TxnModel,
    private readonly lineOf: (eventIndex: number, op: Op) => number = (i, op) => op.line ?? i + 1,
  ) {
    this.#writeF = model === 'list-append' ? 'append' : 'w';
  }

  /** Takes the next event of the history. */
  add(op: Op): void {
    if (this.#pairingError !== undefined) return;
    let started: PairedOp | undefined;
    try {
      started = this.#pairer.add(op);
    } catch (err) {
      if (!(err instanceof HistoryFormatError)) throw err;
      this.#pairingError = err;
      return;
    }
    if (started !== undefined) {
      if (started.f !== 'txn') return;
      const t = this.#pending.length;
      this.#pending.push(started);
      this.#line.push(this.lineOf(op.index, op));
      this.#openTxn.set(started.process, t);
      return;
    }
    if (op.process === 'nemesis' || op.type === 'invoke') return;
    // The pairer took a completion: when the process's open op is a transaction, this completed it.
    const t = this.#openTxn.get(op.process);
    if (t === undefined) return;
    this.#openTxn.delete(op.process);
    this.#line[t] = this.lineOf(op.index, op);
    while (this.#laidOut < this.#pending.length && this.#pending[this.#laidOut]!.completionIndex >= 0) this.#layOut();
  }

  /**
   * The transaction history; transactions still open are `info`.
   * @throws HistoryFormatError naming the line of the first malformed transaction (or pairing error).
   */
  finish(): TxnHistory {
    if (this.#pairingError !== undefined) throw this.#pairingError;
    while (this.#laidOut < this.#pending.length) this.#layOut();
    if (this.#invalid !== undefined) throw this.#invalid;
    const n = this.#pending.length;
    const h: TxnHistory = {
      model: this.model,
      n,
      type: new Uint8Array(n),
      process: new Float64Array(n),
      start: new Float64Array(n),
      end: new Float64Array(n),
      invokeIndex: new Int32Array(n),
      line: Int32Array.from(this.#line),
      mopStart: new Int32Array(n + 1),
      mopF: this.#mopF.slice(0, this.#m),
      mopKey: this.#mopKey.slice(0, this.#m),
      mopValue: this.#values,
      keys: this.#keys,
    };
    h.mopStart.set(this.#mopStart);
    h.mopStart[n] = this.#m;
    h.type.set(this.#type);
    h.process.set(this.#process);
    h.start.set(this.#start);
    h.end.set(this.#end);
    h.invokeIndex.set(this.#invokeIndex);
    return h;
  }

  /** Lays out the micro-ops of the next transaction, whose outcome is now known. */
  #layOut(): void {
    const t = this.#laidOut++;
    const p = this.#pending[t]!;
    this.#pending[t] = undefined;
    this.#type.push(p.type === 'ok' ? OK : p.type === 'fail' ? FAIL : INFO);
    this.#process.push(p.process);
    this.#start.push(p.start);
    this.#end.push(p.end);
    this.#invokeIndex.push(p.index);
    this.#mopStart.push(this.#m);
    if (this.#invalid !== undefined) return;
    const line = this.#line[t]!;
    const ok = p.type === 'ok';
    const value = ok ? p.value : p.invokeValue;
    const writeF = this.#writeF;
    try {
      if (!Array.isArray(value)) {
        throw new HistoryFormatError(`txn value must be a list of micro-ops [f, key, value], got ${show(value)}`, line);
      }
      for (const mop of value as unknown[]) {
        if (!Array.isArray(mop) || mop.length !== 3) {
          throw new HistoryFormatError(`micro-op must be [f, key, value], got ${show(mop)}`, line);
        }
        const f: unknown = mop[0];
        const key: unknown = mop[1];
        const v: unknown = mop[2];
        if (!isScalar(key)) throw new HistoryFormatError(`micro-op key must be a number or string, got ${show(mop)}`, line);
        let code: number;
        if (f === writeF) {
          if (!isScalar(v)) throw new HistoryFormatError(`"${writeF}" value must be a number or string, got ${show(mop)}`, line);
          code = WRITE;
        } else if (f === 'r') {
          if (ok) checkReadValue(this.model, mop, v, line);
          code = READ;
        } else {
          throw new HistoryFormatError(
            `micro-op function must be "${writeF}" or "r" for the ${this.model} model, got ${show(mop)}`,
            line,
          );
        }
        let k = this.#keyIds.get(key);
        if (k === undefined) {
          k = this.#keys.length;
          this.#keyIds.set(key, k);
          this.#keys.push(key);
        }
        const m = this.#m++;
        if (m === this.#mopF.length) this.#grow();
        this.#mopF[m] = code;
        this.#mopKey[m] = k;
        this.#values.push(code === READ && !ok ? null : v);
      }
    } catch (err) {
      if (!(err instanceof HistoryFormatError)) throw err;
      this.#invalid = err;
    }
  }

  #grow(): void {
    const f = new Uint8Array(this.#mopF.length * 2);
    f.set(this.#mopF);
    this.#mopF = f;
    const k = new Int32Array(this.#mopKey.length * 2);
    k.set(this.#mopKey);
    this.#mopKey = k;
  }
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
