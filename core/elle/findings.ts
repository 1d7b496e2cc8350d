/**
 * Anomalies found without a cycle search (aborted reads, internal inconsistencies, …), counted per
 * class with the first few examples kept and explained in plain words.
 */
import type { NonCycleAnomaly } from './anomaly';
import type { Scalar } from './txn-history';

/** One instance of a non-cycle anomaly. */
export interface Finding {
  name: NonCycleAnomaly;
  /** Transactions involved (numbers in the TxnHistory). */
  txns: number[];
  key?: Scalar;
  /** What happened, in plain words, naming transactions and lines. */
  explanation: string;
}

/** Examples kept per anomaly class; the count covers all of them. */
export const EXAMPLES_PER_ANOMALY = 8;

export class Findings {
  readonly counts = new Map<NonCycleAnomaly, number>();
  readonly examples = new Map<NonCycleAnomaly, Finding[]>();

  /** Records one instance; `describe` runs only for the first few, so explanations cost nothing at scale. */
  add(name: NonCycleAnomaly, describe: () => Omit<Finding, 'name'>): void {
    const c = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, c);
    if (c > EXAMPLES_PER_ANOMALY) return;
    const list = this.examples.get(name) ?? [];
    list.push({ name, ...describe() });
    this.examples.set(name, list);
  }

  has(name: NonCycleAnomaly): boolean {
    return this.counts.has(name);
  }
}

/** A value as Jepsen prints it: lists in brackets, nil for null. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) {
    const items = v.length > 12 ? [...v.slice(0, 4).map(showValue), '…', ...v.slice(-6).map(showValue)] : v.map(showValue);
    return `[${items.join(' ')}]`;
  }
  return String(v as Scalar);
}
