/**
 * `faultline check --checker set-full,counter,bank,total-queue,unique-ids FILE`: Jepsen's invariant checkers
 * over a stored history (core/checker/invariant-check.ts), composed into one verdict. Exit codes as for every
 * check: 0 valid, 1 invalid, 2 unknown, 254 bad input.
 */
import { runInvariants, type InvariantCheckOptions } from '../../core/checker/invariant-check';
import { namingFile } from '../../core/errors';
import { readHistoryFile } from '../../core/history/read-history';
import { exitCodeFor } from '../exit-codes';
import { reportIfIncomplete } from '../incomplete-history';

export { INVARIANT_CHECKERS, parseCheckerList } from '../../core/checker/invariant-check';

/** Reads FILE, runs the named checkers, prints the verdict (JSON with `json`) and returns the exit code. */
export function runInvariantCheck(file: string, o: InvariantCheckOptions & { json?: boolean }): number {
  const { format, ops } = readHistoryFile(file);
  const incomplete = reportIfIncomplete(file, ops, o.json);
  if (incomplete !== undefined) return incomplete;
  let report: ReturnType<typeof runInvariants>;
  try {
    report = runInvariants(ops, o);
  } catch (err) {
    throw namingFile(err, file);
  }
  if (o.json) process.stdout.write(`${JSON.stringify({ ...report.result, format, opCount: ops.length })}\n`);
  else process.stdout.write(`${[`${file}: ${report.head}`, ...report.lines].join('\n')}\n`);
  return exitCodeFor(report.result.valid);
}
