/**
 * Verifies that a heal took effect instead of trusting it: every agent reports no active fault, a zero clock
 * offset, and a running DB process that is not stopped (`T` in /proc); and every node can open a TCP connection
 * to every other node's DB peer port. Retried until a deadline, since a restarted member needs a moment to listen.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentClient } from '../rpc/agent-client';
import { stateReport } from './fault-actions';

export interface HealCheck {
  healed: boolean;
  /** What is still wrong, one line per problem; empty when healed. */
  problems: string[];
  /** node -> clock offset, for the nemesis event. */
  offsets: Record<string, number>;
  attempts: number;
}

/** One look at the cluster: the problems found now. `expectDb` also requires a running, unstopped DB process. */
export async function inspectHeal(clients: readonly AgentClient[], expectDb: boolean, probeTimeoutMs = 1000): Promise<{ problems: string[]; offsets: Record<string, number> }> {
  const problems: string[] = [];
  const offsets: Record<string, number> = {};
  const statuses = new Map(await Promise.all(clients.map(async (c) => [c, await c.status().catch(() => undefined)] as const)));
  const serverless = new Map([...statuses].map(([c, st]) => [c, st !== undefined && stateReport(st.faults).dbProcessState === 'none'] as const));
  await Promise.all(
    clients.map(async (c) => {
      const name = c.node.name;
      try {
        const s = stateReport((await c.status()).faults);
        offsets[name] = s.clockOffsetMs;
        if (s.faults.length > 0) problems.push(`${name}: still active: ${s.faults.map((f) => f.kind).join(', ')}`);
        if (s.clockOffsetMs !== 0) problems.push(`${name}: clock offset ${s.clockOffsetMs} ms`);
        // A node that runs no DB server by design ('none': clients only) has no process or peer port to check.
        const serves = (o: AgentClient) => serverless.get(o) !== true;
        if (expectDb && !serves(c)) return;
        if (expectDb && s.dbPid === 0) problems.push(`${name}: ${s.db || 'DB'} is not running`);
        if (expectDb && /^[Tt]$/.test(s.dbProcessState)) problems.push(`${name}: ${s.db} (pid ${s.dbPid}) is stopped (state ${s.dbProcessState})`);
        const peers = clients.filter((o) => o !== c && serves(o)).map((o) => o.node.address);
        if (expectDb && peers.length > 0) {
          const probe = await c.probe(peers, 0, probeTimeoutMs);
          for (const r of probe.results) {
            if (!r.ok) problems.push(`${name} cannot reach ${clients.find((o) => o.node.address === r.host)?.node.name ?? r.host}:${probe.port} (${r.error})`);
          }
        }
      } catch (err) {
        problems.push(`${name}: ${(err as Error).message}`);
      }
    }),
  );
  return { problems: problems.sort(), offsets };
}

/** Inspects until healed or `timeoutMs` passes. Never throws for an unhealed cluster: the caller records it. */
export async function verifyHeal(clients: readonly AgentClient[], opts: { expectDb: boolean; timeoutMs: number; signal?: AbortSignal }): Promise<HealCheck> {
  const deadline = Date.now() + opts.timeoutMs;
  for (let attempts = 1; ; attempts++) {
    const { problems, offsets } = await inspectHeal(clients, opts.expectDb);
    if (problems.length === 0) return { healed: true, problems, offsets, attempts };
    if (Date.now() >= deadline || opts.signal?.aborted) return { healed: false, problems, offsets, attempts };
    await sleep(500);
  }
}
