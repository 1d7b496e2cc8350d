/**
 * A fault is verified, not assumed: after each injection the agent checks that it bites where the kernel looks
 * (our rules sit in a chain that INPUT jumps to, in the iptables backend this host uses, and the cut peers really
 * are unreachable; our qdisc is on the device; the DB process is stopped or gone; the clock offset reads back) and
 * that the control paths still answer (NATS round trip; the controller's address exempt). The checks go into the
 * reply; a fault that does not bite makes the call fail with a message naming this node.
 */
import type { NatsConnection } from 'nats';
import { connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  ClockAction,
  PartitionMode,
  ProcessFaultAction,
  type ClockFaultRequest,
  type FaultCheck,
  type FaultResponse,
  type PartitionRequest,
  type ProcessFaultRequest,
  type ShapeRequest,
} from '../proto/gen/agent';
import type { IAgentService } from '../proto/gen/agent.grpc-server';
import type { AgentConfig } from './config';
import type { Database } from './db/database';
import type { FaultManager } from './fault-manager';
import { readFilterTable, valueOf } from './faults/iptables';
import { iptablesBackend } from './faults/iptables-backend';
import { faultChains } from './faults/partition';
import { processState } from './faults/process-state';
import { shapedAddresses } from './faults/shape';

/** A fault that was applied but does not take effect. */
export class FaultNotBitingError extends Error {
  override readonly name = 'FaultNotBitingError';
}

const PROBE_TIMEOUT_MS = 400;

/** One TCP attempt: 'reachable' (connected or refused: a packet came back), or 'silent' (timed out). */
export function reachability(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<'reachable' | 'silent' | string> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (r: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('silent'), timeoutMs);
    socket.once('connect', () => done('reachable'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'reachable' : (err.code ?? 'error')));
  });
}

export class FaultVerifier {
  /** The backend `iptables` drives does not change while the agent runs: asked once. */
  #backend: Promise<string> | undefined;

  constructor(
    private readonly config: AgentConfig,
    private readonly faults: FaultManager,
    private readonly db: () => Database | undefined,
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  /** Runs the checks for fault RPCs and returns the reply with them; other replies pass unchanged. */
  async check(rpc: keyof IAgentService, req: unknown, res: unknown, peer: string): Promise<unknown> {
    let checks: FaultCheck[];
    switch (rpc) {
      case 'partition':
        checks = await this.#network(req as PartitionRequest);
        break;
      case 'shape':
        checks = await this.#shape(req as ShapeRequest);
        break;
      case 'processFault':
        checks = await this.#process(req as ProcessFaultRequest);
        break;
      case 'clockFault':
        checks = this.#clock(req as ClockFaultRequest, res as FaultResponse);
        break;
      default:
        return res;
    }
    if (checks.length === 0) return res; // a heal or an empty request: nothing to verify
    checks.push(...(await this.#controlPaths(peer)));
    const failed = checks.filter((c) => !c.ok);
    this.log.info({ rpc, checks }, failed.length === 0 ? 'fault verified' : 'fault verification failed');
    if (failed.length > 0) {
      throw new FaultNotBitingError(
        `Cannot confirm the ${rpc === 'processFault' ? 'process fault' : rpc === 'clockFault' ? 'clock fault' : rpc} on node "${this.config.node}": ` +
          failed.map((c) => `${c.name}: ${c.detail}`).join('; '),
      );
    }
    return { ...(res as FaultResponse), checks };
  }

  async #network(req: PartitionRequest): Promise<FaultCheck[]> {
    const drop = req.mode !== PartitionMode.LOSS_ONLY ? req.dropFrom : [];
    const loss = req.mode !== PartitionMode.DROP_ONLY ? req.loss.filter((l) => l.probability > 0) : [];
    if (drop.length === 0 && loss.length === 0) return [];
    const chains = faultChains();
    this.#backend ??= iptablesBackend().then(
      (b) => b.backend,
      () => 'unknown',
    );
    const [table, backendName] = await Promise.all([readFilterTable(), this.#backend]);
    const backend = { backend: backendName };
    const checks: FaultCheck[] = [];
    const hooked = (chain: string) => table.rules.some((r) => r.chain === 'INPUT' && (valueOf(r.tokens, '-j') === chain || valueOf(r.tokens, '-g') === chain));
    const sources = (chain: string) =>
      new Set(table.rules.filter((r) => r.chain === chain && valueOf(r.tokens, '-j') === 'DROP').map((r) => valueOf(r.tokens, '-s')?.replace(/\/32$/, '')));
    for (const [chain, addresses] of [[chains.drop, drop], [chains.loss, loss.map((l) => l.from)]] as const) {
      if (addresses.length === 0) continue;
      const have = sources(chain);
      const missing = addresses.filter((a) => !have.has(a.replace(/\/32$/, '')));
      const ok = hooked(chain) && missing.length === 0;
      checks.push({
        name: 'rules',
        ok,
        detail: !hooked(chain)
          ? `chain ${chain} is not jumped to from INPUT in the ${backend.backend} backend: the kernel never looks at its rules`
          : missing.length > 0
            ? `no DROP rule for ${missing.join(', ')} in ${chain}`
            : `${addresses.length} rule(s) in ${chain}, jumped to from INPUT (${backend.backend} backend)`,
      });
    }
    if (drop.length > 0) {
      const port = this.db()?.peerPort ?? this.config.listenPort;
      const results = await Promise.all(drop.map(async (a) => ({ a, r: await reachability(a, port) })));
      const reached = results.filter((x) => x.r === 'reachable');
      checks.push({
        name: 'reachability',
        ok: reached.length === 0,
        detail:
          reached.length === 0
            ? `no answer from ${drop.join(', ')} on port ${port} within ${PROBE_TIMEOUT_MS} ms`
            : `${reached.map((x) => x.a).join(', ')} still answer(s) on port ${port}`,
      });
    }
    return checks;
  }

  async #shape(req: ShapeRequest): Promise<FaultCheck[]> {
    if (req.to.length === 0) return [];
    const shaped = new Set(await shapedAddresses());
    const missing = req.to.filter((a) => !shaped.has(a.replace(/\/32$/, '')));
    return [
      {
        name: 'qdisc',
        ok: missing.length === 0,
        detail: missing.length === 0 ? `our qdisc shapes ${req.to.join(', ')}` : `no qdisc filter of ours for ${missing.join(', ')}`,
      },
    ];
  }

  async #process(req: ProcessFaultRequest): Promise<FaultCheck[]> {
    const db = this.db();
    const expect = {
      [ProcessFaultAction.KILL]: 'gone',
      [ProcessFaultAction.PAUSE]: 'stopped',
      [ProcessFaultAction.RESUME]: 'running',
      [ProcessFaultAction.RESTART]: 'running',
      [ProcessFaultAction.START]: 'running',
    }[req.action as ProcessFaultAction.KILL];
    if (expect === undefined || db === undefined) return [];
    // A signal is delivered asynchronously: give /proc a moment to show it.
    let seen = '';
    for (let i = 0; i < 20; i++) {
      const pid = db.pid();
      const state = processState(pid);
      seen = state === undefined ? 'gone' : state === 'T' || state === 't' ? 'stopped' : state === 'Z' ? 'gone' : 'running';
      if (seen === expect) break;
      await sleep(25);
    }
    return [{ name: 'process', ok: seen === expect, detail: `${db.name} is ${seen}${seen === expect ? '' : `, expected ${expect}`}` }];
  }

  #clock(req: ClockFaultRequest, res: FaultResponse): FaultCheck[] {
    if (req.action === ClockAction.RESET && Number(res.state?.clockOffsetMs ?? 0) === 0) return [];
    const reported = Number(res.state?.clockOffsetMs ?? 0);
    const read = this.faults.clockOffsetMs();
    const expected = req.action === ClockAction.RESET ? 0 : req.action === ClockAction.STROBE ? reported : reported;
    return [{ name: 'clock', ok: read === expected, detail: `offset reads back as ${read} ms (${req.strategy})` }];
  }

  async #controlPaths(peer: string): Promise<FaultCheck[]> {
    let nats: FaultCheck;
    try {
      const started = Date.now();
      await Promise.race([this.nc.flush(), sleep(2000).then(() => Promise.reject(new Error('no answer within 2000 ms')))]);
      nats = { name: 'nats', ok: true, detail: `round trip ${Date.now() - started} ms` };
    } catch (err) {
      nats = { name: 'nats', ok: false, detail: `NATS does not answer: ${(err as Error).message}` };
    }
    // This reply travels back over the controller's own connection; its address is exempt from every drop rule.
    return [nats, { name: 'controller', ok: true, detail: `answering ${peer.replace(/^ipv4:/, '')} (exempt)` }];
  }
}
