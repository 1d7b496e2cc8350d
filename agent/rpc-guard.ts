/**
 * The agent's gate: every RPC passes here before its handler runs. The caller must present a certificate with an
 * allowed controller name (under mTLS); every field of the request is checked (names and ids against strict
 * patterns, enum values known, numbers bounded, addresses inside the allow-list's networks); the database module,
 * fault kind and clock strategy must be in the agent's allow-list. A refused request never reaches its handler,
 * so nothing is started, written or applied; it is logged with the caller's certificate name.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  ClockAction,
  DbAction,
  PartitionMode,
  ProcessFaultAction,
  type ClockFaultRequest,
  type DbRequest,
  type PartitionRequest,
  type ProbeRequest,
  type ProcessFaultRequest,
  type ShapeRequest,
  type StartWorkloadRequest,
  type StopWorkloadRequest,
} from '../proto/gen/agent';
import type { IAgentService } from '../proto/gen/agent.grpc-server';
import { callerOf } from './agent-tls';
import type { AgentConfig, AgentFaultKind } from './config';
import { eventSubject } from './event-publisher';
import { inNetworks } from './target-networks';

/** Largest request the agent decodes; grpc-js refuses bigger ones with RESOURCE_EXHAUSTED before any handler. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** A request the agent will not serve: bad input (INVALID_ARGUMENT) or outside the allow-list (PERMISSION_DENIED). */
export class RequestRefusedError extends Error {
  override readonly name = 'RequestRefusedError';
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

const ID_RE = /^[A-Za-z0-9._-]{0,128}$/;
const RUN_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const NODE_RE = /^[A-Za-z0-9_-]{1,63}$/;
const WORD_RE = /^[a-z][a-z0-9-]{0,31}$/;
const MAX_LIST = 1024;
const DAY_MS = 24 * 3600_000;

/** A value from the wire as it may appear in a message: quoted, escaped, cut short. */
function show(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}...` : value);
}

function bad(message: string): never {
  throw new RequestRefusedError(grpc.status.INVALID_ARGUMENT, message);
}
function denied(message: string): never {
  throw new RequestRefusedError(grpc.status.PERMISSION_DENIED, message);
}

/** Checks what a request asks of the node against the agent's patterns and allow-list. */
class RequestChecks {
  constructor(private readonly config: AgentConfig) {}

  id(value: string, field: string): void {
    if (!ID_RE.test(value)) bad(`Cannot accept ${field} ${show(value, 64)}: use letters, digits, ".", "_" and "-" (at most 128)`);
  }

  runId(value: string): void {
    if (!RUN_ID_RE.test(value)) bad(`Cannot accept run id ${show(value, 64)}: use letters, digits, "_" and "-" (1-64)`);
  }

  number(value: number | bigint, field: string, min: number, max: number): void {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) bad(`Cannot accept ${field} ${String(value)}: must lie in ${min}..${max}`);
  }

  list(values: readonly unknown[], field: string): void {
    if (values.length > MAX_LIST) bad(`Cannot accept ${values.length} entries in ${field}: at most ${MAX_LIST}`);
  }

  target(address: string, field: string): void {
    if (!/^\d{1,3}(\.\d{1,3}){3}(\/32)?$/.test(address)) bad(`Cannot accept ${field} ${show(address, 64)}: not an IPv4 address`);
    if (!inNetworks(address.replace(/\/32$/, ''), this.config.allow.targets)) {
      denied(`Cannot target ${show(address)}: outside this agent's allowed networks (${this.config.allow.targetsText.join(', ')})`);
    }
  }

  fault(kind: AgentFaultKind): void {
    if (!this.config.allow.faults.includes(kind)) {
      denied(`Cannot apply a ${kind} fault: this agent's allow-list permits ${this.config.allow.faults.join(', ') || 'no faults'}`);
    }
  }

  database(name: string): void {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) bad(`Cannot accept db ${show(name, 64)}: not a database module name`);
    if (!this.config.allow.databases.includes(name)) {
      denied(`Cannot manage db ${show(name)}: this agent's allow-list permits ${this.config.allow.databases.join(', ') || 'no database'}`);
    }
  }

  /** A module's typed options from the wire: names and plain values only (the module validates their meaning). */
  options(map: Record<string, string>, field: string): void {
    const entries = Object.entries(map);
    if (entries.length > 64) bad(`Cannot accept ${entries.length} ${field}: at most 64`);
    for (const [k, v] of entries) {
      if (!/^[a-z][a-z0-9._-]{0,63}$/.test(k)) bad(`Cannot accept ${field} name ${show(k)}: use lower-case letters, digits, ".", "_" and "-"`);
      if (!/^[A-Za-z0-9._:,=+@-]{0,256}$/.test(v)) bad(`Cannot accept ${field} ${k}=${show(v)}: values may use letters, digits and . _ : , = + @ - only`);
    }
  }

  enumValue(value: number, enumObject: Record<string, string | number>, field: string): void {
    if (typeof enumObject[value] !== 'string') bad(`Cannot accept ${field} ${value}: unknown value`);
  }
}

/** Per RPC: checks its request, throwing RequestRefusedError. */
function checkersFor(config: AgentConfig): Partial<Record<keyof IAgentService, (req: never) => void>> {
  const c = new RequestChecks(config);
  return {
    db: (req: DbRequest) => {
      c.enumValue(req.action, DbAction, 'db action');
      if (req.action === DbAction.UNSPECIFIED) bad('Cannot accept db action 0: unspecified');
      c.database(req.db);
      c.list(req.members, 'members');
      for (const m of req.members) {
        if (!NODE_RE.test(m.node)) bad(`Cannot accept member name ${show(m.node, 64)}: use letters, digits, "-" and "_"`);
        c.target(m.address, 'member address');
      }
      c.id(req.clusterToken, 'cluster token');
      c.options(req.options ?? {}, 'db options');
      c.number(req.maxLogBytes, 'max log bytes', 0, 64 << 20);
      if (req.action === DbAction.KILL) c.fault('kill');
      if (req.action === DbAction.PAUSE) c.fault('pause');
    },
    partition: (req: PartitionRequest) => {
      c.enumValue(req.mode, PartitionMode, 'partition mode');
      c.id(req.faultId, 'fault id');
      c.number(req.maxDurationMs, 'max duration (ms)', 0, DAY_MS);
      c.list(req.dropFrom, 'drop_from');
      c.list(req.loss, 'loss');
      for (const a of req.dropFrom) c.target(a, 'drop_from address');
      for (const l of req.loss) {
        c.target(l.from, 'loss address');
        c.number(l.probability, 'loss probability', 0, 1);
      }
      if (req.dropFrom.length > 0 && req.mode !== PartitionMode.LOSS_ONLY) c.fault('partition');
      if (req.loss.length > 0 && req.mode !== PartitionMode.DROP_ONLY) c.fault('loss');
    },
    shape: (req: ShapeRequest) => {
      c.id(req.faultId, 'fault id');
      c.number(req.maxDurationMs, 'max duration (ms)', 0, DAY_MS);
      c.list(req.to, 'to');
      for (const a of req.to) c.target(a, 'shaped address');
      c.number(req.rateBitsPerSecond, 'rate (bit/s)', 0, 1e12);
      c.number(req.delayMs, 'delay (ms)', 0, 60_000);
      c.number(req.jitterMs, 'jitter (ms)', 0, 60_000);
      for (const [v, f] of [[req.duplicatePercent, 'duplicate'], [req.reorderPercent, 'reorder'], [req.corruptPercent, 'corrupt']] as const) {
        c.number(v, `${f} percent`, 0, 100);
      }
      if (req.to.length > 0) {
        if (Number(req.rateBitsPerSecond) > 0) c.fault('rate');
        if (req.delayMs > 0 || req.jitterMs > 0 || req.duplicatePercent > 0 || req.reorderPercent > 0 || req.corruptPercent > 0) c.fault('netem');
      }
    },
    processFault: (req: ProcessFaultRequest) => {
      c.enumValue(req.action, ProcessFaultAction, 'process fault action');
      if (req.action === ProcessFaultAction.UNSPECIFIED) bad('Cannot accept process fault action 0: unspecified');
      c.id(req.faultId, 'fault id');
      c.number(req.maxDurationMs, 'max duration (ms)', 0, DAY_MS);
      // Resume and start only undo a fault: always allowed.
      if (req.action === ProcessFaultAction.KILL || req.action === ProcessFaultAction.RESTART) c.fault('kill');
      if (req.action === ProcessFaultAction.PAUSE) c.fault('pause');
    },
    clockFault: (req: ClockFaultRequest) => {
      c.enumValue(req.action, ClockAction, 'clock action');
      if (req.action === ClockAction.UNSPECIFIED) bad('Cannot accept clock action 0: unspecified');
      if (req.strategy !== 'faketime' && req.strategy !== 'system') bad(`Cannot accept clock strategy ${show(req.strategy, 64)}: faketime or system`);
      if (!config.allow.clockStrategies.includes(req.strategy)) {
        denied(`Cannot use the ${req.strategy} clock strategy: this agent's allow-list permits ${config.allow.clockStrategies.join(', ') || 'none'}`);
      }
      c.id(req.faultId, 'fault id');
      c.number(req.maxDurationMs, 'max duration (ms)', 0, DAY_MS);
      for (const [v, f] of [[req.offsetMs, 'offset'], [req.strobeAMs, 'strobe a'], [req.strobeBMs, 'strobe b']] as const) c.number(v, `${f} (ms)`, -10 * 365 * DAY_MS, 10 * 365 * DAY_MS);
      c.number(req.periodMs, 'strobe period (ms)', 0, DAY_MS);
      if (req.action !== ClockAction.RESET) c.fault('clock');
    },
    probe: (req: ProbeRequest) => {
      c.list(req.hosts, 'hosts');
      for (const h of req.hosts) c.target(h, 'probe host');
      c.number(req.port, 'port', 0, 65535);
      c.number(req.timeoutMs, 'probe timeout (ms)', 0, 10_000);
    },
    startWorkload: (req: StartWorkloadRequest) => {
      c.runId(req.runId);
      if (!WORD_RE.test(req.workload)) bad(`Cannot accept workload ${show(req.workload, 64)}: not a workload name`);
      c.database(req.db);
      c.list(req.processes, 'processes');
      c.number(req.concurrency, 'concurrency', 0, 100_000);
      c.number(req.rateHz, 'rate (Hz)', 0, 1e6);
      if (req.readConsistency !== '' && !WORD_RE.test(req.readConsistency)) bad(`Cannot accept read consistency ${show(req.readConsistency, 64)}`);
      c.number(req.opTimeoutMs, 'op timeout (ms)', 0, 600_000);
      c.number(req.keyCount, 'key count', 0, 100_000);
      c.number(req.keyPeriodMs, 'key period (ms)', 0, DAY_MS);
      c.options(req.dbOptions ?? {}, 'db options');
      if (req.phase !== '' && req.phase !== 'main' && req.phase !== 'final') bad(`Cannot accept workload phase ${show(req.phase)}: main or final`);
      if (req.endpoint !== '') {
        const m = /^https?:\/\/([\d.]+):(\d{1,5})$/.exec(req.endpoint);
        if (!m) bad(`Cannot accept endpoint ${show(req.endpoint, 64)}: expected http://ADDRESS:PORT`);
        c.target(m[1]!, 'endpoint address');
      }
      if (req.natsSubject !== '' && req.natsSubject !== eventSubject(req.runId, config.node)) {
        denied(`Cannot publish to ${show(req.natsSubject, 80)}: this agent publishes only to ${eventSubject(req.runId, config.node)}`);
      }
    },
    stopWorkload: (req: StopWorkloadRequest) => c.runId(req.runId),
  };
}

/** What runs after a fault RPC succeeded: checks the fault bites, and turns the reply into an error if not. */
export type AfterHandler = (rpc: keyof IAgentService, req: unknown, res: unknown, peer: string) => Promise<unknown>;

/**
 * Wraps every handler of `handlers` with the caller check and the request checks; `after`, when given, sees each
 * successful reply first (fault verification).
 */
export function guardHandlers(handlers: IAgentService, config: AgentConfig, log: Logger, after?: AfterHandler): IAgentService {
  const checks = checkersFor(config);
  const refuse = (rpc: string, caller: string, err: RequestRefusedError) => {
    log.warn({ caller, rpc, code: grpc.status[err.code], reason: err.message }, 'request refused');
    return { code: err.code, details: err.message, name: 'Error', message: err.message, metadata: new grpc.Metadata() };
  };
  const admit = (rpc: string, call: Parameters<typeof callerOf>[0], req: unknown): string => {
    const caller = callerOf(call);
    if (config.tls !== undefined) {
      if (!caller.tls) denied(`Cannot serve ${rpc}: plaintext callers are refused`);
      if (!caller.names.some((n) => config.tls!.controllerNames.includes(n))) {
        denied(`Cannot serve ${rpc}: "${caller.name}" is not an allowed controller (${config.tls.controllerNames.join(', ')})`);
      }
    }
    const check = checks[rpc as keyof IAgentService] as ((r: unknown) => void) | undefined;
    if (check !== undefined && req !== undefined) check(req);
    return caller.name;
  };
  const out: Record<string, unknown> = {};
  for (const [rpc, handler] of Object.entries(handlers) as [keyof IAgentService & string, unknown][]) {
    if (rpc === 'session') {
      const inner = handler as IAgentService['session'];
      out[rpc] = ((call) => {
        try {
          admit(rpc, call, undefined);
        } catch (err) {
          if (!(err instanceof RequestRefusedError)) throw err;
          call.emit('error', refuse(rpc, callerOf(call).name, err));
          return;
        }
        inner(call);
      }) satisfies IAgentService['session'];
      continue;
    }
    const inner = handler as grpc.handleUnaryCall<unknown, unknown>;
    out[rpc] = ((call, callback) => {
      let caller: string;
      try {
        caller = admit(rpc, call, call.request);
      } catch (err) {
        if (!(err instanceof RequestRefusedError)) throw err;
        callback(refuse(rpc, callerOf(call).name, err));
        return;
      }
      inner(call, (err, res) => {
        if (err || after === undefined) return callback(err, res);
        after(rpc, call.request, res, call.getPeer()).then(
          (checked) => callback(null, checked),
          (failure: unknown) => {
            const message = failure instanceof Error ? failure.message : String(failure);
            log.error({ caller, rpc, err: failure }, 'fault did not take effect');
            callback({ code: grpc.status.FAILED_PRECONDITION, details: message, name: 'Error', message, metadata: new grpc.Metadata() });
          },
        );
      });
    }) satisfies grpc.handleUnaryCall<unknown, unknown>;
  }
  return out as unknown as IAgentService;
}
