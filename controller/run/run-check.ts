/**
 * Judges a run's history with every checker its workload names (core/checker/registry.ts), and writes their
 * evidence beside the results. The verdict is the worst of them. Linearizability is checked by streaming the
 * history file key by key (stream-check.ts: memory does not grow with the run's length); the other checkers read
 * the whole history.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { linearizableOutput, runChecker, worstValidity, type CheckerOptions, type CheckerOutput, type CheckerVerdict } from '../../core/checker/registry';
import type { Validity } from '../../core/checker';
import type { ModelName } from '../../core/models';
import type { Op } from '../../core/history/operation';
import type { Workload } from '../../core/workloads';
import type { ClockViolation } from '../rpc/agent-session';
import { readHistoryOps } from '../history-builder';
import type { SequenceGap } from '../history-collector';
import type { RunStore } from '../store';
import type { RunConfig } from './run-options';
import { checkHistoryFile, surveyHistory } from './stream-check';
import type { HistoryStats } from './history-stats';
import type { OnlineSummary } from '../online/online-check';

export type { HistoryStats } from './history-stats';

/** What results.json holds (extend, never rename). */
export interface RunVerdict {
  valid: Validity;
  reason?: string;
  gaps: SequenceGap[];
  stats?: HistoryStats;
  expectedSeq?: Record<string, number>;
  clockViolations?: ClockViolation[];
  /** Every checker the workload names, by name, in the registry's one result shape. */
  checks: Record<string, CheckerVerdict>;
  /**
   * What online checking found during the run (alerts are in online.jsonl), and whether it agrees with the final
   * checks: every anomaly found online is one the final check reports.
   */
  online?: OnlineSummary & { agrees: boolean; disagreements: string[] };
}

/** Writes a checker's evidence files under the run folder. */
function writeFiles(store: RunStore, out: CheckerOutput): void {
  for (const f of out.files) {
    const path = store.path(f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
  }
}

/**
 * A history with a sequence gap is incomplete, so the verdict is `unknown`: a lost completion could hide an
 * anomaly and a lost write could fake one. So is one whose clocks broke their bound, one that is malformed, and one
 * where nothing completed with a known outcome. Otherwise every checker of the workload decides.
 */
export async function checkRunHistory(
  historyPath: string,
  gaps: SequenceGap[],
  expectedSeq: Record<string, number>,
  config: RunConfig,
  workload: Workload,
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
  const checks: Record<string, CheckerVerdict> = {};
  let ops: Op[] | undefined;
  const uses = workload.checkers({ keyCount: config.keyCount, keyPeriodNanos: config.keyPeriodMs * 1e6 });
  for (const use of uses) {
    const options: CheckerOptions = { ...(use.options as CheckerOptions | undefined), timeLimitMs: config.checkTimeLimitMs };
    let out: CheckerOutput;
    if (use.name === 'linearizable') {
      const result = await checkHistoryFile(historyPath, survey, { model: (options.model ?? 'etcd-register') as ModelName, timeLimitMs: config.checkTimeLimitMs });
      out = linearizableOutput(result);
    } else {
      ops ??= await readAll(historyPath);
      out = await runChecker(use.name, ops, options);
    }
    writeFiles(store, out);
    checks[use.name] = out.verdict;
  }
  return { valid: worstValidity(Object.values(checks)), gaps, stats, expectedSeq, checks };
}

async function readAll(historyPath: string): Promise<Op[]> {
  const ops: Op[] = [];
  for await (const op of readHistoryOps(historyPath)) ops.push(op);
  return ops;
}
