import { sequenceGaps } from '../core/history/completeness';
import type { HistoryColumns } from '../core/history/columns';
import type { Op } from '../core/history/operation';
import { EXIT } from './exit-codes';

/**
 * A history whose publishers' sequence numbers have holes lost events: no verdict can be trusted, so `check`
 * reports `unknown` (exit 2) instead of judging it. Returns the exit code when it reported, else undefined.
 */
export function reportIfIncomplete(file: string, ops: readonly Pick<Op, 'node' | 'seq'>[] | HistoryColumns, json: boolean | undefined): number | undefined {
  const gaps = sequenceGaps(ops);
  if (gaps.length === 0) return undefined;
  const missing = gaps.map((g) => `${g.node} ${g.from === g.to ? g.from : `${g.from}-${g.to}`}`).join(', ');
  if (json) process.stdout.write(`${JSON.stringify({ valid: 'unknown', reason: 'history incomplete', gaps })}\n`);
  else process.stdout.write(`${file}: unknown: history incomplete, events missing (node seq): ${missing}\n`);
  return EXIT.unknown;
}
