/**
 * Ops read from files are made here, so they share hidden classes whose fields already hold every kind of value
 * they will meet. Without that, the first `:time` past 2^31 or the first `:process :nemesis` re-shapes (and
 * migrates) every op read before it, which on a million-op history costs more than reading it.
 */
import type { Op, OpType, ProcessId } from './operation';

/** A new op with the fields every op has; optional fields are added after, in the reader's fixed order. */
export function newOp(index: number, type: OpType, process: ProcessId, f: string, value: unknown, line: number): Op {
  return { index, type, process, f, value, line };
}

/**
 * Makes one op of each subset of `optional` (added in that order), each field given numbers, doubles and strings,
 * so those hidden classes start with their most general field representations.
 */
function warm(optional: readonly (keyof Op)[]): void {
  for (let mask = 0; mask < 1 << optional.length; mask++) {
    const op = newOp(0, 'ok', 0, 'f', null, 1);
    const o = op as unknown as Record<string, unknown>;
    for (const v of [1, 1.5, 'x', [], {}, null]) {
      o.process = v;
      o.value = v;
    }
    o.process = 0;
    optional.forEach((k, i) => {
      if ((mask & (1 << i)) === 0) return;
      for (const v of [1, 1.5, 'x']) o[k] = v;
    });
  }
}

// The orders pushOp (EDN, history.txt, etcd logs) and jsonlOp / JsonlOpScanner (history.jsonl) add fields in.
warm(['key', 'time', 'error', 'node']);
warm(['key', 'time', 'uncertainty', 'seq', 'node', 'error']);
