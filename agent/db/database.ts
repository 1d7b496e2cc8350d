/** What the agent needs from a database module: how to install-check, configure and run one member. */

export interface ClusterMemberSpec {
  node: string;
  address: string;
}

export interface DbSetupSpec {
  node: string;
  address: string;
  members: ClusterMemberSpec[];
  clusterToken: string;
}

export type DbState = 'not-installed' | 'not-set-up' | 'stopped' | 'running' | 'paused';

export interface Database {
  readonly name: string;
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
  /** Client endpoint of this member, e.g. http://10.250.87.11:2379. */
  clientEndpoint(): string | undefined;
}
