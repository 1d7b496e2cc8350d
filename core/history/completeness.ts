import { HistoryColumns } from './columns';
import type { Op } from './operation';

export interface SequenceGap {
  node: string;
  from: number;
  to: number;
}

/**
 * Missing per-publisher sequence numbers in a history whose events carry `node` and `seq` (ours do): each
 * publisher's events must be numbered 1..max with no hole. A hole means lost events, which can hide an anomaly
 * or fake one (a lost write makes a later read look impossible), so such a history cannot be judged.
 * Events without `node`/`seq` (Jepsen's, Porcupine's) prove nothing either way and are skipped.
 */
export function sequenceGaps(history: readonly Pick<Op, 'node' | 'seq'>[] | HistoryColumns): SequenceGap[] {
  const seen = new Map<string, Set<number>>();
  const note = (node: string, seq: number): void => {
    let s = seen.get(node);
    if (!s) seen.set(node, (s = new Set()));
    s.add(seq);
  };
  if (history instanceof HistoryColumns) {
    for (let i = 0; i < history.length; i++) {
      const node = history.nodeAt(i);
      const seq = history.seqAt(i);
      if (node >= 0 && !Number.isNaN(seq)) note(history.string(node), seq);
    }
  } else {
    for (const op of history) if (op.node !== undefined && op.seq !== undefined) note(op.node, op.seq);
  }
  const gaps: SequenceGap[] = [];
  for (const [node, seqs] of [...seen].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const max = Math.max(...seqs);
    let start: number | undefined;
    for (let n = 1; n <= max + 1; n++) {
      const missing = n <= max && !seqs.has(n);
      if (missing && start === undefined) start = n;
      if (!missing && start !== undefined) {
        gaps.push({ node, from: start, to: n - 1 });
        start = undefined;
      }
    }
  }
  return gaps;
}
