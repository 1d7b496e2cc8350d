import { writeFileSync } from 'node:fs';
import { renderEvidenceHtml, type CheckResult, type Validity } from '../../core/checker';
import type { ClockViolation } from '../agent-session';
import type { SequenceGap } from '../history-collector';
import type { RunStore } from '../store';
import type { RunConfig } from './run-options';
import { checkHistoryFile, surveyHistory } from './stream-check';

export interface HistoryStats {
  events: number;
  invokes: number;
  ok: number;
  fail: number;
  info: number;
  /** Invocations with no completion at all (cut off). */
  open: number;
  nemesisEvents: number;
  /** Client events per node. */
  byNode: Record<string, number>;
}

/** What results.json holds (extend, never rename). */
export interface RunVerdict {
  valid: Validity;
  reason?: string;
  gaps: SequenceGap[];
  stats?: HistoryStats;
  expectedSeq?: Record<string, number>;
  clockViolations?: ClockViolation[];
  checks: { linearizable?: CheckResult };
}

/**
 * Judges a run's history, streamed from `history.jsonl` (see stream-check.ts: memory does not grow with the run's
 * length). A history with a sequence gap is incomplete, so the verdict is `unknown`: a lost completion could hide
 * an anomaly and a lost write could fake one. Otherwise the per-key linearizability check decides, and its HTML
 * evidence is written next to the results when the history is not linearizable.
 */
export async function checkRunHistory(
  historyPath: string,
  gaps: SequenceGap[],
  expectedSeq: Record<string, number>,
  config: RunConfig,
  store: RunStore,
  clockViolations: ClockViolation[] = [],
): Promise<RunVerdict> {
  const survey = await surveyHistory(historyPath);
  const stats = survey.stats;
  if (clockViolations.length > 0) {
    // A timestamp may be off by more than its stated uncertainty: real-time order could be wrong either way.
    const nodes = [...new Set(clockViolations.map((v) => v.node))].join(', ');
    return { valid: 'unknown', reason: `clock drift beyond the assumed bound on ${nodes}: timestamps cannot be trusted`, gaps, stats, expectedSeq, clockViolations, checks: {} };
  }
  if (gaps.length > 0) {
    return { valid: 'unknown', reason: `history incomplete: ${gaps.length} sequence gap(s)`, gaps, stats, expectedSeq, checks: {} };
  }
  if (survey.malformed !== undefined) {
    // One completion per invoke, no completion without invoke: otherwise nothing can be judged.
    return { valid: 'unknown', reason: `history malformed: ${survey.malformed}`, gaps, stats, expectedSeq, checks: {} };
  }
  if (stats.ok + stats.fail === 0) {
    // Nothing completed with a known outcome (the DB never answered, or the workload died): that proves nothing.
    return { valid: 'unknown', reason: 'no operation completed with a known outcome: nothing to check', gaps, stats, expectedSeq, checks: {} };
  }
  const linearizable = await checkHistoryFile(historyPath, survey, { model: 'etcd-register', timeLimitMs: config.checkTimeLimitMs });
  const html = renderEvidenceHtml(linearizable);
  if (html !== undefined) writeFileSync(store.path('linearizability.html'), html);
  return { valid: linearizable.valid, gaps, stats, expectedSeq, checks: { linearizable } };
}
