/**
 * `faultline check FILE`: reads a stored history (ours, Jepsen/Knossos EDN, Porcupine's formats), checks it
 * for linearizability against a model (or hands transactional models to the Elle checker), prints the
 * verdict and writes the HTML evidence. Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 internal.
 */
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { checkHistory, MODEL_NAMES, renderEvidenceHtml, type CheckOptions, type CheckResult, type ModelName } from '../../core/checker';
import { inferModel, TXN_MODELS } from '../../core/checker/infer-model';
import { linearizableSummaryLines } from '../../core/checker/linearizable-summary';
import { UsageError, namingFile } from '../../core/errors';
import { readHistoryFile } from '../../core/history/read-history';
import { EXIT, exitCodeFor } from '../exit-codes';
import { evidenceDirFor } from '../evidence-dir';
import { reportIfIncomplete } from '../incomplete-history';
import { INVARIANT_CHECKERS, parseCheckerList, runInvariantCheck } from './check-invariants';
import { runTxnCheck } from './check-txn';

interface CheckCliOptions {
  model?: string;
  independent?: boolean;
  json?: boolean;
  timeLimit?: string;
  consistency?: string;
  out?: string;
  store?: string;
  init?: string;
  checker?: string;
  bankTotal?: string;
  linearizableSet?: boolean;
}

/** The model and initial state named for FILE by a `verdicts.json` in its folder or up to 3 folders above. */
function modelFromVerdicts(file: string): { model: string; init?: unknown } | undefined {
  let dir = dirname(resolve(file));
  for (let i = 0; i < 4; i++) {
    const v = join(dir, 'verdicts.json');
    if (existsSync(v)) {
      try {
        const entries = JSON.parse(readFileSync(v, 'utf8')) as { file?: string; model?: string; init?: unknown }[];
        const rel = relative(dir, resolve(file));
        const hit = Array.isArray(entries) ? entries.find((e) => e.file === rel) : undefined;
        if (hit?.model) return hit.init !== undefined ? { model: hit.model, init: hit.init } : { model: hit.model };
      } catch {
        // Not a verdicts file we understand: fall back to inferring from the ops.
      }
    }
    dir = dirname(dir);
  }
  return undefined;
}

/** The verdict a person reads: the file, then the checker's lines. */
function humanVerdict(file: string, r: CheckResult, htmlPath?: string): string {
  const [head, ...rest] = linearizableSummaryLines(r);
  const lines = [`${file}: ${head!}`, ...rest];
  if (htmlPath) lines.push(`  evidence: ${htmlPath}`);
  return lines.join('\n');
}

/** Runs the check and returns the exit code. */
export async function runCheck(file: string, o: CheckCliOptions): Promise<number> {
  let timeLimitMs: number | undefined;
  if (o.timeLimit !== undefined) {
    const s = Number(o.timeLimit);
    if (!Number.isFinite(s) || s <= 0) throw new UsageError(`Cannot check: --time-limit must be a positive number of seconds, got "${o.timeLimit}"`);
    timeLimitMs = s * 1000;
  }
  let init: unknown;
  if (o.init !== undefined) {
    try {
      init = JSON.parse(o.init);
    } catch {
      throw new UsageError(`Cannot check: --init must be JSON, got ${JSON.stringify(o.init)}`);
    }
  }
  if (o.checker !== undefined) {
    if (o.model !== undefined) throw new UsageError('Cannot check: give either --model (linearizability, transactions) or --checker (invariants), not both');
    // Options that mean nothing to the invariant checkers are refused rather than silently ignored.
    const unused = [o.timeLimit !== undefined && '--time-limit', o.consistency !== undefined && '--consistency', o.out !== undefined && '--out'].filter((x) => x !== false);
    if (unused.length > 0) throw new UsageError(`Cannot check: ${unused.join(', ')} do not apply to --checker (the invariant checkers run in one pass, write no evidence files and know no consistency model)`);
    const checkers = parseCheckerList(o.checker);
    let bankTotal: number | undefined;
    if (o.bankTotal !== undefined) {
      bankTotal = Number(o.bankTotal);
      if (o.bankTotal.trim() === '' || !Number.isFinite(bankTotal)) throw new UsageError(`Cannot check: --bank-total must be a number, got "${o.bankTotal}"`);
    }
    if (init !== undefined && typeof init !== 'number') throw new UsageError(`Cannot check: with --checker, --init is the counter's initial value and must be a number, got ${o.init}`);
    return runInvariantCheck(file, {
      checkers,
      ...(o.json ? { json: true } : {}),
      ...(typeof init === 'number' ? { counterInit: init } : {}),
      ...(bankTotal !== undefined ? { bank: { total: bankTotal } } : {}),
      ...(o.linearizableSet ? { linearizableSet: true } : {}),
      ...(o.independent ? { independent: true } : {}),
    });
  }
  const invariantOnly = [o.bankTotal !== undefined && '--bank-total', o.linearizableSet === true && '--linearizable-set'].filter((x) => x !== false);
  if (invariantOnly.length > 0) throw new UsageError(`Cannot check: ${invariantOnly.join(', ')} only apply to the invariant checkers: add --checker (e.g. --checker bank or --checker set-full)`);
  const known = [...MODEL_NAMES, ...TXN_MODELS] as readonly string[];
  if (o.model !== undefined && !known.includes(o.model)) {
    throw new UsageError(`Cannot check: unknown model "${o.model}" (expected one of ${known.join(', ')})`);
  }
  if (o.model === 'list-append' || o.model === 'rw-register') {
    return runTxnCheck(file, { model: o.model, ...(o.consistency !== undefined ? { consistency: o.consistency } : {}), ...(o.json ? { json: true } : {}), ...(o.out !== undefined ? { outDir: o.out } : {}), ...(o.store !== undefined ? { store: o.store } : {}) });
  }
  const { format, ops } = readHistoryFile(file);
  const incomplete = reportIfIncomplete(file, ops, o.json);
  if (incomplete !== undefined) return incomplete;
  let model = o.model as ModelName | undefined;
  if (model === undefined) {
    const fromVerdicts = modelFromVerdicts(file);
    if (fromVerdicts && known.includes(fromVerdicts.model)) {
      model = fromVerdicts.model as ModelName;
      if (init === undefined && fromVerdicts.init !== undefined && model === 'multi-register') init = fromVerdicts.init;
    }
  }
  if (model === undefined) {
    const inferred = inferModel(format, ops);
    if (inferred === 'list-append' || inferred === 'rw-register') {
      return runTxnCheck(file, { model: inferred, ...(o.consistency !== undefined ? { consistency: o.consistency } : {}), ...(o.json ? { json: true } : {}), ...(o.out !== undefined ? { outDir: o.out } : {}), ...(o.store !== undefined ? { store: o.store } : {}) });
    }
    model = inferred;
  }
  const opts: CheckOptions = { model };
  if (o.independent) opts.independent = true;
  if (timeLimitMs !== undefined) opts.timeLimitMs = timeLimitMs;
  if (init !== undefined) opts.init = init;
  let result: CheckResult;
  try {
    result = await checkHistory(ops, opts);
  } catch (err) {
    throw namingFile(err, file);
  }
  if (result.valid === true && !ops.some((op) => op.process !== 'nemesis' && (op.type === 'ok' || op.type === 'fail'))) {
    // As for a run: a history where nothing completed with a known outcome proves nothing, however vacuously valid.
    const reason = 'nothing to check: no client operation completed with a known outcome (ok or fail)';
    if (o.json) process.stdout.write(`${JSON.stringify({ ...result, valid: 'unknown', reason, format })}\n`);
    else process.stdout.write(`${file}: unknown: ${reason} (${ops.length} events)\n`);
    return EXIT.unknown;
  }
  let htmlPath: string | undefined;
  const html = renderEvidenceHtml(result);
  if (html !== undefined) {
    const dir = o.out ?? evidenceDirFor(file, o.store);
    mkdirSync(dir, { recursive: true });
    htmlPath = join(dir, `${basename(file)}.linearizability.html`);
    writeFileSync(htmlPath, html);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(htmlPath ? { ...result, format, evidenceHtml: htmlPath } : { ...result, format })}\n`);
  else process.stdout.write(`${humanVerdict(file, result, htmlPath)}\n`);
  if (result.error !== undefined) {
    process.stderr.write(`faultline: internal error in the checker: ${result.error}\n`);
    return EXIT.internal;
  }
  return exitCodeFor(result.valid);
}

/** Adds `check <file>` to the program; the exit code is left in `process.exitCode`. */
export function registerCheckCommand(program: Command): void {
  program
    .command('check <file>')
    .description('check a stored history (history.jsonl, Jepsen/Knossos EDN, Porcupine etcd/kv) for linearizability, for transactional anomalies with --model list-append|rw-register, or against invariants with --checker')
    .option('--model <model>', `${[...MODEL_NAMES, ...TXN_MODELS].join(' | ')} (default: from a verdicts.json beside the file, else inferred from the ops)`)
    .option('--independent', 'values are Jepsen [key value] tuples: check each key separately (ops with a "key" field always are)')
    .option('--json', 'print the result as JSON')
    .option('--time-limit <seconds>', 'give up with "unknown" after this many seconds')
    .option('--consistency <level>', 'consistency model for list-append / rw-register')
    .option('--init <json>', 'initial model state as JSON (e.g. 0, or {"x":0,"y":0} for multi-register; the counter\'s start with --checker counter)')
    .option('--checker <list>', `invariant checkers instead of a model, comma-separated: ${INVARIANT_CHECKERS.join(', ')}`)
    .option('--bank-total <n>', 'bank: the total every read must sum to (default: reads must agree with each other)')
    .option('--linearizable-set', 'set-full: an element missing from a read after it was known present and seen again later is an error too')
    .option('--out <dir>', 'write the evidence (HTML, Elle pictures) here')
    .option('--store <dir>', 'without --out, evidence goes to <store>/check/<file name>/<time>/ (printed)', 'store')
    .action(async (file: string, o: CheckCliOptions) => {
      process.exitCode = await runCheck(file, o);
    });
}
