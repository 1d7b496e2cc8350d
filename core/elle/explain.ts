/**
 * Plain-words explanations of dependency edges and cycles: each edge is justified from the operations
 * that created it ("T1 appended 3 to key 5 after T2 read key 5 without it, so T2 rw-precedes T1").
 */
import type { CycleAnomaly } from './anomaly';
import { ANOMALY_DESCRIPTIONS } from './anomaly';
import { PROCESS, REALTIME, RW, WR, WW, relationName } from './dependency-graph';
import { showValue } from './findings';
import type { ListAppendIndex } from './list-append-inference';
import type { RwRegisterIndex } from './rw-register-inference';
import { OK, READ, WRITE, txnLabel, txnName, type Scalar, type TxnHistory } from './txn-history';

/** What the explanations need: the history and what inference learned from it. */
export interface ExplainContext {
  h: TxnHistory;
  listAppend?: ListAppendIndex;
  rwRegister?: RwRegisterIndex;
}

/** One sentence saying why `a -rel-> b` holds. */
export function explainEdge(ctx: ExplainContext, a: number, b: number, rel: number): string {
  const { h } = ctx;
  const A = txnName(h, a);
  const B = txnName(h, b);
  const key = (k: number): string => showValue(h.keys[k]);
  if (rel === PROCESS) {
    return `${A} completed before ${B} began, both on process ${h.process[a]}, so ${A} precedes ${B} in process order`;
  }
  if (rel === REALTIME) {
    return `${A} completed (at the latest by t=${h.end[a]}) before ${B} was invoked (at the earliest t=${h.start[b]}), even allowing for clock uncertainty, so ${A} precedes ${B} in real time`;
  }
  const la = ctx.listAppend;
  if (la) {
    const writerOf = (k: number, x: Scalar): number => (la.writers[k]!.get(x) ?? -2) >> 1;
    if (rel === WW) {
      for (let i = h.mopStart[a]!; i < h.mopStart[a + 1]!; i++) {
        if (h.mopF[i] !== WRITE) continue;
        const k = h.mopKey[i]!;
        const order = la.orders[k];
        if (!order || la.excluded[k]) continue;
        const p = order.indexOf(h.mopValue[i] as Scalar);
        if (p >= 0 && p + 1 < order.length && writerOf(k, order[p + 1]!) === b) {
          return `${A} appended ${showValue(order[p])} to key ${key(k)} and ${B} appended ${showValue(order[p + 1])} right after it (key ${key(k)} was read as ${showValue(order)}), so ${A} ww-precedes ${B}`;
        }
      }
    } else if (rel === WR) {
      for (let i = h.mopStart[b]!; i < h.mopStart[b + 1]!; i++) {
        if (h.mopF[i] !== READ || h.type[b] !== OK) continue;
        const k = h.mopKey[i]!;
        const list = (h.mopValue[i] as Scalar[] | null) ?? [];
        let j = list.length - 1;
        while (j >= 0 && writerOf(k, list[j]!) === b) j--;
        if (j >= 0 && writerOf(k, list[j]!) === a) {
          return `${B} read key ${key(k)} = ${showValue(list)}, which includes ${showValue(list[j])}, appended by ${A}, so ${A} wr-precedes ${B} (${B} saw ${A}'s write)`;
        }
      }
    } else if (rel === RW) {
      for (let i = h.mopStart[a]!; i < h.mopStart[a + 1]!; i++) {
        if (h.mopF[i] !== READ || h.type[a] !== OK) continue;
        const k = h.mopKey[i]!;
        const order = la.orders[k];
        const list = (h.mopValue[i] as Scalar[] | null) ?? [];
        if (!order || la.excluded[k] || list.length >= order.length) continue;
        const next = order[list.length]!;
        if (writerOf(k, next) === b) {
          return `${A} read key ${key(k)} = ${showValue(list)} without ${showValue(next)}, which ${B} appended next (key ${key(k)} was later read as ${showValue(order)}), so ${A} rw-precedes ${B} (${A} did not see ${B}'s write)`;
        }
      }
    }
  }
  const rr = ctx.rwRegister;
  if (rr) {
    const inferred = rr.versions.reasons.get(`${a}>${b}>${rel}`);
    if (inferred !== undefined && (rel === WW || rel === RW)) return inferred;
    if (rel === WR) {
      for (let i = h.mopStart[b]!; i < h.mopStart[b + 1]!; i++) {
        if (h.mopF[i] !== READ) continue;
        const k = h.mopKey[i]!;
        const v = h.mopValue[i] as Scalar | null;
        if (v !== null && (rr.writers[k]!.get(v) ?? -2) >> 1 === a) {
          return `${B} read key ${key(k)} = ${showValue(v)}, which ${A} wrote, so ${A} wr-precedes ${B} (${B} saw ${A}'s write)`;
        }
      }
    } else if (rel === RW) {
      for (let i = h.mopStart[a]!; i < h.mopStart[a + 1]!; i++) {
        if (h.mopF[i] !== READ || h.mopValue[i] !== null) continue;
        const k = h.mopKey[i]!;
        for (let j = h.mopStart[b]!; j < h.mopStart[b + 1]!; j++) {
          if (h.mopF[j] === WRITE && h.mopKey[j] === k) {
            return `${A} read key ${key(k)} = nil (its initial state), yet ${B} wrote ${showValue(h.mopValue[j])} to it, so ${A} rw-precedes ${B} (${A} did not see ${B}'s write)`;
          }
        }
      }
    }
  }
  return `${A} ${relationName(rel)}-precedes ${B}`;
}

/** The cycle explained edge by edge, then why it is an anomaly. */
export function explainCycle(
  ctx: ExplainContext,
  name: CycleAnomaly,
  vertices: readonly number[],
  relations: readonly number[],
): string[] {
  const { h } = ctx;
  const lines: string[] = [];
  lines.push(`${name}: ${ANOMALY_DESCRIPTIONS[name]}.`);
  lines.push(`Transactions: ${vertices.map((t) => txnLabel(h, t)).join(', ')}.`);
  for (let i = 0; i < vertices.length; i++) {
    const a = vertices[i]!;
    const b = vertices[(i + 1) % vertices.length]!;
    lines.push(`  ${i + 1}. ${explainEdge(ctx, a, b, relations[i]!)}.`);
  }
  const first = txnName(h, vertices[0]!);
  const rw = relations.filter((r) => r === RW).length;
  const why =
    rw === 0
      ? 'no serial order can put each transaction after the ones whose writes it followed or saw'
      : rw === 1
        ? 'exactly one edge is an anti-dependency (a read that missed a write), and no snapshot can explain it'
        : 'every serial order breaks at least one of these dependencies';
  lines.push(`So ${first} would have to precede itself: a cycle, and ${why}.`);
  return lines;
}

/** Short tag for an edge in pictures: ww, wr, rw, process, realtime. */
export function edgeTag(rel: number): string {
  return relationName(rel);
}
