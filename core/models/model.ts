/**
 * The model contract the linearizability search uses (Porcupine's `Model`, Knossos's `Model`):
 * a pure sequential specification plus the rules that turn a recorded operation into what the
 * search must explain.
 */
import type { PairedOp } from '../history/operation';

/** States must be primitives (or be mapped to one by `key`) so that the search can memoise them. */
export type StateKey = number | string | boolean | null;

/** One operation as the search sees it. */
export interface SearchOp {
  /** Operation name (`read`, `write`, `cas`, `get`, `put`, `append`, `acquire`, `txn`, ...). */
  f: string;
  /** Invocation argument. */
  arg: unknown;
  /** Observed result; meaningful only when `known` is true. */
  out: unknown;
  /**
   * False when the outcome is unknown (`info` or never completed): the op may take effect at any
   * point after its invocation, or never, and its result constrains nothing.
   */
  known: boolean;
  /** True for a definitely failed op that a model keeps as an observation (etcd: a failed cas saw another value). */
  failed: boolean;
}

/**
 * A sequential specification.
 * @typeParam S - the state; `key(s)` must be equal for two states exactly when they behave the same.
 */
export interface Model<S> {
  readonly name: string;
  init(): S;
  /** Pure. The next state, or undefined if `op` (with its observed result, when known) is impossible from `state`. */
  step(state: S, op: SearchOp): S | undefined;
  /**
   * Optional, for models where an op with an unknown outcome can lead to several states (an
   * unordered queue's timed-out dequeue may have removed any element): every possible next state.
   * When absent, `step` is used for every op.
   */
  branches?(state: S, op: SearchOp): S[];
  /** Memoisation key of a state. */
  key(state: S): StateKey;
  /**
   * True when `key` is always a non-negative integer below the number of states this instance has made (kv's trie
   * nodes): the search then interns states in a typed array instead of a Map.
   */
  readonly denseKeys?: boolean;
  /**
   * Turns a paired operation into a search op, or null when it constrains nothing and can be
   * dropped (a failed op under Knossos rules, a read with unknown result). Depends on `op` alone (not on the
   * instance or earlier calls) and keeps no reference to `op`: the checker prepares every key's ops with one
   * instance and one reused PairedOp.
   * @throws HistoryFormatError when the op does not fit the model (unknown f, malformed value).
   */
  prepare(op: PairedOp): SearchOp | null;
  /**
   * True when `step` never changes the state for this op (reads, failed-cas observations).
   * The search linearizes such ops as soon as they are legal: that never loses a linearization.
   */
  isReadOnly(op: SearchOp): boolean;
  /** Human-readable state for evidence. */
  describe(state: S): string;
}

/** Canonical primitive for a value, so that structurally equal values compare with `===`. */
export function valueKey(v: unknown): StateKey {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return `\u0000${JSON.stringify(v)}`;
}

/** Human-readable form of a canonical value. */
export function describeKey(k: StateKey): string {
  if (typeof k === 'string' && k.startsWith('\u0000')) return k.slice(1);
  return JSON.stringify(k);
}
