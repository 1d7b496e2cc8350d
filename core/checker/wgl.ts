/**
 * The linearizability search for one independent partition: Wing & Gong's algorithm with Lowe's
 * memoisation (Porcupine's `checkSingle`), plus three prunings that never lose a linearization:
 *
 * 1. Read-only ops (reads, failed-cas observations) are linearized as soon as they are minimal and
 *    legal. Moving a read-only op earlier, to a point where it is legal and all its real-time
 *    predecessors are done, leaves every other step of a linearization unchanged.
 * 2. Ops with an unknown outcome have no return event: they may take effect any time after their
 *    invocation, or never, so the search succeeds once every op with a known outcome is linearized.
 * 3. Unknown-outcome ops with the same f and argument are interchangeable: the one invoked first is
 *    always tried first (any linearization can be renamed to that order).
 *
 * Memoised configurations are (set of linearized ops, model state), compared exactly: a hash collision
 * can never prune a branch. The set is stored compactly (the words between the first not-all-ones
 * and the last non-zero word), since linearized sets are nearly prefixes of the history.
 */
import { Random } from '../generator/random';
import type { Model, SearchOp, StateKey } from '../models/model';

/** One op of the partition, with the real-time window in which it may take effect. */
export interface SearchEntry {
  op: SearchOp;
  /** Earliest time it could have taken effect (invocation time − uncertainty). */
  start: number;
  /** Latest time (completion time + uncertainty); Infinity when the outcome is unknown. */
  end: number;
}

/** `SearchColumns.flags`: the op's outcome is known. */
export const KNOWN = 1;
/** `SearchColumns.flags`: the op's outcome is known and `model.isReadOnly` holds for it. */
export const READ_ONLY = 2;

/** A partition as parallel columns (entry i is ops[i], start[i], end[i]): what the checker builds per key. */
export interface SearchColumns {
  ops: readonly SearchOp[];
  start: ArrayLike<number>;
  end: ArrayLike<number>;
  /** KNOWN and READ_ONLY of each op, when the caller has them (saves reading every op before the search). */
  flags?: ArrayLike<number>;
}

/** Entries as columns. */
export function toColumns(entries: readonly SearchEntry[]): SearchColumns {
  const n = entries.length;
  const ops = new Array<SearchOp>(n);
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    ops[i] = e.op;
    start[i] = e.start;
    end[i] = e.end;
  }
  return { ops, start, end };
}

/** When to give up. Exceeding either yields `valid: 'unknown'`, never a guess. */
export interface SearchBudget {
  /** Absolute deadline in `Date.now()` milliseconds. */
  deadlineMs?: number;
  /** Upper bound on the memo table and state interning, estimated in bytes. */
  maxMemoryBytes?: number;
  /** Upper bound on search steps (one step tries one op); lets a caller interleave keys. */
  maxSteps?: number;
}

export interface SearchStats {
  ops: number;
  /** Configurations memoised (distinct states visited). */
  configurations: number;
  /** Times the search undid a step. */
  backtracks: number;
  estimatedBytes: number;
}

export type SearchOutcome =
  | { valid: true; /** A witness: entry indexes in linearization order (unknown ops never applied are absent). */ order: number[]; stats: SearchStats }
  | {
      valid: false;
      /** The longest linearizable prefix the search found: entry indexes in order. */
      longestPrefix: number[];
      /** Model state after that prefix. */
      stateAfterPrefix: string;
      /** An op with a known outcome that had to be linearized next but could not be, if one was identified. */
      blocked?: number;
      stats: SearchStats;
    }
  | { valid: 'unknown'; reason: 'time-limit' | 'memory-limit' | 'step-limit'; stats: SearchStats };

/**
 * Indexes 0..n-1 sorted by `key[i]`, then by index: insertion sort while the input is nearly sorted (as partitions of
 * a history are), a general sort beyond a few moves per element.
 */
function sortedBy(key: ArrayLike<number>, n: number, idx: Int32Array = new Int32Array(n)): Int32Array {
  for (let i = 0; i < n; i++) idx[i] = i;
  let moves = 0;
  const limit = 16 * n + 64;
  for (let i = 1; i < n; i++) {
    const x = idx[i]!;
    const kx = key[x]!;
    let j = i - 1;
    for (; j >= 0; j--) {
      const y = idx[j]!;
      const ky = key[y]!;
      if (!(kx < ky || (kx === ky && x < y))) break;
      idx[j + 1] = y;
      if (++moves > limit) {
        const all = Array.from({ length: n }, (_, k) => k).sort((a, b) => (key[a]! < key[b]! ? -1 : key[a]! > key[b]! ? 1 : a - b));
        return Int32Array.from(all);
      }
    }
    idx[j + 1] = x;
  }
  return idx;
}

/** Typed arrays carved one after another from one zeroed buffer (8-byte kinds first, so all stay aligned). */
class Arena {
  readonly #buf: ArrayBuffer;
  #off = 0;
  constructor(bytes: number) {
    this.#buf = new ArrayBuffer(bytes);
  }
  #take(bytes: number, align: number): number {
    const at = Math.ceil(this.#off / align) * align;
    if (at + bytes > this.#buf.byteLength) throw new Error(`search arena too small (${at + bytes} > ${this.#buf.byteLength} bytes)`);
    this.#off = at + bytes;
    return at;
  }
  f64(n: number): Float64Array<ArrayBuffer> { return new Float64Array(this.#buf, this.#take(8 * n, 8), n); }
  i32(n: number): Int32Array<ArrayBuffer> { return new Int32Array(this.#buf, this.#take(4 * n, 4), n); }
  u32(n: number): Uint32Array<ArrayBuffer> { return new Uint32Array(this.#buf, this.#take(4 * n, 4), n); }
  u8(n: number): Uint8Array<ArrayBuffer> { return new Uint8Array(this.#buf, this.#take(n, 1), n); }
}

let zobristKeys = new Int32Array(0);

/**
 * Random 32-bit keys (fixed seed) for the Zobrist hash of the linearized set: the first `n` of one fixed sequence,
 * kept between searches (a key's table is a prefix of the same sequence whatever its size).
 */
function zobrist(n: number): Int32Array {
  if (zobristKeys.length < n) {
    const z = new Int32Array(Math.max(n, 2 * zobristKeys.length, 1024));
    const r = new Random(0x9e3779b9);
    for (let i = 0; i < z.length; i++) z[i] = r.int32();
    zobristKeys = z;
  }
  return zobristKeys;
}

const ENTRY_OVERHEAD_BYTES = 36;

/**
 * Decides whether `entries` (one partition) are linearizable with respect to `model`.
 * Pure and synchronous; checks the budget every 1,024 steps.
 */
export function searchLinearization<S>(model: Model<S>, entries: readonly SearchEntry[], budget: SearchBudget = {}): SearchOutcome {
  return startSearch(model, entries, budget).resume(budget.maxSteps ?? Infinity);
}

/** A search that can be paused and resumed, so a caller can interleave many keys without redoing work. */
export interface ResumableSearch {
  /** Runs up to `steps` more steps; a paused search reports `unknown` with reason `step-limit`. */
  resume(steps: number): SearchOutcome;
}

/**
 * Prepares a search without running it (see {@link searchLinearization}); `budget.maxSteps` is ignored.
 * `entries` may be given as columns.
 */
export function startSearch<S>(model: Model<S>, entries: readonly SearchEntry[] | SearchColumns, budget: SearchBudget = {}): ResumableSearch {
  const cols = Array.isArray(entries) ? toColumns(entries as readonly SearchEntry[]) : (entries as SearchColumns);
  const entStart = cols.start;
  const entEnd = cols.end;
  const n = cols.ops.length;
  // Every fixed-size table of the search comes from one buffer: a key of a large history is small, and a thousand
  // keys' worth of separately allocated typed arrays cost more than their searches.
  const W = Math.max(1, Math.ceil(n / 32));
  let cap = 64;
  while (cap < n && cap < 1024) cap *= 2;
  const poolWords = Math.max(64, cap * Math.min(W, 4));
  const smallInit = Math.min(64 + 2 * n, 1 << 20);
  const arena = new Arena(8 * 2 * n + 4 * (6 * n + 3 * (2 * n + 1) + W + 8 * cap + poolWords + smallInit) + 4 * n + 2 + 16);
  // Ops in invocation order: bit i of the linearized set is ops[i]. Partitions mostly come in that order already.
  const order = sortedBy(entStart, n, arena.i32(n));
  const ops: SearchOp[] = new Array<SearchOp>(n);
  for (let i = 0; i < n; i++) ops[i] = cols.ops[order[i]!]!;
  const callTime = arena.f64(n);
  const retTime = arena.f64(n);
  const known = arena.u8(n);
  const readOnly = arena.u8(n);
  let nKnown = 0;
  const flags = cols.flags;
  for (let i = 0; i < n; i++) {
    const f = flags ? flags[order[i]!]! : ops[i]!.known ? (model.isReadOnly(ops[i]!) ? KNOWN | READ_ONLY : KNOWN) : 0;
    if (f & KNOWN && entEnd[order[i]!]! !== Infinity) {
      known[i] = 1;
      nKnown++;
    }
    if (f & READ_ONLY) readOnly[i] = 1;
  }
  // Interchangeable unknown ops: twinPrev[i] = the previous unknown op with the same f and argument.
  const twinPrev = arena.i32(n).fill(-1);
  if (nKnown < n) {
    const lastTwin = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const op = ops[i]!;
      if (known[i]) continue;
      const k = `${op.f}\u0000${typeof op.arg === 'number' ? `n${op.arg}` : JSON.stringify(op.arg)}`;
      const prevTwin = lastTwin.get(k);
      if (prevTwin !== undefined) twinPrev[i] = prevTwin;
      lastTwin.set(k, i);
    }
  }

  // Event list: calls for every op, returns for known ops; sorted by time, calls before returns at
  // equal times (ops whose windows touch are concurrent: precedes() is strict), then by op. Calls are in that order
  // already (ops are sorted by start); returns are sorted by end, then the two lists merged.
  for (let i = 0; i < n; i++) callTime[i] = entStart[order[i]!]!;
  const retOp = arena.i32(nKnown);
  for (let i = 0, j = 0; i < n; i++) {
    if (!known[i]) continue;
    retOp[j] = i;
    retTime[j++] = entEnd[order[i]!]!;
  }
  const retOrder = sortedBy(retTime, nKnown, arena.i32(nKnown));
  const E = n + nKnown;
  // Linked list over entries 1..E; 0 is the head sentinel; -1 ends the list.
  const next = arena.i32(E + 1);
  const prev = arena.i32(E + 1);
  const entOp = arena.i32(E + 1);
  const entCall = arena.u8(E + 1);
  const callEnt = arena.i32(n);
  const retEnt = arena.i32(n).fill(-1);
  for (let k = 0, c = 0, r = 0; k < E; k++) {
    const id = k + 1;
    if (r >= nKnown || (c < n && callTime[c]! <= retTime[retOrder[r]!]!)) {
      entOp[id] = c;
      entCall[id] = 1;
      callEnt[c++] = id;
    } else {
      const o = retOp[retOrder[r++]!]!;
      entOp[id] = o;
      retEnt[o] = id;
    }
    prev[id] = k;
    next[k] = id;
  }
  next[E] = -1;

  const lift = (o: number): void => {
    const c = callEnt[o]!;
    next[prev[c]!] = next[c]!;
    if (next[c]! !== -1) prev[next[c]!] = prev[c]!;
    const r = retEnt[o]!;
    if (r >= 0) {
      next[prev[r]!] = next[r]!;
      if (next[r]! !== -1) prev[next[r]!] = prev[r]!;
    }
  };
  const unlift = (o: number): void => {
    const r = retEnt[o]!;
    if (r >= 0) {
      next[prev[r]!] = r;
      if (next[r]! !== -1) prev[next[r]!] = r;
    }
    const c = callEnt[o]!;
    next[prev[c]!] = c;
    if (next[c]! !== -1) prev[next[c]!] = c;
  };

  // Linearized set as a bitset with a Zobrist hash and [lo, hi] word bounds.
  const bits = arena.u32(W);
  const z = zobrist(n);
  let hash = 0;
  let lo = 0; // first word that is not all ones (W when all are)
  let hi = -1; // last non-zero word
  const setBit = (i: number): void => {
    const w = i >>> 5;
    bits[w] = (bits[w]! | (1 << (i & 31))) >>> 0;
    hash ^= z[i]!;
    if (w > hi) hi = w;
    while (lo < W && bits[lo] === 0xffffffff) lo++;
  };
  const clearBit = (i: number): void => {
    const w = i >>> 5;
    bits[w] = (bits[w]! & ~(1 << (i & 31))) >>> 0;
    hash ^= z[i]!;
    if (w < lo) lo = w;
    while (hi >= 0 && bits[hi] === 0) hi--;
  };
  const isSet = (i: number): boolean => (bits[i >>> 5]! & (1 << (i & 31))) !== 0;

  // State interning: memo entries store a small integer per state.
  // Small non-negative integer keys (small register values) are looked up in a typed array (-0 with 0, as the Map
  // does), at most a few entries per op long; a model's dense keys (kv's trie nodes) always are.
  const smallLimit = model.denseKeys ? 2 ** 31 - 1 : Math.min(1 << 20, 64 + 16 * n);
  const stateIds = new Map<StateKey, number>();
  let smallIds = arena.i32(Math.min(smallInit, smallLimit)); // key -> id + 1 (0: not seen)
  let stateCount = 0;
  let estimatedBytes = n * 64 + E * 16;
  const stateId = (s: S): number => {
    const k = model.key(s);
    if (typeof k === 'number' && k >= 0 && k < smallLimit && (k | 0) === k) {
      if (k >= smallIds.length) {
        const grown = new Int32Array(Math.min(smallLimit, Math.max(64, 2 * smallIds.length, k + 1)));
        grown.set(smallIds);
        smallIds = grown;
      }
      const known = smallIds[k]!;
      if (known !== 0) return known - 1;
      smallIds[k] = ++stateCount;
      estimatedBytes += 48 + 8;
      return stateCount - 1;
    }
    let id = stateIds.get(k);
    if (id === undefined) {
      id = stateCount++;
      stateIds.set(k, id);
      estimatedBytes += 48 + (typeof k === 'string' ? k.length * 2 : 8);
    }
    return id;
  };

  // Memo table: open hash table of chains (entry: state id, lo, hi, words[lo..hi] in a pool). Typed
  // arrays only, because a Map with hashed keys costs more than the rest of the search.
  // Sized to the partition: most keys of a large history are small, and a thousand 1,024-entry tables cost more
  // to allocate than to search.
  let slots = arena.i32(2 * cap).fill(-1);
  let mNext = arena.i32(cap);
  let mKey = arena.i32(cap);
  let mState = arena.i32(cap);
  let mLo = arena.i32(cap);
  let mHi = arena.i32(cap);
  let mOff = arena.i32(cap);
  let pool = arena.u32(poolWords);
  let poolUsed = 0;
  let memoCount = 0;
  const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
    const b = new Int32Array(cap);
    b.set(a);
    return b;
  };
  /** Adds the current configuration; returns false if it was already there. */
  const remember = (sid: number): boolean => {
    const key = (hash ^ Math.imul(sid + 1, 0x9e3779b1)) | 0;
    const mask = slots.length - 1;
    const slot = (key ^ (key >>> 16)) & mask;
    const first = slots[slot]!;
    const len = hi >= lo ? hi - lo + 1 : 0;
    for (let m = first; m !== -1; m = mNext[m]!) {
      if (mKey[m] !== key || mState[m] !== sid || mLo[m] !== lo || mHi[m] !== hi) continue;
      const off = mOff[m]!;
      let same = true;
      for (let w = 0; w < len; w++) {
        if (pool[off + w] !== bits[lo + w]) {
          same = false;
          break;
        }
      }
      if (same) return false;
    }
    if (memoCount === cap) {
      cap *= 2;
      mNext = grow(mNext);
      mKey = grow(mKey);
      mState = grow(mState);
      mLo = grow(mLo);
      mHi = grow(mHi);
      mOff = grow(mOff);
    }
    if (poolUsed + len > pool.length) {
      const b = new Uint32Array(Math.max(pool.length * 2, poolUsed + len));
      b.set(pool);
      pool = b;
    }
    const m = memoCount++;
    mNext[m] = first;
    mKey[m] = key;
    mState[m] = sid;
    mLo[m] = lo;
    mHi[m] = hi;
    mOff[m] = poolUsed;
    for (let w = 0; w < len; w++) pool[poolUsed + w] = bits[lo + w]!;
    poolUsed += len;
    slots[slot] = m;
    estimatedBytes += ENTRY_OVERHEAD_BYTES + len * 4;
    if (memoCount * 2 > slots.length) {
      slots = new Int32Array(slots.length * 2).fill(-1);
      const mk = slots.length - 1;
      for (let i = 0; i < memoCount; i++) {
        const k = mKey[i]!;
        const sl = (k ^ (k >>> 16)) & mk;
        mNext[i] = slots[sl]!;
        slots[sl] = i;
      }
    }
    return true;
  };

  let state: S = model.init();
  let linKnown = 0;
  const lin: number[] = []; // lifted ops in order
  // Greedy (read-only) lifts; frames record where their own greedy lifts start.
  const greedy: number[] = [];
  const frameOp: number[] = [];
  const frameState: S[] = [];
  const frameGreedy: number[] = [];
  const frameSucc: (S[] | null)[] = [];
  const frameSuccIdx: number[] = [];

  const liftOp = (o: number): void => {
    lift(o);
    setBit(o);
    lin.push(o);
    if (known[o]) linKnown++;
  };
  const unliftOp = (o: number): void => {
    unlift(o);
    clearBit(o);
    lin.pop();
    if (known[o]) linKnown--;
  };
  /** Lifts every minimal read-only op that is legal in the current state. */
  const closure = (): void => {
    let p = 0;
    let e = next[0]!;
    while (e !== -1 && entCall[e]) {
      const o = entOp[e]!;
      if (readOnly[o] && model.step(state, ops[o]!) !== undefined) {
        liftOp(o);
        greedy.push(o);
        e = next[p]!;
      } else {
        p = e;
        e = next[e]!;
      }
    }
  };
  const undoGreedy = (to: number): void => {
    while (greedy.length > to) unliftOp(greedy.pop()!);
  };
  /** Applies `ns` as the effect of op `o`; returns true if this is a new configuration (then it stays applied). */
  const tryApply = (o: number, ns: S, prevState: S): boolean => {
    const g = greedy.length;
    liftOp(o);
    state = ns;
    closure();
    if (remember(stateId(state))) {
      frameGreedy.push(g);
      return true;
    }
    undoGreedy(g);
    unliftOp(o);
    state = prevState;
    return false;
  };

  let backtracks = 0;
  let bestDepth = -1;
  let bestPrefix: number[] = [];
  let bestState: S = state;
  let bestBlocked: number | undefined;
  const stats = (): SearchStats => ({ ops: n, configurations: memoCount, backtracks, estimatedBytes });
  const toEntries = (xs: readonly number[]): number[] => xs.map((i) => order[i]!);

  closure();
  remember(stateId(state));
  let e = next[0]!;
  let steps = 0;
  let done: SearchOutcome | undefined;
  const resume = (more: number): SearchOutcome => {
    done ??= run(steps + more);
    return done ?? { valid: 'unknown', reason: 'step-limit', stats: stats() };
  };
  return { resume };

  function run(maxSteps: number): SearchOutcome | undefined {
  for (;;) {
    if (linKnown === nKnown) return { valid: true, order: toEntries(lin), stats: stats() };
    if ((++steps & 1023) === 0) {
      if (steps > maxSteps) return undefined;
      if (budget.deadlineMs !== undefined && Date.now() > budget.deadlineMs) return { valid: 'unknown', reason: 'time-limit', stats: stats() };
      if (budget.maxMemoryBytes !== undefined && estimatedBytes > budget.maxMemoryBytes) return { valid: 'unknown', reason: 'memory-limit', stats: stats() };
    }
    if (e !== -1 && entCall[e]) {
      const o = entOp[e]!;
      if (readOnly[o] || (twinPrev[o]! >= 0 && !isSet(twinPrev[o]!))) {
        // A minimal read-only op still here is illegal now (closure() would have taken it).
        e = next[e]!;
        continue;
      }
      const op = ops[o]!;
      const prevState = state;
      let applied = false;
      if (model.branches && !op.known) {
        const succ = model.branches(state, op);
        for (let k = 0; k < succ.length; k++) {
          if (tryApply(o, succ[k]!, prevState)) {
            frameSucc.push(succ);
            frameSuccIdx.push(k);
            applied = true;
            break;
          }
        }
      } else {
        const ns = model.step(state, op);
        if (ns !== undefined && tryApply(o, ns, prevState)) {
          frameSucc.push(null);
          frameSuccIdx.push(0);
          applied = true;
        }
      }
      if (applied) {
        frameOp.push(o);
        frameState.push(prevState);
        e = next[0]!;
      } else {
        e = next[e]!;
      }
      continue;
    }
    // A known op's return (it had to be linearized by now) or the end of the list: backtrack.
    if (linKnown > bestDepth) {
      bestDepth = linKnown;
      bestPrefix = lin.slice();
      bestState = state;
      bestBlocked = e !== -1 ? entOp[e] : undefined;
    }
    if (frameOp.length === 0) {
      const out: SearchOutcome = { valid: false, longestPrefix: toEntries(bestPrefix), stateAfterPrefix: model.describe(bestState), stats: stats() };
      if (bestBlocked !== undefined) out.blocked = order[bestBlocked]!;
      return out;
    }
    backtracks++;
    const o = frameOp.pop()!;
    const prevState = frameState.pop()!;
    const succ = frameSucc.pop()!;
    let k = frameSuccIdx.pop()!;
    undoGreedy(frameGreedy.pop()!);
    unliftOp(o);
    state = prevState;
    let applied = false;
    if (succ) {
      for (k++; k < succ.length; k++) {
        if (tryApply(o, succ[k]!, prevState)) {
          frameSucc.push(succ);
          frameSuccIdx.push(k);
          frameOp.push(o);
          frameState.push(prevState);
          applied = true;
          break;
        }
      }
    }
    e = applied ? next[0]! : next[callEnt[o]!]!;
  }
  }
}
