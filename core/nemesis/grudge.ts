/**
 * Grudges, Jepsen's description of a network partition: for each node, the nodes whose packets it drops. Pure:
 * the shapes here only compute who drops whom; the agents apply it (agent/faults/partition.ts).
 */

/** Node -> the nodes whose packets it drops. Nodes that drop nothing may be absent or map to `[]`. */
export type Grudge = Record<string, string[]>;

/**
 * The partition shapes faultline knows (Jepsen's names where Jepsen has one):
 * - `halves`: first ⌊n/2⌋ nodes against the rest, in the order given;
 * - `random-halves`: the same after shuffling;
 * - `isolate`: one node (the `target`, else a random one) cut off from all others;
 * - `minority-third`: a random set of fewer than a third of the nodes (⌊(n-1)/3⌋, or `target`) cut off;
 * - `majorities-ring`: nodes in a random ring, each sees a majority, no two see the same set;
 * - `bridge`: two halves that both still reach one bridge node (`target`, else random);
 * - `primaries`: each node of `primaries` isolated on its own;
 * - `one-way`: `target` (else a random node) drops packets from everyone, while everyone still takes its packets.
 */
export type PartitionShape =
  | 'halves'
  | 'random-halves'
  | 'isolate'
  | 'minority-third'
  | 'majorities-ring'
  | 'bridge'
  | 'primaries'
  | 'one-way';

export const PARTITION_SHAPES: readonly PartitionShape[] = [
  'halves',
  'random-halves',
  'isolate',
  'minority-third',
  'majorities-ring',
  'bridge',
  'primaries',
  'one-way',
];

export interface GrudgeOptions {
  /** Nodes the shape is aimed at (isolate, minority-third, bridge, one-way); random when absent. */
  target?: string[];
  /** A source of uniform numbers in [0, 1); pass a seeded one for reproducible runs. */
  rng?: () => number;
  /** The database's primaries, for the `primaries` shape. */
  primaries?: string[];
}

/**
 * Computes the grudge of `shape` over `nodes`.
 * @throws RangeError when the shape cannot cut this set of nodes (too few nodes, unknown target, no primaries):
 *   a partition that silently cuts nothing would make a test look like it survived a fault it never saw.
 */
export function grudgeFor(shape: PartitionShape, nodes: string[], opts: GrudgeOptions = {}): Grudge {
  checkNodes(nodes);
  const rng = opts.rng ?? Math.random;
  const target = opts.target?.map((t) => checkMember(t, nodes, 'target'));
  const need = (min: number): void => {
    if (nodes.length < min) {
      throw new RangeError(`Cannot build a "${shape}" partition: it needs at least ${min} nodes, got ${nodes.length}`);
    }
  };
  switch (shape) {
    case 'halves':
      need(2);
      return complete(bisect(nodes));
    case 'random-halves':
      need(2);
      return complete(bisect(shuffle(nodes, rng)));
    case 'isolate': {
      need(2);
      const one = pickOne(target, nodes, rng, shape);
      return complete([[one], nodes.filter((n) => n !== one)]);
    }
    case 'minority-third': {
      need(4);
      const size = Math.floor((nodes.length - 1) / 3);
      const cut = target ?? shuffle(nodes, rng).slice(0, size);
      if (cut.length === 0 || cut.length * 3 >= nodes.length) {
        throw new RangeError(`Cannot build a "minority-third" partition: ${cut.length} of ${nodes.length} nodes is not under a third`);
      }
      return complete([cut, nodes.filter((n) => !cut.includes(n))]);
    }
    case 'majorities-ring':
      need(3);
      return majoritiesRing(shuffle(nodes, rng));
    case 'bridge': {
      need(3);
      const middle = pickOne(target, nodes, rng, shape);
      const others = shuffle(
        nodes.filter((n) => n !== middle),
        rng,
      );
      const [left, right] = bisect(others);
      const g = complete([left, right]);
      g[middle] = [];
      return g;
    }
    case 'primaries': {
      const primaries = (opts.primaries ?? []).map((p) => checkMember(p, nodes, 'primary'));
      if (primaries.length === 0) {
        throw new RangeError('Cannot build a "primaries" partition: the database named no primary');
      }
      if (primaries.length === nodes.length && nodes.length === 1) {
        throw new RangeError('Cannot build a "primaries" partition: a single node cannot be cut off from anyone');
      }
      const rest = nodes.filter((n) => !primaries.includes(n));
      return complete([...primaries.map((p) => [p]), ...(rest.length > 0 ? [rest] : [])]);
    }
    case 'one-way': {
      need(2);
      const deaf = pickOne(target, nodes, rng, shape);
      return { ...emptyGrudge(nodes), [deaf]: nodes.filter((n) => n !== deaf) };
    }
  }
}

/**
 * Jepsen's complete-grudge: nodes in different components drop each other's packets; nodes within one component
 * do not. Every node of every component appears as a key.
 */
export function complete(components: string[][]): Grudge {
  const all = components.flat();
  checkNodes(all);
  const g: Grudge = {};
  for (const component of components) {
    for (const node of component) g[node] = all.filter((n) => !component.includes(n));
  }
  return g;
}

/**
 * A one-line human description: `n1 n2 | n3 n4 n5` for a grudge made of isolated components, otherwise each
 * node's drops (`n1 drops n3 n4; n4 drops n1`), or `no partition`.
 */
export function describeGrudge(g: Grudge): string {
  const nodes = nodesOf(g);
  const cutters = nodes.filter((n) => (g[n] ?? []).length > 0);
  if (cutters.length === 0) return 'no partition';
  const components = componentsOf(g);
  if (components !== undefined) return components.map((c) => c.join(' ')).join(' | ');
  return cutters.map((n) => `${n} drops ${[...(g[n] ?? [])].sort(byName).join(' ')}`).join('; ');
}

/** Whether `from`'s packets reach `to` under `g`. */
export function delivers(g: Grudge, from: string, to: string): boolean {
  return !(g[to] ?? []).includes(from);
}

/** Splits into [first ⌊n/2⌋, rest] (the smaller half first), as Jepsen's bisect. */
function bisect(nodes: string[]): [string[], string[]] {
  const half = Math.floor(nodes.length / 2);
  return [nodes.slice(0, half), nodes.slice(half)];
}

/**
 * A ring where each node keeps the ⌈(m-1)/2⌉ nodes on each side (m = majority) and drops the rest. Unlike
 * Jepsen's perfect variant, the result is symmetric, so each node really exchanges packets with a majority even
 * over TCP, whose handshake needs both directions; for 3 nodes the ring keeps two of its three links.
 */
function majoritiesRing(ring: string[]): Grudge {
  const n = ring.length;
  const majority = Math.floor(n / 2) + 1;
  const reach = Math.ceil((majority - 1) / 2);
  const g: Grudge = {};
  if (n === 3) {
    const [a = '', b = '', c = ''] = ring;
    return { [a]: [c], [b]: [], [c]: [a] };
  }
  ring.forEach((node, i) => {
    const keep = new Set<string>([node]);
    for (let d = 1; d <= reach; d++) {
      keep.add(ring[(i + d) % n] ?? '');
      keep.add(ring[(i - d + n) % n] ?? '');
    }
    g[node] = ring.filter((m) => !keep.has(m));
  });
  return g;
}

/** The connected components of a symmetric grudge made of fully-cut components, or undefined if it is not one. */
function componentsOf(g: Grudge): string[][] | undefined {
  const nodes = nodesOf(g);
  const seen = new Set<string>();
  const components: string[][] = [];
  for (const node of nodes) {
    if (seen.has(node)) continue;
    const dropped = new Set(g[node] ?? []);
    const component = nodes.filter((m) => !dropped.has(m));
    if (component.some((m) => seen.has(m))) return undefined; // overlapping views: not separate components
    components.push(component);
    for (const m of component) seen.add(m);
  }
  const rebuilt = complete(components);
  const same = nodes.every((n) => sameSet(rebuilt[n] ?? [], g[n] ?? []));
  return same ? components : undefined;
}

/** Every node a grudge mentions, as a key or as a dropped peer, in name order. */
function nodesOf(g: Grudge): string[] {
  return [...new Set([...Object.keys(g), ...Object.values(g).flat()])].sort(byName);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function emptyGrudge(nodes: readonly string[]): Grudge {
  return Object.fromEntries(nodes.map((n) => [n, []]));
}

function pickOne(target: string[] | undefined, nodes: string[], rng: () => number, shape: PartitionShape): string {
  if (target !== undefined && target.length !== 1) {
    throw new RangeError(`Cannot build a "${shape}" partition: it takes one target node, got ${target.length}`);
  }
  return target?.[0] ?? shuffle(nodes, rng)[0] ?? '';
}

/** Fisher-Yates with the given rng; returns a new array. */
function shuffle<T>(items: readonly T[], rng: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng() * (i + 1)));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function checkNodes(nodes: readonly string[]): void {
  if (nodes.length === 0) throw new RangeError('Cannot build a partition: no nodes');
  if (new Set(nodes).size !== nodes.length) {
    throw new RangeError(`Cannot build a partition: a node is listed twice in ${nodes.join(', ')}`);
  }
}

function checkMember(node: string, nodes: readonly string[], role: string): string {
  if (!nodes.includes(node)) throw new RangeError(`Cannot build a partition: ${role} "${node}" is not one of the nodes`);
  return node;
}

/** Orders n2 before n10. */
function byName(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
