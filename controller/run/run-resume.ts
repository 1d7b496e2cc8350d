/**
 * `faultline resume RUN_DIR`: a new controller takes over a run whose controller died (SIGKILL, a crash) and
 * continues it to its original end. From run-state.json it knows the run's timeline, consumer, lease, schedule and
 * nemesis state. It reattaches to the agents first (a session renews each agent's lease: within the lease, the
 * faults in force and the workloads go on untouched; after it, the agents healed and stopped on their own, and the
 * run accepts that and restarts their workloads under fresh process ids), then to the run's durable consumer
 * (taken over at its acknowledgement floor, appending to events.raw.jsonl without duplicates or gaps) and to the
 * schedule (the step due next on the same timeline; past the end, the run ends at once). The recovery is a nemesis
 * event `resume` in the history: what was reattached, each node's lease, what the agents healed meanwhile.
 * Online checking goes on as in `run`, fed the events already on disk before the live ones.
 * A run that had reached its collection is finished as `resume --finish` finishes it.
 */
import { connect, type NatsConnection } from 'nats';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { UsageError } from '../../core/errors';
import { findWorkload } from '../../core/workloads';
import { ControllerEvents, CONTROLLER_NODE } from '../controller-events';
import { collectAndTeardown } from '../db-cluster';
import { NodePreconditionError } from '../errors';
import { ensureEventStream } from '../event-stream';
import { HistoryCollector, type SequenceGap } from '../history-collector';
import { buildHistoryFile } from '../history-builder';
import { labAccess } from '../lab/lab-access';
import { readLabState } from '../lab/lab-state';
import { healAll } from '../nemesis/fault-actions';
import { NemesisSchedule } from '../nemesis/nemesis-schedule';
import { compareOnline, type OnlineCheck, type OnlineSummary } from '../online/online-check';
import type { RunProgress } from '../progress/run-progress';
import { writeRunReport } from '../report/write-report';
import { AgentClient, type StatusResponse } from '../rpc/agent-client';
import { AgentSession } from '../rpc/agent-session';
import { natsConnectOptions, type FleetAccess } from '../rpc/credentials';
import { RunStore } from '../store';
import { Timeline } from '../timeline';
import { lastControllerEvent, takeOverConsumer, type ConsumerTakeover } from './consumer-rewind';
import { nextStepAfter, runMainPhase, type MainPhaseSchedule } from './main-phase';
import { checkRunHistory } from './run-check';
import { finishRun, readFinishPlan } from './run-finish';
import type { RunConfig } from './run-options';
import { bootId, controllerAlive, currentController, readRunState, RUN_STATE_FILE, RunStateWriter, type RunState } from './run-state';
import { startOnlineCheck } from './run-online';
import { LeaseWatchdog } from './lease-watchdog';
import { MainProcessHighWater, workloadStartFor } from './workload-start';
import { RunSummaries } from './run-summary';
import { FINAL_PROCESS_BASE, interruptedVerdict, waitForPhaseEnd, type RunOutcome } from './run-test';

/** What the new controller found and did, as recorded in the `resume` nemesis event. */
export interface Recovery {
  previousController: { pid: number; lastUpdateMs: number };
  /** From the dead controller's last record in run-state.json to this controller's sessions being open. */
  downMs: number;
  phase: RunState['phase'];
  reattached: string[];
  unreachable: string[];
  /** Per node: 'taken back' (the faults and the workload went on) or 'lapsed' (the agent healed and stopped). */
  leases: Record<string, 'taken back' | 'lapsed'>;
  /** Per node, the faults of the run that the agent healed on its own while no controller held its lease. */
  healedByAgents: Record<string, string[]>;
  /** Per node, the faults found in force. */
  faultsInForce: Record<string, string[]>;
  /** A nemesis action the dead controller had begun and not finished: healed, and completed as `info`. */
  interruptedAction?: { action: 'start' | 'stop' | 'heal'; f?: string };
  /** Per node, the processes its restarted workload runs (a lapsed lease stopped the old one). */
  workloadsRestarted: Record<string, number[]>;
  consumer: ConsumerTakeover;
  /** Events on disk when this controller started, and the controller events' sequence number it continues from. */
  eventsOnDisk: number;
  controllerSeq: number;
  /** Main-phase steps whose time passed while no controller ran (skipped, not replayed). */
  missedSteps: number;
}

export interface ResumeOutcome extends RunOutcome {
  recovery?: Recovery;
  /** The run had reached its collection and was finished as `resume --finish` does. */
  finished?: boolean;
}

export interface ResumeOptions {
  natsUrl?: string;
}

/**
 * Checks that the run folder can be resumed here and now. @throws UsageError (one line each: finished, no
 * run-state.json, its controller alive, another machine or boot, died while setting up).
 */
export function readResumable(runDir: string): { plan: ReturnType<typeof readFinishPlan>; saved: RunState } {
  const plan = readFinishPlan(runDir, 'resume');
  let saved: RunState | undefined;
  try {
    saved = readRunState(join(runDir, RUN_STATE_FILE));
  } catch (err) {
    throw new UsageError(`Cannot resume "${runDir}": ${RUN_STATE_FILE} is not JSON: ${(err as Error).message}`);
  }
  const finish = `"faultline resume ${runDir} --finish" finishes it`;
  if (!saved || saved.version !== 1) throw new UsageError(`Cannot resume "${runDir}": it has no ${RUN_STATE_FILE} (an older faultline made it); ${finish}`);
  if (saved.phase === 'done') throw new UsageError(`Cannot resume "${runDir}": the run is finished already`);
  if (controllerAlive(saved.controller)) throw new UsageError(`Cannot resume "${runDir}": its controller (pid ${saved.controller.pid}) is still running`);
  if (saved.controller.bootId === '' || saved.controller.bootId !== bootId() || saved.controller.host !== hostname()) {
    throw new UsageError(`Cannot resume "${runDir}": its controller ran on ${saved.controller.host} in another boot, so its timeline cannot be continued here; ${finish}`);
  }
  if (saved.phase === 'setting up') throw new UsageError(`Cannot resume "${runDir}": its controller died while setting up the cluster; ${finish}`);
  return { plan, saved };
}

/**
 * Takes the run in `runDir` over and runs it to its end, as `runTest` would have: the rest of the main phase, heal,
 * recovery, final phase, collection, teardown, check. @throws UsageError when the folder cannot be resumed.
 */
export async function resumeRun(runDir: string, opts: ResumeOptions, log: Logger, signal: AbortSignal, progress?: RunProgress): Promise<ResumeOutcome> {
  const dir = resolve(runDir);
  const { plan, saved } = readResumable(runDir);
  const workload = findWorkload(plan.workload);
  if (!workload) throw new UsageError(`Cannot resume "${runDir}": unknown workload "${plan.workload}"`);
  if (saved.phase === 'collecting' || saved.phase === 'checking') {
    log.info({ phase: saved.phase }, 'the run had reached its collection: finishing it');
    const done = await finishRun(dir, opts.natsUrl !== undefined ? { natsUrl: opts.natsUrl } : {}, log);
    return { verdict: done.verdict, storeDir: done.storeDir, interrupted: false, finished: true };
  }
  const config = { ...plan, nodes: plan.nodeSpec ?? { lab: false, list: plan.nodes } } as RunConfig;
  const runId = plan.runId;
  const store = RunStore.open(dir);
  const timeline = new Timeline(runId, saved.timelineOriginMonoNanos);
  const natsUrl = opts.natsUrl ?? plan.natsUrl;
  const access: FleetAccess = config.nodes.lab
    ? labAccess(config.nodes.prefix, opts.natsUrl !== undefined || readLabState(config.nodes.prefix)?.nats.external === true)
    : config.nodes.access;
  const clients = plan.nodes.map((n) => new AgentClient(n, access.security));
  // This controller is the run's now: a second `resume` sees it alive.
  const state = new RunStateWriter(join(dir, RUN_STATE_FILE), { ...saved, controller: currentController(), previousControllers: [...saved.previousControllers, saved.controller] });
  const sessions: AgentSession[] = [];
  const reached: AgentClient[] = [];
  const unreachable: string[] = [];
  let nc: NatsConnection | undefined;
  let collector: HistoryCollector | undefined;
  let summaries: RunSummaries | undefined;
  let online: OnlineCheck | undefined;
  let onlineSummary: OnlineSummary | undefined;
  let collected: { gaps: SequenceGap[]; expected: Record<string, number> } = { gaps: [], expected: {} };
  let recovery: Recovery | undefined;
  const warn = (node: string, err: unknown) => log.warn({ node, err }, 'resume step failed');
  try {
    // 1. The agents, first and at once: a session renews the lease before it lapses, if it has not yet.
    await Promise.all(
      clients.map(async (c) => {
        const s = new AgentSession(c, timeline, log.child({ component: 'session', node: c.node.name }), saved.leaseMs);
        try {
          await s.open();
          sessions.push(s);
          reached.push(c);
        } catch (err) {
          await s.close();
          warn(c.node.name, err);
          unreachable.push(c.node.name);
        }
      }),
    );
    const byNodeOrder = (a: AgentClient, b: AgentClient) => clients.indexOf(a) - clients.indexOf(b);
    reached.sort(byNodeOrder);
    unreachable.sort((a, b) => plan.nodes.findIndex((n) => n.name === a) - plan.nodes.findIndex((n) => n.name === b));
    const downMs = Date.now() - saved.updatedAtMs;
    log.info({ reattached: reached.map((c) => c.node.name), unreachable, downMs }, 'agents reattached');
    progress?.setPhase('setting up');
    const statuses = new Map<string, StatusResponse>();
    await Promise.all(
      [...reached].map(async (c) => {
        const s = await c.status(5000).catch(() => c.status(5000)).catch((err: unknown) => {
          warn(c.node.name, err);
          return undefined;
        });
        if (s) return statuses.set(c.node.name, s);
        // An agent that opened a session but cannot say what it runs is of no use to the run: as if unreachable.
        reached.splice(reached.indexOf(c), 1);
        unreachable.push(c.node.name);
        return undefined;
      }),
    );

    // 2. The event stream: the consumer taken over at its acknowledgement floor, the raw file appended to.
    try {
      nc = await connect({ servers: natsUrl.split(','), name: 'faultline-resume', maxReconnectAttempts: -1, timeout: 5000, ...natsConnectOptions(access.nats) });
    } catch (err) {
      throw new NodePreconditionError(`Cannot connect to NATS at ${natsUrl}: ${(err as Error).message}`);
    }
    const jsm = await ensureEventStream(nc, log);
    const consumer = await takeOverConsumer(jsm, saved.consumer, runId);
    // Online checking as `run` does it, fed first the events already on disk; its lag counts from now on.
    online = startOnlineCheck({ config, workload, runId, nodes: plan.nodes.map((n) => n.name), timeline, runDir: store.dir, nc, log, progress, lagFromNanos: timeline.now() });
    const feed = online;
    for (const s of sessions) s.onProgress = (p) => feed.progress(s.client.node.name, p.lastSeq, p.timeNanos, p.uncertaintyNanos);
    // The highest main-phase process id, of the events already on disk too: restarted workloads get ids above it.
    const ids = new MainProcessHighWater(FINAL_PROCESS_BASE);
    collector = new HistoryCollector(nc, runId, store.path('events.raw.jsonl'), log.child({ component: 'collector' }), {
      onEvent: (ev) => {
        feed.take(ev);
        ids.seen(ev);
      },
    });
    await collector.start();
    const eventsOnDisk = collector.received;
    summaries = new RunSummaries(collector, store.path('summaries.jsonl'), log.child({ component: 'summary' }), config.summaryIntervalMs, online);
    summaries.start();
    const counts = collector.counts;
    progress?.attach({
      counts: () => counts,
      nodes: () => ({ reachable: sessions.filter((s) => Date.now() - s.lastHeardAt < 12_000).length, total: clients.length }),
    });
    const lastCtl = await lastControllerEvent(jsm, runId);
    const controllerSeq = Math.max(Number(lastCtl?.seq ?? 0), collector.tracker.maxSeen(CONTROLLER_NODE));
    const events = new ControllerEvents(nc, runId, timeline, controllerSeq);

    // 3. What the agents did meanwhile.
    const activeId = saved.nemesis?.active?.id;
    const leases: Recovery['leases'] = {};
    const healedByAgents: Recovery['healedByAgents'] = {};
    const faultsInForce: Recovery['faultsInForce'] = {};
    const activeSomewhere = activeId !== undefined && [...statuses.values()].some((s) => s.activeFaults.includes(activeId));
    for (const c of reached) {
      const s = statuses.get(c.node.name)!;
      faultsInForce[c.node.name] = s.activeFaults;
      const workloadStopped = saved.phase === 'running' && s.workload?.state !== 'running';
      const healed = activeId !== undefined && !activeSomewhere ? [activeId] : [];
      if (healed.length > 0) healedByAgents[c.node.name] = healed;
      leases[c.node.name] = workloadStopped || healed.length > 0 ? 'lapsed' : 'taken back';
    }

    // 4. The workloads a lapsed lease stopped start again, under process ids no one used (their values are
    // unique by process id), chosen once every event of the stopped ones is on disk.
    const workloadsRestarted: Recovery['workloadsRestarted'] = {};
    const epoch = (saved.workload?.epoch ?? 0) + 1;
    const toRestart = saved.phase === 'running' ? reached.filter((c) => statuses.get(c.node.name)!.workload?.state !== 'running') : [];
    if (toRestart.length > 0) {
      const stoppedAt = Object.fromEntries(toRestart.map((c) => [c.node.name, Number(statuses.get(c.node.name)!.workload?.lastSeq ?? 0)]));
      const missing = await collector.waitFor(stoppedAt, 20_000);
      // Events still missing may hold higher ids: leave room for one retirement per missing event.
      const room = missing.reduce((n, g) => n + (g.to - g.from + 1), 0);
      const shift = (Math.floor((ids.max + room * config.concurrency) / config.concurrency) + 1) * config.concurrency;
      const processes = { ...(saved.workload?.processes ?? {}) };
      for (const c of toRestart) processes[c.node.name] = workloadsRestarted[c.node.name] = (saved.workload?.processes[c.node.name] ?? []).map((p) => p + shift);
      state.update({ workload: { phase: 'main', epoch, processes } });
    }
    // Started once the resume event is in the history, so that their operations follow it.
    const restartWorkloads = async (): Promise<void> => {
      await Promise.all(toRestart.map((c) => c.startWorkload(workloadStartFor(config, runId, clients.indexOf(c), 'main', workloadsRestarted[c.node.name]!, epoch))));
      if (toRestart.length > 0) log.info({ workloadsRestarted }, 'workloads restarted');
    };

    // 5. The nemesis, where the dead controller left it.
    const nemesis = config.nemesis.length > 0
      ? new NemesisSchedule(clients, events, {
          kinds: config.nemesis,
          db: config.db,
          seed: config.seed,
          partitionShape: config.partitionShape,
          partitionTarget: config.partitionTarget,
          nemesisTarget: config.nemesisTarget,
          clockStrategy: config.clockStrategy,
          maxFaultDurationMs: config.nemesisIntervalMs * 3,
          lossProbability: 0.3,
        }, log.child({ component: 'nemesis' }))
      : undefined;
    if (nemesis && saved.nemesis) nemesis.restore(saved.nemesis);
    const inFlight = saved.nemesisInFlight;
    const openAction = lastCtl && lastCtl.type === 'invoke' ? lastCtl.f : undefined;
    const missedSteps = saved.main ? Math.max(0, nextStepAfter(saved.main, timeline.now()) - saved.main.nextStep) : 0;
    recovery = {
      previousController: { pid: saved.controller.pid, lastUpdateMs: saved.updatedAtMs },
      downMs,
      phase: saved.phase,
      reattached: reached.map((c) => c.node.name),
      unreachable,
      leases,
      healedByAgents,
      faultsInForce,
      ...(inFlight || openAction ? { interruptedAction: { action: inFlight?.action ?? 'start', ...(openAction ? { f: openAction } : {}) } } : {}),
      workloadsRestarted,
      consumer,
      eventsOnDisk,
      controllerSeq,
      missedSteps,
    };
    // The dead controller's open action gets its completion: it may or may not have taken effect.
    if (openAction) await events.nemesis('info', openAction, lastCtl?.valueJson ? JSON.parse(lastCtl.valueJson) : null, 'the controller died during this action; the resumed run healed it');
    await events.nemesis('invoke', 'resume', null);
    await events.nemesis('ok', 'resume', recovery);
    log.info({ recovery }, 'run resumed');
    await restartWorkloads();
    if (nemesis) {
      const kind = saved.nemesis?.active?.kind;
      const lastF = lastCtl?.f ?? '';
      if (inFlight?.action === 'start') {
        // A fault being started: maybe half applied, maybe applied and never recorded here. Heal it; if its start
        // is in the history, close its window.
        const started = lastF.startsWith('start-') ? lastF.slice('start-'.length) : undefined;
        if (started !== undefined) await events.nemesis('invoke', `stop-${started}`, null);
        const healed = await healAll(reached).then(() => '', (err: unknown) => (err as Error).message);
        if (started !== undefined) {
          if (healed === '') await events.nemesis('ok', `stop-${started}`, 'healed by the resumed run');
          else await events.nemesis('info', `stop-${started}`, null, healed);
        }
        nemesis.forgetActive();
        nemesis.skipInterrupted();
      } else if (inFlight?.action === 'stop') {
        await healAll(reached).catch((err: unknown) => warn('controller', err));
        nemesis.forgetActive();
      } else if (kind !== undefined && activeId !== undefined && !activeSomewhere) {
        // The agents healed it when the lease lapsed (or at its maximum duration), at a time no one recorded.
        await events.nemesis('invoke', `stop-${kind}`, null);
        await events.nemesis('info', `stop-${kind}`, { healedByAgents }, 'healed by the agents on their own while no controller held their lease; the time of the heal is not known');
        nemesis.forgetActive();
      }
    }
    state.update({ ...(nemesis ? { nemesis: nemesis.snapshot() } : {}) }, ['nemesisInFlight']);

    // 6. The rest of the run, as `run` does it, with its watchdog for leases that lapse while this controller runs.
    let phase = saved.phase;
    if (phase === 'running' && saved.main) {
      const running = { ...(state.state.workload?.processes ?? {}) };
      const dog = new LeaseWatchdog({
        clients,
        collector,
        events,
        concurrency: config.concurrency,
        mainProcesses: clients.map((c) => running[c.node.name] ?? []),
        ids,
        firstEpoch: (state.state.workload?.epoch ?? 0) + 1,
        start: (i, processes, epoch) => clients[i]!.startWorkload(workloadStartFor(config, runId, i, 'main', processes, epoch)).then(() => undefined),
        restarted: (node, processes, epoch) => {
          running[node] = processes;
          state.update({ workload: { phase: 'main', epoch, processes: { ...running } } });
        },
        log: log.child({ component: 'watchdog' }),
      });
      progress?.setPhase('running', Date.now() - (timeline.now() - saved.main.startNanos) / 1e6);
      const nextStep = nextStepAfter(saved.main, timeline.now());
      // The schedule alternates: even steps start a fault, odd steps heal it.
      if (nemesis && nemesis.active !== undefined && nextStep % 2 === 0) await nemesis.stop(); // a heal whose time passed
      const schedule: MainPhaseSchedule = { ...saved.main, nextStep, faulted: nextStep % 2 === 1 };
      state.update({ main: schedule, ...(nemesis ? { nemesis: nemesis.snapshot() } : {}) });
      await runMainPhase(schedule, timeline, nemesis, log, signal, progress, {
        beforeStep: (step, action) => state.update({ nemesisInFlight: { action, step } }),
        afterStep: (main) => state.update({ main, ...(nemesis ? { nemesis: nemesis.snapshot() } : {}) }, ['nemesisInFlight']),
        watch: () => dog.check(),
        watchEveryMs: 2000,
      });
      phase = 'healing';
    }
    if (phase === 'healing') {
      progress?.setPhase('healing');
      state.update({ phase: 'healing', nemesisInFlight: { action: 'heal', step: -1 } });
      if (nemesis) {
        const check = await nemesis.healAndVerify(30_000, signal);
        if (!check.healed) log.error({ problems: check.problems }, 'heal not verified');
      }
      progress?.setFaults([]);
      phase = 'recovering';
      state.update({ phase, ...(nemesis ? { nemesis: nemesis.snapshot() } : {}) }, ['nemesisInFlight']);
      progress?.setPhase('recovering');
      if (!signal.aborted && config.recoveryMs > 0) await sleep(config.recoveryMs, undefined, { signal }).catch(() => undefined);
    }
    if (phase === 'recovering' && workload.finalGenerator && !signal.aborted) {
      await Promise.all(reached.map(async (c) => online?.quiet(c.node.name, Number((await c.stopWorkload(runId)).lastSeq), timeline.now())));
      log.info('final phase');
      const processes = Object.fromEntries(clients.map((c, i) => [c.node.name, [FINAL_PROCESS_BASE + i]]));
      state.update({ phase: 'final', workload: { phase: 'final', epoch: 0, processes } });
      await Promise.all(reached.map((c) => c.startWorkload(workloadStartFor(config, runId, clients.indexOf(c), 'final', processes[c.node.name]!, 0))));
      phase = 'final';
    }
    // A final phase the dead controller had started goes on (or ended) on the agents: wait for its end.
    if (phase === 'final') await waitForPhaseEnd(reached, config.opTimeoutMs * 25 + 10_000, signal);

    progress?.setPhase('collecting');
    state.update({ phase: 'collecting' });
    const expected: Record<string, number> = { [CONTROLLER_NODE]: events.lastSeq };
    const unprovable = [...unreachable];
    await Promise.all(
      reached.map(async (c) => {
        const s = await c.stopWorkload(runId);
        const seen = collector!.tracker.maxSeen(c.node.name);
        expected[c.node.name] = Math.max(Number(s.lastSeq), seen);
        if (s.state !== 'stopped' && Number(s.lastSeq) < seen) unprovable.push(c.node.name);
      }),
    );
    const gaps = await collector.waitFor(expected, 30_000);
    // Every event is in: online checking judges what only the complete history proves (final reads), then stops.
    if (online.active && gaps.length === 0 && unprovable.length === 0 && !signal.aborted) onlineSummary = await online.finish();
    summaries.stop();
    for (const node of unprovable) {
      expected[node] ??= collector.tracker.maxSeen(node);
      gaps.push({ node, from: expected[node] + 1, to: Number.MAX_SAFE_INTEGER });
    }
    await collector.stop();
    log.info({ longestStallMs: collector.longestStallMs, duplicates: collector.duplicates, recreated: collector.recreated }, 'event pipeline');
    await collector.deleteConsumer().catch((err: unknown) => log.warn({ err }, 'could not delete the run\'s consumer'));
    collector = undefined;
    await buildHistoryFile(store.path('events.raw.jsonl'), store.path('history.jsonl'));
    collected = { gaps, expected };
  } finally {
    await Promise.all(reached.map((c) => c.stopWorkload(runId, 30_000).catch((err: unknown) => warn(c.node.name, err))));
    const healed = new Set<string>();
    await Promise.all(reached.map((c) => c.heal().then(() => healed.add(c.node.name), (err: unknown) => warn(c.node.name, err))));
    await collectAndTeardown(reached, config.db, store, warn);
    await Promise.all(sessions.map((s) => s.close(healed.has(s.client.node.name))));
    summaries?.stop();
    await online?.stop().catch((err: unknown) => warn('controller', err));
    await collector?.stop().catch((err: unknown) => warn('controller', err));
    for (const c of clients) c.close();
    await nc?.drain().catch(() => nc?.close());
  }
  progress?.setPhase('checking');
  state.update({ phase: 'checking' });
  const verdict = signal.aborted
    ? interruptedVerdict(collected.gaps)
    : await checkRunHistory(store.path('history.jsonl'), collected.gaps, collected.expected, config, workload, store, sessions.flatMap((s) => s.clockViolations));
  if (onlineSummary) verdict.online = { ...onlineSummary, ...compareOnline(onlineSummary, verdict.checks) };
  store.writeJson('results.json', verdict);
  state.update({ phase: 'done' });
  await writeRunReport(store.dir).catch((err: unknown) => log.error({ err }, 'could not write report.html'));
  progress?.setPhase('done');
  return { verdict, storeDir: store.dir, interrupted: signal.aborted, recovery };
}
