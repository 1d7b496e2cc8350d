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
import { HistoryColumns, T_INFO, T_INVOKE, TYPE_NAMES, V_ARR, V_NULL, V_NUM, V_STR } from '../history/columns';
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
export function splitHistory(history: readonly Op[] | HistoryColumns, independent: boolean, make: () => Model<unknown>): SplitHistory | undefined {
  // One pass in history order (memory read in the order it was written, an op's invocation still near when its
  // completion comes): an op's key is found at its invocation, its window and search op at its completion (or at
  // the end, when it never completes). Everything per op goes in flat arrays indexed by invocation number, typed
  // where it can be, so the garbage collector has little to copy. `prepare` depends on the op alone, so one model
  // instance prepares every key's ops. The history is read as columns (an in-memory one is put in columns first).
  const cols = history instanceof HistoryColumns ? history : HistoryColumns.fromOps(history);
  const n = cols.length;
  const { type: types, process: procs, f: fs, key: keyIds, value: valueAt, time } = cols;
  const { tags, nums } = cols;
  const strings = cols.strings.strings;
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
  const byInt: number[] = []; // group + 1 of a small integer tuple key (0: none yet), without naming it
  const byString: number[] = []; // group + 1 by string id, for string tuple keys and op keys
  const groupOf = (name: string): number => {
    let g = groups.get(name);
    if (g === undefined) {
      groups.set(name, (g = groupNames.length));
      groupNames.push(name);
      groupSize.push(0);
    }
    return g;
  };
  /** The group of the tuple key whose value starts at tape position `at`. */
  const tupleGroup = (at: number): number => {
    const tag = tags[at]!;
    if (tag === V_NUM) {
      const k = nums[at]!;
      if (k >= 0 && k < 1048576 && Number.isInteger(k) && !Object.is(k, -0)) {
        while (byInt.length <= k) byInt.push(0);
        let g = byInt[k]! - 1;
        if (g < 0) byInt[k] = (g = groupOf(keyName(k))) + 1;
        return g;
      }
    } else if (tag === V_STR) return stringGroup(nums[at]!, true);
    return groupOf(keyName(cols.valueAt(at)));
  };
  /** The group of string `id`: as a tuple key (named as keyName names it) or as an op's key (its name). */
  const stringGroup = (id: number, tuple: boolean): number => {
    let g = byString[id] ?? 0;
    if (g === 0) byString[id] = g = groupOf(tuple ? keyName(strings[id]!) : strings[id]!) + 1;
    return g - 1;
  };
  const scratch = blankPaired();
  let hasNilRead = false;
  /** Completes op `j`, invoked at event `inv`, completed at event `done` (-1: never); false to decline. */
  const complete = (j: number, inv: number, done: number): boolean => {
    const g = groupOfOp[j]!;
    const p = fillPairedAt(scratch, cols, inv, done, independent, groupNames[g]!);
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
  let lastKey = -1; // tape value or string id of the last invocation's key
  let lastKeyNum = NaN;
  let lastGroup = -1;
  for (let i = 0; i < n; i++) {
    const p = procs[i]!;
    if (Number.isNaN(p)) continue; // the nemesis
    if (!Number.isInteger(p) || p < 0 || p >= MAX_PROCESS) return undefined;
    if (p >= open.length) {
      let len = open.length;
      while (len <= p) len *= 2;
      const grown = new Int32Array(len);
      grown.set(open);
      open = grown;
    }
    const o = open[p]! - 1;
    const type = types[i]!;
    if (type === T_INVOKE) {
      if (o >= 0) return undefined;
      let g: number;
      if (independent) {
        const at = valueAt[i]!;
        if (tags[at] !== V_ARR || nums[at] !== 2) return undefined; // a key only the completion names, or malformed
        const k = at + 1;
        // The same key as the last invocation's (a number, or one string id) needs no lookup.
        if (tags[k] === V_NUM && nums[k] === lastKeyNum && lastGroup >= 0 && lastKey === -2) g = lastGroup;
        else if (tags[k] === V_STR && nums[k] === lastKey && lastGroup >= 0) g = lastGroup;
        else {
          g = tupleGroup(k);
          lastKey = tags[k] === V_STR ? nums[k]! : tags[k] === V_NUM ? -2 : -1;
          lastKeyNum = tags[k] === V_NUM && !Object.is(nums[k], -0) ? nums[k]! : NaN;
        }
      } else {
        const id = keyIds[i]!;
        g = id === lastKey && lastGroup >= 0 ? lastGroup : id < 0 ? groupOf(NO_KEY) : stringGroup(id, false);
        lastKey = id;
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
      if (type === T_INFO) continue; // not a client op
      return undefined;
    }
    const inv = invPos[o]!;
    const t = time[i]!;
    const ti = time[inv]!;
    if (!Number.isNaN(t) && !Number.isNaN(ti) && t + orZero(cols.uncertaintyAt(i)) < ti - orZero(cols.uncertaintyAt(inv))) return undefined;
    if (fs[i] !== fs[inv]) return undefined;
    open[p] = 0;
    cmpPos[o] = i;
    if (!complete(o, inv, i)) return undefined;
  }
  for (let p = 0; p < open.length; p++) {
    const o = open[p]! - 1;
    if (o >= 0 && !complete(o, invPos[o]!, -1)) return undefined;
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
      return fillPaired(blankPaired(), cols.opAt(invPos[j]!), c >= 0 ? cols.opAt(c) : undefined, independent, key)!;
    };
    // Built when the key is searched, so that only the keys being searched hold a copy of their ops.
    const columns = (): SearchColumns => ({ ops: colOps.slice(from, to), start: colStart.subarray(from, to), end: colEnd.subarray(from, to), flags: colFlags.subarray(from, to) });
    return { key, size: to - from, columns, pairedOf };
  });
  return { opCount: ops, keys, hasNilRead };
}

function orZero(x: number): number {
  return Number.isNaN(x) ? 0 : x;
}

/**
 * As fillPaired, from the columns: the op invoked at event `inv` and completed at event `done` (-1: never).
 * Values are made from the tape (a tuple's parts, never the tuple).
 */
function fillPairedAt(p: PairedOp, cols: HistoryColumns, inv: number, done: number, independent: boolean, key: string): PairedOp | undefined {
  const type = done >= 0 ? (TYPE_NAMES[cols.type[done]!] as PairedOp['type']) : 'info';
  const ok = type === 'ok';
  const ia = cols.value[inv]!;
  let iv: unknown;
  let v: unknown;
  if (independent) {
    // The invocation's value is a tuple (checked at the invocation); an ok completion's is a tuple of the same key, or nil.
    iv = cols.valueAt(cols.skip(ia + 1));
    if (!ok) v = iv;
    else {
      const da = cols.value[done]!;
      const tag = cols.tags[da]!;
      if (tag === V_NULL) v = null;
      else if (tag !== V_ARR || cols.nums[da] !== 2) return undefined;
      else {
        if (!sameTupleKey(cols, ia + 1, da + 1)) {
          const k = cols.valueAt(da + 1);
          if (k !== cols.valueAt(ia + 1) && keyName(k) !== key) return undefined;
        }
        v = cols.valueAt(cols.skip(da + 1));
      }
    }
  } else {
    iv = cols.valueAt(ia);
    v = ok ? cols.valueAt(cols.value[done]!) : iv;
  }
  const invTime = cols.time[inv]!;
  p.index = cols.indexOf(inv);
  p.process = cols.process[inv]!;
  p.f = cols.string(cols.f[inv]!);
  p.invokeValue = iv;
  p.value = v;
  p.type = type;
  p.start = (Number.isNaN(invTime) ? cols.indexOf(inv) : invTime) - orZero(cols.uncertaintyAt(inv));
  if (done >= 0 && type !== 'info') {
    const t = cols.time[done]!;
    p.end = (Number.isNaN(t) ? cols.indexOf(done) : t) + orZero(cols.uncertaintyAt(done));
  } else p.end = Infinity;
  p.completionIndex = done >= 0 ? cols.indexOf(done) : -1;
  const k = cols.key[inv]!;
  p.key = independent ? key : k >= 0 ? cols.string(k) : undefined;
  const node = cols.nodeAt(inv);
  p.node = node >= 0 ? cols.string(node) : undefined;
  p.error = done >= 0 ? cols.errors.get(done) : undefined;
  return p;
}

/** True when the scalar tuple keys at tape positions `a` and `b` are one value (numbers or one string id). */
function sameTupleKey(cols: HistoryColumns, a: number, b: number): boolean {
  const t = cols.tags[a]!;
  return (t === V_NUM || t === V_STR) && cols.tags[b] === t && cols.nums[a] === cols.nums[b];
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
