/**
 * Finds short cycles of a given anomaly class inside one strongly connected component. A class is a
 * constraint on the relations along the cycle (how many rw edges, whether two may be adjacent, whether a
 * process or real-time edge must appear); the search is a breadth-first search over (vertex, automaton
 * state) pairs from each candidate first edge, so the cycle found through that edge is a shortest one.
 * A search that runs out of its step budget says so: "not found" is only claimed after an exhaustive search.
 */
import type { CycleAnomaly, DataCycleAnomaly } from './anomaly';
import { PROCESS, REALTIME, RW, WR, WW, type DependencyGraph } from './dependency-graph';
import { stronglyConnectedComponents } from './scc';

/** What a cycle of one anomaly class must look like. */
export interface CycleSpec {
  name: CycleAnomaly;
  /** Relation of the first edge: every cycle of the class has one (so starting there loses nothing). */
  startRel: number;
  /** Relations allowed on the remaining edges. */
  allowed: number;
  /** Fewest and most rw edges (most: 2 means "any number"). */
  minRw: number;
  maxRw: number;
  /** No two rw edges may follow each other (cyclically). */
  nonadjacent: boolean;
  /** At least one edge must carry this relation (0: no requirement). */
  mustInclude: number;
}

const DATA_SPECS: Record<DataCycleAnomaly, Omit<CycleSpec, 'name'>> = {
  G0: { startRel: WW, allowed: WW, minRw: 0, maxRw: 0, nonadjacent: false, mustInclude: 0 },
  G1c: { startRel: WR, allowed: WW | WR, minRw: 0, maxRw: 0, nonadjacent: false, mustInclude: 0 },
  'G-single': { startRel: RW, allowed: WW | WR | RW, minRw: 1, maxRw: 1, nonadjacent: false, mustInclude: 0 },
  'G-nonadjacent': { startRel: RW, allowed: WW | WR | RW, minRw: 2, maxRw: 2, nonadjacent: true, mustInclude: 0 },
  'G2-item': { startRel: RW, allowed: WW | WR | RW, minRw: 2, maxRw: 2, nonadjacent: false, mustInclude: 0 },
};

/** The search spec of a cycle anomaly class. */
export function cycleSpec(name: CycleAnomaly): CycleSpec {
  const m = /^(.*?)(-process|-realtime)?$/.exec(name)!;
  const base = DATA_SPECS[m[1] as DataCycleAnomaly];
  if (m[2] === '-process') return { ...base, name, allowed: base.allowed | PROCESS, mustInclude: PROCESS };
  if (m[2] === '-realtime') {
    return { ...base, name, allowed: base.allowed | PROCESS | REALTIME, mustInclude: REALTIME };
  }
  return { ...base, name };
}

/** A cycle: vertices v0 … vk-1 and the relation bit used on each edge vi -> v(i+1 mod k). */
export interface FoundCycle {
  vertices: number[];
  relations: number[];
}

/** Work allowance shared by all searches of one check; counts edge relaxations. */
export interface SearchBudget {
  remaining: number;
}

/**
 * found: a simple cycle of the class (shortest among the first edges tried);
 * none: exhaustive search, no cycle of the class exists in this component;
 * inconclusive: only closed walks matched, and none of their simple cycles is of the class;
 * out-of-budget: the search stopped early. `others` are real simple cycles of other classes met on the way.
 */
export interface SearchOutcome {
  status: 'found' | 'none' | 'inconclusive' | 'out-of-budget';
  cycle?: FoundCycle;
  others: FoundCycle[];
}

/** The name a cycle deserves from the relations on its edges. */
export function classifyCycle(relations: readonly number[]): CycleAnomaly {
  let rw = 0;
  let wr = 0;
  let rt = 0;
  let proc = 0;
  let adjacent = false;
  const k = relations.length;
  for (let i = 0; i < k; i++) {
    const r = relations[i]!;
    if (r === RW) {
      rw++;
      if (relations[(i + 1) % k] === RW) adjacent = true;
    } else if (r === WR) wr++;
    else if (r === REALTIME) rt++;
    else if (r === PROCESS) proc++;
  }
  const base: DataCycleAnomaly =
    rw === 0 ? (wr === 0 ? 'G0' : 'G1c') : rw === 1 ? 'G-single' : adjacent ? 'G2-item' : 'G-nonadjacent';
  return rt > 0 ? `${base}-realtime` : proc > 0 ? `${base}-process` : base;
}

const RELATION_BITS = [WW, WR, RW, PROCESS, REALTIME];
const STATES = 12; // rwCount (0, 1, 2+) × last edge was rw × has the required relation

/**
 * Searches the component graph `g` (already restricted to one SCC) for a cycle matching `spec`, trying
 * candidate first edges until one is found, then a few more for a shorter one.
 */
export function findCycle(
  g: DependencyGraph,
  spec: CycleSpec,
  budget: SearchBudget,
  wanted: (relations: readonly number[]) => boolean,
): SearchOutcome {
  const sub = stronglyConnectedComponents(g, spec.allowed | spec.startRel);
  const size = g.n * STATES;
  const seen = new Int32Array(size);
  const parent = new Int32Array(size);
  const parentRel = new Uint8Array(size);
  const queue = new Int32Array(size);
  let stamp = 0;
  let best: FoundCycle | undefined;
  let extraTries = 0;
  const others: FoundCycle[] = [];
  const done = (status: SearchOutcome['status']): SearchOutcome =>
    best ? { status: 'found', cycle: best, others } : { status, others };
  for (let a = 0; a < g.n; a++) {
    const ca = sub.componentOf[a]!;
    if (ca < 0) continue;
    for (let e = g.adjStart[a]!; e < g.adjStart[a + 1]!; e++) {
      if ((g.adjRel[e]! & spec.startRel) === 0) continue;
      const b = g.adjTo[e]!;
      if (sub.componentOf[b] !== ca) continue;
      if (budget.remaining <= 0) return done('out-of-budget');
      stamp++;
      const walk = bfs(a, b);
      if (walk) {
        for (const piece of simpleCycles(walk)) {
          if (!wanted(piece.relations)) {
            if (others.length < 4) others.push(piece);
          } else if (!best || piece.vertices.length < best.vertices.length) best = piece;
        }
      }
      if (best && ++extraTries > 8) return done('found');
    }
  }
  return done(others.length > 0 ? 'inconclusive' : 'none');

  function bfs(a: number, b: number): FoundCycle | undefined {
    const s0 = initialState(spec.startRel);
    let head = 0;
    let tail = 0;
    const id0 = b * STATES + s0;
    seen[id0] = stamp;
    parent[id0] = -1;
    queue[tail++] = id0;
    while (head < tail) {
      const id = queue[head++]!;
      const v = (id / STATES) | 0;
      const s = id - v * STATES;
      const rw = s >> 2;
      const last = (s >> 1) & 1;
      const has = s & 1;
      for (let e = g.adjStart[v]!; e < g.adjStart[v + 1]!; e++) {
        budget.remaining--;
        const rels = g.adjRel[e]! & spec.allowed;
        if (rels === 0) continue;
        const w = g.adjTo[e]!;
        for (const bit of RELATION_BITS) {
          if ((rels & bit) === 0) continue;
          let nrw = rw;
          let nlast = 0;
          if (bit === RW) {
            if (rw >= spec.maxRw && spec.maxRw < 2) continue;
            if (spec.nonadjacent && last) continue;
            nrw = rw < 2 ? rw + 1 : 2;
            nlast = 1;
          }
          const nhas = has | ((bit & spec.mustInclude) !== 0 ? 1 : 0);
          const ns = (nrw << 2) | (nlast << 1) | nhas;
          if (w === a) {
            const closesOk =
              nrw >= spec.minRw &&
              (spec.mustInclude === 0 || nhas === 1) &&
              !(spec.nonadjacent && nlast === 1 && spec.startRel === RW);
            if (closesOk) return closedWalk(a, id, bit);
            continue;
          }
          const nid = w * STATES + ns;
          if (seen[nid] === stamp) continue;
          seen[nid] = stamp;
          parent[nid] = id;
          parentRel[nid] = bit;
          queue[tail++] = nid;
        }
      }
    }
    return undefined;
  }

  function initialState(rel: number): number {
    const rw = rel === RW ? 1 : 0;
    const has = (rel & spec.mustInclude) !== 0 ? 1 : 0;
    return (rw << 2) | (rw << 1) | has;
  }

  /** Rebuilds the closed walk a -> b -> … -> last -> a. */
  function closedWalk(a: number, lastId: number, closingRel: number): FoundCycle {
    const vs: number[] = [];
    const rs: number[] = [];
    let id = lastId;
    let rel = closingRel;
    while (id !== -1) {
      vs.push((id / STATES) | 0);
      rs.push(rel);
      rel = parentRel[id]!;
      id = parent[id]!;
    }
    vs.push(a);
    rs.push(spec.startRel);
    vs.reverse();
    rs.reverse();
    return { vertices: vs, relations: rs };
  }
}

/**
 * Splits a closed walk (vertices[i] -relations[i]-> vertices[i+1], closing back to vertices[0]) into
 * simple cycles. Every edge is real, so each piece is a real cycle, classified by its own edges.
 */
export function simpleCycles(walk: FoundCycle): FoundCycle[] {
  const k = walk.vertices.length;
  const out: FoundCycle[] = [];
  const stackV: number[] = [];
  const stackR: number[] = [];
  const at = new Map<number, number>();
  for (let i = 0; i <= k; i++) {
    const v = walk.vertices[i % k]!;
    const p = at.get(v);
    if (p !== undefined) {
      out.push({ vertices: stackV.slice(p), relations: stackR.slice(p) });
      for (let j = p + 1; j < stackV.length; j++) at.delete(stackV[j]!);
      stackV.length = p + 1;
      stackR.length = p + 1;
      if (i < k) stackR[p] = walk.relations[i]!;
      continue;
    }
    at.set(v, stackV.length);
    stackV.push(v);
    stackR.push(walk.relations[i]!);
  }
  return out;
}
