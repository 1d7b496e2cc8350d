/**
 * `faultline check FILE...|DIR...`: reads stored histories (ours, Jepsen/Knossos EDN, Jepsen history.txt, Porcupine's
 * formats), checks each for linearizability against a model (or hands transactional models to the Elle checker),
 * prints each verdict and writes the HTML evidence; with more than one history, one summary at the end.
 * Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad input, 255 internal.
 */
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { checkHistory, MODEL_NAMES, renderEvidenceHtml, type CheckOptions, type CheckResult, type ModelName } from '../../core/checker';
import { inferModel, TXN_MODELS } from '../../core/checker/infer-model';
import { CHECKER_NAMES, getChecker, runChecker, worstValidity, type CheckerVerdict } from '../../core/checker/registry';
import { linearizableSummaryLines } from '../../core/checker/linearizable-summary';
import { UsageError, namingFile } from '../../core/errors';
import { T_FAIL, T_OK, type HistoryColumns } from '../../core/history/columns';
import { readHistoryColumns, readHistoryFile } from '../../core/history/read-history';
import { reportError } from '../errors';
import { EXIT, exitCodeFor } from '../exit-codes';
import { evidenceDirFor } from '../evidence-dir';
import { reportIfIncomplete } from '../incomplete-history';
import { INVARIANT_CHECKERS, parseCheckerList, runInvariantCheck } from './check-invariants';
import type { TxnCheckOptions } from './check-txn';

/** The transactional checker, loaded only for transactional histories (it brings all of Elle along). */
async function runTxnCheck(file: string, opts: TxnCheckOptions): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runTxnCheck: run } = require('./check-txn') as typeof import('./check-txn');
  return run(file, opts);
}

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
  knossosNil?: boolean;
  sequentialKeys?: boolean;
  linearizableKeys?: boolean;
  wfrKeys?: boolean;
}

/** The rw-register version-order options named on the command line. */
function versionOptions(o: CheckCliOptions): { rwRegister?: { sequentialKeys?: boolean; linearizableKeys?: boolean; wfrKeys?: boolean } } {
  const v = { ...(o.sequentialKeys ? { sequentialKeys: true } : {}), ...(o.linearizableKeys ? { linearizableKeys: true } : {}), ...(o.wfrKeys ? { wfrKeys: true } : {}) };
  return Object.keys(v).length > 0 ? { rwRegister: v } : {};
}

const verdictFiles = new Map<string, unknown>();

function readVerdicts(path: string): unknown {
  if (!verdictFiles.has(path)) {
    try {
      verdictFiles.set(path, JSON.parse(readFileSync(path, 'utf8')));
    } catch {
      verdictFiles.set(path, undefined); // not a verdicts file we understand: infer from the ops instead
    }
  }
  return verdictFiles.get(path);
}

/** The model and initial state named for FILE by a `verdicts.json` in its folder or up to 3 folders above. */
function modelFromVerdicts(file: string): { model: string; init?: unknown } | undefined {
  let dir = dirname(resolve(file));
  for (let i = 0; i < 4; i++) {
    const v = join(dir, 'verdicts.json');
    if (existsSync(v)) {
      const entries = readVerdicts(v) as { file?: string; model?: string; init?: unknown }[] | undefined;
      const rel = relative(dir, resolve(file));
      const hit = Array.isArray(entries) ? entries.find((e) => e.file === rel) : undefined;
      if (hit?.model) return hit.init !== undefined ? { model: hit.model, init: hit.init } : { model: hit.model };
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
    const unused = [o.timeLimit !== undefined && '--time-limit', o.consistency !== undefined && '--consistency', o.out !== undefined && '--out', o.knossosNil === true && '--knossos-nil', o.wfrKeys === true && '--wfr-keys', o.sequentialKeys === true && '--sequential-keys', o.linearizableKeys === true && '--linearizable-keys'].filter((x) => x !== false);
    if (unused.length > 0) throw new UsageError(`Cannot check: ${unused.join(', ')} do not apply to --checker (the invariant checkers run in one pass, write no evidence files and know no consistency model)`);
    const names = o.checker.split(',').map((n) => n.trim()).filter((n) => n !== '');
    if (names.some((n) => !INVARIANT_CHECKERS.includes(n as (typeof INVARIANT_CHECKERS)[number]))) {
      // Any checker of the registry by name (lock-holders, linearizable with --model's default, list-append, ...).
      return runRegistryCheck(file, [...new Set(names)], { json: o.json === true, ...(o.independent ? { independent: true } : {}), ...(typeof init === 'number' ? { init } : {}) });
    }
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
    return runTxnCheck(file, { model: o.model, ...(o.consistency !== undefined ? { consistency: o.consistency } : {}), ...(o.json ? { json: true } : {}), ...(o.out !== undefined ? { outDir: o.out } : {}), ...(o.store !== undefined ? { store: o.store } : {}), ...versionOptions(o) });
  }
  // Read into columns: the linearizability checker reads them without an object per event.
  const { format, columns: history } = readHistoryColumns(file);
  const incomplete = reportIfIncomplete(file, history, o.json);
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
    const inferred = inferModel(format, history);
    if (inferred === 'list-append' || inferred === 'rw-register') {
      return runTxnCheck(file, { model: inferred, ...(o.consistency !== undefined ? { consistency: o.consistency } : {}), ...(o.json ? { json: true } : {}), ...(o.out !== undefined ? { outDir: o.out } : {}), ...(o.store !== undefined ? { store: o.store } : {}), ...versionOptions(o) });
    }
    model = inferred;
  }
  const rwOnly = [o.sequentialKeys && '--sequential-keys', o.linearizableKeys && '--linearizable-keys', o.wfrKeys && '--wfr-keys'].filter((x): x is string => typeof x === 'string');
  if (rwOnly.length > 0) throw new UsageError(`Cannot check: ${rwOnly.join(', ')} only apply to --model rw-register (this history is checked as ${model})`);
  if (o.knossosNil && model !== 'register' && model !== 'cas-register') throw new UsageError(`Cannot check: --knossos-nil only applies to --model register and cas-register (this history is checked as ${model})`);
  const opts: CheckOptions = { model };
  if (o.knossosNil) opts.knossosNil = true;
  if (o.independent) opts.independent = true;
  if (timeLimitMs !== undefined) opts.timeLimitMs = timeLimitMs;
  if (init !== undefined) opts.init = init;
  let result: CheckResult;
  try {
    result = await checkHistory(history, opts);
  } catch (err) {
    throw namingFile(err, file);
  }
  if (result.valid === true && !anyKnownOutcome(history)) {
    // As for a run: a history where nothing completed with a known outcome proves nothing, however vacuously valid.
    const reason = 'nothing to check: no client operation completed with a known outcome (ok or fail)';
    if (o.json) process.stdout.write(`${JSON.stringify({ ...result, valid: 'unknown', reason, format })}\n`);
    else process.stdout.write(`${file}: unknown: ${reason} (${history.length} events)\n`);
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

/**
 * `--checker` naming checkers beyond the invariant ones: each runs through the registry (core/checker/registry.ts)
 * with its defaults, and the verdict is the worst of them. Evidence files are not written here; `--checker` is
 * about verdicts (use --model for linearizability or Elle evidence).
 */
async function runRegistryCheck(file: string, names: string[], o: { json: boolean; independent?: boolean; init?: number }): Promise<number> {
  for (const n of names) getChecker(n); // every name must exist before anything is read
  const { format, ops } = readHistoryFile(file);
  const incomplete = reportIfIncomplete(file, ops, o.json);
  if (incomplete !== undefined) return incomplete;
  const results: Record<string, CheckerVerdict> = {};
  for (const n of names) {
    try {
      results[n] = (await runChecker(n, ops, { ...(o.independent ? { independent: true } : {}), ...(o.init !== undefined ? { init: o.init } : {}) })).verdict;
    } catch (err) {
      throw namingFile(err, file);
    }
  }
  const valid = worstValidity(Object.values(results));
  if (o.json) process.stdout.write(`${JSON.stringify({ valid, checker: 'compose', results, format, opCount: ops.length })}\n`);
  else {
    const word = valid === true ? 'valid' : valid === false ? 'INVALID' : 'unknown';
    const lines = [`${file}: ${word} (${names.join(', ')}; ${ops.length} events)`];
    for (const n of names) {
      const r = results[n]!;
      const anomalies = Object.entries(r.anomalies);
      lines.push(`  ${n}: ${r.valid === true ? 'valid' : r.valid === false ? 'INVALID' : 'unknown'}${anomalies.length > 0 ? `: ${anomalies.map(([a, c]) => `${a} ×${c}`).join(', ')}` : ''}`);
      for (const l of r.summary.slice(r.summary.length > 1 ? 1 : 0, 12)) lines.push(`    ${l.trim()}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return exitCodeFor(valid);
}

/** History files in a folder (recursively, sorted): .edn, .jsonl, .txt, .log; evidence and verdict files are skipped. */
export function historyFilesIn(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'elle' && !e.name.startsWith('.') && e.name !== 'node_modules') walk(p);
      } else if (/\.(edn|jsonl|txt|log)$/.test(e.name) && e.name !== 'explanation.txt' && !/^(README|LICENSE)/i.test(e.name)) {
        out.push(p);
      }
    }
  };
  walk(dir);
  return out;
}

/**
 * Checks every history named (folders expanded) in one process. One history: exactly `runCheck`. More: each is
 * checked in turn (a file that cannot be read gets its one line and the rest go on), then one summary. The exit code
 * is 1 if any history is invalid, else 255 if a checker failed, else 254 if any could not be read, else 2 if any is
 * unknown, else 0.
 */
export async function runChecks(paths: readonly string[], o: CheckCliOptions): Promise<number> {
  const files: string[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      // Not there: runCheck names it in its one line.
    }
    if (isDir) {
      const inside = historyFilesIn(p);
      if (inside.length === 0) throw new UsageError(`Cannot check: folder "${p}" holds no history files (.edn, .jsonl, .txt, .log)`);
      files.push(...inside);
    } else files.push(p);
  }
  if (files.length === 1) return runCheck(files[0]!, o);
  const t0 = performance.now();
  const counts = { valid: 0, invalid: 0, unknown: 0, unreadable: 0, internal: 0 };
  for (const f of files) {
    let code: number;
    try {
      code = await runCheck(f, o);
    } catch (err) {
      if (err instanceof UsageError) throw err; // the options are wrong for every file: stop at once
      code = reportError(err);
    }
    if (code === EXIT.valid) counts.valid++;
    else if (code === EXIT.invalid) counts.invalid++;
    else if (code === EXIT.unknown) counts.unknown++;
    else if (code === EXIT.badInput) counts.unreadable++;
    else counts.internal++;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (o.json) process.stdout.write(`${JSON.stringify({ summary: { histories: files.length, ...counts, seconds: Number(seconds.toFixed(3)) } })}\n`);
  else process.stdout.write(`checked ${files.length} histories in ${seconds.toFixed(2)} s: ${counts.valid} valid, ${counts.invalid} invalid, ${counts.unknown} unknown, ${counts.unreadable} unreadable${counts.internal ? `, ${counts.internal} checker failures` : ''}\n`);
  return counts.invalid > 0 ? EXIT.invalid : counts.internal > 0 ? EXIT.internal : counts.unreadable > 0 ? EXIT.badInput : counts.unknown > 0 ? EXIT.unknown : EXIT.valid;
}

/** Adds `check <files...>` to the program; the exit code is left in `process.exitCode`. */
export function registerCheckCommand(program: Command): void {
  program
    .command('check <files...>')
    .description('check stored histories (history.jsonl, Jepsen/Knossos EDN, history.txt, Porcupine etcd/kv; files or folders) for linearizability, for transactional anomalies with --model list-append|rw-register, or against invariants with --checker')
    .option('--model <model>', `${[...MODEL_NAMES, ...TXN_MODELS].join(' | ')} (default: from a verdicts.json beside the file, else inferred from the ops)`)
    .option('--independent', 'values are Jepsen [key value] tuples: check each key separately (ops with a "key" field always are)')
    .option('--json', 'print the result as JSON (one line per history; with several, a last line {"summary": ...})')
    .option('--time-limit <seconds>', 'give up with "unknown" after this many seconds')
    .option('--consistency <level>', 'consistency model for list-append / rw-register')
    .option('--init <json>', 'initial model state as JSON (e.g. 0, or {"x":0,"y":0} for multi-register; the counter\'s start with --checker counter)')
    .option('--knossos-nil', 'register, cas-register: an ok read of nil constrains nothing, as in Knossos (default: it observes nil, the initial value or an absent key)')
    .option('--wfr-keys', 'rw-register: assume writes follow reads in a transaction (a write of a key follows the version it read) and infer version orders from it')
    .option('--sequential-keys', 'rw-register: assume each key is sequentially consistent (each process sees its versions in order) and infer version orders from it')
    .option('--linearizable-keys', 'rw-register: assume each key is linearizable (real-time order per key) and infer version orders from it')
    .option('--checker <list>', `checkers of the registry instead of a model, comma-separated: ${CHECKER_NAMES.join(', ')} (the invariant ones, ${INVARIANT_CHECKERS.join(', ')}, take --init, --bank-total, --linearizable-set)`)
    .option('--bank-total <n>', 'bank: the total every read must sum to (default: reads must agree with each other)')
    .option('--linearizable-set', 'set-full: an element missing from a read after it was known present and seen again later is an error too')
    .option('--out <dir>', 'write the evidence (HTML, Elle pictures) here')
    .option('--store <dir>', 'without --out, evidence goes to <store>/check/<file name>/<time>/ (printed)', 'store')
    .action(async (files: string[], o: CheckCliOptions) => {
      process.exitCode = await runChecks(files, o);
    });
}

/** True when some client operation completed with a known outcome (ok or fail). */
function anyKnownOutcome(c: HistoryColumns): boolean {
  for (let i = 0; i < c.length; i++) if (!Number.isNaN(c.process[i]!) && (c.type[i] === T_OK || c.type[i] === T_FAIL)) return true;
  return false;
}
