import { opt, type DatabaseSpec } from './database-spec';
import { MY_STATEMENTS } from './mariadb-sql';

export const MARIADB_ISOLATION = ['read-uncommitted', 'read-committed', 'repeatable-read', 'serializable'] as const;

/**
 * MariaDB 10.11 (Debian mariadb-server), single node: the server runs on the first node, every node runs clients
 * against it. Transactions run at `isolation` (MariaDB's default: repeatable read).
 */
export const mariadbSpec: DatabaseSpec = {
  name: 'mariadb',
  description: 'MariaDB 10.11, one server on the first node (InnoDB); clients on every node',
  packages: ['mariadb-server'],
  options: {
    isolation: opt.oneOf(MARIADB_ISOLATION, 'transaction isolation level (also --isolation)', 'repeatable-read'),
    'flush-log-at-trx-commit': opt.oneOf(['0', '1', '2'], 'innodb_flush_log_at_trx_commit (1: durable commits)', '1'),
  },
  abilities: ['kill', 'pause', 'primary', 'clock-faketime'],
  workloads: ['bank', 'list-append', 'rw-register'],
  statements: MY_STATEMENTS,
};
