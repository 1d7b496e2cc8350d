import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import type { ClientContext } from '../../workload/client';

export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

/** Client endpoint of the member at `address`. */
export const etcdEndpoint = (address: string): string => `http://${address}:${ETCD_CLIENT_PORT}`;

/**
 * A connection to this node's own member. Retries and failover are disabled: a retried cas that was applied the
 * first time would be reported as failed, which would make the checker unsound.
 */
export function connectLocal(ctx: ClientContext): Etcd3 {
  return new Etcd3({
    hosts: [etcdEndpoint(ctx.address)],
    faultHandling: { host: () => noop, global: noop },
    grpcOptions: { 'grpc.keepalive_time_ms': 1000, 'grpc.keepalive_timeout_ms': 1000 },
  });
}

/** The per-call deadline etcd3 understands. */
export const deadline = (ctx: ClientContext): { deadline: number } => ({ deadline: Date.now() + ctx.opTimeoutMs });
