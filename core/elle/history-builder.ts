/**
 * Builds transaction histories as `Op[]` in code: for hand-written anomaly examples in tests and for the
 * simulated stores. Events get consecutive indices, lines (index + 1) and, unless told otherwise, times.
 */
import type { Op, OpType } from '../history/operation';

/** A micro-op as written in histories: `['append', k, v]`, `['r', k, [..]]`, `['w', k, v]`. */
export type MicroOp = [string, number | string, unknown];

export class HistoryBuilder {
  readonly ops: Op[] = [];
  /** Time of the next event when none is given, in nanoseconds. */
  clockNanos = 0;

  /** Appends an event; `timeNanos` defaults to a clock advancing 1000 ns per event. */
  event(type: OpType, process: number, value: unknown, timeNanos?: number, uncertaintyNanos?: number): Op {
    const index = this.ops.length;
    const op: Op = { index, type, process, f: 'txn', value, line: index + 1 };
    this.clockNanos = timeNanos ?? this.clockNanos + 1000;
    op.time = this.clockNanos;
    if (uncertaintyNanos !== undefined) op.uncertainty = uncertaintyNanos;
    this.ops.push(op);
    return op;
  }

  /** Invokes a transaction: reads carry nil, as Jepsen's generators write them. */
  invoke(process: number, mops: MicroOp[], timeNanos?: number, uncertaintyNanos?: number): Op {
    return this.event('invoke', process, mops.map(([f, k, v]) => [f, k, f === 'r' ? null : v]), timeNanos, uncertaintyNanos);
  }

  /** Completes the open transaction of `process`; `mops` is the completed value (reads filled in). */
  complete(process: number, type: Exclude<OpType, 'invoke'>, mops: MicroOp[], timeNanos?: number, uncertaintyNanos?: number): Op {
    return this.event(type, process, mops, timeNanos, uncertaintyNanos);
  }

  /** Invokes and immediately completes a transaction (a serial step). */
  txn(process: number, type: Exclude<OpType, 'invoke'>, mops: MicroOp[]): this {
    this.invoke(process, mops);
    this.complete(process, type, mops);
    return this;
  }
}

/** A history where each transaction runs alone, in the order given, all on distinct processes. */
export function serialHistory(txns: { type?: Exclude<OpType, 'invoke'>; mops: MicroOp[] }[]): Op[] {
  const b = new HistoryBuilder();
  txns.forEach((t, i) => b.txn(i, t.type ?? 'ok', t.mops));
  return b.ops;
}

/**
 * A history where all transactions are concurrent (all invoked, then all completed), so no real-time or
 * process order constrains them: only data dependencies can form cycles.
 */
export function concurrentHistory(txns: { type?: Exclude<OpType, 'invoke'>; mops: MicroOp[] }[]): Op[] {
  const b = new HistoryBuilder();
  txns.forEach((t, i) => b.invoke(i, t.mops));
  txns.forEach((t, i) => b.complete(i, t.type ?? 'ok', t.mops));
  return b.ops;
}
