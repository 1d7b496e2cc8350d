/**
 * Checks a run's `history.jsonl` for linearizability without holding it in memory, so that the end of an
 * hours-long soak costs about as much memory as the end of a short run. It relies on what makes linearizability
 * P-compositional: each key is checked on its own. The workload's keys rotate (`--key-period`), so at any point
 * of the timeline only a few keys are live.
 *
 * Pass 1 streams the file once: statistics, the structural check (every completion has an open invocation of
 * its process, as `pairOps` demands), and where each key's last event is. Pass 2 streams it again, buffering
 * each key's events until its last one has gone by; finished keys are checked in batches of about
 * `batchEvents` events with the same engine and per-key budgets as `faultline check`, and then dropped.
 */
import { checkHistory, type CheckResult, type KeySummary } from '../../core/checker';
import { HistoryFormatError } from '../../core/errors';
import type { ModelName } from '../../core/models';
import type { Op } from '../../core/history/operation';
import { OpPairer } from '../../core/history/pair';
import { readHistoryOps } from '../history-builder';
import type { HistoryStats } from './history-stats';

export const DEFAULT_BATCH_EVENTS = 100_000;

export interface HistorySurvey {
  stats: HistoryStats;
  /** The first structural problem found (a completion without invocation, ...): the history cannot be judged. */
  malformed?: string;
  /** Per key: the index of its last event and how many client invocations it has. */
  keys: Map<string, { last: number; invokes: number }>;
}

/** Key of a client op; ops without one form the single-object key '' (as the engine does). */
const keyOf = (op: Op): string => op.key ?? '';

/** Pass 1: statistics, structure and the extent of every key, in one streaming read. */
export async function surveyHistory(historyPath: string): Promise<HistorySurvey> {
  const stats: HistoryStats = { events: 0, invokes: 0, ok: 0, fail: 0, info: 0, open: 0, nemesisEvents: 0, byNode: {}, faults: {} };
  const keys = new Map<string, { last: number; invokes: number }>();
  const pairer = new OpPairer();
  let malformed: string | undefined;
  for await (const op of readHistoryOps(historyPath)) {
    stats.events++;
    if (op.process === 'nemesis') {
      stats.nemesisEvents++;
      if (op.type === 'ok' && op.f.startsWith('start-')) {
        const kind = op.f.slice('start-'.length);
        stats.faults![kind] = (stats.faults![kind] ?? 0) + 1;
      }
      continue;
    }
    if (op.node) stats.byNode[op.node] = (stats.byNode[op.node] ?? 0) + 1;
    if (op.type === 'invoke') stats.invokes++;
    else stats[op.type]++;
    const k = keys.get(keyOf(op)) ?? { last: op.index, invokes: 0 };
    k.last = op.index;
    if (op.type === 'invoke') k.invokes++;
    keys.set(keyOf(op), k);
    if (malformed === undefined) {
      try {
        pairer.add(op);
      } catch (err) {
        if (!(err instanceof HistoryFormatError)) throw err;
        malformed = err.message;
      }
    }
  }
  stats.open = stats.invokes - stats.ok - stats.fail - stats.info;
  return { stats, keys, ...(malformed !== undefined ? { malformed } : {}) };
}

function emptyResult(model: string): CheckResult {
  return { valid: true, model, opCount: 0, keyCount: 0, invalidKeys: [], unknownKeys: [], perKey: [], stats: { elapsedMs: 0, configurations: 0, backtracks: 0 } };
}

/** Adds one batch's result to the running total. */
function merge(total: CheckResult, r: CheckResult): void {
  total.opCount += r.opCount;
  total.keyCount += r.keyCount;
  total.invalidKeys.push(...r.invalidKeys);
  total.unknownKeys.push(...r.unknownKeys);
  total.perKey.push(...r.perKey);
  total.stats.configurations += r.stats.configurations;
  total.stats.backtracks += r.stats.backtracks;
  if (total.evidence === undefined && r.evidence !== undefined) total.evidence = r.evidence;
  if (total.error === undefined && r.error !== undefined) total.error = r.error;
}

/**
 * Pass 2: checks every key of the history file, batch by batch. Once a key is invalid the history is invalid and
 * the keys not yet searched are reported `unknown` ("not searched"), as the in-memory engine does; a key whose
 * search runs out of the time left is `unknown` too. Never a guess.
 */
export async function checkHistoryFile(
  historyPath: string,
  survey: HistorySurvey,
  opts: { model: ModelName; timeLimitMs: number; batchEvents?: number },
): Promise<CheckResult> {
  const t0 = Date.now();
  const deadline = t0 + opts.timeLimitMs;
  const batchEvents = opts.batchEvents ?? DEFAULT_BATCH_EVENTS;
  const total = emptyResult(opts.model);
  const buffers = new Map<string, Op[]>();
  let ready: Op[][] = [];
  let readyEvents = 0;
  const skipped = (keys: string[], reason: string): void => {
    for (const key of keys) {
      const summary: KeySummary = { key, valid: 'unknown', ops: survey.keys.get(key)?.invokes ?? 0, configurations: 0, reason };
      total.perKey.push(summary);
      total.unknownKeys.push(key);
      total.opCount += summary.ops;
      total.keyCount++;
    }
  };
  const flush = async (): Promise<void> => {
    if (ready.length === 0) return;
    const groups = ready;
    ready = [];
    readyEvents = 0;
    const keys = groups.map((g) => keyOf(g[0]!));
    if (total.invalidKeys.length > 0) return skipped(keys, 'not searched: another key is invalid');
    const left = deadline - Date.now();
    if (left <= 0) return skipped(keys, 'time-limit');
    // One batch, in history order, so that each process's events stay in its own order.
    const batch = groups.flat().sort((a, b) => a.index - b.index);
    merge(total, await checkHistory(batch, { model: opts.model, timeLimitMs: left }));
  };
  for await (const op of readHistoryOps(historyPath)) {
    if (op.process === 'nemesis') continue;
    const key = keyOf(op);
    let buf = buffers.get(key);
    if (buf === undefined) buffers.set(key, (buf = []));
    buf.push(op);
    if (survey.keys.get(key)?.last === op.index) {
      buffers.delete(key);
      ready.push(buf);
      readyEvents += buf.length;
      if (readyEvents >= batchEvents) await flush();
    }
  }
  // Keys whose last event the survey saw are all finished by now; anything left means the file changed between
  // the two passes, which must not pass silently.
  for (const buf of buffers.values()) ready.push(buf);
  await flush();
  if (buffers.size > 0) total.error = `history file changed while it was checked (${buffers.size} key(s) unfinished)`;
  total.perKey.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  total.invalidKeys.sort();
  total.unknownKeys.sort();
  total.valid = total.error !== undefined ? 'unknown' : total.invalidKeys.length > 0 ? false : total.unknownKeys.length > 0 ? 'unknown' : true;
  total.stats.elapsedMs = Date.now() - t0;
  return total;
}
