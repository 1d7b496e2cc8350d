/**
 * The history vocabulary shared by the controller, the checkers and `faultline check`.
 * One `Op` is one event: an invocation or a completion (Jepsen's op map). See docs/history-format.md.
 */

/** `info` means the outcome is unknown: the operation may or may not have taken effect. */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/** Client process ids are integers, unique across all nodes; the nemesis has its own id. */
export type ProcessId = number | 'nemesis';

/** One event of a history, in the order the history store recorded it. */
export interface Op {
  /** Position of this event in the history, from 0. */
  index: number;
  type: OpType;
  process: ProcessId;
  /** Operation name: read, write, cas, append, txn, start-partition, ... */
  f: string;
  /** Independent key for keyed workloads (our own keyed ops). Absent for single-object histories. */
  key?: string;
  /** Invocation argument or completion result; shape depends on `f`. */
  value: unknown;
  /** Nanoseconds on the controller's timeline (or any monotonic order, e.g. the line number). */
  time?: number;
  /** Half-width, in nanoseconds, of the interval in which the event really happened: true time is `time ± uncertainty`. */
  uncertainty?: number;
  /** Node whose agent recorded the event. */
  node?: string;
  /** Per-agent gapless sequence number. */
  seq?: number;
  error?: string;
  /** 1-based line in the source file, for error messages. */
  line?: number;
}

/** A client operation with its invocation and completion joined (Knossos: a "complete" op). */
export interface PairedOp {
  /** Index of the invocation event in the history. */
  index: number;
  process: number;
  f: string;
  /** Always present (undefined when the op has no key), so every PairedOp has one shape. */
  key?: string | undefined;
  /** Argument as invoked. */
  invokeValue: unknown;
  /** Result as completed (`ok`); for `info`/`fail`/open ops, the invocation's value. */
  value: unknown;
  /** `info` also covers invocations that never completed. */
  type: 'ok' | 'fail' | 'info';
  /** Earliest time the op could have taken effect: invoke time − its uncertainty. */
  start: number;
  /** Latest time the op could have taken effect: completion time + its uncertainty; Infinity for `info`. */
  end: number;
  /** Index of the completion event, or -1 when the op never completed. */
  completionIndex: number;
  node?: string | undefined;
  error?: string | undefined;
}
