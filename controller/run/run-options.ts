import { z } from 'zod';
import { DB_NAMES, findDatabase, resolveDbOptions, supportedPairs } from '../../core/databases';
import { UsageError } from '../../core/errors';
import { PARTITION_SHAPES as ALL_PARTITION_SHAPES, type PartitionShape } from '../../core/nemesis/grudge';
import { findWorkload, WORKLOAD_NAMES } from '../../core/workloads';
import { NEMESIS_KINDS, type NemesisKind } from '../nemesis/nemesis-schedule';
import { certsDirSecurity, INSECURE, type FleetAccess } from '../rpc/credentials';
import { readNodesFile } from './nodes-file';

/** Databases and workloads a run can name: straight from the registries in core. */
export const DBS = DB_NAMES;
export const WORKLOADS = WORKLOAD_NAMES;
/** `--nemesis`: `none`, or a comma-separated mix of these fault kinds, rotated over the run. */
export const NEMESES = ['none', ...NEMESIS_KINDS] as const;
export const CLOCK_STRATEGIES = ['faketime', 'system'] as const;
/** The shapes `--partition-shape` takes: every grudge shape core knows (one list for the whole program). */
export const PARTITION_SHAPES: readonly PartitionShape[] = ALL_PARTITION_SHAPES;
/** `--nemesis-target` for kill, pause and clock, and `--partition-target primary`: aimed when the fault starts. */
export const NEMESIS_TARGETS = ['one', 'minority', 'majority', 'all', 'primary'] as const;
/** `--isolation`: the SQL isolation levels by their flag names; a database's `isolation` option says which it has. */
export const ISOLATION_LEVELS = ['read-uncommitted', 'read-committed', 'repeatable-read', 'serializable'] as const;
export type NemesisTarget = (typeof NEMESIS_TARGETS)[number];

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
  nemesisTarget?: string;
  clockStrategy?: string;
  /** `--db-opt KEY=VALUE`, repeatable. */
  dbOpt?: string[];
  /** `--isolation`: the database's `isolation` option under a flag of its own. */
  isolation?: string;
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
  /** Seconds between run summaries (summaries.jsonl and the log). */
  summaryInterval?: number;
}

/** Every field resolved: what a run executes, and what plan.json records. */
export interface RunConfig {
  testName: string;
  db: string;
  workload: string;
  /** The database's options, every key resolved (defaults included), as its module will see them. */
  dbOptions: Record<string, string>;
  /** The transaction isolation level (the database's `isolation` option), when it has one. */
  isolation?: string;
  /** The statements the database's client runs for this workload (SQL databases), for the record. */
  statements?: readonly string[];
  timeLimitMs: number;
  concurrency: number;
  rateHz: number;
  /** Fault kinds to rotate through; empty for no nemesis. */
  nemesis: NemesisKind[];
  nemesisIntervalMs: number;
  clockStrategy: (typeof CLOCK_STRATEGIES)[number];
  partitionShape: PartitionShape;
  /** A node name, or `primary` (whichever node is primary when the fault starts); undefined: random. */
  partitionTarget: string | undefined;
  /** Whom kill, pause and clock faults hit; undefined: Jepsen's rotation (clock faults: among the DB server nodes). */
  nemesisTarget: NemesisTarget | undefined;
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
  summaryIntervalMs: number;
}

const oneOf = (flag: string, values: readonly string[]) =>
  z.string().refine((v) => values.includes(v), { error: (iss) => `${flag} must be one of ${values.join(', ')} (got "${String(iss.input)}")` });

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
  readConsistency: oneOf('--read-consistency', ['linearizable', 'serializable']),
  recoveryTime: z.number().min(0, { error: '--recovery-time must be >= 0' }),
  opTimeout: positive('--op-timeout'),
  keys: z.number().int().min(1, { error: '--keys must be at least 1' }),
  keyPeriod: positive('--key-period'),
  checkTimeLimit: positive('--check-time-limit'),
  summaryInterval: positive('--summary-interval').optional(),
});

/** Parses `n1=10.0.0.1:7701,n2=...` (agent address per node; the DB member listens on the same host). */
export function parseNodeList(spec: string): { name: string; agent: string; address: string }[] {
  return spec.split(',').map((part) => {
    const m = /^([A-Za-z0-9_-]+)=([^:,\s]+):(\d{1,5})$/.exec(part.trim());
    if (!m) throw new UsageError(`Cannot parse --nodes entry "${part}": expected NAME=HOST:PORT, e.g. n1=10.0.0.11:7701`);
    return { name: m[1]!, address: m[2]!, agent: `${m[2]!}:${m[3]!}` };
  });
}

/** Parses repeated `--db-opt KEY=VALUE`. @throws UsageError */
export function parseDbOpts(specs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)=(.*)$/.exec(spec.trim());
    if (!m) throw new UsageError(`Cannot run: --db-opt must be KEY=VALUE, got "${spec}"`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** @throws UsageError with a one-line message naming the bad option (and what exists). */
export function resolveRunOptions(opts: RunOptions): RunConfig {
  const parsed = schema.safeParse({ ...opts, partitionShape: opts.partitionShape ?? 'random-halves', clockStrategy: opts.clockStrategy ?? 'faketime' });
  if (!parsed.success) throw new UsageError(`Cannot run: ${parsed.error.issues[0]!.message}`);
  const o = parsed.data;
  const spec = findDatabase(o.db)!;
  const workload = findWorkload(o.workload)!;
  if (!spec.workloads.includes(workload.name)) {
    throw new UsageError(`Cannot run: ${o.db} has no client for the ${o.workload} workload; the pairs that exist are ${supportedPairs().join(', ')}`);
  }
  let dbOptions: Record<string, string>;
  try {
    const given = parseDbOpts(opts.dbOpt ?? []);
    // --read-consistency is etcd's read-consistency option under its old name.
    if (spec.options['read-consistency'] && given['read-consistency'] === undefined) given['read-consistency'] = o.readConsistency;
    if (opts.isolation !== undefined) {
      if (!(ISOLATION_LEVELS as readonly string[]).includes(opts.isolation)) {
        throw new UsageError(`Cannot run: --isolation must be one of ${ISOLATION_LEVELS.join(', ')} (got "${opts.isolation}")`);
      }
      const levels = spec.options['isolation'];
      if (!levels) throw new UsageError(`Cannot run: --isolation ${opts.isolation}: ${o.db} has no transaction isolation levels`);
      if (levels.validate(opts.isolation) !== undefined) {
        throw new UsageError(`Cannot run: --isolation ${opts.isolation}: ${o.db} does not offer it (${levels.validate(opts.isolation)!})`);
      }
      if (given['isolation'] !== undefined && given['isolation'] !== opts.isolation) {
        throw new UsageError(`Cannot run: --isolation ${opts.isolation} contradicts --db-opt isolation=${given['isolation']}`);
      }
      given['isolation'] = opts.isolation;
    }
    dbOptions = resolveDbOptions(spec, given);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(`Cannot run: ${err.message}`);
    throw err;
  }
  const nemesis = parseNemesis(opts.nemesis);
  if (nemesis.includes('clock') && o.clockStrategy === 'faketime' && !spec.abilities.includes('clock-faketime')) {
    throw new UsageError(`Cannot run: --nemesis clock: ${spec.faketimeRefusal ?? `${o.db} does not run under libfaketime`}`);
  }
  for (const kind of ['kill', 'pause'] as const) {
    if (nemesis.includes(kind) && !spec.abilities.includes(kind)) throw new UsageError(`Cannot run: --nemesis ${kind}: the ${o.db} module cannot ${kind} its members`);
  }
  if (opts.partitionTarget !== undefined && !['isolate', 'bridge', 'one-way', 'minority-third'].includes(o.partitionShape)) {
    throw new UsageError('Cannot run: --partition-target only applies to --partition-shape isolate, bridge, one-way or minority-third');
  }
  const wantsPrimary = opts.partitionTarget === 'primary' || opts.nemesisTarget === 'primary';
  if (wantsPrimary && !spec.abilities.includes('primary')) throw new UsageError(`Cannot run: the ${o.db} module cannot name its primary, so no fault can aim at it`);
  if (opts.nemesisTarget !== undefined && !(NEMESIS_TARGETS as readonly string[]).includes(opts.nemesisTarget)) {
    throw new UsageError(`Cannot run: --nemesis-target must be one of ${NEMESIS_TARGETS.join(', ')} (got "${opts.nemesisTarget}")`);
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
    const list = parseNodeList(opts.nodes);
    if (opts.insecure !== true && opts.certs === undefined) {
      throw new UsageError('Cannot run: an explicit --nodes list needs --certs DIR (made with "faultline certs") or --insecure');
    }
    const security = opts.insecure === true ? INSECURE : certsDirSecurity(opts.certs!);
    nodes = { lab: false, list, access: { security, nats: {} } };
  }
  if (!nodes.lab && !natsUrl) throw new UsageError('Cannot run: --nats URL is required with an explicit --nodes list');
  if (!Number.isInteger(opts.seed ?? 0) || (opts.seed ?? 0) < 0) throw new UsageError('Cannot run: --seed must be a non-negative integer');
  return {
    testName: `${o.db}-${o.workload}`,
    db: o.db,
    workload: o.workload,
    dbOptions,
    ...(dbOptions['isolation'] !== undefined ? { isolation: dbOptions['isolation'] } : {}),
    ...(spec.statements?.[workload.name] ? { statements: spec.statements[workload.name] } : {}),
    timeLimitMs: o.timeLimit * 1000,
    concurrency: o.concurrency,
    rateHz: o.rate,
    nemesis,
    nemesisIntervalMs: o.nemesisInterval * 1000,
    clockStrategy: o.clockStrategy as RunConfig['clockStrategy'],
    partitionShape: o.partitionShape as PartitionShape,
    partitionTarget: opts.partitionTarget,
    nemesisTarget: opts.nemesisTarget as NemesisTarget | undefined,
    nodes,
    readConsistency: o.readConsistency as RunConfig['readConsistency'],
    seed: opts.seed ?? Math.floor(Math.random() * 2 ** 31),
    storeDir: opts.store,
    natsUrl,
    recoveryMs: o.recoveryTime * 1000,
    opTimeoutMs: o.opTimeout,
    keyCount: o.keys,
    keyPeriodMs: o.keyPeriod * 1000,
    checkTimeLimitMs: o.checkTimeLimit * 1000,
    summaryIntervalMs: (opts.summaryInterval ?? 60) * 1000,
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
