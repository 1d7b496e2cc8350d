import { ClockProbeDatabase } from './clockprobe';
import type { Database } from './database';
import { EtcdDatabase } from './etcd';

/** The DB modules an agent can run. `clockprobe` is a stand-in used by the clock-fault tests. */
export const DB_NAMES = ['etcd', 'clockprobe'] as const;
export type DbName = (typeof DB_NAMES)[number];

export function isDbName(name: string): name is DbName {
  return (DB_NAMES as readonly string[]).includes(name);
}

/** A fresh module instance for `name`, keeping its files under `dataDir`. */
export function createDatabase(name: DbName, dataDir: string): Database {
  switch (name) {
    case 'etcd':
      // FAULTLINE_ETCD_BIN points at another etcd build (and lets tests stand in a missing one).
      return new EtcdDatabase(dataDir, process.env['FAULTLINE_ETCD_BIN'] ?? 'etcd');
    case 'clockprobe':
      return new ClockProbeDatabase(dataDir);
  }
}

/** Kills DB members of every module left behind by a previous agent process; returns what it killed. */
export function reapOrphans(dataDir: string): { db: DbName; pid: number }[] {
  const out: { db: DbName; pid: number }[] = [];
  for (const name of DB_NAMES) {
    const pid = createDatabase(name, dataDir).reapOrphan();
    if (pid !== undefined) out.push({ db: name, pid });
  }
  return out;
}
