import * as grpc from '@grpc/grpc-js';
import {
  DbAction,
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
import { AgentRequestError, AgentUnavailableError } from '../errors';

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
export class AgentClient {
  readonly raw: AgentServiceClient;

  constructor(readonly node: NodeAddress) {
    this.raw = new AgentServiceClient(node.agent, grpc.credentials.createInsecure(), {
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

  db(action: DbAction, db: string, timeoutMs: number, extra: { members?: ClusterMember[]; clusterToken?: string; maxLogBytes?: number } = {}): Promise<DbResponse> {
    return this.#call(`run ${DbAction[action]?.toLowerCase() ?? action} on ${db}`, timeoutMs, (opts, cb) =>
      this.raw.db(
        { action, db, members: extra.members ?? [], clusterToken: extra.clusterToken ?? '', maxLogBytes: extra.maxLogBytes ?? 0 },
        opts,
        cb,
      ),
    );
  }

  partition(dropFrom: string[], loss: LossRule[], faultId: string, maxDurationMs: number, timeoutMs = 5000): Promise<FaultResponse> {
    return this.#call('apply a partition', timeoutMs, (opts, cb) =>
      this.raw.partition({ dropFrom, loss, faultId, maxDurationMs }, opts, cb),
    );
  }

  heal(timeoutMs = 5000): Promise<FaultResponse> {
    return this.#call('heal', timeoutMs, (opts, cb) => this.raw.heal({}, opts, cb));
  }

  startWorkload(req: StartWorkloadRequest, timeoutMs = 5000): Promise<WorkloadStatus> {
    return this.#call('start the workload', timeoutMs, (opts, cb) => this.raw.startWorkload(req, opts, cb));
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
