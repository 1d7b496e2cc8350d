/**
 * The transaction dependency graph in compressed sparse row form. Vertices are transaction numbers; each
 * edge carries a bit set of relations (an edge may be both ww and rw, say), so a pair appears once.
 */

/** Relation bits on an edge. */
export const WW = 1;
export const WR = 2;
export const RW = 4;
export const PROCESS = 8;
export const REALTIME = 16;
export const DATA = WW | WR | RW;
export const ALL_RELATIONS = DATA | PROCESS | REALTIME;

/** Name of a single relation bit, as printed in explanations. */
export function relationName(bit: number): 'ww' | 'wr' | 'rw' | 'process' | 'realtime' {
  switch (bit) {
    case WW:
      return 'ww';
    case WR:
      return 'wr';
    case RW:
      return 'rw';
    case PROCESS:
      return 'process';
    case REALTIME:
      return 'realtime';
    default:
      throw new RangeError(`Cannot name relation bit ${bit}`);
  }
}

/** A growable list of (from, to, relation) triples, stored in typed arrays. */
export class EdgeList {
  from: Int32Array;
  to: Int32Array;
  rel: Uint8Array;
  size = 0;

  /** `capacityHint`: expected number of edges; a good guess avoids regrowing large arrays. */
  constructor(capacityHint = 1024) {
    const cap = Math.max(16, Math.ceil(capacityHint));
    this.from = new Int32Array(cap);
    this.to = new Int32Array(cap);
    this.rel = new Uint8Array(cap);
  }

  /** Adds `from -rel-> to`; self-edges are dropped (a transaction never depends on itself). */
  add(from: number, to: number, rel: number): void {
    if (from === to) return;
    if (this.size === this.from.length) this.grow();
    this.from[this.size] = from;
    this.to[this.size] = to;
    this.rel[this.size] = rel;
    this.size++;
  }

  private grow(): void {
    const cap = Math.ceil(this.from.length * 1.5);
    const f = new Int32Array(cap);
    f.set(this.from);
    this.from = f;
    const t = new Int32Array(cap);
    t.set(this.to);
    this.to = t;
    const r = new Uint8Array(cap);
    r.set(this.rel);
    this.rel = r;
  }
}

export interface DependencyGraph {
  /** Number of vertices (transactions). */
  n: number;
  /** Out-edges of v are adjTo[adjStart[v]] … adjTo[adjStart[v+1]-1]. */
  adjStart: Int32Array;
  adjTo: Int32Array;
  /** Relation bits of each edge. */
  adjRel: Uint8Array;
}

/** Builds the CSR graph, merging parallel edges into one edge with the union of their relations. */
export function buildDependencyGraph(n: number, edges: EdgeList): DependencyGraph {
  const count = new Int32Array(n + 1);
  for (let i = 0; i < edges.size; i++) count[edges.from[i]! + 1]!++;
  for (let v = 0; v < n; v++) count[v + 1]! += count[v]!;
  const fill = count.slice(0, n);
  const to = new Int32Array(edges.size);
  const rel = new Uint8Array(edges.size);
  for (let i = 0; i < edges.size; i++) {
    const p = fill[edges.from[i]!]!++;
    to[p] = edges.to[i]!;
    rel[p] = edges.rel[i]!;
  }
  // Merge duplicates in place: seenAt[w] is where w was last written for the current vertex.
  const seenAt = new Int32Array(n).fill(-1);
  const adjStart = new Int32Array(n + 1);
  let out = 0;
  for (let v = 0; v < n; v++) {
    adjStart[v] = out;
    const lo = count[v]!;
    const hi = count[v + 1]!;
    for (let i = lo; i < hi; i++) {
      const w = to[i]!;
      const at = seenAt[w]!;
      if (at >= adjStart[v]! && at < out && to[at] === w) {
        rel[at]! |= rel[i]!;
      } else {
        seenAt[w] = out;
        to[out] = w;
        rel[out] = rel[i]!;
        out++;
      }
    }
  }
  adjStart[n] = out;
  return { n, adjStart, adjTo: to.subarray(0, out), adjRel: rel.subarray(0, out) };
}

/** Relation bits of the edge `from -> to`, or 0 when there is none. */
export function edgeRelations(g: DependencyGraph, from: number, to: number): number {
  for (let i = g.adjStart[from]!; i < g.adjStart[from + 1]!; i++) if (g.adjTo[i] === to) return g.adjRel[i]!;
  return 0;
}

/** Counts edges carrying each relation. */
export function countRelations(g: DependencyGraph): Record<'ww' | 'wr' | 'rw' | 'process' | 'realtime', number> {
  const c = { ww: 0, wr: 0, rw: 0, process: 0, realtime: 0 };
  for (let i = 0; i < g.adjRel.length; i++) {
    const r = g.adjRel[i]!;
    if (r & WW) c.ww++;
    if (r & WR) c.wr++;
    if (r & RW) c.rw++;
    if (r & PROCESS) c.process++;
    if (r & REALTIME) c.realtime++;
  }
  return c;
}

/**
 * The subgraph induced by `vertices` (typically one component), renumbered 0…k-1 in the order given.
 * `scratch` must hold -1 for every vertex; it is restored before returning.
 */
export function inducedSubgraph(g: DependencyGraph, vertices: Int32Array, scratch: Int32Array): DependencyGraph {
  const k = vertices.length;
  for (let i = 0; i < k; i++) scratch[vertices[i]!] = i;
  const adjStart = new Int32Array(k + 1);
  const to: number[] = [];
  const rel: number[] = [];
  for (let i = 0; i < k; i++) {
    adjStart[i] = to.length;
    const v = vertices[i]!;
    for (let e = g.adjStart[v]!; e < g.adjStart[v + 1]!; e++) {
      const w = scratch[g.adjTo[e]!]!;
      if (w < 0) continue;
      to.push(w);
      rel.push(g.adjRel[e]!);
    }
  }
  adjStart[k] = to.length;
  for (let i = 0; i < k; i++) scratch[vertices[i]!] = -1;
  return { n: k, adjStart, adjTo: Int32Array.from(to), adjRel: Uint8Array.from(rel) };
}
