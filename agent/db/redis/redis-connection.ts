/**
 * How Redis clients connect and how their outcomes map to ok / fail / info. In the main phase a client finds the
 * primary the way applications do, through Sentinel (ioredis with `sentinels`, its own node's Sentinel first), so
 * a client cut off together with an old primary keeps writing to it. In the final phase it reads its own node's
 * redis-server directly, once that member has caught up with the primary, so that what a node lost shows.
 *
 * ioredis is set up never to send a command twice: no offline queue (a command issued while not connected is
 * rejected unsent), no resending of unanswered commands after a reconnect, no reconnects at all (a connection
 * that ended is replaced by a fresh one, which asks Sentinel again).
 */
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import type { Completion, Invocation } from '../../../core/workloads';
import { errorText, type ClientContext } from '../../workload/client';
import { MASTER_NAME, parseInfo, REDIS_PORT, SENTINEL_PORT } from './redis-config';

/** Options that make ioredis send each command at most once and never queue or retry one. */
function onceOnly(ctx: Pick<ClientContext, 'opTimeoutMs'>): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    connectTimeout: Math.min(1000, ctx.opTimeoutMs),
    commandTimeout: ctx.opTimeoutMs,
  };
}

/** A connection to the primary as Sentinel names it: this node's Sentinel first, then the others in member order. */
export function sentinelClient(ctx: ClientContext): Redis {
  const others = ctx.members.filter((m) => m.address !== ctx.address).map((m) => m.address);
  return new Redis({
    ...onceOnly(ctx),
    sentinels: [ctx.address, ...others].map((host) => ({ host, port: SENTINEL_PORT })),
    name: MASTER_NAME,
    role: 'master',
    sentinelRetryStrategy: () => null,
    sentinelCommandTimeout: Math.min(1000, ctx.opTimeoutMs),
    updateSentinels: false, // keep our order: the local Sentinel stays first
    failoverDetector: false,
  });
}

/** A connection to one redis-server (or Sentinel) by address. */
export function directClient(host: string, port: number, ctx: Pick<ClientContext, 'opTimeoutMs'>): Redis {
  return new Redis({ ...onceOnly(ctx), host, port });
}

/** Runs `fn` on a short-lived direct connection, closed afterwards. */
export async function withDirect<T>(host: string, port: number, timeoutMs: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = directClient(host, port, { opTimeoutMs: timeoutMs });
  r.on('error', () => undefined); // reported through the promises below; an unheard 'error' event would crash us
  try {
    await withTimeout(r.connect(), timeoutMs, `no connection to ${host}:${port} within ${timeoutMs} ms`);
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** The connection could not be made: nothing of the operation was sent. */
class NotConnectedError extends Error {
  override readonly name = 'NotConnectedError';
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  p.catch(() => undefined); // the loser of the race must not become an unhandled rejection
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Server errors that Redis returns before executing a command (nothing applied): `fail`. READONLY and NOREPLICAS
 * are what an old primary turned replica, or a primary without enough replicas, answers to a write.
 */
const NOT_EXECUTED = /^(READONLY|NOREPLICAS|MASTERDOWN|LOADING|BUSY|NOSCRIPT|MISCONF|OOM|EXECABORT|WRONGTYPE|NOPERM|NOAUTH|ERR (unknown command|wrong number of arguments|syntax error|value is not an integer))\b/;
/** Errors that change where the client should be connected: ask Sentinel again before the next operation. */
const WRONG_NODE = /^(READONLY|MASTERDOWN|LOADING)\b/;
const OFFLINE = "Stream isn't writeable";

/**
 * One client process's connection, opened on first use and replaced after it ended or pointed at the wrong node.
 * `main` phase: through Sentinel; `final` phase: this node's own redis-server.
 */
export class RedisSession {
  #redis: Redis | undefined;

  constructor(private readonly ctx: ClientContext) {}

  /**
   * Runs one operation: `fn` issues its commands. Maps the outcome: a reply is `ok` (with `fn`'s value); a server
   * error Redis raises before executing a command, a connection never made, or a command refused unsent is `fail`;
   * a timeout, a connection lost with the command sent, or anything else is `info`.
   */
  async run(op: Invocation, signal: AbortSignal, fn: (r: Redis) => Promise<Completion>): Promise<Completion> {
    let redis: Redis;
    try {
      redis = await this.#connection(signal);
    } catch (err) {
      this.drop();
      return { type: 'fail', value: op.value, error: `not connected: ${errorText(err)}` };
    }
    try {
      return await fn(redis);
    } catch (err) {
      return this.#outcome(op, err);
    }
  }

  /** Closes the connection; the next operation opens a fresh one. */
  drop(): void {
    this.#redis?.disconnect();
    this.#redis = undefined;
  }

  #outcome(op: Invocation, err: unknown): Completion {
    const text = errorText(err);
    const message = err instanceof Error ? err.message : '';
    if (err instanceof ReplyError && NOT_EXECUTED.test(message)) {
      if (WRONG_NODE.test(message)) this.drop();
      return { type: 'fail', value: op.value, error: text };
    }
    if (message.startsWith(OFFLINE)) {
      this.drop(); // refused before sending: the connection is gone, the next op reconnects
      return { type: 'fail', value: op.value, error: text };
    }
    // Timed out, connection lost after sending, a script error, anything we cannot place: it may have happened.
    return { type: 'info', value: op.value, error: text };
  }

  async #connection(signal: AbortSignal): Promise<Redis> {
    const current = this.#redis;
    if (current && current.status === 'ready') return current;
    this.drop();
    const redis = this.ctx.phase === 'final' ? directClient(this.ctx.address, REDIS_PORT, this.ctx) : sentinelClient(this.ctx);
    redis.on('error', () => undefined); // errors reach us through the commands' promises
    this.#redis = redis;
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new NotConnectedError('deadline passed before connecting'));
      signal.addEventListener('abort', () => reject(new NotConnectedError('deadline passed while connecting')), { once: true });
    });
    aborted.catch(() => undefined);
    const connecting = redis.connect();
    connecting.catch(() => undefined);
    await Promise.race([connecting, aborted]);
    return redis;
  }

  async close(): Promise<void> {
    this.drop();
    await Promise.resolve();
  }
}

/**
 * With `--db-opt wait=N`: `WAIT N` after an acknowledged write. Fewer than N replicas within the timeout leaves
 * the write applied on the primary but not confirmed beyond it: `info` (not `ok`, because an application using
 * WAIT does not count on it; not `fail`, because it did happen). An error from WAIT itself is `info` too.
 */
export async function confirmWrite(redis: Redis, op: Invocation, ctx: ClientContext, done: Completion): Promise<Completion> {
  const want = Number(ctx.options['wait'] ?? '0');
  if (want <= 0 || done.type !== 'ok') return done;
  const timeoutMs = Math.max(50, Math.floor(ctx.opTimeoutMs / 3));
  try {
    const got = await redis.wait(want, timeoutMs);
    if (got >= want) return done;
    return { type: 'info', value: op.value, error: `WAIT: ${got} of ${want} replicas acknowledged within ${timeoutMs} ms` };
  } catch (err) {
    return { type: 'info', value: op.value, error: `WAIT failed: ${errorText(err)}` };
  }
}

/**
 * The final phase reads a member's own copy, but only once it agrees with Sentinel and has caught up: the member
 * Sentinel names primary must be a primary, any other a replica of it with its link up and its replication offset
 * at least the primary's (writes have stopped by then). Until then a read would show a lag, not a loss. Waits up
 * to `waitMs`; returns why not when it gives up.
 */
export async function awaitCaughtUp(own: Redis, ctx: ClientContext, waitMs: number): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  let why = 'not checked';
  while (Date.now() < deadline) {
    why = (await caughtUp(own, ctx).catch((err: unknown) => `cannot tell: ${errorText(err)}`)) ?? '';
    if (why === '') return undefined;
    await new Promise((r) => setTimeout(r, 200));
  }
  return why;
}

async function caughtUp(own: Redis, ctx: ClientContext): Promise<string | undefined> {
  const step = Math.min(1000, ctx.opTimeoutMs);
  const named = await withDirect(ctx.address, SENTINEL_PORT, step, (s) => s.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME));
  if (!Array.isArray(named) || named.length < 1) return 'the local Sentinel names no primary';
  const primary = String(named[0]);
  // The primary's offset first, then ours: ours at least that far means we hold everything it held then.
  const target = primary === ctx.address ? NaN : Number(parseInfo(await withDirect(primary, REDIS_PORT, step, (p) => p.info('replication'))).get('master_repl_offset') ?? NaN);
  const info = parseInfo(await own.info('replication'));
  const role = info.get('role');
  if (primary === ctx.address) return role === 'master' ? undefined : `Sentinel names this node primary, but it is a ${role ?? '?'}`;
  if (role !== 'slave') return `this node is a ${role ?? '?'}, but Sentinel names ${primary} primary`;
  if (info.get('master_host') !== primary) return `replicating from ${info.get('master_host') ?? '?'}, but Sentinel names ${primary} primary`;
  if (info.get('master_link_status') !== 'up' || info.get('master_sync_in_progress') !== '0') return 'replication link not up yet';
  const mine = Number(info.get('slave_repl_offset') ?? NaN);
  if (!(mine >= target)) return `replica at offset ${mine}, primary at ${target}`;
  return undefined;
}
