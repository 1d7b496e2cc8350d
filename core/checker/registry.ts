/**
 * The checker registry: every checker by name behind one result shape. `faultline check` and `faultline run` both
 * come here; a run composes every checker its workload names and its verdict is the worst of them. Adding a
 * checker is one entry in CHECKERS.
 */
import { checkTxnHistory } from '../elle/check-txn-history';
import { parseConsistencyModel, type ConsistencyModel } from '../elle/consistency-models';
import type { RwRegisterVersionOptions } from '../elle/rw-register-versions';
import { elleExplanationText, elleSummaryLines } from '../elle/summary';
import { HistoryFormatError, UsageError } from '../errors';
import type { Op } from '../history/operation';
import { MODEL_NAMES, type ModelName } from '../models';
import { TXN_MODELS } from './infer-model';
import { checkHistory, renderEvidenceHtml, type CheckResult, type Validity } from './index';
import { runInvariants, INVARIANT_CHECKERS, type InvariantCheckerName } from './invariant-check';
import { invariantAnomalies } from './invariant-summary';
import { mergeValidity, type ComposedResult } from './invariants';
import { linearizableSummaryLines } from './linearizable-summary';
import { checkLockHolders, lockHoldersSummaryLines } from './lock-holders';

/**
 * The one result shape: the verdict, the anomalies found (name -> count; empty when none), lines for people, and
 * the checker's own fields (evidence, lost elements, cycles, ...), all JSON. `error` when the checker itself failed
 * (then `valid` is unknown).
 */
export interface CheckerVerdict {
  checker: string;
  valid: Validity;
  anomalies: Record<string, number>;
  summary: string[];
  error?: string;
  [field: string]: unknown;
}

/** A file of evidence to write beside the results (path relative to the run or evidence folder). */
export interface EvidenceFile {
  path: string;
  content: string;
}

export interface CheckerOutput {
  verdict: CheckerVerdict;
  files: EvidenceFile[];
}

/** Options any checker may read; each ignores what means nothing to it. */
export interface CheckerOptions {
  /** linearizable: the model (register, cas-register, etcd-register, mutex, ...). */
  model?: string;
  /** Values are Jepsen [key value] tuples, checked per key. */
  independent?: boolean;
  timeLimitMs?: number;
  /** linearizable: the model's initial state; counter: the counter's start. */
  init?: unknown;
  /** bank: the total every read must sum to, and the account names. */
  total?: number;
  accounts?: string[];
  /** set-full: a stale read is an error too. */
  linearizableSet?: boolean;
  /** list-append / rw-register: the consistency model the verdict is about. */
  consistency?: string;
  /** linearizable (register, cas-register): an ok read of nil constrains nothing, as in Knossos. */
  knossosNil?: boolean;
  /** rw-register: version-order assumptions (--wfr-keys, --sequential-keys, --linearizable-keys). */
  rwRegister?: RwRegisterVersionOptions;
}

export interface Checker {
  readonly name: string;
  readonly description: string;
  /**
   * @throws HistoryFormatError for malformed histories (bad input), UsageError for invalid options. A checker
   *   that fails otherwise returns `valid: 'unknown'` with `error` (Jepsen check-safe).
   */
  check(history: readonly Op[], options: CheckerOptions): Promise<CheckerOutput>;
}

/** The consistency model Elle checks when none is named (Elle's default too). */
export const DEFAULT_CONSISTENCY: ConsistencyModel = 'strict-serializable';

const linearizable: Checker = {
  name: 'linearizable',
  description: `linearizability against a model (${MODEL_NAMES.join(', ')}), key by key`,
  async check(history, o) {
    const model = (o.model ?? 'cas-register') as ModelName;
    if (!(MODEL_NAMES as readonly string[]).includes(model)) throw new UsageError(`Cannot check: unknown model "${String(o.model)}" (expected one of ${MODEL_NAMES.join(', ')})`);
    const result = await checkHistory(history as Op[], {
      model,
      ...(o.independent ? { independent: true } : {}),
      ...(o.timeLimitMs !== undefined ? { timeLimitMs: o.timeLimitMs } : {}),
      ...(o.init !== undefined ? { init: o.init } : {}),
      ...(o.knossosNil ? { knossosNil: true } : {}),
    });
    return linearizableOutput(result);
  },
};

/** The registry's shape of a linearizability result (also used by the run's streaming check of huge histories). */
export function linearizableOutput(result: CheckResult): CheckerOutput {
  const html = renderEvidenceHtml(result);
  const anomalies: Record<string, number> = result.invalidKeys.length > 0 ? { nonlinearizable: result.invalidKeys.length } : {};
  return {
    verdict: { ...result, checker: 'linearizable', anomalies, summary: linearizableSummaryLines(result) },
    files: html !== undefined ? [{ path: 'linearizability.html', content: html }] : [],
  };
}

function invariant(name: InvariantCheckerName, description: string): Checker {
  return {
    name,
    description,
    async check(history, o) {
      await Promise.resolve();
      const report = runInvariants(history, {
        checkers: [name],
        ...(typeof o.init === 'number' ? { counterInit: o.init } : {}),
        ...(o.total !== undefined || o.accounts !== undefined ? { bank: { ...(o.total !== undefined ? { total: o.total } : {}), ...(o.accounts ? { accounts: o.accounts } : {}) } } : {}),
        ...(o.linearizableSet ? { linearizableSet: true } : {}),
        ...(o.independent ? { independent: true } : {}),
      });
      const r = report.result;
      let anomalies: Record<string, number> = {};
      let fields: Record<string, unknown>;
      if (r.checker === 'independent') {
        // Per key: anomalies summed over the keys.
        for (const k of Object.values(r.keys)) for (const [a, n] of Object.entries(invariantAnomalies(name, k.results[name]!))) anomalies[a] = (anomalies[a] ?? 0) + n;
        const summary = r.results[name]!;
        const keys = Object.fromEntries(Object.entries(r.keys).map(([k, c]) => [k, c.results[name]]));
        fields = { keyCount: summary.keyCount, invalidKeys: summary.invalidKeys, unknownKeys: summary.unknownKeys, ...keyTotals(Object.values(keys)), keys };
      } else {
        const one = (r as ComposedResult).results[name]!;
        anomalies = invariantAnomalies(name, one);
        fields = { ...one };
      }
      const verdict: CheckerVerdict = { ...fields, checker: name, valid: r.valid, anomalies, summary: [report.head, ...report.lines] };
      return { verdict, files: [] };
    },
  };
}

/**
 * Over all keys of a keyed invariant result: each `...Count` and `...Amount` summed and the `lost` elements (a
 * sample per key; elements are unique across keys) together, so `checks.set-full.lostCount` and `.lost`, or
 * `checks.counter.lostAmount`, say what was lost without a walk per key.
 */
function keyTotals(perKey: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const lost: unknown[] = [];
  for (const k of perKey) {
    if (k === null || typeof k !== 'object') continue;
    for (const [field, v] of Object.entries(k as Record<string, unknown>)) {
      if ((field.endsWith('Count') || field.endsWith('Amount')) && typeof v === 'number') out[field] = ((out[field] as number | undefined) ?? 0) + v;
      if (field === 'lost' && Array.isArray(v)) lost.push(...(v as unknown[]));
    }
  }
  if ('lostCount' in out) out['lost'] = lost;
  return out;
}

function elle(model: (typeof TXN_MODELS)[number]): Checker {
  return {
    name: model,
    description: `Elle: transactional anomalies in ${model} histories, against a consistency model (default ${DEFAULT_CONSISTENCY})`,
    async check(history, o) {
      await Promise.resolve();
      const consistency = parseConsistencyModel(o.consistency ?? DEFAULT_CONSISTENCY);
      const { result, pictures } = checkTxnHistory(history, { model, consistency, ...(model === 'rw-register' && o.rwRegister ? { rwRegister: o.rwRegister } : {}) });
      const { anomalies: found, ...rest } = result;
      const anomalies = Object.fromEntries(result.anomalyTypes.map((a) => [a, found[a]!.count]));
      const examples = Object.fromEntries(result.anomalyTypes.map((a) => [a, found[a]!.examples]));
      const files: EvidenceFile[] = [];
      if (result.valid !== true || result.anomalyTypes.length > 0) {
        files.push({ path: 'elle/results.json', content: `${JSON.stringify(result, null, 2)}\n` });
        files.push({ path: 'elle/explanation.txt', content: elleExplanationText(result) });
        for (const p of pictures) files.push({ path: `elle/${p.file}`, content: p.svg });
      }
      return { verdict: { ...rest, checker: model, anomalies, examples, summary: elleSummaryLines(result) }, files };
    },
  };
}

const lockHolders: Checker = {
  name: 'lock-holders',
  description: 'lock-holders: no two processes hold one lock at once (acquire ok until the next release), naming both acquires',
  async check(history) {
    await Promise.resolve();
    const r = checkLockHolders(history);
    const anomalies: Record<string, number> = r.overlaps > 0 ? { 'two-holders': r.overlaps } : {};
    return { verdict: { ...r, checker: 'lock-holders', anomalies, summary: lockHoldersSummaryLines(r) }, files: [] };
  },
};

const ALL: readonly Checker[] = [
  linearizable,
  invariant('set-full', 'set-full: every acknowledged add is read, and stays (lost, stale, unexpected, duplicated elements)'),
  invariant('counter', 'counter: every read lies between the increments certainly and possibly applied'),
  invariant('bank', 'bank: every read of all balances sums to the total; no negative or nil balance'),
  invariant('total-queue', 'total-queue: every acknowledged enqueue is dequeued exactly once'),
  invariant('unique-ids', 'unique-ids: no id is handed out twice'),
  elle('list-append'),
  elle('rw-register'),
  lockHolders,
];

export const CHECKERS: ReadonlyMap<string, Checker> = new Map(ALL.map((c) => [c.name, c]));
export const CHECKER_NAMES: readonly string[] = ALL.map((c) => c.name);

/** The checker named `name`. @throws UsageError naming the checkers that exist. */
export function getChecker(name: string): Checker {
  const c = CHECKERS.get(name);
  if (!c) throw new UsageError(`Cannot check: unknown checker "${name}" (the registry has ${CHECKER_NAMES.join(', ')})`);
  return c;
}

/** Runs one checker; a crash that is not bad input becomes `unknown` with its error (Jepsen check-safe). */
export async function runChecker(name: string, history: readonly Op[], options: CheckerOptions): Promise<CheckerOutput> {
  const checker = getChecker(name);
  try {
    return await checker.check(history, options);
  } catch (err) {
    if (err instanceof UsageError || err instanceof HistoryFormatError || err instanceof RangeError) throw err;
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { verdict: { checker: name, valid: 'unknown', anomalies: {}, summary: [`${name}: unknown: the checker failed: ${error}`], error }, files: [] };
  }
}

/** Jepsen's merge-valid over verdicts: false dominates, then unknown, then true; no verdict at all is unknown. */
export function worstValidity(verdicts: readonly { valid: Validity }[]): Validity {
  return verdicts.length === 0 ? 'unknown' : mergeValidity(verdicts.map((v) => v.valid));
}

export { INVARIANT_CHECKERS };
