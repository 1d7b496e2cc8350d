import { EtcdLockFailedError, type Etcd3, type Lock } from 'etcd3';
import type { Completion, Invocation } from '../../../core/workloads';
import { errorText, type Client, type ClientContext } from '../../workload/client';
import { connectLocal, deadline } from './etcd-connection';

/**
 * The lock workload on etcd's lease-based lock: `acquire` grants a lease of --db-opt lock-ttl seconds (kept alive
 * in the background, as the library does for any user) and creates the lock key under it only if the key does not
 * exist; `release` revokes the lease. A lock already held is a definite `fail`; a lease that no longer exists when
 * released is `fail` too (the lock was already gone). Like a typical user, the client does not notice when its
 * lease lapses while it believes it holds the lock: that is the behaviour under test.
 */
export function etcdLockClient(ctx: ClientContext): Client {
  const etcd: Etcd3 = connectLocal(ctx);
  const ttlSeconds = Number(ctx.options['lock-ttl'] ?? '2');
  const held = new Map<string, Lock>();
  return {
    async invoke(op: Invocation): Promise<Completion> {
      const name = `lock/${op.key ?? ''}`;
      switch (op.f) {
        case 'acquire': {
          const lock = etcd.lock(name).ttl(ttlSeconds).options(deadline(ctx));
          try {
            await lock.acquire();
            held.set(name, lock);
            return { type: 'ok', value: null };
          } catch (err) {
            if (err instanceof EtcdLockFailedError) return { type: 'fail', value: null, error: 'held by another process' };
            // The lock key may have been created before the answer was lost; drop the lease so it cannot stay held.
            lock.release().catch(() => undefined);
            return { type: 'info', value: null, error: errorText(err) };
          }
        }
        case 'release': {
          const lock = held.get(name);
          if (!lock) return { type: 'fail', value: null, error: 'not held by this process' };
          held.delete(name);
          try {
            await lock.options(deadline(ctx)).release();
            return { type: 'ok', value: null };
          } catch (err) {
            if (/lease not found/i.test(errorText(err))) return { type: 'fail', value: null, error: 'lease already expired' };
            return { type: 'info', value: null, error: errorText(err) };
          }
        }
        default:
          return { type: 'fail', value: op.value, error: `lock has no operation "${op.f}"` };
      }
    },
    async close() {
      await Promise.allSettled([...held.values()].map((l) => l.release()));
      held.clear();
      etcd.close();
    },
  };
}
