/**
 * The database modules an agent can run: one line each. A module's spec (options, abilities, workloads) is in
 * core/databases/; its implementation and its clients are in agent/db/<name>/.
 */
import { ClockProbeDatabase } from './clockprobe';
import type { Database } from './database';
import { EtcdDatabase } from './etcd/etcd-database';
import { MariaDbDatabase } from './mariadb/mariadb-database';
import { PostgresDatabase } from './postgres/postgres-database';
import { RedisDatabase } from './redis/redis-database';

const MODULES: Readonly<Record<string, (dataDir: string) => Database>> = {
  // FAULTLINE_ETCD_BIN points at another etcd build (and lets tests stand in a missing one).
  etcd: (dataDir) => new EtcdDatabase(dataDir, process.env['FAULTLINE_ETCD_BIN'] ?? 'etcd'),
  redis: (dataDir) => new RedisDatabase(dataDir),
  postgres: (dataDir) => new PostgresDatabase(dataDir),
  mariadb: (dataDir) => new MariaDbDatabase(dataDir),
  galera: (dataDir) => new MariaDbDatabase(dataDir, true),
  clockprobe: (dataDir) => new ClockProbeDatabase(dataDir),
};

export const DB_NAMES: readonly string[] = Object.keys(MODULES);

export function isDbName(name: string): boolean {
  return Object.hasOwn(MODULES, name);
}

/** A fresh module instance for `name`, keeping its files under `dataDir`. @throws RangeError for an unknown name. */
export function createDatabase(name: string, dataDir: string): Database {
  const make = MODULES[name];
  if (!make || !Object.hasOwn(MODULES, name)) throw new RangeError(`Cannot manage db "${name}": this agent knows ${DB_NAMES.join(', ')}`);
  return make(dataDir);
}

/** Kills DB members of every module left behind by a previous agent process; returns what it killed. */
export function reapOrphans(dataDir: string): { db: string; pid: number }[] {
  const out: { db: string; pid: number }[] = [];
  for (const name of DB_NAMES) {
    const pid = createDatabase(name, dataDir).reapOrphan();
    if (pid !== undefined) out.push({ db: name, pid });
  }
  return out;
}
