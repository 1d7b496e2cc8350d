import { connect, type NatsConnection } from 'nats';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { AgentSession } from '../rpc/agent-session';
import { ControllerEvents, CONTROLLER_NODE } from '../controller-events';
import { checkInstalled, collectAndTeardown, startCluster } from '../db-cluster';
import { NodePreconditionError } from '../errors';
import { HistoryCollector, type SequenceGap } from '../history-collector';
import { buildHistoryFile } from '../history-builder';
import { labStatus } from '../lab/lab';
import { NemesisSchedule } from '../nemesis/nemesis-schedule';
import { labAccess } from '../lab/lab-access';
import { readLabState } from '../lab/lab-state';
import { AgentClient, type NodeAddress, type WorkloadStart } from '../rpc/agent-client';
import { natsConnectOptions, type FleetAccess } from '../rpc/credentials';
import { findWorkload } from '../../core/workloads';
import { writeRunReport } from '../report/write-report';
import { RunStore } from '../store';
import { Timeline } from '../timeline';
import type { RunProgress } from '../progress/run-progress';
import { runConsumerName } from '../event-stream';
import { checkRunHistory, type RunVerdict } from './run-check';
import { runMainPhase } from './main-phase';
import { LeaseWatchdog } from './lease-watchdog';
import { MainProcessHighWater, workloadStartFor } from './workload-start';
import { currentController, RUN_STATE_FILE, RunStateWriter } from './run-state';
import { RunSummaries } from './run-summary';
import { compareOnline, type OnlineCheck, type OnlineSummary } from '../online/online-check';
import { startOnlineCheck } from './run-online';
import type { RunConfig } from './run-options';

export interface RunOutcome {
  verdict: RunVerdict;
  storeDir: string;
  interrupted: boolean;
}

const LEASE_MS = 10_000;

/**
 * Process ids of the final phase: node i runs it as FINAL_PROCESS_BASE + i, far above the main phase's ids (which
 * grow by the concurrency per retired process), so no id is ever reused.
 */
export const FINAL_PROCESS_BASE = 1_000_000;

/** Waits until every node's phase has run to its end (or `timeoutMs`, or an abort: then the stop cuts it short). */
export async function waitForPhaseEnd(clients: AgentClient[], timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(clients);
  while (pending.size > 0 && Date.now() < deadline && !signal.aborted) {
    await sleep(200, undefined, { signal }).catch(() => undefined);
    for (const c of [...pending]) {
      const s = await c.status(5000).catch(() => undefined);
      if (s?.workload?.state === 'stopped') pending.delete(c);
    }
  }
}

/** Finds the nodes and the NATS URL: from the lab's state, or from the explicit list. */
async function resolveNodes(config: RunConfig): Promise<{ nodes: NodeAddress[]; natsUrl: string; access: FleetAccess }> {
  if (!config.nodes.lab) return { nodes: config.nodes.list, natsUrl: config.natsUrl!, access: config.nodes.access };
  const status = await labStatus(config.nodes.prefix);
  if (status.nodes.length === 0) throw new NodePreconditionError('Cannot run on the lab: it is not up; run "faultline lab up --nodes 5" first');
  const down = status.nodes.find((n) => n.agent.pid === null);
  if (down) throw new NodePreconditionError(`Cannot run on the lab: the agent of ${down.name} is not running; "faultline lab up" restarts it`);
  const natsUrl = config.natsUrl ?? status.nats.url;
  if (!natsUrl) throw new NodePreconditionError('Cannot run on the lab: its NATS server is not running; "faultline lab up" restarts it');
  const access = labAccess(config.nodes.prefix, config.natsUrl !== undefined || readLabState(config.nodes.prefix)?.nats.external === true);
  return { nodes: status.nodes.map((n) => ({ name: n.name, address: n.address, agent: n.agent.address })), natsUrl, access };
}

/**
 * Runs one test end to end: checks the nodes, starts the DB cluster, runs the workload under the nemesis for the
 * time limit, heals, lets the cluster recover, collects a complete history, tears everything down and checks it.
 * When `signal` aborts (Ctrl-C) the main phase ends early and all cleanup still runs; the verdict is then unknown.
 * Cleanup (heal, stop workloads, tear down the DB) runs on every path, including errors.
 */
export async function runTest(config: RunConfig, log: Logger, signal: AbortSignal, progress?: RunProgress): Promise<RunOutcome> {
  const workload = findWorkload(config.workload);
  if (!workload) throw new RangeError(`Cannot run: unknown workload "${config.workload}"`);
  const { nodes, natsUrl, access } = await resolveNodes(config);
  const clients = nodes.map((n) => new AgentClient(n, access.security));
  const runId = `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  const timeline = new Timeline(runId);
  const sessions: AgentSession[] = [];
  let nc: NatsConnection | undefined;
  let collector: HistoryCollector | undefined;
  let summaries: RunSummaries | undefined;
  let online: OnlineCheck | undefined;
  let onlineSummary: OnlineSummary | undefined;
  let nemesis: NemesisSchedule | undefined;
  /** run-state.json: what `faultline resume` needs to take the run over should this controller die. */
  let runState: RunStateWriter | undefined;
  let clusterStarted = false;
  /** Agents that answered; cleanup talks only to these (an unreachable one has nothing of ours to undo). */
  const reached: AgentClient[] = [];
  let collected: { gaps: SequenceGap[]; expected: Record<string, number> } = { gaps: [], expected: {} };
  let store!: RunStore;
  try {
    const hellos = await Promise.all(
      clients.map(async (c) => {
        const h = await c.hello();
        reached.push(c);
        return h;
      }),
    );
    // Every node must have what the nemesis kinds asked for, before anything starts.
    const needs: [string, string, string][] = [
      ['partition', 'iptables', 'partition'],
      ['loss', 'iptables', 'apply packet loss on'],
      ['rate', 'htb', 'rate-limit'],
      ['delay', 'netem', 'delay packets on'],
    ];
    for (const [kind, capability, verb] of needs) {
      if (!(config.nemesis as string[]).includes(kind)) continue;
      const lacking = hellos.find((h) => !h.capabilities.find((c) => c.name === capability)?.available);
      if (lacking) {
        const why = lacking.capabilities.find((c) => c.name === capability)?.detail || `${capability} missing`;
        throw new NodePreconditionError(`Cannot ${verb} node "${lacking.node}" (--nemesis ${kind}): ${why}`);
      }
    }
    await checkInstalled(clients, config.db);
    try {
      nc = await connect({ servers: natsUrl.split(','), name: 'faultline-controller', maxReconnectAttempts: -1, timeout: 5000, ...natsConnectOptions(access.nats) });
    } catch (err) {
      throw new NodePreconditionError(`Cannot connect to NATS at ${natsUrl}: ${(err as Error).message}`);
    }
    // Every precondition holds: only now is the run announced (progress 'setting up').
    progress?.setPhase('setting up');
    for (const c of clients) {
      const s = new AgentSession(c, timeline, log.child({ component: 'session', node: c.node.name }), LEASE_MS);
      sessions.push(s);
      await s.open();
    }
    store = new RunStore(config.storeDir, config.testName, new Date());
    store.writeJson('plan.json', { runId, ...config, nodeSpec: config.nodes, nodes: nodes, natsUrl });
    online = startOnlineCheck({ config, workload, runId, nodes: nodes.map((n) => n.name), timeline, runDir: store.dir, nc, log, progress });
    const feed = online;
    for (const s of sessions) s.onProgress = (p) => feed.progress(s.client.node.name, p.lastSeq, p.timeNanos, p.uncertaintyNanos);
    const ids = new MainProcessHighWater(FINAL_PROCESS_BASE);
    collector = new HistoryCollector(nc, runId, store.path('events.raw.jsonl'), log.child({ component: 'collector' }), {
      onEvent: (ev) => {
        feed.take(ev);
        ids.seen(ev);
      },
    });
    await collector.start();
    runState = new RunStateWriter(store.path(RUN_STATE_FILE), {
      runId,
      controller: currentController(),
      previousControllers: [],
      timelineOriginMonoNanos: timeline.originMonoNanos,
      consumer: runConsumerName(runId),
      leaseMs: LEASE_MS,
      phase: 'setting up',
    });
    summaries = new RunSummaries(collector, store.path('summaries.jsonl'), log.child({ component: 'summary' }), config.summaryIntervalMs, online);
    summaries.start();
    const counts = collector.counts;
    progress?.attach({
      counts: () => counts,
      nodes: () => ({ reachable: sessions.filter((s) => Date.now() - s.lastHeardAt < 12_000).length, total: clients.length }),
    });
    const events = new ControllerEvents(nc, runId, timeline);
    log.info({ runId, store: store.dir }, 'run starting');

    clusterStarted = true;
    await startCluster(clients, config.db, runId, config.dbOptions);
    log.info('cluster ready');

    const workloadStart = (i: number, phase: 'main' | 'final', processes: number[], epoch = 0): WorkloadStart => workloadStartFor(config, runId, i, phase, processes, epoch);
    const mainProcesses = clients.map((_, i) => [...Array(config.concurrency).keys()].filter((p) => p % clients.length === i));
    const runningProcesses = Object.fromEntries(clients.map((c, i) => [c.node.name, mainProcesses[i]!]));
    const stateNow = runState;
    const watchdog = new LeaseWatchdog({
      clients, collector, events, concurrency: config.concurrency, mainProcesses, ids, log: log.child({ component: 'watchdog' }),
      start: async (i, processes, epoch) => {
        await clients[i]!.startWorkload(workloadStart(i, 'main', processes, epoch));
      },
      restarted: (node, processes, epoch) => {
        runningProcesses[node] = processes;
        stateNow.update({ workload: { phase: 'main', epoch, processes: { ...runningProcesses } } });
      },
    });
    await Promise.all(clients.map((c, i) => c.startWorkload(workloadStart(i, 'main', mainProcesses[i]!))));
    runState.update({ workload: { phase: 'main', epoch: 0, processes: { ...runningProcesses } } });

    if (config.nemesis.length > 0) {
      nemesis = new NemesisSchedule(
        clients,
        events,
        {
          kinds: config.nemesis,
          db: config.db,
          seed: config.seed,
          partitionShape: config.partitionShape,
          partitionTarget: config.partitionTarget,
          nemesisTarget: config.nemesisTarget,
          clockStrategy: config.clockStrategy,
          maxFaultDurationMs: config.nemesisIntervalMs * 3,
          lossProbability: 0.3,
        },
        log.child({ component: 'nemesis' }),
      );
    }
    progress?.setPhase('running');
    const mainStart = timeline.now();
    const schedule = { startNanos: mainStart, endNanos: mainStart + config.timeLimitMs * 1e6, intervalMs: config.nemesisIntervalMs, nextStep: 0, faulted: false };
    runState.update({ phase: 'running', main: schedule, ...(nemesis ? { nemesis: nemesis.snapshot() } : {}) });
    const state = runState;
    const dog = watchdog;
    await runMainPhase(schedule, timeline, nemesis, log, signal, progress, {
      beforeStep: (step, action) => state.update({ nemesisInFlight: { action, step } }),
      afterStep: (main) => state.update({ main, ...(nemesis ? { nemesis: nemesis.snapshot() } : {}) }, ['nemesisInFlight']),
      watch: () => dog.check(),
      watchEveryMs: 2000,
    });
    // Final phase: heal everything and verify it took before recovery and final reads.
    progress?.setPhase('healing');
    runState.update({ phase: 'healing', nemesisInFlight: { action: 'heal', step: -1 } });
    if (nemesis) {
      const check = await nemesis.healAndVerify(30_000, signal);
      if (!check.healed) log.error({ problems: check.problems }, 'heal not verified');
    }
    progress?.setFaults([]);
    progress?.setPhase('recovering');
    runState.update({ phase: 'recovering', ...(nemesis ? { nemesis: nemesis.snapshot() } : {}) }, ['nemesisInFlight']);
    if (!signal.aborted && config.recoveryMs > 0) {
      log.info({ ms: config.recoveryMs }, 'healed; letting the cluster recover');
      await sleep(config.recoveryMs, undefined, { signal }).catch(() => undefined);
    }

    if (workload.finalGenerator && !signal.aborted) {
      // The final phase (e.g. final reads of every key on every node): the main workload stops first, then one
      // process per node runs the workload's final generator to its end.
      await Promise.all(clients.map(async (c) => online?.quiet(c.node.name, (await c.stopWorkload(runId)).lastSeq, timeline.now())));
      log.info('final phase');
      runState.update({ phase: 'final', workload: { phase: 'final', epoch: 0, processes: Object.fromEntries(clients.map((c, i) => [c.node.name, [FINAL_PROCESS_BASE + i]])) } });
      await Promise.all(clients.map((c, i) => c.startWorkload(workloadStart(i, 'final', [FINAL_PROCESS_BASE + i]))));
      await waitForPhaseEnd(clients, config.opTimeoutMs * 25 + 10_000, signal);
    }
    progress?.setPhase('collecting');
    runState.update({ phase: 'collecting' });
    const stopped = await Promise.all(clients.map(async (c) => ({ node: c.node.name, status: await c.stopWorkload(runId) })));
    const expected: Record<string, number> = { [CONTROLLER_NODE]: events.lastSeq };
    const unprovable: string[] = [];
    for (const s of stopped) {
      // An agent that restarted mid-run reports the last sequence number its spool holds. If that is less than what
      // already arrived, its spool was lost and the end of its history cannot be proven complete.
      const seen = collector.tracker.maxSeen(s.node);
      expected[s.node] = Math.max(s.status.lastSeq, seen);
      if (s.status.state !== 'stopped' && s.status.lastSeq < seen) unprovable.push(s.node);
    }
    const gaps = await collector.waitFor(expected, 30_000);
    // Every event is in: online checking judges what only the complete history proves (final reads), then stops.
    if (online.active && gaps.length === 0 && !signal.aborted) onlineSummary = await online.finish();
    summaries.stop();
    for (const node of unprovable) gaps.push({ node, from: expected[node]! + 1, to: Number.MAX_SAFE_INTEGER });
    await collector.stop();
    log.info({ longestStallMs: collector.longestStallMs, duplicates: collector.duplicates, recreated: collector.recreated }, 'event pipeline');
    await collector.deleteConsumer().catch((err: unknown) => log.warn({ err }, 'could not delete the run\'s consumer'));
    collector = undefined;

    await buildHistoryFile(store.path('events.raw.jsonl'), store.path('history.jsonl'));
    collected = { gaps, expected };
  } finally {
    await cleanup();
  }
  progress?.setPhase('checking');
  // Checking can take minutes of CPU: it runs after the cluster is gone and every session is closed, so that
  // no lease or keepalive depends on an event loop busy with the search.
  const verdict = signal.aborted
    ? interruptedVerdict(collected.gaps)
    : await checkRunHistory(store.path('history.jsonl'), collected.gaps, collected.expected, config, workload, store, sessions.flatMap((s) => s.clockViolations));
  if (onlineSummary) verdict.online = { ...onlineSummary, ...compareOnline(onlineSummary, verdict.checks) };
  store.writeJson('results.json', verdict);
  runState?.update({ phase: 'done' });
  // The report is for people; a failure to draw it must not turn a verdict into an error.
  await writeRunReport(store.dir).catch((err: unknown) => log.error({ err }, 'could not write report.html'));
  progress?.setPhase('done');
  return { verdict, storeDir: store.dir, interrupted: signal.aborted };

  async function cleanup(): Promise<void> {
    const warn = (node: string, err: unknown) => log.warn({ node, err }, 'cleanup step failed');
    await Promise.all(reached.map((c) => c.stopWorkload(runId, 30_000).catch((err: unknown) => warn(c.node.name, err))));
    const healed = new Set<string>();
    await Promise.all(reached.map((c) => c.heal().then(() => healed.add(c.node.name), (err: unknown) => warn(c.node.name, err))));
    if (clusterStarted) await collectAndTeardown(reached, config.db, store, warn);
    // Agents whose heal went through are released from the lease; the others keep it and heal on their own.
    await Promise.all(sessions.map((s) => s.close(healed.has(s.client.node.name))));
    summaries?.stop(); // a run that failed early still says how far it got
    await online?.stop().catch((err: unknown) => warn('controller', err));
    await collector?.stop().catch((err: unknown) => warn('controller', err));
    for (const c of clients) c.close();
    await nc?.drain().catch(() => nc?.close());
  }
}

export function interruptedVerdict(gaps: SequenceGap[]): RunVerdict {
  return { valid: 'unknown', reason: 'run interrupted before the time limit; history saved but not checked', gaps, checks: {} };
}
