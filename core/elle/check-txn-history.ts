/**
 * The Elle-class transactional checker: history -> transactions -> inference (version orders, non-cycle
 * anomalies, ww/wr/rw edges) + process and real-time edges -> strongly connected components -> shortest
 * cycles per anomaly class -> verdict against a consistency model, with every anomaly explained.
 * Pure: no I/O. Soundness: an anomaly is reported only from observed facts; a cycle search that runs out
 * of budget makes the models it bears on `unknown`, never valid.
 */
import {
  CYCLE_ANOMALIES,
  impliedAnomalies,
  type AnomalyName,
  type CycleAnomaly,
} from './anomaly';
import {
  modelBoundary,
  type ConsistencyModel,
  type ModelBoundary,
} from './consistency-models';
import { classifyCycle, cycleSpec, findCycle, type FoundCycle, type SearchBudget } from './cycle-search';
import { renderCycleSvg } from './cycle-svg';
import {
  ALL_RELATIONS,
  EdgeList,
  buildDependencyGraph,
  countRelations,
  inducedSubgraph,
  relationName,
} from './dependency-graph';
import { explainCycle, type ExplainContext } from './explain';
import { EXAMPLES_PER_ANOMALY, Findings } from './findings';
import { inferListAppend } from './list-append-inference';
import { addProcessEdges, addRealtimeEdges } from './order-edges';
import { inferRwRegister } from './rw-register-inference';
import { versionInferences, type RwRegisterVersionOptions, type VersionInference } from './rw-register-versions';
import { stronglyConnectedComponents } from './scc';
import { FAIL, INFO, OK, buildTxnHistory, txnName, type TxnHistory, type TxnModel } from './txn-history';
import type { Op } from '../history/operation';

export interface ElleOptions {
  model: TxnModel;
  /** The model the verdict is about. */
  consistency: ConsistencyModel;
  /** Edge relaxations allowed to all cycle searches together; beyond it, unfinished searches mean `unknown`. */
  searchBudget?: number;
  /** rw-register: what the database is assumed to guarantee, from which version orders are inferred. */
  rwRegister?: RwRegisterVersionOptions;
}

/** One example of an anomaly: the transactions involved and the story in plain words. */
export interface AnomalyExample {
  txns: string[];
  /** Lines of explanation; for cycles, one line per edge. */
  explanation: string[];
  /** For cycles: the relation of each edge, txns[i] -> txns[i+1]. */
  relations?: string[];
  /** For cycles: file name of the SVG picture in the evidence. */
  picture?: string;
}

export interface ElleResult {
  valid: true | false | 'unknown';
  model: TxnModel;
  consistency: ConsistencyModel;
  /** Anomalies found (not those merely implied), most severe classes first. */
  anomalyTypes: AnomalyName[];
  anomalies: Partial<Record<AnomalyName, { count: number; examples: AnomalyExample[] }>>;
  /** Which models the history violates, which it may still satisfy, which we could not decide. */
  models: ModelBoundary;
  /** Cycle classes whose search did not finish (budget) or found only non-simple witnesses. */
  undecided: CycleAnomaly[];
  stats: {
    txns: number;
    ok: number;
    fail: number;
    info: number;
    keys: number;
    edges: Record<'ww' | 'wr' | 'rw' | 'process' | 'realtime', number>;
    components: number;
    largestComponent: number;
  };
  /** rw-register: how version orders were inferred (`initial-state` always; the rest as the options asked). */
  versionOrder?: { inferences: VersionInference[]; inferredOrders: number; cyclicKeys: unknown[] };
  warnings: string[];
}

/** The result plus the SVG pictures, keyed by file name (kept out of the JSON result). */
export interface ElleReport {
  result: ElleResult;
  pictures: { file: string; svg: string }[];
}

export const DEFAULT_SEARCH_BUDGET = 50_000_000;

/**
 * Checks a transactional history.
 * @throws HistoryFormatError for malformed transactions (with the line) or non-unique writes.
 */
export function checkTxnHistory(history: readonly Op[], opts: ElleOptions): ElleReport {
  const h = buildTxnHistory(history, opts.model);
  return checkTxns(h, opts);
}

/** As `checkTxnHistory`, from an already built `TxnHistory`. */
export function checkTxns(h: TxnHistory, opts: ElleOptions): ElleReport {
  const findings = new Findings();
  // Typically about one data edge per micro-op and a handful of process/real-time edges per transaction.
  const edges = new EdgeList(h.mopF.length + 8 * h.n);
  const ctx: ExplainContext = { h };
  const warnings: string[] = [];
  if (h.model === 'list-append') {
    ctx.listAppend = inferListAppend(h, findings, edges);
  } else {
    ctx.rwRegister = inferRwRegister(h, findings, edges, opts.rwRegister);
    const cyclic = ctx.rwRegister.versions.cyclicKeys;
    if (cyclic.length > 0) {
      warnings.push(
        `the version order inferred for ${cyclic.length} key(s) (${cyclic.slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}) has a cycle: the database does not meet the assumption (${versionInferences(opts.rwRegister).slice(1).join(', ')}) for them, so no edge was inferred from it there`,
      );
    }
    if (ctx.rwRegister.truncatedKeys.length > 0) {
      warnings.push(
        `rw edges from reads of nil were skipped for ${ctx.rwRegister.truncatedKeys.length} key(s) with too many readers × writers; fewer cycles can be found, none is invented`,
      );
    }
  }
  addProcessEdges(h, edges);
  addRealtimeEdges(h, edges);
  const g = buildDependencyGraph(h.n, edges);
  const sccs = stronglyConnectedComponents(g, ALL_RELATIONS);

  const budget: SearchBudget = { remaining: opts.searchBudget ?? DEFAULT_SEARCH_BUDGET };
  const cycles = new Map<CycleAnomaly, FoundCycle[]>();
  const cycleCounts = new Map<CycleAnomaly, number>();
  const undecided = new Set<CycleAnomaly>();
  const record = (c: FoundCycle, seenHere: Set<CycleAnomaly>): void => {
    const name = classifyCycle(c.relations);
    if (seenHere.has(name)) return;
    seenHere.add(name);
    cycleCounts.set(name, (cycleCounts.get(name) ?? 0) + 1);
    const list = cycles.get(name) ?? [];
    if (list.length < EXAMPLES_PER_ANOMALY) list.push(c);
    cycles.set(name, list);
  };
  const scratch = new Int32Array(h.n).fill(-1);
  // Largest components last: small ones are cheap and give the clearest examples.
  const order = sccs.members.map((_, i) => i).sort((a, b) => sccs.members[a]!.length - sccs.members[b]!.length);
  for (const c of order) {
    const members = sccs.members[c]!;
    const sub = inducedSubgraph(g, members, scratch);
    let present = 0;
    for (let i = 0; i < sub.adjRel.length; i++) present |= sub.adjRel[i]!;
    const seenHere = new Set<CycleAnomaly>();
    for (const name of CYCLE_ANOMALIES) {
      if ((cycles.get(name)?.length ?? 0) >= EXAMPLES_PER_ANOMALY) continue;
      const spec = cycleSpec(name);
      if ((present & spec.startRel) === 0 || (spec.mustInclude !== 0 && (present & spec.mustInclude) === 0)) continue;
      // Already settled here: a cycle found in this component implies this class.
      if ([...seenHere].some((s) => impliedAnomalies([s]).has(name))) continue;
      const outcome = findCycle(sub, spec, budget, (rels) => impliedAnomalies([classifyCycle(rels)]).has(name));
      const toGlobal = (fc: FoundCycle): FoundCycle => ({
        vertices: fc.vertices.map((v) => members[v]!),
        relations: fc.relations,
      });
      for (const o of outcome.others) record(toGlobal(o), seenHere);
      if (outcome.cycle) record(toGlobal(outcome.cycle), seenHere);
      else if (outcome.status === 'inconclusive' || outcome.status === 'out-of-budget') undecided.add(name);
    }
  }

  // Found anomalies, and the undecided classes that no found anomaly already settles.
  const found = new Map<AnomalyName, { count: number; examples: AnomalyExample[] }>();
  const pictures: { file: string; svg: string }[] = [];
  for (const name of CYCLE_ANOMALIES) {
    const list = cycles.get(name);
    if (!list) continue;
    const examples = list.map((c, i) => {
      const file = `${name}-${i + 1}.svg`;
      if (i < 3) {
        pictures.push({ file, svg: renderCycleSvg(h, `${name}: ${c.vertices.map((t) => txnName(h, t)).join(' → ')}`, c.vertices, c.relations) });
      }
      const ex: AnomalyExample = {
        txns: c.vertices.map((t) => txnName(h, t)),
        explanation: explainCycle(ctx, name, c.vertices, c.relations),
        relations: c.relations.map(relationName),
      };
      if (i < 3) ex.picture = file;
      return ex;
    });
    found.set(name, { count: cycleCounts.get(name) ?? list.length, examples });
  }
  for (const [name, count] of findings.counts) {
    const examples = (findings.examples.get(name) ?? []).map((f) => ({
      txns: f.txns.map((t) => txnName(h, t)),
      explanation: [f.explanation],
    }));
    found.set(name, { count, examples });
  }
  const foundAll = impliedAnomalies(found.keys());
  const stillUndecided = [...undecided].filter((u) => !foundAll.has(u));
  const models = modelBoundary(found.keys(), stillUndecided);
  const valid: ElleResult['valid'] = models.violated.includes(opts.consistency)
    ? false
    : models.unknown.includes(opts.consistency)
      ? 'unknown'
      : true;

  const severity = (a: AnomalyName): number => {
    const i = (CYCLE_ANOMALIES as readonly string[]).indexOf(a);
    return i >= 0 ? i : 100;
  };
  const anomalyTypes = [...found.keys()].sort((a, b) => severity(a) - severity(b) || a.localeCompare(b));
  const anomalies: ElleResult['anomalies'] = {};
  for (const a of anomalyTypes) anomalies[a] = found.get(a)!;
  let ok = 0;
  let fail = 0;
  let info = 0;
  for (let t = 0; t < h.n; t++) {
    const ty = h.type[t];
    if (ty === OK) ok++;
    else if (ty === FAIL) fail++;
    else if (ty === INFO) info++;
  }
  if (stillUndecided.length > 0) {
    warnings.push(
      `cycle search could not decide ${stillUndecided.join(', ')} (search budget ${opts.searchBudget ?? DEFAULT_SEARCH_BUDGET} edge steps, or only non-simple witnesses)`,
    );
  }
  return {
    result: {
      valid,
      model: h.model,
      consistency: opts.consistency,
      anomalyTypes,
      anomalies,
      models,
      undecided: stillUndecided,
      stats: {
        txns: h.n,
        ok,
        fail,
        info,
        keys: h.keys.length,
        edges: countRelations(g),
        components: sccs.members.length,
        largestComponent: sccs.members.reduce((m, c) => Math.max(m, c.length), 0),
      },
      ...(ctx.rwRegister
        ? { versionOrder: { inferences: versionInferences(opts.rwRegister), inferredOrders: ctx.rwRegister.versions.orderCount, cyclicKeys: ctx.rwRegister.versions.cyclicKeys } }
        : {}),
      warnings,
    },
    pictures,
  };
}
