import { opt, type DatabaseSpec } from './database-spec';
import { MARIADB_ISOLATION } from './mariadb';
import { MY_STATEMENTS } from './mariadb-sql';

/**
 * MariaDB Galera Cluster (Debian mariadb-server + galera-4): every node runs a member (the first bootstraps the
 * cluster, the others join it by state transfer); clients talk to their own node's member.
 */
export const galeraSpec: DatabaseSpec = {
  name: 'galera',
  description: 'MariaDB 10.11 + Galera 4, a member on every node (multi-primary); clients talk to their local member',
  packages: ['mariadb-server', 'galera-4'],
  options: {
    isolation: opt.oneOf(MARIADB_ISOLATION, 'transaction isolation level (also --isolation)', 'repeatable-read'),
    'flush-log-at-trx-commit': opt.oneOf(['0', '1', '2'], 'innodb_flush_log_at_trx_commit (1: durable commits)', '1'),
  },
  abilities: ['kill', 'pause', 'primary', 'clock-faketime'],
  workloads: ['bank', 'list-append', 'rw-register'],
  statements: MY_STATEMENTS,
};
