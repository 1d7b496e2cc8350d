/** `faultline check --model list-append|rw-register`: the transactional (Elle-class) checker. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTxns, type ElleResult } from '../../core/elle/check-txn-history';
import { parseConsistencyModel, type ConsistencyModel } from '../../core/elle/consistency-models';
import type { RwRegisterVersionOptions } from '../../core/elle/rw-register-versions';
import { TxnHistoryBuilder } from '../../core/elle/txn-history';
import { elleExplanationText, elleSummaryLines } from '../../core/elle/summary';
import { DEFAULT_CONSISTENCY } from '../../core/checker/registry';
import { HistoryFormatError, UsageError, namingFile } from '../../core/errors';
import type { Op } from '../../core/history/operation';
import { forEachHistoryOp } from '../../core/history/read-history';
import { evidenceDirFor } from '../evidence-dir';
import { EXIT, exitCodeFor } from '../exit-codes';
import { reportIfIncomplete } from '../incomplete-history';

export interface TxnCheckOptions {
  model: 'list-append' | 'rw-register';
  consistency?: string;
  json?: boolean;
  outDir?: string;
  /** Without outDir, evidence goes under this store (see evidenceDirFor). */
  store?: string;
  /** rw-register: version-order assumptions (--wfr-keys, --sequential-keys, --linearizable-keys). */
  rwRegister?: RwRegisterVersionOptions;
}

/**
 * Reads FILE, checks it, prints the verdict (JSON with `json`), writes evidence (SVG, explanation) into
 * `outDir/elle/` (default: `<store>/check/<file>/<time>/elle/`) and returns the exit code: 0 valid, 1 invalid, 2 unknown,
 * 254 bad input.
 */
export async function runTxnCheck(file: string, opts: TxnCheckOptions): Promise<number> {
  await Promise.resolve();
  let consistency: ConsistencyModel;
  let result: ElleResult;
  let pictures: { file: string; svg: string }[];
  try {
    consistency = parseConsistencyModel(opts.consistency ?? DEFAULT_CONSISTENCY);
    // The file streams into the transaction history: its events are never all held at once.
    const builder = new TxnHistoryBuilder(opts.model);
    const numbered: Pick<Op, 'node' | 'seq'>[] = [];
    forEachHistoryOp(file, (ops) => {
      for (const op of ops) {
        builder.add(op);
        if (op.node !== undefined && op.seq !== undefined) numbered.push({ node: op.node, seq: op.seq });
      }
    });
    const incomplete = reportIfIncomplete(file, numbered, opts.json);
    if (incomplete !== undefined) return incomplete;
    if (opts.rwRegister && opts.model !== 'rw-register') throw new UsageError(`Cannot check: --wfr-keys, --sequential-keys and --linearizable-keys only apply to rw-register, not ${opts.model}`);
    ({ result, pictures } = checkTxns(builder.finish(), { model: opts.model, consistency, ...(opts.rwRegister ? { rwRegister: opts.rwRegister } : {}) }));
  } catch (err) {
    if (err instanceof HistoryFormatError || err instanceof RangeError || err instanceof UsageError) {
      const msg = (namingFile(err, file) as Error).message;
      process.stderr.write(`faultline: ${msg.split('\n')[0]}\n`);
      return EXIT.badInput;
    }
    throw err;
  }
  if (result.valid === true && result.stats.ok + result.stats.fail === 0) {
    // As for a run: nothing completed with a known outcome, so nothing was checked.
    const reason = 'nothing to check: no transaction completed with a known outcome (ok or fail)';
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...result, valid: 'unknown', reason }, null, 2)}\n`);
    else process.stdout.write(`${opts.model} history of ${result.stats.txns} transactions: unknown: ${reason}\n`);
    return EXIT.unknown;
  }
  const evidenceDir = join(opts.outDir ?? evidenceDirFor(file, opts.store), 'elle');
  let wrote = false;
  if (result.valid !== true || result.anomalyTypes.length > 0) {
    mkdirSync(evidenceDir, { recursive: true });
    writeFileSync(join(evidenceDir, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(evidenceDir, 'explanation.txt'), elleExplanationText(result));
    for (const p of pictures) writeFileSync(join(evidenceDir, p.file), p.svg);
    wrote = true;
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(summary(result, wrote ? evidenceDir : undefined));
  return exitCodeFor(result.valid);
}

function summary(r: ElleResult, evidenceDir: string | undefined): string {
  const lines = elleSummaryLines(r);
  if (evidenceDir) lines.push(`  evidence: ${evidenceDir}`);
  return `${lines.join('\n')}\n`;
}
