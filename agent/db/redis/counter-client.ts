import type { Completion, Invocation } from '../../../core/workloads';
import type { Client, ClientContext } from '../../workload/client';
import { awaitCaughtUp, confirmWrite, RedisSession } from './redis-connection';

/**
 * The counter workload on Redis: `add` is INCRBY of the amount, `read` a GET (a counter never incremented reads
 * 0). Main phase through Sentinel's primary; final reads on this node's own member once it has caught up.
 */
export function redisCounterClient(ctx: ClientContext): Client {
  const session = new RedisSession(ctx);
  return {
    invoke(op: Invocation, signal: AbortSignal): Promise<Completion> {
      const key = `counter:${op.key ?? ''}`;
      return session.run(op, signal, async (redis) => {
        switch (op.f) {
          case 'add':
            await redis.incrby(key, Number(op.value));
            return confirmWrite(redis, op, ctx, { type: 'ok', value: op.value });
          case 'read': {
            if (ctx.phase === 'final') {
              const why = await awaitCaughtUp(redis, ctx, Math.max(0, ctx.opTimeoutMs - 500));
              if (why !== undefined) return { type: 'fail', value: op.value, error: `not caught up: ${why}` }; // a read changes nothing
            }
            const raw = await redis.get(key);
            return { type: 'ok', value: raw === null ? 0 : Number(raw) };
          }
          default:
            return { type: 'fail', value: op.value, error: `counter has no operation "${op.f}"` };
        }
      });
    },
    close: () => session.close(),
  };
}
