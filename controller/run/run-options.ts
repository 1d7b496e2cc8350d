import { z } from 'zod';
import { UsageError } from '../../core/errors';
import { NEMESIS_KINDS, type NemesisKind } from '../nemesis/nemesis-schedule';
import { certsDirSecurity, INSECURE, type FleetAccess } from '../rpc/credentials';
import { readNodesFile } from './nodes-file';

export const DBS = ['etcd'] as const;
export const WORKLOADS = ['register'] as const;
/** `--nemesis`: `none`, or a comma-separated mix of these fault kinds, rotated over the run. */
export const NEMESES = ['none', ...NEMESIS_KINDS] as const;
export const CLOCK_STRATEGIES = ['faketime', 'system'] as const;
export const PARTITION_SHAPES = ['random-halves', 'halves', 'isolate', 'minority-third', 'majorities-ring', 'bridge'] as const;

/** What a user passes to `faultline run` (strings and human units, as typed). */
export interface RunOptions {
  db: string;
  workload: string;
  timeLimit: number;
  concurrency: number;
  rate: number;
  nemesis: string;
  nemesisInterval: number;
  partitionShape?: string;
  partitionTarget?: string;
  clockStrategy?: string;
  nodes: string;
  readConsistency: string;
  seed?: number;
  store: string;
  nats?: string;
  labPrefix?: string;
  /** A fleet file: nodes, certificate paths, NATS URL and credentials. */
  nodesFile?: string;
  /** Folder with ca.crt, controller.crt and controller.key (for an explicit --nodes list). */
  certs?: string;
  /** Plaintext gRPC to agents started with --insecure. */
  insecure?: boolean;
  recoveryTime: number;
  opTimeout: number;
  keys: number;
  keyPeriod: number;
  checkTimeLimit: number;
}

/** Every field resolved: what a run executes, and what plan.json records. */
export interface RunConfig {
  testName: string;
  db: (typeof DBS)[number];
  workload: (typeof WORKLOADS)[number];
  timeLimitMs: number;
  concurrency: number;
  rateHz: number;
  /** Fault kinds to rotate through; empty for no nemesis. */
  nemesis: NemesisKind[];
  nemesisIntervalMs: number;
  clockStrategy: (typeof CLOCK_STRATEGIES)[number];
  partitionShape: (typeof PARTITION_SHAPES)[number];
  partitionTarget: string | undefined;
  /** 'lab' or explicit nodes. */
  nodes: { lab: true; prefix: string } | { lab: false; list: { name: string; agent: string; address: string }[]; access: FleetAccess };
  readConsistency: 'linearizable' | 'serializable';
  seed: number;
  storeDir: string;
  natsUrl: string | undefined;
  recoveryMs: number;
  opTimeoutMs: number;
  keyCount: number;
  keyPeriodMs: number;
  checkTimeLimitMs: number;
}

const oneOf = <T extends readonly [string, ...string[]]>(flag: string, values: T) =>
  z.enum(values, { error: (iss) => `${flag} must be one of ${values.join(', ')} (got "${String(iss.input)}")` });

const positive = (flag: string) => z.number({ error: `${flag} must be a number` }).positive({ error: `${flag} must be > 0` });

const schema = z.object({
  db: oneOf('--db', DBS),
  workload: oneOf('--workload', WORKLOADS),
  timeLimit: positive('--time-limit'),
  concurrency: z.number().int({ error: '--concurrency must be a whole number' }).min(1, { error: '--concurrency must be at least 1' }),
  rate: positive('--rate'),
  clockStrategy: oneOf('--clock-strategy', CLOCK_STRATEGIES),
  nemesisInterval: positive('--nemesis-interval'),
  partitionShape: oneOf('--partition-shape', PARTITION_SHAPES),
  readConsistency: oneOf('--read-consistency', ['linearizable', 'serializable'] as const),
  recoveryTime: z.number().min(0, { error: '--recovery-time must be >= 0' }),
  opTimeout: positive('--op-timeout'),
  keys: z.number().int().min(1, { error: '--keys must be at least 1' }),
  keyPeriod: positive('--key-period'),
  checkTimeLimit: positive('--check-time-limit'),
});

/** Parses `n1=10.0.0.1:7701,n2=...` (agent address per node; the DB member listens on the same host). */
export function parseNodeList(spec: string): { name: string; agent: string; address: string }[] {
  return spec.split(',').map((part) => {
    const m = /^([A-Za-z0-9_-]+)=([^:,\s]+):(\d{1,5})$/.exec(part.trim());
    if (!m) throw new UsageError(`Cannot parse --nodes entry "${part}": expected NAME=HOST:PORT, e.g. n1=10.0.0.11:7701`);
    return { name: m[1]!, address: m[2]!, agent: `${m[2]!}:${m[3]!}` };
  });
}

/** @throws UsageError with a one-line message naming the bad option. */
export function resolveRunOptions(opts: RunOptions): RunConfig {
  const parsed = schema.safeParse({ ...opts, partitionShape: opts.partitionShape ?? 'random-halves', clockStrategy: opts.clockStrategy ?? 'faketime' });
  if (!parsed.success) throw new UsageError(`Cannot run: ${parsed.error.issues[0]!.message}`);
  const o = parsed.data;
  const nemesis = parseNemesis(opts.nemesis);
  if (nemesis.includes('clock') && o.clockStrategy === 'faketime' && o.db === 'etcd') {
    throw new UsageError('Cannot run: --nemesis clock: etcd is a Go program: libfaketime cannot shift its clock; use --clock-strategy system on dedicated VMs');
  }
  if (opts.partitionTarget !== undefined && o.partitionShape !== 'isolate') {
    throw new UsageError('Cannot run: --partition-target only applies to --partition-shape isolate');
  }
  let nodes: RunConfig['nodes'];
  let natsUrl = opts.nats;
  if (opts.nodesFile !== undefined) {
    if (opts.nodes !== 'lab') throw new UsageError('Cannot run: give --nodes or --nodes-file, not both');
    const fleet = readNodesFile(opts.nodesFile);
    nodes = { lab: false, list: fleet.nodes, access: fleet.access };
    natsUrl ??= fleet.natsUrl;
  } else if (opts.nodes === 'lab') {
    nodes = { lab: true, prefix: opts.labPrefix ?? 'fl' };
  } else {
    if (opts.insecure !== true && opts.certs === undefined) {
      throw new UsageError('Cannot run: an explicit --nodes list needs --certs DIR (made with "faultline certs") or --insecure');
    }
    const security = opts.insecure === true ? INSECURE : certsDirSecurity(opts.certs!);
    nodes = { lab: false, list: parseNodeList(opts.nodes), access: { security, nats: {} } };
  }
  if (!nodes.lab && !natsUrl) throw new UsageError('Cannot run: --nats URL is required with an explicit --nodes list');
  if (!Number.isInteger(opts.seed ?? 0) || (opts.seed ?? 0) < 0) throw new UsageError('Cannot run: --seed must be a non-negative integer');
  return {
    testName: `${o.db}-${o.workload}`,
    db: o.db,
    workload: o.workload,
    timeLimitMs: o.timeLimit * 1000,
    concurrency: o.concurrency,
    rateHz: o.rate,
    nemesis,
    nemesisIntervalMs: o.nemesisInterval * 1000,
    clockStrategy: o.clockStrategy,
    partitionShape: o.partitionShape,
    partitionTarget: opts.partitionTarget,
    nodes,
    readConsistency: o.readConsistency,
    seed: opts.seed ?? Math.floor(Math.random() * 2 ** 31),
    storeDir: opts.store,
    natsUrl,
    recoveryMs: o.recoveryTime * 1000,
    opTimeoutMs: o.opTimeout,
    keyCount: o.keys,
    keyPeriodMs: o.keyPeriod * 1000,
    checkTimeLimitMs: o.checkTimeLimit * 1000,
  };
}

/** `none`, or a comma-separated list of fault kinds (`partition,kill,pause,clock,loss,rate,delay`). @throws UsageError */
export function parseNemesis(spec: string): NemesisKind[] {
  const parts = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 1 && parts[0] === 'none') return [];
  if (parts.length === 0) throw new UsageError(`Cannot run: --nemesis must be none or a list of ${NEMESIS_KINDS.join(', ')}`);
  for (const p of parts) {
    if (!(NEMESIS_KINDS as readonly string[]).includes(p)) {
      throw new UsageError(`Cannot run: --nemesis must be none or a comma-separated list of ${NEMESIS_KINDS.join(', ')} (got "${p}")`);
    }
  }
  return [...new Set(parts)] as NemesisKind[];
}
