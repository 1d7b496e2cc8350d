import { opt, type DatabaseSpec } from './database-spec';

/** etcd 3.4 (Debian etcd-server): a raft cluster of every node; clients talk to their own node's member. */
export const etcdSpec: DatabaseSpec = {
  name: 'etcd',
  description: 'etcd 3.4, one member per node (raft); clients talk to their local member',
  packages: ['etcd-server'],
  options: {
    'read-consistency': opt.oneOf(['linearizable', 'serializable'], 'reads: linearizable (through the leader) or serializable (local, may be stale)', 'linearizable'),
    'lock-ttl': opt.int(1, 600, 'lock workload: TTL of the lease behind a held lock, seconds', 2),
  },
  abilities: ['kill', 'pause', 'primary'],
  workloads: ['register', 'set', 'list-append', 'lock'],
  faketimeRefusal: 'etcd is a Go program: libfaketime cannot shift its clock; use --clock-strategy system on dedicated VMs',
};
