/**
 * Transactional consistency models, how they relate, and which anomalies each one forbids (after Adya,
 * Bailis et al.'s "Highly Available Transactions", Cerone & Gotsman on snapshot isolation, and Elle).
 * Turning a set of found anomalies into a verdict is pure set arithmetic on these tables.
 */
import { impliedAnomalies, type AnomalyName } from './anomaly';

export const CONSISTENCY_MODELS = [
  'read-uncommitted',
  'read-committed',
  'monotonic-atomic-view',
  'repeatable-read',
  'snapshot-isolation',
  'serializable',
  'strong-session-snapshot-isolation',
  'strong-session-serializable',
  'strong-snapshot-isolation',
  'strict-serializable',
] as const;
export type ConsistencyModel = (typeof CONSISTENCY_MODELS)[number];

/** Other names users type for the same models (Adya's PL levels, Jepsen's spellings). */
const ALIASES: Readonly<Record<string, ConsistencyModel>> = {
  'PL-1': 'read-uncommitted',
  'PL-2': 'read-committed',
  'PL-2.99': 'repeatable-read',
  'PL-SI': 'snapshot-isolation',
  si: 'snapshot-isolation',
  'PL-3': 'serializable',
  'conflict-serializable': 'serializable',
  'PL-SS': 'strict-serializable',
  'strong-serializable': 'strict-serializable',
  mav: 'monotonic-atomic-view',
};

/** Direct implications between models: a history satisfying the key satisfies each listed model. */
const WEAKER: Readonly<Record<ConsistencyModel, readonly ConsistencyModel[]>> = {
  'strict-serializable': ['strong-session-serializable', 'strong-snapshot-isolation'],
  'strong-session-serializable': ['serializable', 'strong-session-snapshot-isolation'],
  'strong-snapshot-isolation': ['strong-session-snapshot-isolation'],
  'strong-session-snapshot-isolation': ['snapshot-isolation'],
  serializable: ['repeatable-read', 'snapshot-isolation'],
  'snapshot-isolation': ['monotonic-atomic-view'],
  'repeatable-read': ['monotonic-atomic-view'],
  'monotonic-atomic-view': ['read-committed'],
  'read-committed': ['read-uncommitted'],
  'read-uncommitted': [],
};

/**
 * Anomalies each model forbids in addition to those of the models it implies. A model forbids an anomaly
 * `a` when `a`, or anything `a` implies, is listed here for it or for a weaker model.
 * - `internal`, duplicate elements and garbage reads break every model: no isolation level lets a
 *   transaction miss its own writes, see one append twice, or read a value nobody wrote. Non-repeatable
 *   reads are legal under read committed, so they only refute repeatable read and snapshot isolation.
 * - monotonic-atomic-view adds nothing we can detect on its own yet (fractured reads are found as G-single
 *   or G1c only when they close a cycle), so it is refuted exactly when read committed is.
 */
const FORBIDS: Readonly<Record<ConsistencyModel, readonly AnomalyName[]>> = {
  'read-uncommitted': ['G0', 'internal', 'duplicate-elements', 'garbage-read'],
  'read-committed': ['G1'],
  'monotonic-atomic-view': [],
  'repeatable-read': ['G2-item', 'lost-update', 'non-repeatable-read'],
  'snapshot-isolation': ['G-single', 'G-nonadjacent', 'lost-update', 'non-repeatable-read'],
  serializable: ['G2'],
  'strong-session-snapshot-isolation': ['G1c-process', 'G-nonadjacent-process'],
  'strong-session-serializable': ['G1c-process', 'G2-process'],
  'strong-snapshot-isolation': ['G1c-realtime', 'G-nonadjacent-realtime'],
  'strict-serializable': ['G1c-realtime', 'G2-realtime'],
};

/**
 * Canonical model for a user-supplied name.
 * @throws RangeError naming the known models when `name` is not one.
 */
export function parseConsistencyModel(name: string): ConsistencyModel {
  if ((CONSISTENCY_MODELS as readonly string[]).includes(name)) return name as ConsistencyModel;
  const alias = ALIASES[name] ?? ALIASES[name.toLowerCase()];
  if (alias) return alias;
  throw new RangeError(`Cannot use consistency model "${name}": known models are ${CONSISTENCY_MODELS.join(', ')}`);
}

/** `model` and every model it implies. */
export function impliedModels(model: ConsistencyModel): Set<ConsistencyModel> {
  const out = new Set<ConsistencyModel>();
  const todo: ConsistencyModel[] = [model];
  while (todo.length > 0) {
    const m = todo.pop() as ConsistencyModel;
    if (out.has(m)) continue;
    out.add(m);
    todo.push(...WEAKER[m]);
  }
  return out;
}

/** Every anomaly listed as forbidden by `model` or a model it implies. */
export function forbiddenAnomalies(model: ConsistencyModel): Set<AnomalyName> {
  const out = new Set<AnomalyName>();
  for (const m of impliedModels(model)) for (const a of FORBIDS[m]) out.add(a);
  return out;
}

/** True when a history exhibiting `anomaly` cannot satisfy `model`. */
export function modelForbids(model: ConsistencyModel, anomaly: AnomalyName): boolean {
  const forbidden = forbiddenAnomalies(model);
  for (const a of impliedAnomalies([anomaly])) if (forbidden.has(a)) return true;
  return false;
}

/** Status of every model given what was found and which searches could not finish. */
export interface ModelBoundary {
  /** Models the history certainly violates. */
  violated: ConsistencyModel[];
  /** Weakest violated models (each violated model implies one of these or is one). */
  weakestViolated: ConsistencyModel[];
  /** Models not violated by what was found, but a search that ran out of budget might have refuted them. */
  unknown: ConsistencyModel[];
  /** Models no anomaly refutes and no unfinished search bears on. */
  possible: ConsistencyModel[];
  /** Strongest models in `possible`. */
  strongestPossible: ConsistencyModel[];
}

/** Sorts every model into violated / unknown / possible. */
export function modelBoundary(found: Iterable<AnomalyName>, unsearched: Iterable<AnomalyName>): ModelBoundary {
  const foundAll = impliedAnomalies(found);
  const unsearchedAll = impliedAnomalies(unsearched);
  const violated: ConsistencyModel[] = [];
  const unknown: ConsistencyModel[] = [];
  const possible: ConsistencyModel[] = [];
  for (const m of CONSISTENCY_MODELS) {
    const forbidden = forbiddenAnomalies(m);
    if ([...forbidden].some((a) => foundAll.has(a))) violated.push(m);
    else if ([...forbidden].some((a) => unsearchedAll.has(a))) unknown.push(m);
    else possible.push(m);
  }
  const strictlyStronger = (a: ConsistencyModel, b: ConsistencyModel): boolean => a !== b && impliedModels(a).has(b);
  return {
    violated,
    weakestViolated: violated.filter((m) => !violated.some((w) => strictlyStronger(m, w))),
    unknown,
    possible,
    strongestPossible: possible.filter((m) => !possible.some((s) => strictlyStronger(s, m))),
  };
}
