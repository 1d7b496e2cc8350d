import { EtcdLeaseInvalidError, type Etcd3, type Lease } from 'etcd3';
import type { Completion, Invocation } from '../../../core/workloads';
import { errorText, type Client, type ClientContext } from '../../workload/client';
import { connectLocal } from './etcd-connection';

/** A lock this client took: the lease its key lives under, and when the library learnt that the lease was gone. */
interface Held {
  lease: Lease;
  lostAt?: number;
}

/**
 * The lock workload on etcd's lease-based lock (what etcd's concurrency package and the etcd3 library do): `acquire`
 * grants a lease of --db-opt lock-ttl seconds, kept alive in the background every TTL/3 as the library does for
 * any user, then creates the lock key under that lease in one transaction, only if the key does not exist.
 * `release` revokes the lease, which deletes the key.
 *
 * Outcomes, in doubt `info`:
 * - acquire: `ok` once the transaction put the key; `fail` when it answered that the key exists (or that our
 *   fresh lease is gone: the put was refused whole), and when no lease could be granted (nothing was written);
 *   anything else is `info`, and the lease is revoked in the background so a lock we may have taken is dropped.
 * - release: `ok` once the lease is revoked, and also when etcd answers that the lease no longer exists: the lock
 *   is certainly free then, and this client held it until it released it as far as it could tell — like a
 *   typical user it does not stop work when its lease lapses. That is the behaviour under test (Jepsen 2020): a
 *   holder whose lease lapsed while it was cut off still believes it holds the lock, so the mutex checker sees a
 *   second holder. Such a release's value says `lease-expired`. Errors are `info`. A release of a lock this
 *   client does not hold sends nothing and is `fail`.
 */
export function etcdLockClient(ctx: ClientContext): Client {
  const etcd: Etcd3 = connectLocal(ctx);
  const ttlSeconds = Number(ctx.options['lock-ttl']);
  const held = new Map<string, Held>();
  /** Revokes still in flight: close() waits for them (each bounded by the op timeout) before closing the connection. */
  const dropping = new Set<Promise<void>>();
  const dropLease = (lease: Lease): void => {
    // Unreachable etcd: the lease lapses after its TTL anyway (revoke() stops its keepalives first).
    const p = lease.revoke({ deadline: Date.now() + ctx.opTimeoutMs }).catch(() => undefined);
    dropping.add(p);
    void p.then(() => dropping.delete(p));
  };

  async function acquire(name: string, until: { deadline: number }): Promise<Completion> {
    if (held.has(name)) return { type: 'fail', value: null, error: 'already held by this process' };
    const lease = etcd.lease(ttlSeconds, until);
    let id: string;
    try {
      id = await lease.grant();
    } catch (err) {
      // No lease, so no key can have been put under it: certainly not acquired. (A grant that was applied but
      // whose answer was lost leaves a lease with no key, which lapses after its TTL.)
      return { type: 'fail', value: null, error: `no lease granted: ${errorText(err)}` };
    }
    try {
      const res = await etcd.if(name, 'Create', '==', 0).then(etcd.put(name).value(id).lease(id)).options(until).commit();
      if (!res.succeeded) {
        dropLease(lease);
        return { type: 'fail', value: null, error: 'held by another process' };
      }
    } catch (err) {
      dropLease(lease);
      // A put under a lease that no longer exists is refused, compare included: nothing was written.
      if (err instanceof EtcdLeaseInvalidError) return { type: 'fail', value: null, error: 'lease expired before the lock was taken' };
      return { type: 'info', value: null, error: errorText(err) };
    }
    const entry: Held = { lease };
    lease.on('lost', () => (entry.lostAt ??= Date.now()));
    held.set(name, entry);
    return { type: 'ok', value: null };
  }

  async function release(name: string, until: { deadline: number }): Promise<Completion> {
    const entry = held.get(name);
    if (!entry) return { type: 'fail', value: null, error: 'not held by this process' };
    held.delete(name);
    const id = await entry.lease.grant();
    entry.lease.release(); // stop the keepalives; the revoke below ends the lease itself
    try {
      await etcd.leaseClient.leaseRevoke({ ID: id }, until);
      return { type: 'ok', value: null };
    } catch (err) {
      if (err instanceof EtcdLeaseInvalidError) {
        const lost = entry.lostAt !== undefined ? `; the keepalive reported it lost ${Date.now() - entry.lostAt} ms ago` : '';
        return { type: 'ok', value: 'lease-expired', error: `the lease had already expired${lost}` };
      }
      return { type: 'info', value: null, error: errorText(err) };
    }
  }

  return {
    async invoke(op: Invocation): Promise<Completion> {
      const name = `lock/${op.key ?? ''}`;
      const until = { deadline: Date.now() + ctx.opTimeoutMs };
      switch (op.f) {
        case 'acquire':
          return acquire(name, until);
        case 'release':
          return release(name, until);
        default:
          return { type: 'fail', value: op.value, error: `lock has no operation "${op.f}"` };
      }
    },
    async close() {
      // Normally empty: the workload releases what it holds before its phase ends (drain), and retired processes
      // hold nothing. Whatever is left is dropped rather than kept alive by a closed client.
      for (const entry of held.values()) dropLease(entry.lease);
      held.clear();
      await Promise.allSettled([...dropping]);
      etcd.close();
    },
  };
}
