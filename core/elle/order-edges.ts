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
  const events: number[] = [];
  for (let t = 0; t < h.n; t++) {
    const ty = h.type[t]!;
    if (ty === FAIL) continue;
    events.push(2 * t);
    if (ty === OK) events.push(2 * t + 1);
  }
  const start = h.start;
  const end = h.end;
  const timeOf = (e: number): number => ((e & 1) === 0 ? start[e >> 1]! : end[e >> 1]!);
  events.sort((a, b) => timeOf(a) - timeOf(b) || (a & 1) - (b & 1));
  const frontier: number[] = [];
  const pos = new Int32Array(h.n).fill(-1);
  const predLo = new Int32Array(h.n);
  const predHi = new Int32Array(h.n);
  for (const e of events) {
    const t = e >> 1;
    if ((e & 1) === 0) {
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
