/**
 * `faultline resume RUN_DIR --finish`: finishes, offline, a run whose controller died. Drains what JetStream and the
 * agents' spools still hold into the run's events.raw.jsonl (the agents resend whatever the controller never
 * confirmed on disk), stops the workloads, heals, collects the DB logs and tears the cluster down, then builds the
 * history and checks it exactly as `run` would have.
 */
import { labAccess } from '../lab/lab-access';
import { readLabState } from '../lab/lab-state';
import { natsConnectOptions, type FleetAccess } from '../rpc/credentials';
import { connect, type NatsConnection } from 'nats';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { UsageError } from '../../core/errors';
import { findWorkload } from '../../core/workloads';
import { CONTROLLER_NODE } from '../controller-events';
import { collectAndTeardown } from '../db-cluster';
import { NodePreconditionError } from '../errors';
import { HistoryCollector, type SequenceGap } from '../history-collector';
import { buildHistoryFile } from '../history-builder';
import { AgentClient, type NodeAddress } from '../rpc/agent-client';
import { RunStore } from '../store';
import type { StoredPlan } from './plan-file';
import { checkRunHistory, type RunVerdict } from './run-check';
import type { RunConfig } from './run-options';
import { controllerAlive, readRunState, RUN_STATE_FILE, type RunState } from './run-state';

export interface FinishOptions {
  /** Use this NATS URL (or cluster list) instead of the one in plan.json. */
  natsUrl?: string;
  /** How long to wait for every event up to each agent's last sequence number. */
  drainTimeoutMs?: number;
}

export interface FinishOutcome {
  verdict: RunVerdict;
  storeDir: string;
  /** Events already in events.raw.jsonl before, and added by the drain. */
  hadEvents: number;
  drainedEvents: number;
}

interface FinishPlan extends StoredPlan {
  nodes: NodeAddress[];
  natsUrl: string;
}

/**
 * Reads and checks the run folder's plan.json: a run folder, not finished, whose controller (named in run-state.json,
 * when there is one) no longer runs. `verb` names the command in the messages. @throws UsageError
 */
export function readFinishPlan(runDir: string, verb: 'finish' | 'resume' = 'finish'): FinishPlan {
  const path = join(runDir, 'plan.json');
  if (!existsSync(path)) throw new UsageError(`Cannot ${verb} "${runDir}": it has no plan.json (is it a run folder?)`);
  if (existsSync(join(runDir, 'results.json'))) throw new UsageError(`Cannot ${verb} "${runDir}": the run is finished already (results.json exists)`);
  let p: FinishPlan;
  try {
    p = JSON.parse(readFileSync(path, 'utf8')) as FinishPlan;
  } catch (err) {
    throw new UsageError(`Cannot ${verb} "${runDir}": plan.json is not JSON: ${(err as Error).message}`);
  }
  if (typeof p.runId !== 'string' || !Array.isArray(p.nodes) || typeof p.natsUrl !== 'string' || typeof p.workload !== 'string' || typeof p.db !== 'string') {
    throw new UsageError(`Cannot ${verb} "${runDir}": plan.json lacks runId, nodes, natsUrl, db or workload`);
  }
  let state: RunState | undefined;
  try {
    state = readRunState(join(runDir, RUN_STATE_FILE));
  } catch {
    state = undefined; // an unreadable run-state.json says nothing about a live controller; resume reports it
  }
  if (state?.controller && controllerAlive(state.controller)) {
    throw new UsageError(`Cannot ${verb} "${runDir}": its controller (pid ${state.controller.pid}) is still running`);
  }
  return p;
}

export async function finishRun(runDir: string, opts: FinishOptions, log: Logger): Promise<FinishOutcome> {
  const plan = readFinishPlan(runDir);
  const workload = findWorkload(plan.workload);
  if (!workload) throw new UsageError(`Cannot finish "${runDir}": unknown workload "${plan.workload}"`);
  const config = { ...plan, nodes: plan.nodeSpec ?? { lab: false, list: plan.nodes } } as RunConfig;
  const store = RunStore.open(resolve(runDir));
  const natsUrl = opts.natsUrl ?? plan.natsUrl;
  // The same credentials the run used: the lab's own CA and NATS users, or the certificates of a node list.
  const access: FleetAccess = config.nodes.lab
    ? labAccess(config.nodes.prefix, opts.natsUrl !== undefined || readLabState(config.nodes.prefix)?.nats.external === true)
    : config.nodes.access;
  const clients = plan.nodes.map((n) => new AgentClient(n, access.security));
  const warn = (node: string, err: unknown) => log.warn({ node, err }, 'finish step failed');
  let nc: NatsConnection | undefined;
  let collector: HistoryCollector | undefined;
  let gaps: SequenceGap[] = [];
  const expected: Record<string, number> = {};
  let hadEvents = 0;
  try {
    try {
      nc = await connect({ servers: natsUrl.split(','), name: 'faultline-finish', maxReconnectAttempts: -1, timeout: 5000, ...natsConnectOptions(access.nats) });
    } catch (err) {
      throw new NodePreconditionError(`Cannot connect to NATS at ${natsUrl}: ${(err as Error).message}`);
    }
    collector = new HistoryCollector(nc, plan.runId, store.path('events.raw.jsonl'), log.child({ component: 'collector' }));
    await collector.start();
    hadEvents = collector.received;
    log.info({ runId: plan.runId, events: hadEvents }, 'finishing run');

    // Each agent stops the run's workload if it still runs and says how far its sequence got; its spool then
    // resends whatever this controller has not confirmed.
    const unreachable: string[] = [];
    const unprovable: string[] = [];
    await Promise.all(
      clients.map(async (c) => {
        try {
          const status = await c.stopWorkload(plan.runId, 30_000);
          const seen = collector!.tracker.maxSeen(c.node.name);
          expected[c.node.name] = Math.max(status.lastSeq, seen);
          if (status.lastSeq < seen) unprovable.push(c.node.name);
        } catch (err) {
          warn(c.node.name, err);
          unreachable.push(c.node.name);
        }
      }),
    );
    // The dead controller published its own events one at a time, each acknowledged before it went on.
    expected[CONTROLLER_NODE] = collector.tracker.maxSeen(CONTROLLER_NODE);
    gaps = await collector.waitFor(expected, opts.drainTimeoutMs ?? 90_000);
    // Without its agent, or with a spool that lost its tail, a node's history cannot be proven complete.
    for (const node of [...unreachable, ...unprovable]) {
      if (!expected[node]) expected[node] = collector.tracker.maxSeen(node);
      gaps.push({ node, from: expected[node] + 1, to: Number.MAX_SAFE_INTEGER });
    }
    await collector.stop();
    await collector.deleteConsumer().catch((err: unknown) => log.warn({ err }, 'could not delete the run\'s consumer'));
  } finally {
    await Promise.all(clients.map((c) => c.heal().catch((err: unknown) => warn(c.node.name, err))));
    await collectAndTeardown(clients, plan.db, store, warn);
    await collector?.stop().catch((err: unknown) => warn('controller', err));
    for (const c of clients) c.close();
    await nc?.drain().catch(() => nc?.close());
  }
  await buildHistoryFile(store.path('events.raw.jsonl'), store.path('history.jsonl'));
  const verdict = await checkRunHistory(store.path('history.jsonl'), gaps, expected, config, workload, store);
  store.writeJson('results.json', verdict);
  return { verdict, storeDir: store.dir, hadEvents, drainedEvents: (collector?.received ?? hadEvents) - hadEvents };
}
