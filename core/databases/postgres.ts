import { opt, type DatabaseSpec } from './database-spec';
import { PG_STATEMENTS } from './postgres-sql';

/** The isolation levels PostgreSQL has (read uncommitted is read committed there, so it is not offered). */
export const POSTGRES_ISOLATION = ['read-committed', 'repeatable-read', 'serializable'] as const;

/**
 * PostgreSQL 15 (Debian postgresql): one primary on the first node; with `replicas=N` the next N nodes run hot
 * standbys streaming from it; every other node runs clients only. Clients on every node talk to the primary
 * (and, with `read-from`, send read-only transactions to a standby). Transactions run at `isolation`.
 */
export const postgresSpec: DatabaseSpec = {
  name: 'postgres',
  description: 'PostgreSQL 15: a primary on the first node (hot standbys on the next nodes with replicas=N); clients on every node',
  packages: ['postgresql'],
  options: {
    isolation: opt.oneOf(POSTGRES_ISOLATION, 'transaction isolation level (also --isolation)', 'read-committed'),
    replicas: opt.int(0, 8, 'hot standbys streaming from the primary, on the nodes after the first', 0),
    'read-from': opt.oneOf(['primary', 'replica', 'any'], 'where read-only transactions go: the primary, a standby, or either at random', 'primary'),
    'synchronous-commit': opt.oneOf(['on', 'off', 'remote_apply', 'remote_write', 'local'], 'synchronous_commit of the primary (with replicas: on waits for a standby)', 'on'),
  },
  abilities: ['kill', 'pause', 'primary', 'clock-faketime'],
  workloads: ['bank', 'list-append', 'rw-register'],
  statements: PG_STATEMENTS,
};
