import * as grpc from '@grpc/grpc-js';
import {
  ClockAction,
  DbAction,
  PartitionMode,
  ProcessFaultAction,
  type ProbeResponse,
  type DbResponse,
  type FaultResponse,
  type HelloResponse,
  type StartWorkloadRequest,
  type StatusResponse,
  type WorkloadStatus,
  type ClusterMember,
  type LossRule,
} from '../../proto/gen/agent';
import { AgentServiceClient } from '../../proto/gen/agent.grpc-client';
import type { LinkShape } from '../../core/nemesis/link-shape';
import { AgentRequestError, AgentUnavailableError } from '../errors';
import { agentChannelOptions, channelCredentials, type ControllerSecurity } from './credentials';

export type { LinkShape };

export interface NodeAddress {
  name: string;
  /** Address of the node itself (where its DB member listens). */
  address: string;
  /** host:port of its agent. */
  agent: string;
}

/**
 * Promise-based access to one agent, with a deadline on every call. This adapter is the only controller code
 * that sees grpc-js errors: UNAVAILABLE and DEADLINE_EXCEEDED become AgentUnavailableError, anything else an
 * AgentRequestError with the agent's message.
 */
/** The agent's replies, as the rest of the controller may name them (only this edge imports the generated code). */
export type { DbResponse, FaultResponse, HelloResponse, NodeFaultState, StatusResponse, WorkloadStatus } from '../../proto/gen/agent';

/** The DB lifecycle actions, by name (callers never see the wire enum). */
export type DbActionName = 'check' | 'setup' | 'start' | 'stop' | 'kill' | 'pause' | 'resume' | 'teardown' | 'logs' | 'primary' | 'ready';
const DB_ACTIONS: Record<DbActionName, DbAction> = {
  check: DbAction.CHECK,
  setup: DbAction.SETUP,
  start: DbAction.START,
  stop: DbAction.STOP,
  kill: DbAction.KILL,
  pause: DbAction.PAUSE,
  resume: DbAction.RESUME,
  teardown: DbAction.TEARDOWN,
  logs: DbAction.LOGS,
  primary: DbAction.PRIMARY,
  ready: DbAction.READY,
};

/** What a node is told to run: the workload's phase, its processes and the DB options its clients get. */
export interface WorkloadStart {
  runId: string;
  workload: string;
  db: string;
  processes: number[];
  concurrency: number;
  rateHz: number;
  seed: number;
  opTimeoutMs: number;
  keyCount: number;
  keyPeriodMs: number;
  dbOptions?: Record<string, string>;
  phase?: 'main' | 'final';
}

export class AgentClient {
  readonly raw: AgentServiceClient;

  /** `security`: mutual TLS (the default everywhere) or, asked for explicitly, plaintext. */
  constructor(readonly node: NodeAddress, security: ControllerSecurity) {
    const agentHost = node.agent.slice(0, node.agent.lastIndexOf(':'));
    this.raw = new AgentServiceClient(node.agent, channelCredentials(security, node.name, agentHost), {
      ...agentChannelOptions(security, node.name),
      'grpc.keepalive_time_ms': 1000,
      'grpc.keepalive_timeout_ms': 1000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
  }

  hello(timeoutMs = 5000): Promise<HelloResponse> {
    return this.#call('hello', timeoutMs, (opts, cb) => this.raw.hello({}, opts, cb));
  }

  db(
    action: DbActionName,
    db: string,
    timeoutMs: number,
    extra: { members?: ClusterMember[]; clusterToken?: string; maxLogBytes?: number; options?: Record<string, string> } = {},
  ): Promise<DbResponse> {
    return this.#call(`run ${action} on ${db}`, timeoutMs, (opts, cb) =>
      this.raw.db(
        { action: DB_ACTIONS[action], db, members: extra.members ?? [], clusterToken: extra.clusterToken ?? '', maxLogBytes: extra.maxLogBytes ?? 0, options: extra.options ?? {} },
        opts,
        cb,
      ),
    );
  }

  /** `mode` 'drop' replaces only the drop set and 'loss' only the loss rules; 'all' (default) both. */
  partition(dropFrom: string[], loss: LossRule[], faultId: string, maxDurationMs: number, timeoutMs = 5000, mode: 'all' | 'drop' | 'loss' = 'all'): Promise<FaultResponse> {
    const wireMode = { all: PartitionMode.REPLACE_ALL, drop: PartitionMode.DROP_ONLY, loss: PartitionMode.LOSS_ONLY }[mode];
    return this.#call(mode === 'loss' ? 'apply packet loss' : 'apply a partition', timeoutMs, (opts, cb) =>
      this.raw.partition({ dropFrom, loss, faultId, maxDurationMs, mode: wireMode }, opts, cb),
    );
  }

  /** Shapes this node's traffic to `to` (empty: removes the shaping). */
  shape(to: string[], spec: LinkShape, faultId: string, maxDurationMs: number, timeoutMs = 10_000): Promise<FaultResponse> {
    return this.#call(to.length > 0 ? 'shape traffic' : 'remove traffic shaping', timeoutMs, (opts, cb) =>
      this.raw.shape(
        {
          to,
          rateBitsPerSecond: Math.round(spec.rateBitsPerSecond ?? 0),
          delayMs: spec.delayMs ?? 0,
          jitterMs: spec.jitterMs ?? 0,
          duplicatePercent: spec.duplicatePercent ?? 0,
          reorderPercent: spec.reorderPercent ?? 0,
          corruptPercent: spec.corruptPercent ?? 0,
          faultId,
          maxDurationMs,
        },
        opts,
        cb,
      ),
    );
  }

  /** kill -9, pause, resume, restart or start this node's DB member. */
  processFault(action: 'kill' | 'pause' | 'resume' | 'restart' | 'start', faultId: string, maxDurationMs: number, timeoutMs = 30_000): Promise<FaultResponse> {
    const wire = {
      kill: ProcessFaultAction.KILL,
      pause: ProcessFaultAction.PAUSE,
      resume: ProcessFaultAction.RESUME,
      restart: ProcessFaultAction.RESTART,
      start: ProcessFaultAction.START,
    }[action];
    return this.#call(`${action} the DB`, timeoutMs, (opts, cb) => this.raw.processFault({ action: wire, faultId, maxDurationMs }, opts, cb));
  }

  /** Bumps, strobes or resets the clock of this node's DB process (faketime) or of the node (system). */
  clockFault(
    req:
      | { action: 'bump'; offsetMs: number }
      | { action: 'strobe'; aMs: number; bMs: number; periodMs: number }
      | { action: 'reset' },
    strategy: 'faketime' | 'system',
    faultId: string,
    maxDurationMs: number,
    timeoutMs = 15_000,
  ): Promise<FaultResponse> {
    const wire = {
      action: { bump: ClockAction.BUMP, strobe: ClockAction.STROBE, reset: ClockAction.RESET }[req.action],
      strategy,
      offsetMs: req.action === 'bump' ? req.offsetMs : 0,
      strobeAMs: req.action === 'strobe' ? req.aMs : 0,
      strobeBMs: req.action === 'strobe' ? req.bMs : 0,
      periodMs: req.action === 'strobe' ? req.periodMs : 0,
      faultId,
      maxDurationMs,
    };
    return this.#call(`${req.action} the clock`, timeoutMs, (opts, cb) => this.raw.clockFault(wire, opts, cb));
  }

  /** Asks the agent to TCP-connect to each host (on `port`, or its DB's peer port when 0). */
  probe(hosts: string[], port: number, probeTimeoutMs: number, timeoutMs = probeTimeoutMs + 5000): Promise<ProbeResponse> {
    return this.#call('probe its peers', timeoutMs, (opts, cb) => this.raw.probe({ hosts, port, timeoutMs: probeTimeoutMs }, opts, cb));
  }

  heal(timeoutMs = 5000): Promise<FaultResponse> {
    return this.#call('heal', timeoutMs, (opts, cb) => this.raw.heal({}, opts, cb));
  }

  startWorkload(req: WorkloadStart, timeoutMs = 5000): Promise<WorkloadStatus> {
    const wire: StartWorkloadRequest = {
      runId: req.runId,
      workload: req.workload,
      db: req.db,
      processes: req.processes,
      concurrency: req.concurrency,
      rateHz: req.rateHz,
      seed: req.seed,
      readConsistency: '',
      opTimeoutMs: req.opTimeoutMs,
      keyCount: req.keyCount,
      endpoint: '',
      natsSubject: '',
      keyPeriodMs: req.keyPeriodMs,
      dbOptions: req.dbOptions ?? {},
      phase: req.phase ?? 'main',
    };
    return this.#call(req.phase === 'final' ? 'start the final phase' : 'start the workload', timeoutMs, (opts, cb) => this.raw.startWorkload(wire, opts, cb));
  }

  stopWorkload(runId: string, timeoutMs = 60_000): Promise<WorkloadStatus> {
    return this.#call('stop the workload', timeoutMs, (opts, cb) => this.raw.stopWorkload({ runId }, opts, cb));
  }

  status(timeoutMs = 5000): Promise<StatusResponse> {
    return this.#call('report status', timeoutMs, (opts, cb) => this.raw.status({}, opts, cb));
  }

  close(): void {
    this.raw.close();
  }

  #call<T>(what: string, timeoutMs: number, invoke: (opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      invoke({ deadline: Date.now() + timeoutMs }, (err, res) => {
        if (!err) return resolve(res as T);
        if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
          reject(new AgentUnavailableError(this.node.name, this.node.agent, `${what} failed (${grpc.status[err.code]})`, { cause: err }));
        } else {
          reject(new AgentRequestError(this.node.name, what, err.details || err.message, { cause: err }));
        }
      });
    });
  }
}
