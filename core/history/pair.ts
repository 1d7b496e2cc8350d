import { HistoryFormatError } from '../errors';
import type { Op, PairedOp } from './operation';

/**
 * Joins each client invocation with its completion (the next `ok`/`fail`/`info` of the same process).
 *
 * Semantics (Knossos `preprocess`, Jepsen's history rules):
 * - an `ok` completion's value replaces the invocation's value (reads are invoked with nil);
 * - `info`, and an invocation that never completes, is indeterminate: `end` is Infinity;
 * - an `info` with no open invocation (nemesis messages, log lines) is not a client op and is skipped;
 * - an `ok`/`fail` with no open invocation, a second invocation while one is open, or a completion timed before
 *   its invocation, is malformed.
 * Times: an event without `time` uses its index, so file order is real-time order.
 * @throws HistoryFormatError naming the line of the offending event.
 */
export function pairOps(history: readonly Op[]): PairedOp[] {
  const pairer = new OpPairer();
  const out: PairedOp[] = [];
  for (const op of history) {
    const started = pairer.add(op);
    if (started) out.push(started);
  }
  return out;
}

/**
 * `pairOps` one event at a time, for histories streamed from disk: holds only the open invocations.
 */
export class OpPairer {
  readonly #open = new Map<number, { op: Op; paired: PairedOp }>();

  /**
   * Takes the next event. Returns the new PairedOp for an invocation (completed in place by its completion
   * later), undefined for anything else.
   * @throws HistoryFormatError as pairOps does.
   */
  add(op: Op): PairedOp | undefined {
    const open = this.#open;
    if (op.process === 'nemesis') return undefined;
    const t = op.time ?? op.index;
    const u = op.uncertainty ?? 0;
    if (op.type === 'invoke') {
      const prev = open.get(op.process);
      if (prev) {
        throw new HistoryFormatError(
          `process ${op.process} invoked "${op.f}" while its "${prev.op.f}" (line ${prev.op.line ?? prev.op.index}) is still open`,
          op.line,
        );
      }
      const paired: PairedOp = {
        index: op.index,
        process: op.process,
        f: op.f,
        invokeValue: op.value,
        value: op.value,
        type: 'info',
        start: t - u,
        end: Infinity,
        completionIndex: -1,
      };
      if (op.key !== undefined) paired.key = op.key;
      if (op.node !== undefined) paired.node = op.node;
      open.set(op.process, { op, paired });
      return paired;
    }
    const entry = open.get(op.process);
    if (!entry) {
      if (op.type === 'info') return undefined; // not a client op (nemesis or log message)
      throw new HistoryFormatError(`"${op.type}" completion of "${op.f}" for process ${op.process} has no matching invocation`, op.line);
    }
    open.delete(op.process);
    const p = entry.paired;
    // With uncertainty, stated times may cross; only a completion that certainly precedes its invocation is wrong.
    if (op.time !== undefined && entry.op.time !== undefined && op.time + u < entry.op.time - (entry.op.uncertainty ?? 0)) {
      throw new HistoryFormatError(
        `"${op.type}" completion of process ${op.process} is timed before its invocation, beyond both uncertainties (line ${entry.op.line ?? entry.op.index})`,
        op.line,
      );
    }
    if (op.f !== p.f) {
      throw new HistoryFormatError(
        `completion "${op.f}" for process ${op.process} does not match its invocation "${p.f}"`,
        op.line,
      );
    }
    p.type = op.type;
    p.completionIndex = op.index;
    if (op.error !== undefined) p.error = op.error;
    if (op.type === 'ok') {
      p.value = op.value;
      p.end = t + u;
    } else if (op.type === 'fail') {
      p.end = t + u;
    }
    // info: end stays Infinity and value stays the invocation's value (Porcupine writes ":timed-out" there).
    return undefined;
  }
}

/** True when `a` certainly finished before `b` began, whatever their clock uncertainty. */
export function precedes(a: PairedOp, b: PairedOp): boolean {
  return a.end < b.start;
}
