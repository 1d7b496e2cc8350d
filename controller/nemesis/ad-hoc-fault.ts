/**
 * `faultline fault`: faults applied by hand against the lab or a node list. A fault is applied, then held for its
 * duration under a lease (heartbeats from this process); the agents heal it on their own when the duration ends
 * or when this process dies, and the caller heals it at once on Ctrl-C. Status and heal read and act on what the
 * agents report, never on what this process remembers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { grudgeFor, describeGrudge, type Grudge, type PartitionShape } from '../../core/nemesis/grudge';
import { NodePreconditionError } from '../errors';
import { labStatus } from '../lab/lab';
import { parseNodeList } from '../run/run-options';
import { AgentClient, type LinkShape, type NodeAddress } from '../rpc/agent-client';
import { formatRate } from './durations';
import {
  applyFault,
  healAll,
  isLasting,
  stateReport,
  type Fault,
  type ClockChange,
  type ClockStrategy,
  type NodeReport,
  type ProcessFaultAction,
} from './fault-actions';
import { inspectHeal } from './heal-check';
import { LeaseHolder } from '../rpc/lease-holder';
import { findPrimaries, parseTargetSpec, selectTargets } from './node-targets';

export type AdHocFault =
  | { kind: 'partition'; shape: PartitionShape | 'custom'; target?: string; grudge?: Grudge }
  | { kind: 'loss'; target: string; percent: number }
  | { kind: 'shape'; target: string; shape: LinkShape }
  | { kind: 'process'; action: ProcessFaultAction; target: string }
  | { kind: 'clock'; target: string; change: ClockChange; strategy: ClockStrategy };

export interface AppliedFault {
  id: string;
  description: string;
  /** Nodes whose agents hold a part of this fault. */
  nodes: string[];
  reports: Record<string, NodeReport>;
  /** False for instantaneous actions (resume, restart, clock reset): nothing to hold or heal. */
  lasting: boolean;
}

/** The agents of the lab (`lab`) or of an explicit `n1=HOST:PORT,...` list. */
export async function resolveFaultNodes(spec: string, labPrefix: string): Promise<NodeAddress[]> {
  if (spec !== 'lab') return parseNodeList(spec);
  const status = await labStatus(labPrefix);
  if (status.nodes.length === 0) throw new NodePreconditionError(`Cannot find the lab "${labPrefix}": it is not up; run "faultline lab up" first`);
  return status.nodes.map((n) => ({ name: n.name, address: n.address, agent: n.agent.address }));
}

/** Which DB the agents run, from their status; needed to look up primaries. */
async function dbOf(clients: readonly AgentClient[]): Promise<string> {
  for (const c of clients) {
    const s = await c.status();
    if (s.faults?.db) return s.faults.db;
  }
  throw new NodePreconditionError('Cannot aim at the primaries: no DB is set up on any node');
}

/**
 * Applies `fault` to the agents. Nothing is half-applied: if any node fails, every node is healed and the error
 * is rethrown.
 * @throws RangeError for a target or shape that selects nothing; AgentRequestError when an agent refuses
 *   (e.g. a clock fault on etcd, netem where it is missing); AgentUnavailableError when one cannot be reached.
 */
export async function applyAdHocFault(clients: AgentClient[], fault: AdHocFault, durationMs: number, rng: () => number = Math.random): Promise<AppliedFault> {
  const names = clients.map((c) => c.node.name);
  const id = `adhoc-${fault.kind}-${Date.now()}`;
  const targetsOf = async (text: string): Promise<string[]> => {
    const spec = parseTargetSpec(text, names);
    const primaries = spec.kind === 'primaries' ? await findPrimaries(clients, await dbOf(clients)) : undefined;
    return selectTargets(spec, names, rng, primaries);
  };
  /** The user's fault with its targets resolved, and how it reads. */
  const aim = async (f: AdHocFault): Promise<{ aimed: Fault; description: string }> => {
    switch (f.kind) {
      case 'partition': {
        let grudge: Grudge;
        if (f.shape === 'custom') {
          grudge = checkGrudge(f.grudge ?? {}, names);
        } else {
          const primaries = f.shape === 'primaries' ? await findPrimaries(clients, await dbOf(clients)) : undefined;
          grudge = grudgeFor(f.shape, names, {
            rng,
            ...(f.target !== undefined ? { target: f.target.split(',') } : {}),
            ...(primaries ? { primaries } : {}),
          });
        }
        return { aimed: { kind: 'partition', grudge }, description: `partition ${f.shape}: ${describeGrudge(grudge)}` };
      }
      case 'loss': {
        const nodes = await targetsOf(f.target);
        return { aimed: { kind: 'loss', nodes, probability: f.percent / 100 }, description: `${f.percent} % packet loss on the links of ${nodes.join(', ')}` };
      }
      case 'shape': {
        const nodes = await targetsOf(f.target);
        return { aimed: { kind: 'shape', nodes, shape: f.shape }, description: `${describeShape(f.shape)} on the links of ${nodes.join(', ')}` };
      }
      case 'process': {
        const nodes = await targetsOf(f.target);
        return { aimed: { kind: 'process', action: f.action, nodes }, description: `${f.action} the DB on ${nodes.join(', ')}` };
      }
      case 'clock': {
        const nodes = await targetsOf(f.target);
        const what =
          f.change.action === 'bump'
            ? `bump the clock by ${f.change.offsetMs} ms`
            : f.change.action === 'strobe'
              ? `strobe the clock between ${f.change.aMs} and ${f.change.bMs} ms every ${f.change.periodMs} ms`
              : 'reset the clock';
        return { aimed: { kind: 'clock', nodes, change: f.change, strategy: f.strategy }, description: `${what} (${f.strategy}) on ${nodes.join(', ')}` };
      }
    }
  };
  try {
    const { aimed, description } = await aim(fault);
    const reports = await applyFault(clients, aimed, id, durationMs);
    const nodes = aimed.kind === 'process' || aimed.kind === 'clock' ? aimed.nodes : names;
    return { id, description, nodes, reports, lasting: isLasting(aimed) };
  } catch (err) {
    // Resume/restart/reset failing leave nothing to undo; anything else may have been applied on some nodes.
    const instant = fault.kind === 'process' && !['kill', 'pause'].includes(fault.action);
    if (!instant) await healAll(clients).catch(() => undefined);
    throw err;
  }
}

/** `rate 1mbit, delay 100ms ± 10ms, 5 % duplicated`: a link shape in words. */
export function describeShape(shape: LinkShape): string {
  const parts: string[] = [];
  if ((shape.rateBitsPerSecond ?? 0) > 0) parts.push(`rate limited to ${formatRate(shape.rateBitsPerSecond!)}/s`);
  if ((shape.delayMs ?? 0) > 0) parts.push(`delay ${shape.delayMs} ms${(shape.jitterMs ?? 0) > 0 ? ` ± ${shape.jitterMs} ms` : ''}`);
  if ((shape.duplicatePercent ?? 0) > 0) parts.push(`${shape.duplicatePercent} % duplicated`);
  if ((shape.reorderPercent ?? 0) > 0) parts.push(`${shape.reorderPercent} % reordered`);
  if ((shape.corruptPercent ?? 0) > 0) parts.push(`${shape.corruptPercent} % corrupted`);
  return parts.join(', ');
}

/**
 * Holds the lease on every node while the fault lasts; resolves when `durationMs` has passed, when `signal`
 * aborts (then `healOnInterrupt` heals, still under the lease), or when no node reports the fault any more (healed
 * by `faultline fault heal`, or expired on the agents). Returns why it ended. Once the fault is known to be gone,
 * the lease is released rather than left to lapse: a lapsing lease heals everything on the agent, including a
 * detached fault someone applied in the seconds after this one ended.
 */
export async function holdFault(
  clients: AgentClient[],
  applied: AppliedFault,
  durationMs: number,
  leaseMs: number,
  signal: AbortSignal,
  healOnInterrupt: () => Promise<void>,
): Promise<'expired' | 'interrupted' | 'healed elsewhere'> {
  const leases = clients.map((c) => new LeaseHolder(c, leaseMs));
  for (const l of leases) l.open();
  let gone = false;
  try {
    const ended = await waitForEnd();
    if (ended === 'interrupted') await healOnInterrupt();
    gone = true;
    return ended;
  } finally {
    // A heal that threw leaves the lease to lapse: the agents then heal on their own.
    await Promise.all(leases.map((l) => l.close(gone)));
  }

  async function waitForEnd(): Promise<'expired' | 'interrupted' | 'healed elsewhere'> {
    const endAt = Date.now() + durationMs;
    while (!signal.aborted) {
      await sleep(Math.min(1000, Math.max(0, endAt - Date.now())), undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return 'interrupted';
      const still = await stillActive(clients, applied);
      if (!still) return Date.now() >= endAt ? 'expired' : 'healed elsewhere';
      if (Date.now() >= endAt + 5000) {
        // The agents should have healed it on their own by now: do it for them rather than leave it.
        await healAll(clients.filter((c) => applied.nodes.includes(c.node.name)));
        return 'expired';
      }
    }
    return 'interrupted';
  }
}

async function stillActive(clients: AgentClient[], applied: AppliedFault): Promise<boolean> {
  const states = await Promise.all(
    clients.filter((c) => applied.nodes.includes(c.node.name)).map((c) => c.status().then((s) => s.faults).catch(() => undefined)),
  );
  // An agent we cannot reach may still hold the fault (its lease and duration will end it): count it as active.
  return states.some((s) => s === undefined || s.faults.some((f) => f.id === applied.id || f.id === `${applied.id}-loss`));
}

/** What every node reports: active faults with since/until, clock offset, DB pid and state. */
export interface NodeFaultStatus {
  name: string;
  address: string;
  reachable: boolean;
  error?: string;
  db: string;
  dbPid: number;
  dbProcessState: string;
  clockOffsetMs: number;
  faults: { id: string; kind: string; since: string; until: string; detail: unknown }[];
}

export async function faultStatus(clients: readonly AgentClient[]): Promise<NodeFaultStatus[]> {
  return Promise.all(
    clients.map(async (c): Promise<NodeFaultStatus> => {
      const base = { name: c.node.name, address: c.node.address };
      try {
        const s = (await c.status()).faults;
        const r = stateReport(s);
        return {
          ...base,
          reachable: true,
          db: r.db,
          dbPid: r.dbPid,
          dbProcessState: r.dbProcessState,
          clockOffsetMs: r.clockOffsetMs,
          faults: (s?.faults ?? []).map((f) => ({
            id: f.id,
            kind: f.kind,
            since: new Date(Number(f.appliedAtUnixMs)).toISOString(),
            until: new Date(Number(f.expiresAtUnixMs)).toISOString(),
            detail: safeJson(f.detailJson),
          })),
        };
      } catch (err) {
        return { ...base, reachable: false, error: (err as Error).message, db: '', dbPid: 0, dbProcessState: '', clockOffsetMs: 0, faults: [] };
      }
    }),
  );
}

/** Heals every node and checks that nothing is left (no active fault, zero offsets). */
export async function healAndCheck(clients: AgentClient[], timeoutMs = 10_000): Promise<{ problems: string[] }> {
  await healAll(clients);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { problems } = await inspectHeal(clients, false);
    if (problems.length === 0 || Date.now() > deadline) return { problems };
    await sleep(300);
  }
}

function checkGrudge(grudge: Grudge, names: readonly string[]): Grudge {
  for (const [node, from] of Object.entries(grudge)) {
    for (const n of [node, ...from]) if (!names.includes(n)) throw new RangeError(`Cannot apply the grudge: unknown node "${n}"`);
  }
  if (Object.values(grudge).every((v) => v.length === 0)) throw new RangeError('Cannot apply the grudge: it cuts nothing');
  return grudge;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export { AgentClient };
