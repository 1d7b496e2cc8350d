/**
 * The controller's fault actions over a set of agents, shared by the run's nemesis schedule and `faultline fault`:
 * each applies one fault on the nodes concerned and returns what every node reports afterwards (its active
 * faults, clock offset, DB pid and /proc state), so that nemesis events and the CLI show what really happened.
 */
import type { Grudge } from '../../core/nemesis/grudge';
import type { AgentClient, FaultResponse, LinkShape, NodeFaultState } from '../rpc/agent-client';

export type ProcessFaultAction = 'kill' | 'pause' | 'resume' | 'restart' | 'start';
export type ClockStrategy = 'faketime' | 'system';
export type ClockChange =
  | { action: 'bump'; offsetMs: number }
  | { action: 'strobe'; aMs: number; bMs: number; periodMs: number }
  | { action: 'reset' };

/** What one node reports after a fault action, in plain fields for events and output. */
export interface NodeReport {
  message: string;
  clockOffsetMs: number;
  db: string;
  dbPid: number;
  dbProcessState: string;
  faults: { id: string; kind: string; sinceMs: number; untilMs: number }[];
  /** How the agent verified that the fault bites and that its control paths still answer (empty for heals). */
  checks?: { name: string; ok: boolean; detail: string }[];
}

export function nodeReport(res: FaultResponse): NodeReport {
  const checks = (res.checks ?? []).map((c) => ({ name: c.name, ok: c.ok, detail: c.detail }));
  return { message: res.message, ...stateReport(res.state), ...(checks.length > 0 ? { checks } : {}) };
}

export function stateReport(state: NodeFaultState | undefined): Omit<NodeReport, 'message'> {
  return {
    clockOffsetMs: Number(state?.clockOffsetMs ?? 0),
    db: state?.db ?? '',
    dbPid: state?.dbPid ?? 0,
    dbProcessState: state?.dbProcessState ?? '',
    faults: (state?.faults ?? []).map((f) => ({ id: f.id, kind: f.kind, sinceMs: Number(f.appliedAtUnixMs), untilMs: Number(f.expiresAtUnixMs) })),
  };
}

async function onEach(clients: readonly AgentClient[], fn: (c: AgentClient) => Promise<FaultResponse>): Promise<Record<string, NodeReport>> {
  const out: Record<string, NodeReport> = {};
  await Promise.all(clients.map(async (c) => (out[c.node.name] = nodeReport(await fn(c)))));
  return out;
}

const only = (clients: readonly AgentClient[], targets: readonly string[]) => clients.filter((c) => targets.includes(c.node.name));

/** Every node drops packets from the addresses of the nodes its grudge names; loss rules stay as they are. */
export function applyGrudge(clients: readonly AgentClient[], grudge: Grudge, id: string, durationMs: number): Promise<Record<string, NodeReport>> {
  const addressOf = new Map(clients.map((c) => [c.node.name, c.node.address]));
  return onEach(clients, (c) =>
    c.partition((grudge[c.node.name] ?? []).map((n) => addressOf.get(n)!), [], id, durationMs, 5000, 'drop'),
  );
}

/**
 * The other ends of `c`'s links around `targets`: a target's links go to every other node; any other node's links
 * around the targets go to the targets.
 */
function linkPeers(clients: readonly AgentClient[], targets: readonly string[], c: AgentClient): string[] {
  if (targets.includes(c.node.name)) return clients.filter((o) => o !== c).map((o) => o.node.address);
  return clients.filter((o) => targets.includes(o.node.name)).map((o) => o.node.address);
}

/**
 * Lossy links around `targets`: each target loses `probability` of the packets from every other node, and every
 * other node loses the same share of the packets from the targets (both directions of each link). A partition
 * in force stays as it is.
 */
export function applyLinkLoss(
  clients: readonly AgentClient[],
  targets: readonly string[],
  probability: number,
  id: string,
  durationMs: number,
): Promise<Record<string, NodeReport>> {
  return onEach(clients, (c) => {
    const from = linkPeers(clients, targets, c);
    return c.partition([], from.map((a) => ({ from: a, probability })), id, durationMs, 5000, 'loss');
  });
}

/**
 * Shaped links around `targets`, both directions: each target shapes what it sends to every other node, and
 * every other node what it sends to the targets. Partitions and loss in force stay as they are.
 */
export function applyLinkShape(
  clients: readonly AgentClient[],
  targets: readonly string[],
  shape: LinkShape,
  id: string,
  durationMs: number,
): Promise<Record<string, NodeReport>> {
  return onEach(clients, (c) => c.shape(linkPeers(clients, targets, c), shape, id, durationMs));
}

export function processFault(
  clients: readonly AgentClient[],
  targets: readonly string[],
  action: ProcessFaultAction,
  id: string,
  durationMs: number,
): Promise<Record<string, NodeReport>> {
  return onEach(only(clients, targets), (c) => c.processFault(action, id, durationMs));
}

export function clockFault(
  clients: readonly AgentClient[],
  targets: readonly string[],
  change: ClockChange,
  strategy: ClockStrategy,
  id: string,
  durationMs: number,
): Promise<Record<string, NodeReport>> {
  return onEach(only(clients, targets), (c) => c.clockFault(change, strategy, id, durationMs));
}

/** Heals every fault on every node (network, pauses, offsets, killed members restarted). */
/** One fault, aimed: what the schedule and `faultline fault` both hand to `applyFault`. */
export type Fault =
  | { kind: 'partition'; grudge: Grudge }
  | { kind: 'loss'; nodes: string[]; probability: number }
  | { kind: 'shape'; nodes: string[]; shape: LinkShape }
  | { kind: 'process'; action: ProcessFaultAction; nodes: string[] }
  | { kind: 'clock'; nodes: string[]; change: ClockChange; strategy: ClockStrategy };

/** Applies `fault` on the agents it concerns (journaled and lease-bound there): the one switch over fault kinds. */
export function applyFault(clients: readonly AgentClient[], fault: Fault, id: string, durationMs: number): Promise<Record<string, NodeReport>> {
  switch (fault.kind) {
    case 'partition':
      return applyGrudge(clients, fault.grudge, id, durationMs);
    case 'loss':
      return applyLinkLoss(clients, fault.nodes, fault.probability, id, durationMs);
    case 'shape':
      return applyLinkShape(clients, fault.nodes, fault.shape, id, durationMs);
    case 'process':
      return processFault(clients, fault.nodes, fault.action, id, durationMs);
    case 'clock':
      return clockFault(clients, fault.nodes, fault.change, fault.strategy, id, durationMs);
  }
}

/** Whether a fault lasts until healed (false for resume, restart, start and a clock reset: nothing to hold). */
export function isLasting(fault: Fault): boolean {
  if (fault.kind === 'process') return fault.action === 'kill' || fault.action === 'pause';
  if (fault.kind === 'clock') return fault.change.action !== 'reset';
  return true;
}

export function healAll(clients: readonly AgentClient[]): Promise<Record<string, NodeReport>> {
  return onEach(clients, (c) => c.heal(30_000));
}

/** Each node's clock offset from a set of reports, the value nemesis events record. */
export function offsetsOf(reports: Record<string, NodeReport>): Record<string, number> {
  return Object.fromEntries(Object.entries(reports).map(([n, r]) => [n, r.clockOffsetMs]));
}
