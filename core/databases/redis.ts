import { opt, type DatabaseSpec } from './database-spec';

/**
 * Redis 7 with Sentinel (Debian redis-server, redis-sentinel): a primary on the first node and replicas on the
 * others, a Sentinel on every node (quorum: a majority). Clients find the primary through Sentinel, their local
 * Sentinel first, as applications do.
 */
export const redisSpec: DatabaseSpec = {
  name: 'redis',
  description: 'Redis 7 + Sentinel: primary on the first node, replicas elsewhere, a Sentinel on every node',
  packages: ['redis-server', 'redis-sentinel'],
  options: {
    'down-after-milliseconds': opt.int(100, 600_000, 'Sentinel: how long the primary must be unreachable before it is considered down', 2000),
    'failover-timeout': opt.int(1000, 3_600_000, 'Sentinel failover-timeout, ms', 10_000),
    'min-replicas-to-write': opt.int(0, 16, 'the primary refuses writes unless this many replicas are connected', 0),
    'min-replicas-max-lag': opt.int(0, 3600, 'seconds of lag after which a replica does not count for min-replicas-to-write', 10),
    appendfsync: opt.oneOf(['always', 'everysec', 'no'], 'AOF fsync policy (the AOF is on)', 'everysec'),
    wait: opt.int(0, 16, 'after each write, WAIT for this many replicas (0: no WAIT); a write fewer replicas confirmed is info', 0),
  },
  abilities: ['kill', 'pause', 'primary', 'clock-faketime'],
  workloads: ['set', 'register', 'counter'],
};
