/**
 * The configuration files of one Redis member: its redis-server (primary on the first member, a replica of it on
 * the others) and its Sentinel (monitoring that primary with a majority quorum). Pure text from the setup spec and
 * the module's options, so it can be read in a test without starting anything.
 */
import type { DbSetupSpec } from '../database';

export const REDIS_PORT = 6379;
export const SENTINEL_PORT = 26379;
/** The name the Sentinels monitor the primary under, and clients ask for. */
export const MASTER_NAME = 'faultline';

/** A majority of the members: enough Sentinels must agree the primary is down before one fails it over. */
export function sentinelQuorum(memberCount: number): number {
  return Math.floor(memberCount / 2) + 1;
}

/** The member set up as primary (the first one); Sentinel may promote another later. */
export function initialPrimary(spec: Pick<DbSetupSpec, 'members'>): { node: string; address: string } {
  const first = spec.members[0];
  if (!first) throw new RangeError('Cannot configure redis: the cluster has no members');
  return first;
}

/** redis.conf for this member. Both processes run in the foreground and log to stdout (our log file). */
export function serverConfig(spec: DbSetupSpec, dataDir: string): string {
  const o = spec.options;
  const primary = initialPrimary(spec);
  return [
    `bind ${spec.address}`,
    `port ${REDIS_PORT}`,
    'protected-mode no',
    'daemonize no',
    'logfile ""',
    `dir ${dataDir}`,
    'save ""', // the AOF is the persistence; no RDB snapshots besides those replication makes
    'appendonly yes',
    `appendfsync ${o['appendfsync'] ?? 'everysec'}`,
    // Replicas start syncing at once instead of waiting 5 s for more replicas to join a diskless transfer.
    'repl-diskless-sync yes',
    'repl-diskless-sync-delay 0',
    `min-replicas-to-write ${o['min-replicas-to-write'] ?? '0'}`,
    `min-replicas-max-lag ${o['min-replicas-max-lag'] ?? '10'}`,
    ...(spec.node === primary.node ? [] : [`replicaof ${primary.address} ${REDIS_PORT}`]),
    '',
  ].join('\n');
}

/** sentinel.conf for this member; Sentinel rewrites it as it learns (its id, peers, a new primary). */
export function sentinelConfig(spec: DbSetupSpec, dataDir: string): string {
  const o = spec.options;
  const primary = initialPrimary(spec);
  return [
    `bind ${spec.address}`,
    `port ${SENTINEL_PORT}`,
    'protected-mode no',
    'daemonize no',
    'logfile ""',
    `dir ${dataDir}`,
    `sentinel monitor ${MASTER_NAME} ${primary.address} ${REDIS_PORT} ${sentinelQuorum(spec.members.length)}`,
    `sentinel down-after-milliseconds ${MASTER_NAME} ${o['down-after-milliseconds'] ?? '2000'}`,
    `sentinel failover-timeout ${MASTER_NAME} ${o['failover-timeout'] ?? '10000'}`,
    `sentinel parallel-syncs ${MASTER_NAME} 1`,
    '',
  ].join('\n');
}

/** `INFO` text as a map of field to value (section headers and blank lines dropped). */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/** A flat `[k1, v1, k2, v2, ...]` reply (SENTINEL MASTER) as a map. */
export function pairsToMap(reply: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out.set(String(reply[i]), String(reply[i + 1]));
  return out;
}
