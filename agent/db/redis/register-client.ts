import type { Completion, Invocation } from '../../../core/workloads';
import type { Client, ClientContext } from '../../workload/client';
import { awaitCaughtUp, confirmWrite, RedisSession } from './redis-connection';

/**
 * Compare-and-set as one script, atomic on the primary. `#!lua` declares that it may write, so Redis refuses it
 * before running it (READONLY on a replica, NOREPLICAS without enough replicas), never halfway.
 */
const CAS_SCRIPT = "#!lua\nif redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0";

/**
 * The register workload on Redis: `read` is a GET (null when the key is absent), `write` a SET, `cas` the script
 * above: 1 is `ok`, 0 a definite `fail` (compare failed, nothing written). Through Sentinel's primary.
 */
export function redisRegisterClient(ctx: ClientContext): Client {
  const session = new RedisSession(ctx);
  return {
    invoke(op: Invocation, signal: AbortSignal): Promise<Completion> {
      const key = `register:${op.key ?? ''}`;
      return session.run(op, signal, async (redis) => {
        switch (op.f) {
          case 'read': {
            if (ctx.phase === 'final') {
              const why = await awaitCaughtUp(redis, ctx, Math.max(0, ctx.opTimeoutMs - 500));
              if (why !== undefined) return { type: 'fail', value: op.value, error: `not caught up: ${why}` };
            }
            const raw = await redis.get(key);
            return { type: 'ok', value: raw === null ? null : Number(raw) };
          }
          case 'write':
            await redis.set(key, String(op.value));
            return confirmWrite(redis, op, ctx, { type: 'ok', value: op.value });
          case 'cas': {
            const [from, to] = op.value as [number, number];
            const swapped = await redis.eval(CAS_SCRIPT, 1, key, String(from), String(to));
            if (swapped !== 1) return { type: 'fail', value: op.value, error: 'compare-failed' };
            return confirmWrite(redis, op, ctx, { type: 'ok', value: op.value });
          }
          default:
            return { type: 'fail', value: op.value, error: `register has no operation "${op.f}"` };
        }
      });
    },
    close: () => session.close(),
  };
}
