/**
 * Which nodes a fault is aimed at, in Jepsen's vocabulary: one node, a minority, a majority, all, the primaries,
 * or named nodes. Pure except for `findPrimaries`, which asks each agent's DB module.
 */
import type { AgentClient } from '../rpc/agent-client';

export const TARGET_KINDS = ['one', 'minority', 'majority', 'all', 'primaries'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];
export type TargetSpec = { kind: TargetKind } | { kind: 'nodes'; nodes: string[] };

/**
 * Reads `--node`: a target kind, or a comma-separated list of node names (each must be one of `nodes`).
 * @throws RangeError for an unknown node.
 */
export function parseTargetSpec(text: string, nodes: readonly string[]): TargetSpec {
  const t = text.trim();
  if ((TARGET_KINDS as readonly string[]).includes(t)) return { kind: t as TargetKind };
  const names = t.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new RangeError('Cannot aim a fault at no node: give --node n1[,n2...] or one|minority|majority|all|primaries');
  for (const n of names) {
    if (!nodes.includes(n)) throw new RangeError(`Cannot aim a fault at "${n}": the nodes are ${nodes.join(', ')}`);
  }
  return { kind: 'nodes', nodes: [...new Set(names)] };
}

/** Strictly fewer than half: 5 -> 2, 4 -> 1, 3 -> 1. */
export function minorityCount(n: number): number {
  return Math.ceil(n / 2) - 1;
}

/** More than half: 5 -> 3, 4 -> 3. */
export function majorityCount(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The nodes `spec` names, in node order. `rng` picks for one/minority/majority; `primaries` must be given for
 * the primaries kind.
 * @throws RangeError when the spec selects nothing (no primary right now, a minority of one node): a fault that
 *   silently hits no node would make a test look like it survived a fault it never saw.
 */
export function selectTargets(spec: TargetSpec, nodes: readonly string[], rng: () => number, primaries?: readonly string[]): string[] {
  const pick = (count: number): string[] => {
    const pool = [...nodes];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const chosen = new Set(pool.slice(0, count));
    return nodes.filter((n) => chosen.has(n));
  };
  let out: string[];
  switch (spec.kind) {
    case 'nodes':
      out = nodes.filter((n) => spec.nodes.includes(n));
      break;
    case 'one':
      out = pick(1);
      break;
    case 'minority':
      out = pick(minorityCount(nodes.length));
      break;
    case 'majority':
      out = pick(majorityCount(nodes.length));
      break;
    case 'all':
      out = [...nodes];
      break;
    case 'primaries':
      if (primaries === undefined) throw new RangeError('Cannot aim at the primaries: they were not looked up');
      out = nodes.filter((n) => primaries.includes(n));
      break;
  }
  if (out.length === 0) throw new RangeError(`Cannot aim a fault at the ${spec.kind === 'nodes' ? 'given nodes' : spec.kind}: that selects no node of ${nodes.join(', ')}`);
  return out;
}

/**
 * Asks every agent whether its DB member is the primary now (etcd: the raft leader). Several nodes may believe it
 * at once during a partition; all of them are returned, as Jepsen does.
 * @throws RangeError when the DB module cannot name its primary.
 */
export async function findPrimaries(clients: readonly AgentClient[], db: string): Promise<string[]> {
  const answers = await Promise.all(
    clients.map(async (c) => ({ node: c.node.name, res: await c.db('primary', db, 5000).catch(() => undefined) })),
  );
  const answered = answers.filter((a) => a.res !== undefined);
  if (answered.length > 0 && answered.every((a) => !a.res!.primaryKnown)) {
    throw new RangeError(`Cannot aim at the primaries: the ${db} module cannot name its primary`);
  }
  return answered.filter((a) => a.res!.primary).map((a) => a.node);
}

/**
 * The nodes that run a server of the database, in node order: every node except those whose agent reports that
 * it runs none by design (PostgreSQL's and MariaDB's client-only nodes, `dbProcessState` 'none'). A node that
 * does not answer counts as a server (it may well run one). All nodes when none would be left.
 */
export async function serverNodes(clients: readonly AgentClient[]): Promise<string[]> {
  const answers = await Promise.all(
    clients.map(async (c) => ({ node: c.node.name, state: (await c.status().catch(() => undefined))?.faults?.dbProcessState })),
  );
  const servers = answers.filter((a) => a.state !== 'none').map((a) => a.node);
  return servers.length > 0 ? servers : clients.map((c) => c.node.name);
}
