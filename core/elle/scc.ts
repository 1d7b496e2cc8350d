/**
 * Strongly connected components (Tarjan, iterative so a million-vertex path cannot overflow the stack),
 * over the edges carrying some relations.
 */
import type { DependencyGraph } from './dependency-graph';

/** The non-trivial components (two or more vertices: the graph has no self-edges). */
export interface Components {
  /** Vertices of each component. */
  members: Int32Array[];
  /** Component number of each vertex, -1 for vertices in no non-trivial component. */
  componentOf: Int32Array;
}

/** Tarjan's algorithm restricted to edges whose relation bits intersect `relations`. */
export function stronglyConnectedComponents(g: DependencyGraph, relations: number): Components {
  const n = g.n;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  let sp = 0;
  const callV = new Int32Array(n);
  const callE = new Int32Array(n);
  const componentOf = new Int32Array(n).fill(-1);
  const members: Int32Array[] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    let depth = 0;
    callV[0] = root;
    callE[0] = g.adjStart[root]!;
    index[root] = low[root] = counter++;
    stack[sp++] = root;
    onStack[root] = 1;
    while (depth >= 0) {
      const v = callV[depth]!;
      const hi = g.adjStart[v + 1]!;
      let e = callE[depth]!;
      let descended = false;
      for (; e < hi; e++) {
        if ((g.adjRel[e]! & relations) === 0) continue;
        const w = g.adjTo[e]!;
        if (index[w] === -1) {
          callE[depth] = e + 1;
          depth++;
          callV[depth] = w;
          callE[depth] = g.adjStart[w]!;
          index[w] = low[w] = counter++;
          stack[sp++] = w;
          onStack[w] = 1;
          descended = true;
          break;
        }
        if (onStack[w] && index[w]! < low[v]!) low[v] = index[w]!;
      }
      if (descended) continue;
      if (low[v] === index[v]) {
        let size = 0;
        while (stack[sp - 1 - size] !== v) size++;
        size++;
        if (size > 1) {
          const comp = stack.slice(sp - size, sp);
          const c = members.length;
          for (const w of comp) componentOf[w] = c;
          members.push(comp);
        }
        for (let i = 0; i < size; i++) onStack[stack[--sp]!] = 0;
      }
      depth--;
      if (depth >= 0) {
        const u = callV[depth]!;
        if (low[v]! < low[u]!) low[u] = low[v]!;
      }
    }
  }
  return { members, componentOf };
}
