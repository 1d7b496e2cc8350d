/**
 * The linearizability checker's fast way from a history to each key's search entries: pairing (as `pairOps`),
 * the per-key split (as `partitionByKey`) and the model's `prepare` in three passes over flat arrays, with no
 * PairedOp per op. A PairedOp is built only where evidence shows one (`pairedOf`), exactly as the slow way builds it.
 *
 * It declines (returns undefined) whenever the history holds something it does not handle: an event the slow way
 * rejects, a process id that is not a small integer, a value that is not a tuple under `independent`, an op the
 * model refuses. The caller then takes the slow way, which gives the verdict or throws the precise error, so
 * declining never changes a result.
 */
import type { Op, PairedOp } from '../history/operation';
import type { Model, SearchOp } from '../models/model';
import { keyName, NO_KEY } from './partition';
import { KNOWN, READ_ONLY, type SearchColumns } from './wgl';

/** One key of a split history: its search entries and, for evidence, where each entry's op is in the history. */
export interface SplitKey {
  key: string;
  /** Ops the search considers (those that constrain something). */
  size: number;
  /** The key's columns (built on each call). */
  columns(): SearchColumns;
  /** The PairedOp of entry `i`, as `pairOps` + `partitionByKey` would have made it. */
  pairedOf(i: number): PairedOp;
}

export interface SplitHistory {
  /** Client operations (invocations). */
  opCount: number;
  /** Keys in sorted order. */
  keys: SplitKey[];
  /** An `ok` read of nil is in the history (the register models read it two ways). */
  hasNilRead: boolean;
}

const MAX_PROCESS = 1 << 22;

/**
 * Splits `history` per key, in sorted key order, and prepares every op with a model made by `make`.
 * Returns undefined when the slow way must decide (see the file's comment).
 */
export function splitHistory(history: readonly Op[], independent: boolean, make: () => Model<unknown>): SplitHistory | undefined {
  // One pass in history order (memory read in the order it was written, an op's invocation still near when its
  // completion comes): an op's key is found at its invocation, its window and search op at its completion (or at
  // the end, when it never completes). Everything per op goes in flat arrays indexed by invocation number, typed
  // where it can be, so the garbage collector has little to copy. `prepare` depends on the op alone, so one model
  // instance prepares every key's ops.
  const n = history.length;
  const model = make();
  const invPos = new Int32Array(n);
  const cmpPos = new Int32Array(n);
  const groupOfOp = new Int32Array(n);
  const searchOp: (SearchOp | null)[] = new Array<SearchOp | null>(n).fill(null);
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const flags = new Uint8Array(n);
  const groupNames: string[] = [];
  const groupSize: number[] = [];
  const groups = new Map<string, number>();
  const names = new Map<unknown, string>();
  const byInt: number[] = []; // group + 1 of a small integer tuple key (0: none yet), without naming it
  const groupOf = (name: string): number => {
    let g = groups.get(name);
    if (g === undefined) {
      groups.set(name, (g = groupNames.length));
      groupNames.push(name);
      groupSize.push(0);
    }
    return g;
  };
  const tupleGroup = (k: unknown): number => {
    if (typeof k === 'number' && k >= 0 && k < 1048576 && Number.isInteger(k)) {
      while (byInt.length <= k) byInt.push(0);
      let g = byInt[k]! - 1;
      if (g < 0) byInt[k] = (g = groupOf(keyName(k))) + 1;
      return g;
    }
    if (typeof k === 'object' && k !== null) return groupOf(keyName(k));
    let s = names.get(k);
    if (s === undefined) names.set(k, (s = keyName(k)));
    return groupOf(s);
  };
  const scratch = blankPaired();
  let hasNilRead = false;
  /** Completes op `j`, invoked by `inv`, with completion `done` (undefined: never); false to decline. */
  const complete = (j: number, inv: Op, done: Op | undefined): boolean => {
    const g = groupOfOp[j]!;
    const p = fillPaired(scratch, inv, done, independent, groupNames[g]!);
    if (p === undefined) return false;
    if (p.type === 'ok' && (p.value === null || p.value === undefined) && p.f === 'read') hasNilRead = true;
    let s: SearchOp | null;
    try {
      s = model.prepare(p); // models read the op and keep nothing of it, so one object serves every call
    } catch {
      return false; // the slow way throws it, naming the line, in its own order
    }
    if (s === null) return true;
    searchOp[j] = s;
    start[j] = p.start;
    end[j] = s.known ? p.end : Infinity;
    flags[j] = s.known ? (model.isReadOnly(s) ? KNOWN | READ_ONLY : KNOWN) : 0;
    groupSize[g]!++;
    return true;
  };

  let ops = 0;
  let open = new Int32Array(64); // process -> its open invocation's number + 1 (0: none)
  let lastKey: unknown;
  let lastGroup = -1;
  for (let i = 0; i < n; i++) {
    const op = history[i]!;
    const p = op.process;
    if (p === 'nemesis') continue;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p >= MAX_PROCESS) return undefined;
    if (p >= open.length) {
      let len = open.length;
      while (len <= p) len *= 2;
      const grown = new Int32Array(len);
      grown.set(open);
      open = grown;
    }
    const o = open[p]! - 1;
    if (op.type === 'invoke') {
      if (o >= 0) return undefined;
      let g: number;
      if (independent) {
        const iv = op.value;
        if (!Array.isArray(iv) || iv.length !== 2) return undefined; // a key only the completion names, or malformed
        const k: unknown = iv[0];
        g = k === lastKey && lastGroup >= 0 ? lastGroup : tupleGroup(k);
        lastKey = k;
      } else {
        const name = op.key ?? NO_KEY;
        g = name === lastKey && lastGroup >= 0 ? lastGroup : groupOf(name);
        lastKey = name;
      }
      lastGroup = g;
      const j = ops++;
      invPos[j] = i;
      cmpPos[j] = -1;
      groupOfOp[j] = g;
      open[p] = ops;
      continue;
    }
    if (o < 0) {
      if (op.type === 'info') continue; // not a client op
      return undefined;
    }
    const inv = history[invPos[o]!]!;
    if (op.time !== undefined && inv.time !== undefined && op.time + (op.uncertainty ?? 0) < inv.time - (inv.uncertainty ?? 0)) return undefined;
    if (op.f !== inv.f) return undefined;
    open[p] = 0;
    cmpPos[o] = i;
    if (!complete(o, inv, op)) return undefined;
  }
  for (let p = 0; p < open.length; p++) {
    const o = open[p]! - 1;
    if (o >= 0 && !complete(o, history[invPos[o]!]!, undefined)) return undefined;
  }

  // Each key's ops that constrain something, keys in sorted order and each key's ops in invocation order, side by
  // side in one array of invocation numbers (and the columns in that order), so a key's columns are views.
  const sorted = [...groupNames.keys()].sort((a, b) => (groupNames[a]! < groupNames[b]! ? -1 : groupNames[a]! > groupNames[b]! ? 1 : 0));
  const offset = new Int32Array(groupNames.length + 1);
  const cursor = new Int32Array(groupNames.length);
  let total = 0;
  for (const g of sorted) {
    cursor[g] = offset[g] = total;
    total += groupSize[g]!;
  }
  const ords = new Int32Array(total);
  const colOps: SearchOp[] = new Array<SearchOp>(total);
  const colStart = new Float64Array(total);
  const colEnd = new Float64Array(total);
  const colFlags = new Uint8Array(total);
  for (let j = 0; j < ops; j++) {
    const s = searchOp[j]!;
    if (s === null) continue;
    const at = cursor[groupOfOp[j]!]!++;
    ords[at] = j;
    colOps[at] = s;
    colStart[at] = start[j]!;
    colEnd[at] = end[j]!;
    colFlags[at] = flags[j]!;
  }
  const keys: SplitKey[] = sorted.map((g) => {
    const key = groupNames[g]!;
    const from = offset[g]!;
    const to = from + groupSize[g]!;
    const pairedOf = (i: number): PairedOp => {
      const j = ords[from + i]!;
      const c = cmpPos[j]!;
      return fillPaired(blankPaired(), history[invPos[j]!]!, c >= 0 ? history[c] : undefined, independent, key)!;
    };
    // Built when the key is searched, so that only the keys being searched hold a copy of their ops.
    const columns = (): SearchColumns => ({ ops: colOps.slice(from, to), start: colStart.subarray(from, to), end: colEnd.subarray(from, to), flags: colFlags.subarray(from, to) });
    return { key, size: to - from, columns, pairedOf };
  });
  return { opCount: ops, keys, hasNilRead };
}

function blankPaired(): PairedOp {
  return { index: 0, process: 0, f: '', invokeValue: null, value: null, type: 'info', start: 0, end: Infinity, completionIndex: -1, key: undefined, node: undefined, error: undefined };
}

/**
 * Fills `p` with the op invoked by `inv` and completed by `done` (undefined: never completed), as pairOps and then
 * partitionByKey (with `independent`, the op's key named `key`) make it; undefined when partitionByKey would refuse it.
 */
function fillPaired(p: PairedOp, inv: Op, done: Op | undefined, independent: boolean, key: string): PairedOp | undefined {
  const type = done ? (done.type as PairedOp['type']) : 'info';
  const ok = type === 'ok';
  let iv: unknown = inv.value;
  let v: unknown = ok ? done!.value : iv;
  if (independent) {
    // The invocation's value is a tuple (checked at the invocation); an ok completion's is a tuple of the same key, or nil.
    iv = (iv as unknown[])[1];
    if (!ok) v = iv;
    else if (v === null || v === undefined) v = null;
    else if (!Array.isArray(v) || v.length !== 2 || (v[0] !== (inv.value as unknown[])[0] && keyName(v[0]) !== key)) return undefined;
    else v = v[1];
  }
  p.index = inv.index;
  p.process = inv.process as number;
  p.f = inv.f;
  p.invokeValue = iv;
  p.value = v;
  p.type = type;
  p.start = (inv.time ?? inv.index) - (inv.uncertainty ?? 0);
  p.end = done && type !== 'info' ? (done.time ?? done.index) + (done.uncertainty ?? 0) : Infinity;
  p.completionIndex = done ? done.index : -1;
  p.key = independent ? key : inv.key;
  p.node = inv.node;
  p.error = done?.error;
  return p;
}
