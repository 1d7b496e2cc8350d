/**
 * The database registry as the controller and CLI see it. Adding a database: its spec file here plus one line
 * below, and its module in agent/db/<name>/ plus one line in agent/db/registry.ts (docs/extending.md).
 */
import { clockprobeSpec } from './clockprobe';
import type { DatabaseSpec } from './database-spec';
import { etcdSpec } from './etcd';
import { galeraSpec } from './galera';
import { mariadbSpec } from './mariadb';
import { postgresSpec } from './postgres';
import { redisSpec } from './redis';

export type { DatabaseSpec, DbAbility, DbOptionSpec } from './database-spec';
export { resolveDbOptions } from './database-spec';

const ALL: readonly DatabaseSpec[] = [etcdSpec, redisSpec, postgresSpec, mariadbSpec, galeraSpec, clockprobeSpec];

export const DATABASES: ReadonlyMap<string, DatabaseSpec> = new Map(ALL.map((d) => [d.name, d]));
/** Databases a test can run (those with at least one workload). */
export const DB_NAMES: readonly string[] = ALL.filter((d) => d.workloads.length > 0).map((d) => d.name);

export function findDatabase(name: string): DatabaseSpec | undefined {
  return DATABASES.get(name);
}

/** Every (database, workload) pair that has a client, as "db/workload". */
export function supportedPairs(): string[] {
  return ALL.flatMap((d) => d.workloads.map((w) => `${d.name}/${w}`));
}
