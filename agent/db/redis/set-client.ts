import type { Completion, Invocation } from '../../../core/workloads';
import type { Client, ClientContext } from '../../workload/client';
import { awaitCaughtUp, confirmWrite, RedisSession } from './redis-connection';

/**
 * The set workload on Redis: each set is a Redis set (`add` is SADD of the element, `read` SMEMBERS, sorted).
 * Main phase: the primary Sentinel names; final phase: this node's own member once it has caught up, so an
 * acknowledged add the cluster lost is missing from every node's final read.
 */
export function redisSetClient(ctx: ClientContext): Client {
  const session = new RedisSession(ctx);
  return {
    invoke(op: Invocation, signal: AbortSignal): Promise<Completion> {
      const key = `set:${op.key ?? ''}`;
      return session.run(op, signal, async (redis) => {
        switch (op.f) {
          case 'add':
            await redis.sadd(key, String(op.value));
            return confirmWrite(redis, op, ctx, { type: 'ok', value: op.value });
          case 'read': {
            if (ctx.phase === 'final') {
              const why = await awaitCaughtUp(redis, ctx, Math.max(0, ctx.opTimeoutMs - 500));
              if (why !== undefined) return { type: 'fail', value: op.value, error: `not caught up: ${why}` }; // a read changes nothing
            }
            const members = await redis.smembers(key);
            return { type: 'ok', value: members.map(Number).sort((a, b) => a - b) };
          }
          default:
            return { type: 'fail', value: op.value, error: `set has no operation "${op.f}"` };
        }
      });
    },
    close: () => session.close(),
  };
}
