/**
 * Process-order and real-time edges. Both are sound only among transactions that happened: failed
 * transactions get none, and an `info` transaction gets edges *into* it (whatever it did, it began after
 * its predecessors finished) but never out of it (it may still have been running at any later time).
 */
import { EdgeList, PROCESS, REALTIME } from './dependency-graph';
import { FAIL, OK, type TxnHistory } from './txn-history';

/** Adds `a -process-> b` for consecutive transactions of each process (failed ones skipped over). */
export function addProcessEdges(h: TxnHistory, edges: EdgeList): void {
  const last = new Map<number, number>();
  for (let t = 0; t < h.n; t++) {
    if (h.type[t] === FAIL) continue;
    const p = h.process[t]!;
    const prev = last.get(p);
    if (prev !== undefined) edges.add(prev, t, PROCESS);
    if (h.type[t] === OK) last.set(p, t);
    else last.delete(p); // an info transaction ends the process's known order
  }
}

/**
 * Adds a transitive reduction of the real-time order `a.end < b.start` (times already widened by clock
 * uncertainty, so only certain precedence counts). Sweeps starts and ends in time order keeping the
 * frontier: completed transactions not yet known to precede another completed one. Each new start gets
 * an edge from every frontier member; a completion removes its own predecessors from the frontier. The
 * closure of the added edges is exactly the real-time order, with O(frontier) edges per transaction.
 */
export function addRealtimeEdges(h: TxnHistory, edges: EdgeList): void {
  // Events: 2t = start of t, 2t+1 = end of t. Starts sort before ends at equal times (strict order).
  let count = 0;
  for (let t = 0; t < h.n; t++) if (h.type[t] !== FAIL) count += h.type[t] === OK ? 2 : 1;
  const events = new Int32Array(count);
  const times = new Float64Array(count);
  let e = 0;
  for (let t = 0; t < h.n; t++) {
    const ty = h.type[t]!;
    if (ty === FAIL) continue;
    events[e] = 2 * t;
    times[e++] = h.start[t]!;
    if (ty === OK) {
      events[e] = 2 * t + 1;
      times[e++] = h.end[t]!;
    }
  }
  sortEvents(events, times);
  const frontier: number[] = [];
  const pos = new Int32Array(h.n).fill(-1);
  const predLo = new Int32Array(h.n);
  const predHi = new Int32Array(h.n);
  for (const ev of events) {
    const t = ev >> 1;
    if ((ev & 1) === 0) {
      predLo[t] = edges.size;
      for (const a of frontier) edges.add(a, t, REALTIME);
      predHi[t] = edges.size;
      continue;
    }
    for (let i = predLo[t]!; i < predHi[t]!; i++) {
      const a = edges.from[i]!;
      const p = pos[a]!;
      if (p < 0) continue;
      const moved = frontier.pop() as number;
      if (moved !== a) {
        frontier[p] = moved;
        pos[moved] = p;
      }
      pos[a] = -1;
    }
    pos[t] = frontier.length;
    frontier.push(t);
  }
}

/**
 * Sorts events by time, starts before ends at equal times: a bottom-up natural merge sort on typed arrays,
 * near-linear on histories that are already almost in time order, and allocation-free on the JS heap.
 */
function sortEvents(events: Int32Array, times: Float64Array): void {
  const n = events.length;
  let srcE: Int32Array = events;
  let srcT: Float64Array = times;
  let dstE: Int32Array = new Int32Array(n);
  let dstT: Float64Array = new Float64Array(n);
  const before = (t1: number, e1: number, t2: number, e2: number): boolean => t1 < t2 || (t1 === t2 && (e1 & 1) < (e2 & 1));
  for (;;) {
    // One pass: merge consecutive ascending runs pairwise.
    let runs = 0;
    let i = 0;
    while (i < n) {
      let mid = i + 1;
      while (mid < n && !before(srcT[mid]!, srcE[mid]!, srcT[mid - 1]!, srcE[mid - 1]!)) mid++;
      let hi = mid;
      if (hi < n) {
        hi++;
        while (hi < n && !before(srcT[hi]!, srcE[hi]!, srcT[hi - 1]!, srcE[hi - 1]!)) hi++;
      }
      let a = i;
      let b = mid;
      let o = i;
      while (a < mid && b < hi) {
        if (before(srcT[b]!, srcE[b]!, srcT[a]!, srcE[a]!)) {
          dstE[o] = srcE[b]!;
          dstT[o++] = srcT[b++]!;
        } else {
          dstE[o] = srcE[a]!;
          dstT[o++] = srcT[a++]!;
        }
      }
      while (a < mid) {
        dstE[o] = srcE[a]!;
        dstT[o++] = srcT[a++]!;
      }
      while (b < hi) {
        dstE[o] = srcE[b]!;
        dstT[o++] = srcT[b++]!;
      }
      runs++;
      i = hi;
    }
    [srcE, dstE] = [dstE, srcE];
    [srcT, dstT] = [dstT, srcT];
    if (runs <= 1) break;
  }
  if (srcE !== events) {
    events.set(srcE);
    times.set(srcT);
  }
}
