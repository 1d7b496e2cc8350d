/** `faultline check --model list-append|rw-register`: the transactional (Elle-class) checker. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkTxnHistory, type ElleResult } from '../../core/elle/check-txn-history';
import { parseConsistencyModel, type ConsistencyModel } from '../../core/elle/consistency-models';
import type { RwRegisterVersionOptions } from '../../core/elle/rw-register-versions';
import { elleExplanationText, elleSummaryLines } from '../../core/elle/summary';
import { DEFAULT_CONSISTENCY } from '../../core/checker/registry';
import { HistoryFormatError, UsageError, namingFile } from '../../core/errors';
import { readHistoryFile } from '../../core/history/read-history';
import { EXIT, exitCodeFor } from '../exit-codes';
import { reportIfIncomplete } from '../incomplete-history';

export interface TxnCheckOptions {
  model: 'list-append' | 'rw-register';
  consistency?: string;
  json?: boolean;
  outDir?: string;
  /** rw-register: version-order assumptions (--wfr-keys, --sequential-keys, --linearizable-keys). */
  rwRegister?: RwRegisterVersionOptions;
}

/**
 * Reads FILE, checks it, prints the verdict (JSON with `json`), writes evidence (SVG, explanation) into
 * `outDir/elle/` (default: the file's folder) and returns the exit code: 0 valid, 1 invalid, 2 unknown,
 * 254 bad input.
 */
export async function runTxnCheck(file: string, opts: TxnCheckOptions): Promise<number> {
  await Promise.resolve();
  let consistency: ConsistencyModel;
  let result: ElleResult;
  let pictures: { file: string; svg: string }[];
  try {
    consistency = parseConsistencyModel(opts.consistency ?? DEFAULT_CONSISTENCY);
    const { ops } = readHistoryFile(file);
    const incomplete = reportIfIncomplete(file, ops, opts.json);
    if (incomplete !== undefined) return incomplete;
    if (opts.rwRegister && opts.model !== 'rw-register') throw new UsageError(`Cannot check: --wfr-keys, --sequential-keys and --linearizable-keys only apply to rw-register, not ${opts.model}`);
    ({ result, pictures } = checkTxnHistory(ops, { model: opts.model, consistency, ...(opts.rwRegister ? { rwRegister: opts.rwRegister } : {}) }));
  } catch (err) {
    if (err instanceof HistoryFormatError || err instanceof RangeError || err instanceof UsageError) {
      const msg = (namingFile(err, file) as Error).message;
      process.stderr.write(`faultline: ${msg.split('\n')[0]}\n`);
      return EXIT.badInput;
    }
    throw err;
  }
  const evidenceDir = join(opts.outDir ?? dirname(file), 'elle');
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
