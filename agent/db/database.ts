/**
 * What the agent needs from a database module (agent/db/<name>/): how to install-check, configure and run one
 * member, whether it is ready and primary, how a clock fault reaches it, and the clients of the workloads it
 * supports. What the controller knows of it without running it (options, abilities, workloads) is its spec in
 * core/databases/.
 */
import type { DatabaseSpec } from '../../core/databases';
import type { ClientFactory } from '../workload/client';

export interface ClusterMemberSpec {
  node: string;
  address: string;
}

export interface DbSetupSpec {
  node: string;
  address: string;
  members: ClusterMemberSpec[];
  clusterToken: string;
  /** The module's options, resolved against its spec (every key present). */
  options: Readonly<Record<string, string>>;
}

export type DbState = 'not-installed' | 'not-set-up' | 'stopped' | 'running' | 'paused';

/**
 * How a clock fault can reach this DB's process: through libfaketime and its timestamp file, or not at all (Go
 * programs read the clock without libc), with the reason to show the user.
 */
export type ClockReach = { faketime: true; timestampFile: string } | { faketime: false; reason: string };

/** Set in every managed DB process's environment (value: the module name), so leftovers can be recognised. */
export const DB_MARKER_ENV = 'FAULTLINE_DB';

export interface Database {
  readonly name: string;
  readonly spec: DatabaseSpec;
  /** The client of each workload this module supports (exactly `spec.workloads`). */
  readonly clients: Readonly<Record<string, ClientFactory>>;
  /** Returns undefined when installed, else what to install. */
  installProblem(): Promise<string | undefined>;
  setup(spec: DbSetupSpec): Promise<void>;
  start(): Promise<number>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  teardown(): Promise<void>;
  logs(maxBytes: number): Buffer;
  state(): DbState;
  pid(): number | undefined;
  /** The set-up member (for clients), or undefined before setup. */
  setupSpec(): DbSetupSpec | undefined;
  /**
   * Whether this member serves clients the way a workload needs (etcd: a linearizable write and read through it;
   * Redis: replication linked and its Sentinel sees every peer). Undefined when ready, else why not yet.
   */
  notReady(): Promise<string | undefined>;
  /** The port its peers reach it on; a heal is verified by connecting to it from every other node. */
  readonly peerPort: number;
  /** Text its command line always contains: a pid from a journal is only signalled while it still matches. */
  readonly commandMarker: string;
  clockReach(): ClockReach;
  /** Whether this member is the primary right now (etcd: the raft leader); undefined when the module cannot tell. */
  isPrimary(): Promise<boolean | undefined>;
  /**
   * False when this node runs no server of the database by design (PostgreSQL's client-only nodes): a heal check
   * then expects no process or peer port here. Absent means true.
   */
  hostsServer?(): boolean;
  /** Kills members left behind by a previous agent process that crashed; returns their pids. */
  reapOrphan(): number | undefined;
}
