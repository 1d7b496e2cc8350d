/**
 * Version orders of read-write registers as Elle infers them, each under an assumption the user states about
 * the database (Elle's `:sequential-keys?`, `:linearizable-keys?`, `:wfr-keys?`). Without any, the only order
 * every execution agrees on is that the initial nil comes first (`rw-register-inference.ts`). Each inferred
 * order `a < b` of key k yields `writer(a) -ww-> writer(b)` and `reader(a) -rw-> writer(b)`.
 *
 * - wfr-keys: within a transaction, writes follow reads: a transaction that read k = a and then wrote k = b
 *   installed b after a.
 * - sequential-keys: each key is sequentially consistent: the versions one process observes of a key (its reads,
 *   its writes), in its own order, follow the version order. Implies wfr within each transaction.
 * - linearizable-keys: each key is linearizable: a transaction that began after another one ended observes or
 *   installs a version of each key no older than the one the earlier one observed or installed. Implies wfr.
 *
 * Only committed (ok) transactions' observations are used. If the inferred order of a key has a cycle, the
 * database does not meet the assumption for that key: its inferred edges are dropped and a warning says so, so
 * a broken assumption never invents an anomaly.
 */
import { EdgeList, RW, WW } from './dependency-graph';
import { showValue } from './findings';
import { FAIL, OK, WRITE, txnLabel, type Scalar, type TxnHistory } from './txn-history';

/** How the version order of rw-register keys is inferred; `initial-state` always applies. */
export type VersionInference = 'initial-state' | 'sequential-keys' | 'linearizable-keys' | 'wfr-keys';

export interface RwRegisterVersionOptions {
  sequentialKeys?: boolean;
  linearizableKeys?: boolean;
  wfrKeys?: boolean;
}

/** The inferences named by the options, `initial-state` first. */
export function versionInferences(o: RwRegisterVersionOptions = {}): VersionInference[] {
  const out: VersionInference[] = ['initial-state'];
  if (o.sequentialKeys) out.push('sequential-keys');
  if (o.linearizableKeys) out.push('linearizable-keys');
  if (o.wfrKeys) out.push('wfr-keys');
  return out;
}

/** What each inference assumes, in a few words. */
export const VERSION_INFERENCE_DESCRIPTIONS: Readonly<Record<VersionInference, string>> = {
  'initial-state': 'every key starts at nil',
  'sequential-keys': 'each process sees each key\'s versions in order',
  'linearizable-keys': 'a transaction sees each key no older than one that finished before it began',
  'wfr-keys': 'a transaction\'s write of a key follows the version it read',
};

/** Per ok transaction and key: the version it read first (before writing the key) and the one it installed. */
interface Observation {
  t: number;
  k: number;
  read: Scalar | undefined;
  write: Scalar | undefined;
}

function observations(h: TxnHistory): Observation[] {
  const out: Observation[] = [];
  const at = new Map<number, Observation>();
  for (let t = 0; t < h.n; t++) {
    if (h.type[t] !== OK) continue;
    at.clear();
    for (let i = h.mopStart[t]!; i < h.mopStart[t + 1]!; i++) {
      const k = h.mopKey[i]!;
      let o = at.get(k);
      if (!o) {
        o = { t, k, read: undefined, write: undefined };
        at.set(k, o);
        out.push(o);
      }
      const v = h.mopValue[i];
      if (h.mopF[i] === WRITE) o.write = v as Scalar;
      else if (o.write === undefined && o.read === undefined && v !== null) o.read = v as Scalar;
    }
  }
  return out;
}

/** The newest version an observation leaves the key at, as far as its transaction saw. */
const latest = (o: Observation): Scalar | undefined => o.write ?? o.read;

export interface VersionOrderOutcome {
  /** Keys whose inferred version order had a cycle (edges dropped). */
  cyclicKeys: Scalar[];
  /** Why each inferred data edge holds, keyed `${from}>${to}>${relation}`, for explanations. */
  reasons: Map<string, string>;
  /** Inferred version-order pairs (across all keys). */
  orderCount: number;
}

/**
 * Infers version orders under the given assumptions and adds the ww and rw edges they imply.
 * @param writers - per key: value -> writer × 2 + 1 when it is the writer's last write of the key.
 */
export function addVersionOrderEdges(h: TxnHistory, writers: readonly Map<Scalar, number>[], opts: RwRegisterVersionOptions, edges: EdgeList): VersionOrderOutcome {
  const outcome: VersionOrderOutcome = { cyclicKeys: [], reasons: new Map(), orderCount: 0 };
  if (!opts.wfrKeys && !opts.sequentialKeys && !opts.linearizableKeys) return outcome;
  const obs = observations(h);
  // Per key: a -> (b -> why).
  const order: Map<Scalar, Map<Scalar, VersionInference>>[] = Array.from({ length: h.keys.length }, () => new Map());
  const add = (k: number, a: Scalar | undefined, b: Scalar | undefined, why: VersionInference): void => {
    if (a === undefined || b === undefined || a === b) return;
    let m = order[k]!.get(a);
    if (!m) order[k]!.set(a, (m = new Map()));
    if (!m.has(b)) m.set(b, why);
  };
  const within: VersionInference | undefined = opts.wfrKeys ? 'wfr-keys' : opts.sequentialKeys ? 'sequential-keys' : opts.linearizableKeys ? 'linearizable-keys' : undefined;
  if (within) for (const o of obs) add(o.k, o.read, o.write, within);
  if (opts.sequentialKeys) {
    // Per process and key, the last version seen; observations come in transaction (invocation) order.
    const last = new Map<string, Scalar>();
    for (const o of obs) {
      const id = `${h.process[o.t]!}\u0000${o.k}`;
      const prev = last.get(id);
      if (prev !== undefined) {
        add(o.k, prev, o.read, 'sequential-keys');
        if (o.read === undefined) add(o.k, prev, o.write, 'sequential-keys');
      }
      const now = latest(o);
      if (now !== undefined) last.set(id, now);
    }
  }
  if (opts.linearizableKeys) addRealtimeVersionOrder(h, obs, add);

  const label = (t: number): string => txnLabel(h, t);
  const readers = readersByVersion(h, obs);
  for (let k = 0; k < h.keys.length; k++) {
    const g = order[k]!;
    if (g.size === 0) continue;
    if (hasCycle(g)) {
      outcome.cyclicKeys.push(h.keys[k]!);
      continue;
    }
    const key = showValue(h.keys[k]);
    for (const [a, next] of g) {
      const ca = writers[k]!.get(a);
      for (const [b, why] of next) {
        outcome.orderCount++;
        const cb = writers[k]!.get(b);
        // Only installed versions have a place in the order: last writes of transactions that did not fail.
        if (cb === undefined || (cb & 1) === 0 || h.type[cb >> 1] === FAIL) continue;
        const wb = cb >> 1;
        const because = `by ${why} (${VERSION_INFERENCE_DESCRIPTIONS[why]}), version ${showValue(a)} of key ${key} precedes ${showValue(b)}`;
        if (ca !== undefined && (ca & 1) === 1 && h.type[ca >> 1] !== FAIL && ca >> 1 !== wb) {
          const wa = ca >> 1;
          edges.add(wa, wb, WW);
          outcome.reasons.set(`${wa}>${wb}>${WW}`, `${label(wa)} wrote key ${key} = ${showValue(a)} and ${label(wb)} wrote ${showValue(b)}; ${because}, so ${label(wa)} ww-precedes ${label(wb)}`);
        }
        for (const r of readers[k]!.get(a) ?? []) {
          if (r === wb) continue;
          edges.add(r, wb, RW);
          outcome.reasons.set(`${r}>${wb}>${RW}`, `${label(r)} read key ${key} = ${showValue(a)} and ${label(wb)} wrote ${showValue(b)}; ${because}, so ${label(r)} rw-precedes ${label(wb)} (it did not see that write)`);
        }
      }
    }
  }
  return outcome;
}

/** Per key: version -> ok transactions that read it from another transaction. */
function readersByVersion(h: TxnHistory, obs: readonly Observation[]): Map<Scalar, number[]>[] {
  const out: Map<Scalar, number[]>[] = Array.from({ length: h.keys.length }, () => new Map());
  for (const o of obs) {
    if (o.read === undefined) continue;
    const list = out[o.k]!.get(o.read);
    if (list) list.push(o.t);
    else out[o.k]!.set(o.read, [o.t]);
  }
  return out;
}

/**
 * Linearizable keys: per key, a transitive reduction of real-time order among the ok transactions touching it
 * (the frontier sweep of `addRealtimeEdges`); each predecessor's latest version precedes what the successor
 * read or, when it read nothing, wrote.
 */
function addRealtimeVersionOrder(h: TxnHistory, obs: readonly Observation[], add: (k: number, a: Scalar | undefined, b: Scalar | undefined, why: VersionInference) => void): void {
  const byKey = new Map<number, Observation[]>();
  for (const o of obs) {
    const l = byKey.get(o.k);
    if (l) l.push(o);
    else byKey.set(o.k, [o]);
  }
  for (const [k, list] of byKey) {
    // Events: 2i = start of list[i], 2i+1 = its end; starts before ends at equal times (strict precedence).
    const ev: number[] = [];
    for (let i = 0; i < list.length; i++) ev.push(2 * i, 2 * i + 1);
    const time = (e: number): number => (e & 1 ? h.end[list[e >> 1]!.t]! : h.start[list[e >> 1]!.t]!);
    ev.sort((x, y) => time(x) - time(y) || (x & 1) - (y & 1));
    let frontier: number[] = [];
    const preds: number[][] = new Array<number[]>(list.length);
    for (const e of ev) {
      const i = e >> 1;
      if ((e & 1) === 0) {
        preds[i] = frontier;
        const o = list[i]!;
        for (const p of frontier) {
          const a = latest(list[p]!);
          add(k, a, o.read ?? o.write, 'linearizable-keys');
        }
        continue;
      }
      const mine = new Set(preds[i]);
      frontier = frontier.filter((p) => !mine.has(p));
      frontier.push(i);
    }
  }
}

function hasCycle(g: Map<Scalar, Map<Scalar, unknown>>): boolean {
  const state = new Map<Scalar, 1 | 2>(); // 1 on the stack, 2 done
  for (const root of g.keys()) {
    if (state.has(root)) continue;
    const stack: [Scalar, Iterator<Scalar>][] = [[root, (g.get(root) ?? new Map<Scalar, unknown>()).keys()]];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const n = top[1].next();
      if (n.done) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const s = state.get(n.value);
      if (s === 1) return true;
      if (s === 2) continue;
      state.set(n.value, 1);
      stack.push([n.value, (g.get(n.value) ?? new Map<Scalar, unknown>()).keys()]);
    }
  }
  return false;
}
