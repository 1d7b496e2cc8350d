import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { connect as tcpConnect } from 'node:net';
import {
  ClockAction,
  DbAction,
  PartitionMode,
  ProcessFaultAction,
  type AgentMessage,
  type ClockFaultRequest,
  type NodeFaultState,
  type ProbeRequest,
  type ProbeResult,
  type ProcessFaultRequest,
  type PublisherProgress,
  type ControllerMessage,
  type DbRequest,
  type DbResponse,
  type FaultResponse,
  type PartitionRequest,
  type ShapeRequest,
  type WorkloadStatus,
} from '../proto/gen/agent';
import type { IAgentService } from '../proto/gen/agent.grpc-server';
import { detectCapabilities } from './capabilities';
import { MissingToolError } from './faults/iptables';
import { monoNanos, type ClockMapper } from './clock';
import type { Database } from './db/database';
import { createDatabase, isDbName, DB_NAMES } from './db/registry';
import { resolveDbOptions } from '../core/databases';
import { findWorkload, WORKLOAD_NAMES } from '../core/workloads';
import type { EventPublisher } from './event-publisher';
import { ShapeUnavailableError, type ShapeSpec } from './faults/shape';
import { FaultRefusedError, type ClockRequest, type FaultManager, type NetworkMode, type ProcessAction } from './fault-manager';
import { WorkloadRunner } from './workload/runner';
import type { AgentConfig } from './config';

export const AGENT_VERSION = '0.1.0';

/** How often an agent tells the controller how far its events have got (AgentMessage.progress). */
export const PROGRESS_EVERY_MS = 500;

/** The controller's address (the caller) and the NATS server's: never to be cut off by a fault. */
function protectedAddresses(peer: string, natsUrl: string): string[] {
  const out: string[] = [];
  const m = /^ipv4:([\d.]+):\d+$/.exec(peer) ?? /^([\d.]+):\d+$/.exec(peer);
  if (m) out.push(m[1]!);
  const nats = /^nats:\/\/(?:[^@/]*@)?([\d.]+)(?::\d+)?/.exec(natsUrl);
  if (nats) out.push(nats[1]!);
  return out;
}

/** Error with a gRPC status, so the controller can tell bad requests from unavailable nodes. */
class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** Wraps an async handler: resolves the callback with the result, or with a status error. */
function unary<Req, Res>(
  log: Logger,
  fn: (req: Req) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const code =
          err instanceof RpcError
            ? err.code
            : err instanceof RangeError
              ? grpc.status.INVALID_ARGUMENT
              : err instanceof MissingToolError || err instanceof FaultRefusedError || err instanceof ShapeUnavailableError
                ? grpc.status.FAILED_PRECONDITION
                : grpc.status.INTERNAL;
        const message = err instanceof Error ? err.message : String(err);
        if (code === grpc.status.INTERNAL) log.error({ err }, 'agent call failed');
        callback({ code, details: message, name: 'Error', message, metadata: new grpc.Metadata() });
      },
    );
  };
}

/**
 * The agent's gRPC handlers. Holds the node's DB module, its workload and its fault manager; owns the lease:
 * every controller message renews it, and when it lapses the agent heals all faults and stops its workload.
 */
export class AgentService {
  db: Database | undefined;
  workload: WorkloadRunner | undefined;
  #workloadRunId = '';
  /** Why the current workload stopped, when it was not the controller's asking ('lease': the lease lapsed). */
  #stoppedBy = '';
  #leaseTimer: NodeJS.Timeout | undefined;
  #leaseMs: number;

  constructor(
    private readonly config: AgentConfig,
    private readonly clock: ClockMapper,
    private readonly publisher: EventPublisher,
    readonly faults: FaultManager,
    private readonly log: Logger,
  ) {
    this.#leaseMs = config.leaseMs;
  }

  handlers(): IAgentService {
    const log = this.log;
    return {
      hello: unary(log, async () => ({
        version: AGENT_VERSION,
        node: this.config.node,
        capabilities: await detectCapabilities(),
        agentMonoNanos: monoNanos(),
        pid: process.pid,
      })),
      session: (call) => this.#session(call),
      db: unary(log, (req: DbRequest) => this.#db(req)),
      partition: (call, callback) =>
        unary(log, async (req: PartitionRequest) => {
          await this.faults.applyNetwork(
            req.faultId || `partition-${Date.now()}`,
            { dropFrom: req.dropFrom, loss: req.loss },
            req.maxDurationMs,
            protectedAddresses(call.getPeer(), this.config.natsUrl),
            NETWORK_MODES[req.mode] ?? 'all',
          );
          return this.#faultReply('applied');
        })(call, callback),
      shape: (call, callback) =>
        unary(log, async (req: ShapeRequest) => {
          const spec: ShapeSpec = {
            rateBitsPerSecond: Number(req.rateBitsPerSecond),
            delayMs: req.delayMs,
            jitterMs: req.jitterMs,
            duplicatePercent: req.duplicatePercent,
            reorderPercent: req.reorderPercent,
            corruptPercent: req.corruptPercent,
          };
          await this.faults.applyShape(req.faultId || `shape-${Date.now()}`, req.to, spec, Number(req.maxDurationMs), protectedAddresses(call.getPeer(), this.config.natsUrl));
          return this.#faultReply(req.to.length > 0 ? 'shaped' : 'shaping removed');
        })(call, callback),
      heal: unary(log, async () => {
        await this.faults.healAll('heal requested', { restartKilled: true });
        return this.#faultReply('healed');
      }),
      processFault: unary(log, async (req: ProcessFaultRequest) => {
        const action = PROCESS_ACTIONS[req.action];
        if (!action) throw new RangeError(`Cannot apply process fault ${req.action}: unknown action`);
        const message = await this.faults.processFault(action, req.faultId || `${action}-${Date.now()}`, Number(req.maxDurationMs));
        return this.#faultReply(message);
      }),
      clockFault: unary(log, async (req: ClockFaultRequest) => {
        const offset = await this.faults.clockFault(clockRequest(req), req.faultId || `clock-${Date.now()}`, Number(req.maxDurationMs));
        return this.#faultReply(`clock offset ${offset} ms`);
      }),
      probe: unary(log, async (req: ProbeRequest) => {
        const port = req.port || this.db?.peerPort;
        if (!port) throw new FaultRefusedError('Cannot probe: no port given and no DB is set up on this node');
        const results = await Promise.all(req.hosts.map((h) => probeTcp(h, port, req.timeoutMs || 1000)));
        return { results, port };
      }),
      startWorkload: unary(log, async (req) => {
        if (!this.clock.synced) throw new RpcError(grpc.status.FAILED_PRECONDITION, 'Cannot start workload: no clock sync yet; open a session first');
        const db = this.db;
        const setup = db?.setupSpec();
        if (!db || !setup || db.name !== req.db) {
          throw new RpcError(grpc.status.FAILED_PRECONDITION, `Cannot start workload: db "${req.db}" is not set up on this node${db ? ` (it runs ${db.name})` : ''}`);
        }
        const workload = findWorkload(req.workload);
        if (!workload) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Cannot start workload: unknown workload "${req.workload}" (this agent knows ${WORKLOAD_NAMES.join(', ')})`);
        const openClient = db.clients[req.workload];
        if (!openClient || !Object.hasOwn(db.clients, req.workload)) {
          throw new RpcError(grpc.status.INVALID_ARGUMENT, `Cannot start workload: ${req.db} has no client for workload "${req.workload}" (it has ${Object.keys(db.clients).join(', ') || 'none'})`);
        }
        const phase = req.phase === '' || req.phase === 'main' ? 'main' : req.phase === 'final' ? 'final' : undefined;
        if (phase === undefined) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Cannot start workload: unknown phase "${req.phase}" (main or final)`);
        const given = { ...req.dbOptions };
        if (req.readConsistency && given['read-consistency'] === undefined && db.spec.options['read-consistency']) given['read-consistency'] = req.readConsistency;
        const options = resolveDbOptions(db.spec, given);
        if (this.workload && this.workload.state === 'running') await this.workload.stop();
        this.workload = new WorkloadRunner(
          {
            runId: req.runId,
            phase,
            processes: req.processes,
            concurrency: req.concurrency,
            rateHz: req.rateHz,
            seed: req.seed,
            opTimeoutMs: req.opTimeoutMs || 1500,
            generator: { keyCount: req.keyCount || 5, keyPeriodNanos: (req.keyPeriodMs || 15_000) * 1e6 },
          },
          workload,
          openClient,
          { node: setup.node, address: setup.address, members: setup.members, options, keyCount: req.keyCount || 5 },
          this.publisher,
          this.clock,
          log.child({ component: 'workload', runId: req.runId, workload: req.workload, phase }),
        );
        this.#workloadRunId = req.runId;
        this.#stoppedBy = '';
        this.workload.start();
        return this.#workloadStatus();
      }),
      stopWorkload: unary(log, async (req) => {
        // The run id comes from the request: an agent restarted mid-run has no workload of its own but may still
        // hold that run's spooled events, and the controller needs their last sequence number to prove completeness.
        if (this.#workloadRunId === req.runId) await this.workload?.stop();
        await this.publisher.flush(req.runId, 30_000);
        return this.#workloadStatus(req.runId);
      }),
      status: unary(log, async () => ({
        node: this.config.node,
        workload: this.#workloadStatus(),
        dbState: this.db?.state() ?? 'not-set-up',
        activeFaults: this.faults.active().map((e) => e.id),
        faults: this.#faultState(),
      })),
    };
  }

  #faultState(): NodeFaultState {
    const s = this.faults.state();
    return {
      faults: s.faults.map((e) => ({
        id: e.id,
        kind: e.kind,
        appliedAtUnixMs: e.appliedAtMs,
        expiresAtUnixMs: e.expiresAtMs,
        detailJson: JSON.stringify(e.detail ?? null),
      })),
      clockOffsetMs: s.clockOffsetMs,
      clockStrategy: s.clockStrategy,
      db: s.db,
      dbPid: s.dbPid,
      dbProcessState: s.dbProcessState,
    };
  }

  #faultReply(message: string): FaultResponse {
    const state = this.#faultState();
    return { ok: true, message, active: state.faults.map((f) => f.id), state, checks: [] };
  }

  #workloadStatus(runId: string = this.#workloadRunId): WorkloadStatus {
    const stats = this.publisher.stats(runId);
    const ours = runId === this.#workloadRunId && this.workload !== undefined;
    return {
      state: ours ? this.workload!.state : 'idle',
      invoked: this.workload?.invoked ?? 0,
      completed: this.workload?.completed ?? 0,
      lastSeq: stats.lastSeq,
      unacked: stats.unacked,
      stoppedBy: ours ? this.#stoppedBy : '',
    };
  }

  #session(call: grpc.ServerDuplexStream<ControllerMessage, AgentMessage>): void {
    this.#renewLease();
    // Says how far this node's events have got, also when it has nothing to publish (its workload stalled on a
    // paused or killed member, or stopped between phases): see progressMarker().
    const progress = setInterval(() => {
      const marker = this.progressMarker();
      if (marker && !call.writableEnded && !call.destroyed) call.write({ body: { oneofKind: 'progress', progress: marker } });
    }, PROGRESS_EVERY_MS);
    progress.unref();
    const stopProgress = (): void => clearInterval(progress);
    call.on('close', stopProgress);
    call.on('cancelled', stopProgress);
    call.on('finish', stopProgress);
    call.on('data', (msg: ControllerMessage) => {
      const body = msg.body;
      if (body.oneofKind === 'heartbeat' && body.heartbeat.release) {
        clearTimeout(this.#leaseTimer);
        this.#leaseTimer = undefined;
        this.log.info('controller released its lease');
        return;
      }
      this.#renewLease();
      if (body.oneofKind === 'ping') {
        call.write({ body: { oneofKind: 'pong', pong: { id: body.ping.id, agentMonoNanos: monoNanos() } } });
      } else if (body.oneofKind === 'mapping') {
        this.clock.update({
          timelineId: body.mapping.timelineId,
          offsetNanos: body.mapping.offsetNanos,
          uncertaintyNanos: body.mapping.uncertaintyNanos,
          syncedAtAgentMonoNanos: body.mapping.syncedAtAgentMonoNanos,
        });
      } else if (body.oneofKind === 'heartbeat') {
        if (body.heartbeat.leaseMs > 0) this.#leaseMs = body.heartbeat.leaseMs;
        call.write({ body: { oneofKind: 'heartbeat', heartbeat: { leaseMs: this.#leaseMs, release: false } } });
      }
    });
    // The session ending is not itself a heal: the lease runs out on its own unless a new session renews it.
    call.on('end', () => {
      stopProgress();
      call.end();
    });
    call.on('error', stopProgress);
  }

  /**
   * The run whose timeline the clock maps onto: the last sequence number its events got and the time now, read in
   * one synchronous step. Every event published before has a number up to `lastSeq` and a time up to `timeNanos`;
   * every later one a higher number and, the mapper's times never going backwards, a time at least `timeNanos`. An
   * operation in flight has published its invocation already; its completion comes later, after this time.
   * Undefined before the first clock sync.
   */
  progressMarker(): PublisherProgress | undefined {
    const runId = this.clock.timelineId;
    if (runId === undefined || runId === '') return undefined;
    const lastSeq = this.publisher.stats(runId).lastSeq;
    const t = this.clock.map();
    return { runId, lastSeq, timeNanos: t.timeNanos, uncertaintyNanos: t.uncertaintyNanos };
  }

  #renewLease(): void {
    clearTimeout(this.#leaseTimer);
    this.#leaseTimer = setTimeout(() => void this.#leaseExpired(), this.#leaseMs);
    this.#leaseTimer.unref();
  }

  async #leaseExpired(): Promise<void> {
    this.log.warn({ leaseMs: this.#leaseMs }, 'controller lease expired, healing and stopping the workload');
    try {
      if (this.workload && this.workload.state === 'running') this.#stoppedBy = 'lease';
      await this.faults.healAll('lease expired', { restartKilled: true });
      await this.workload?.stop();
    } catch (err) {
      this.log.error({ err }, 'heal after lease expiry failed');
    }
  }

  async #db(req: DbRequest): Promise<DbResponse> {
    const name = req.db;
    if (!isDbName(name)) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Cannot manage db "${req.db}": this agent knows ${DB_NAMES.join(', ')}`);
    if (this.db && this.db.name !== name) {
      if (req.action === DbAction.CHECK) {
        const problem = await createDatabase(name, this.config.dataDir).installProblem();
        return { ok: problem === undefined, message: problem ?? 'installed', pid: 0, logs: new Uint8Array(), state: problem ? 'not-installed' : 'not-set-up', primary: false, primaryKnown: false, ready: false };
      }
      if (req.action !== DbAction.SETUP) {
        throw new RpcError(grpc.status.FAILED_PRECONDITION, `Cannot run ${DbAction[req.action] ?? req.action} on ${name}: this node runs ${this.db.name}`);
      }
      await this.db.teardown(); // one DB member per node: setting up another one replaces it
      this.db = undefined;
    }
    const db = this.db ?? createDatabase(name, this.config.dataDir);
    this.db = db;
    const reply = (message: string): DbResponse => ({
      ok: true,
      message,
      pid: db.pid() ?? 0,
      logs: new Uint8Array(),
      state: db.state(),
      primary: false,
      primaryKnown: false,
      ready: false,
    });
    switch (req.action) {
      case DbAction.CHECK: {
        const problem = await db.installProblem();
        return { ...reply(problem ?? 'installed'), ok: problem === undefined, pid: 0, state: problem ? 'not-installed' : db.state() };
      }
      case DbAction.PRIMARY: {
        const primary = await db.isPrimary();
        return { ...reply(primary === undefined ? `${db.name} cannot name its primary` : primary ? 'primary' : 'not primary'), primary: primary === true, primaryKnown: primary !== undefined };
      }
      case DbAction.SETUP: {
        const self = req.members.find((m) => m.node === this.config.node);
        if (!self) throw new RpcError(grpc.status.INVALID_ARGUMENT, `Cannot set up ${req.db}: node "${this.config.node}" is not among the members`);
        let options: Record<string, string>;
        try {
          options = resolveDbOptions(db.spec, req.options);
        } catch (err) {
          throw new RpcError(grpc.status.INVALID_ARGUMENT, `Cannot set up ${req.db}: ${(err as Error).message}`);
        }
        await db.setup({ node: self.node, address: self.address, members: req.members, clusterToken: req.clusterToken, options });
        return reply('set up');
      }
      case DbAction.READY: {
        const why = await db.notReady();
        return { ...reply(why ?? 'ready'), ready: why === undefined };
      }
      case DbAction.START:
        await db.start();
        return reply('started');
      case DbAction.STOP:
        await db.stop();
        return reply('stopped');
      case DbAction.KILL:
        await db.kill();
        return reply('killed');
      case DbAction.PAUSE:
        // Journaled like a pause fault, so that any heal (and a restarted agent) resumes it.
        return reply(await this.faults.processFault('pause', `pause-${Date.now()}`, 0));
      case DbAction.RESUME:
        return reply(await this.faults.processFault('resume', `resume-${Date.now()}`, 0));
      case DbAction.TEARDOWN:
        await this.workload?.stop();
        await db.teardown();
        return reply('torn down');
      case DbAction.LOGS:
        return { ...reply('logs'), logs: db.logs(req.maxLogBytes || 4 << 20) };
      default:
        throw new RpcError(grpc.status.INVALID_ARGUMENT, `Cannot run db action ${req.action}`);
    }
  }
}

const NETWORK_MODES: Record<number, NetworkMode> = {
  [PartitionMode.REPLACE_ALL]: 'all',
  [PartitionMode.DROP_ONLY]: 'drop',
  [PartitionMode.LOSS_ONLY]: 'loss',
};

const PROCESS_ACTIONS: Record<number, ProcessAction> = {
  [ProcessFaultAction.KILL]: 'kill',
  [ProcessFaultAction.PAUSE]: 'pause',
  [ProcessFaultAction.RESUME]: 'resume',
  [ProcessFaultAction.RESTART]: 'restart',
  [ProcessFaultAction.START]: 'start',
};

/** Translates the wire request; the strategy must be named, never assumed. */
function clockRequest(req: ClockFaultRequest): ClockRequest {
  const strategy = req.strategy;
  if (strategy !== 'faketime' && strategy !== 'system') {
    throw new RangeError(`Cannot apply a clock fault: strategy must be faketime or system (got "${strategy}")`);
  }
  switch (req.action) {
    case ClockAction.BUMP:
      return { action: 'bump', strategy, offsetMs: Number(req.offsetMs) };
    case ClockAction.STROBE:
      return { action: 'strobe', strategy, aMs: Number(req.strobeAMs), bMs: Number(req.strobeBMs), periodMs: Number(req.periodMs) };
    case ClockAction.RESET:
      return { action: 'reset', strategy };
    default:
      throw new RangeError(`Cannot apply clock fault ${req.action}: unknown action`);
  }
}

/** One TCP connection attempt from this node: ok when it connects within `timeoutMs`. */
function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const finish = (ok: boolean, error: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ host, ok, error });
    };
    const timer = setTimeout(() => finish(false, `timeout after ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => finish(true, ''));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(false, err.code ?? err.message));
  });
}
