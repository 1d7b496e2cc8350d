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
      const paired = newPairedOp(op.index, op.process, op.f, op.value, t - u, op.key, op.node);
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

/** Every PairedOp comes from here, so all share one shape. */
function newPairedOp(index: number, process: number, f: string, value: unknown, start: number, key: string | undefined, node: string | undefined): PairedOp {
  return { index, process, f, invokeValue: value, value, type: 'info', start, end: Infinity, completionIndex: -1, key, node, error: undefined };
}

// Values change kind after pairing (a Jepsen tuple [k v] becomes v, a number or nil), and so do keys: a first op
// that holds every kind up front keeps V8 from re-shaping (and migrating) every PairedOp when that happens.
{
  const warm = newPairedOp(0, 0, 'f', 1, 0, undefined, undefined);
  for (const v of [1.5, 'x', null, [], {}, 2]) {
    warm.value = v;
    warm.invokeValue = v;
  }
  warm.key = 'k';
  warm.node = 'n';
  warm.error = 'e';
  warm.start = 0.5;
  warm.end = 1;
}

/** True when `a` certainly finished before `b` began, whatever their clock uncertainty. */
export function precedes(a: PairedOp, b: PairedOp): boolean {
  return a.end < b.start;
}
