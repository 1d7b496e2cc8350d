import { opt, type DatabaseSpec } from './database-spec';

/** etcd 3.4 (Debian etcd-server): a raft cluster of every node; clients talk to their own node's member. */
export const etcdSpec: DatabaseSpec = {
  name: 'etcd',
  description: 'etcd 3.4, one member per node (raft); clients talk to their local member',
  packages: ['etcd-server'],
  options: {
    'read-consistency': opt.oneOf(['linearizable', 'serializable'], 'reads: linearizable (through the leader) or serializable (local, may be stale)', 'linearizable'),
    // 10 s outlasts the lock workload's longest hold (6 s) plus an op timeout: without faults no lease can lapse,
    // even if not one keepalive got through. Faults longer than a short TTL (lock-ttl=2) show the lapsed holder.
    'lock-ttl': opt.int(1, 600, 'lock workload: TTL of the lease behind a held lock, seconds (kept alive every TTL/3)', 10),
  },
  abilities: ['kill', 'pause', 'primary'],
  workloads: ['register', 'set', 'list-append', 'lock'],
  faketimeRefusal: 'etcd is a Go program: libfaketime cannot shift its clock; use --clock-strategy system on dedicated VMs',
};
