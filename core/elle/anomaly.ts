/**
 * The anomaly vocabulary of the transactional checker (Adya's G0…G2 and Elle's additions), and which
 * anomaly implies which: finding one also proves every anomaly it implies.
 */

/** Cycle anomalies over data edges only (ww, wr, rw), named after Adya and Elle. */
export const DATA_CYCLE_ANOMALIES = ['G0', 'G1c', 'G-single', 'G-nonadjacent', 'G2-item'] as const;
export type DataCycleAnomaly = (typeof DATA_CYCLE_ANOMALIES)[number];

/** A cycle anomaly, possibly needing process-order or real-time edges as well. */
export type CycleAnomaly = DataCycleAnomaly | `${DataCycleAnomaly}-process` | `${DataCycleAnomaly}-realtime`;

/** Every cycle anomaly the checker searches for, most severe first. */
export const CYCLE_ANOMALIES: readonly CycleAnomaly[] = [
  ...DATA_CYCLE_ANOMALIES,
  ...DATA_CYCLE_ANOMALIES.map((a) => `${a}-process` as const),
  ...DATA_CYCLE_ANOMALIES.map((a) => `${a}-realtime` as const),
];

/** Anomalies found without a cycle search: by tracing reads to writes, or within one transaction. */
export const NON_CYCLE_ANOMALIES = [
  'G1a', // aborted read
  'G1b', // intermediate read
  'internal', // a read does not show the transaction's own earlier writes
  'non-repeatable-read', // a read differs from the transaction's own earlier read of the key, with no write between
  'dirty-update', // a committed write was ordered after an aborted one
  'lost-update', // two committed transactions read the same version of a key and both wrote it
  'duplicate-elements', // a list read holds the same appended element twice
  'incompatible-order', // two list reads of a key are not prefixes of one another
  'garbage-read', // a read observed a value that no transaction ever wrote
  'future-read', // a transaction read a value that it only wrote later
] as const;
export type NonCycleAnomaly = (typeof NON_CYCLE_ANOMALIES)[number];

/** Anomalies that are only ever implied, never reported on their own (G2 needs predicates; G1 = G1a ∪ G1b ∪ G1c). */
export type ImpliedOnlyAnomaly = 'G1' | 'G2' | 'G2-process' | 'G2-realtime';

export type AnomalyName = CycleAnomaly | NonCycleAnomaly | ImpliedOnlyAnomaly;

/**
 * Direct implications: `a -> [b…]` means every history with `a` also has each `b`. The closure of this
 * relation is what models are checked against. Sources: Adya's definitions (G0 ⊂ G1c, G-single ⊂ G2,
 * G1 = G1a ∪ G1b ∪ G1c, G2-item ⊂ G2), process order ⊂ real-time order (a process is single-threaded), and
 * for our item-only histories every cycle with an anti-dependency is a G2-item.
 */
const IMPLIES: Readonly<Partial<Record<AnomalyName, readonly AnomalyName[]>>> = {
  G0: ['G1c', 'G0-process'],
  'G0-process': ['G1c-process', 'G0-realtime'],
  'G0-realtime': ['G1c-realtime'],
  G1a: ['G1'],
  G1b: ['G1'],
  G1c: ['G1', 'G1c-process'],
  'G1c-process': ['G1c-realtime'],
  'G-single': ['G-nonadjacent', 'G-single-process'],
  'G-single-process': ['G-nonadjacent-process', 'G-single-realtime'],
  'G-single-realtime': ['G-nonadjacent-realtime'],
  'G-nonadjacent': ['G2-item', 'G-nonadjacent-process'],
  'G-nonadjacent-process': ['G2-item-process', 'G-nonadjacent-realtime'],
  'G-nonadjacent-realtime': ['G2-item-realtime'],
  'G2-item': ['G2', 'G2-item-process'],
  'G2-item-process': ['G2-process', 'G2-item-realtime'],
  'G2-item-realtime': ['G2-realtime'],
  G2: ['G2-process'],
  'G2-process': ['G2-realtime'],
  // Two committed reads that cannot come from one version order: one of them saw a write that was undone.
  'incompatible-order': ['G1a'],
  // A committed write built on an aborted one: a dirty read by the writer.
  'dirty-update': ['G1a'],
  // Reading one's own later write is a one-transaction cycle T wr-> T.
  'future-read': ['G1c'],
  // Both read version v and both wrote: whichever came second anti-depends on the first (Adya: P4 ⊂ G2-item).
  'lost-update': ['G2-item'],
};

/** `names` together with every anomaly they imply. */
export function impliedAnomalies(names: Iterable<AnomalyName>): Set<AnomalyName> {
  const out = new Set<AnomalyName>();
  const todo = [...names];
  while (todo.length > 0) {
    const a = todo.pop() as AnomalyName;
    if (out.has(a)) continue;
    out.add(a);
    for (const b of IMPLIES[a] ?? []) todo.push(b);
  }
  return out;
}

/** Every anomaly whose presence implies `target` (including `target` itself). */
export function anomaliesImplying(target: AnomalyName): Set<AnomalyName> {
  const all = [...CYCLE_ANOMALIES, ...NON_CYCLE_ANOMALIES, 'G1', 'G2', 'G2-process', 'G2-realtime'] as AnomalyName[];
  return new Set(all.filter((a) => impliedAnomalies([a]).has(target)));
}

/** One-line descriptions for reports. */
export const ANOMALY_DESCRIPTIONS: Readonly<Record<AnomalyName, string>> = {
  G0: 'write cycle: transactions overwrote each other in a cycle (dirty write)',
  G1a: 'aborted read: a committed transaction read a write of a transaction that failed',
  G1b: 'intermediate read: a committed transaction read a value that its writer later overwrote in the same transaction',
  G1c: 'circular information flow: a cycle of write and read dependencies',
  G1: 'G1 (G1a, G1b or G1c)',
  'G-single': 'read skew: a dependency cycle with exactly one anti-dependency',
  'G-nonadjacent': 'a dependency cycle whose anti-dependencies are never adjacent (forbidden by snapshot isolation)',
  'G2-item': 'anti-dependency cycle on items (write skew when two anti-dependencies are adjacent)',
  G2: 'anti-dependency cycle',
  'G0-process': 'G0 once each process\'s own order is taken into account',
  'G1c-process': 'G1c once each process\'s own order is taken into account',
  'G-single-process': 'G-single once each process\'s own order is taken into account',
  'G-nonadjacent-process': 'G-nonadjacent once each process\'s own order is taken into account',
  'G2-item-process': 'G2-item once each process\'s own order is taken into account',
  'G2-process': 'G2 once each process\'s own order is taken into account',
  'G0-realtime': 'G0 once real-time order is taken into account',
  'G1c-realtime': 'G1c once real-time order is taken into account',
  'G-single-realtime': 'G-single once real-time order is taken into account (e.g. a stale read)',
  'G-nonadjacent-realtime': 'G-nonadjacent once real-time order is taken into account',
  'G2-item-realtime': 'G2-item once real-time order is taken into account',
  'G2-realtime': 'G2 once real-time order is taken into account',
  internal: 'internal inconsistency: a read does not show the transaction\'s own earlier writes',
  'non-repeatable-read': 'non-repeatable read: a transaction read a key twice and saw it change in between, though it did not write it',
  'dirty-update': 'dirty update: a committed write was ordered after a write of a failed transaction',
  'lost-update': 'lost update: two committed transactions read the same version of a key and both wrote it',
  'duplicate-elements': 'duplicate elements: a read shows the same appended element more than once',
  'incompatible-order': 'incompatible order: two reads of a key disagree on the order of its elements',
  'garbage-read': 'garbage read: a read observed a value that no transaction wrote',
  'future-read': 'future read: a transaction read a value that it wrote only later',
};
