/**
 * Test plans: `faultline run PLAN.yaml` reads the same names as the flags (`time-limit: 40`, `db-opt:
 * {wait: "1"}`), and `faultline run --replay RUN_DIR` turns a stored run's plan.json back into run options with
 * its seed. Flags given on the command line override both.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../../core/errors';
import type { RunConfig, RunOptions } from './run-options';

/** Plan keys (the flags' names, without dashes) and the RunOptions field each sets. */
export const PLAN_KEYS: Readonly<Record<string, keyof RunOptions>> = {
  db: 'db',
  workload: 'workload',
  'time-limit': 'timeLimit',
  concurrency: 'concurrency',
  rate: 'rate',
  nemesis: 'nemesis',
  'nemesis-interval': 'nemesisInterval',
  'nemesis-target': 'nemesisTarget',
  'partition-shape': 'partitionShape',
  'partition-target': 'partitionTarget',
  'clock-strategy': 'clockStrategy',
  nodes: 'nodes',
  'lab-prefix': 'labPrefix',
  nats: 'nats',
  'read-consistency': 'readConsistency',
  seed: 'seed',
  store: 'store',
  'recovery-time': 'recoveryTime',
  'op-timeout': 'opTimeout',
  keys: 'keys',
  'key-period': 'keyPeriod',
  'check-time-limit': 'checkTimeLimit',
  'db-opt': 'dbOpt',
  isolation: 'isolation',
};

const NUMERIC = new Set<keyof RunOptions>(['timeLimit', 'concurrency', 'rate', 'nemesisInterval', 'seed', 'recoveryTime', 'opTimeout', 'keys', 'keyPeriod', 'checkTimeLimit']);

/**
 * The options a plan file sets. `db-opt` may be a map or a list of KEY=VALUE; `nemesis` a list or a comma list.
 * @throws UsageError naming the file and the bad key or value.
 */
export function readPlanFile(path: string): Partial<RunOptions> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`Cannot read plan "${path}": no such file`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`Cannot read plan "${path}": not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`Cannot read plan "${path}": expected a map of option names to values`);
  const out: Partial<Record<keyof RunOptions, unknown>> = {};
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const field = PLAN_KEYS[key];
    if (!field || !Object.hasOwn(PLAN_KEYS, key)) throw new UsageError(`Cannot read plan "${path}": unknown key "${key}" (plans take ${Object.keys(PLAN_KEYS).join(', ')})`);
    if (field === 'dbOpt') {
      if (Array.isArray(value)) out.dbOpt = value.map(String);
      else if (value !== null && typeof value === 'object') out.dbOpt = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`);
      else throw new UsageError(`Cannot read plan "${path}": db-opt must be a map (wait: 1) or a list of KEY=VALUE`);
    } else if (field === 'nemesis' && Array.isArray(value)) {
      out.nemesis = value.map(String).join(',');
    } else if (NUMERIC.has(field)) {
      if (typeof value !== 'number') throw new UsageError(`Cannot read plan "${path}": ${key} must be a number, got ${JSON.stringify(value)}`);
      out[field] = value;
    } else {
      if (typeof value !== 'string' && typeof value !== 'number') throw new UsageError(`Cannot read plan "${path}": ${key} must be a string, got ${JSON.stringify(value)}`);
      out[field] = String(value);
    }
  }
  return out as Partial<RunOptions>;
}

/** What plan.json holds beyond the resolved config: the node spec as given, so a replay finds the same lab. */
export interface StoredPlan extends Omit<RunConfig, 'nodes'> {
  runId: string;
  nodeSpec?: RunConfig['nodes'];
}

/** The run options that repeat a stored run: same database, workload, options, faults and seed. @throws UsageError */
export function readReplay(runDir: string): Partial<RunOptions> {
  const path = join(runDir, 'plan.json');
  if (!existsSync(path)) throw new UsageError(`Cannot replay "${runDir}": it has no plan.json (is it a run folder?)`);
  let p: StoredPlan;
  try {
    p = JSON.parse(readFileSync(path, 'utf8')) as StoredPlan;
  } catch (err) {
    throw new UsageError(`Cannot replay "${runDir}": plan.json is not JSON: ${(err as Error).message}`);
  }
  if (typeof p.db !== 'string' || typeof p.workload !== 'string' || typeof p.seed !== 'number') throw new UsageError(`Cannot replay "${runDir}": plan.json lacks db, workload or seed`);
  const out: Partial<RunOptions> = {
    db: p.db,
    workload: p.workload,
    timeLimit: p.timeLimitMs / 1000,
    concurrency: p.concurrency,
    rate: p.rateHz,
    nemesis: p.nemesis.length > 0 ? p.nemesis.join(',') : 'none',
    nemesisInterval: p.nemesisIntervalMs / 1000,
    partitionShape: p.partitionShape,
    clockStrategy: p.clockStrategy,
    readConsistency: p.readConsistency,
    seed: p.seed,
    recoveryTime: p.recoveryMs / 1000,
    opTimeout: p.opTimeoutMs,
    keys: p.keyCount,
    keyPeriod: p.keyPeriodMs / 1000,
    checkTimeLimit: p.checkTimeLimitMs / 1000,
    dbOpt: Object.entries(p.dbOptions ?? {}).map(([k, v]) => `${k}=${v}`),
  };
  if (p.partitionTarget !== undefined) out.partitionTarget = p.partitionTarget;
  if (p.nemesisTarget !== undefined) out.nemesisTarget = p.nemesisTarget;
  if (p.nodeSpec?.lab) {
    out.nodes = 'lab';
    out.labPrefix = p.nodeSpec.prefix;
  }
  return out;
}
