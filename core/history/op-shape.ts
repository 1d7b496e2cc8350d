/**
 * Ops read from files are made here, so they share hidden classes whose fields already hold every kind of value
 * they will meet. Without that, the first `:time` past 2^31 or the first `:process :nemesis` re-shapes (and
 * migrates) every op read before it, which on a million-op history costs more than reading it.
 */
import type { Op, OpType, ProcessId } from './operation';

interface OpRecordConstructor {
  new (index: number, type: OpType, process: ProcessId, f: string, value: unknown, line: number): Op;
}

// A constructor, not an object literal: V8 gives the objects a constructor makes room in place for the fields added
// after (in-object slack tracking), where a literal's get a separate property array allocated for them. Its
// prototype is Object's, so an op is still a plain object (deepStrictEqual to a literal).
const OpRecord = function (this: Op, index: number, type: OpType, process: ProcessId, f: string, value: unknown, line: number) {
  this.index = index;
  this.type = type;
  this.process = process;
  this.f = f;
  this.value = value;
  this.line = line;
  // Never run (an index is never negative): V8 sizes the objects by the fields a constructor's body assigns, so
  // naming the optional ones here makes room for them.
  if (index < 0) {
    this.key = '';
    this.time = 0;
    this.uncertainty = 0;
    this.seq = 0;
    this.node = '';
    this.error = '';
  }
} as unknown as OpRecordConstructor;
OpRecord.prototype = Object.prototype;

/** A new op with the fields every op has; optional fields are added after, in the reader's fixed order. */
export function newOp(index: number, type: OpType, process: ProcessId, f: string, value: unknown, line: number): Op {
  return new OpRecord(index, type, process, f, value, line);
}

/**
 * Makes one op of each subset of `optional` (added in that order), each field given a non-number first, then a
 * double and a string: its representation goes straight to the most general one, in place. (Through a double
 * representation it would not: V8 would re-shape the objects made so far, and a re-shaped first op no longer
 * sets how much room ops keep in place.)
 */
function warm(optional: readonly string[]): void {
  for (let mask = (1 << optional.length) - 1; mask >= 0; mask--) {
    const o = newOp(0, 'ok', 0, 'f', null, 1) as unknown as Record<string, unknown>;
    for (const v of ['nemesis', 1.5, [], {}]) {
      o.process = v;
      o.value = v;
    }
    optional.forEach((k, i) => {
      if ((mask & (1 << i)) === 0) return;
      for (const v of [null, 1.5, 'x']) o[k] = v;
    });
  }
}

// The orders pushOp (EDN, history.txt, etcd logs) and jsonlOp / JsonlOpScanner (history.jsonl) add fields in. The
// first op made holds every optional field, so the room V8 keeps in place (decided after a few ops) fits them.
warm(['key', 'time', 'uncertainty', 'seq', 'node', 'error']);
warm(['key', 'time', 'error', 'node']);

