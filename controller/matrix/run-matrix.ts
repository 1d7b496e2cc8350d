/**
 * Runs a matrix: every cell `testCount` times, one run after another, each an ordinary `faultline run` with its
 * own folder. matrix.json and matrix.md are rewritten after every run, so whatever stops the matrix (Ctrl-C after
 * the current run, an error) leaves the table of what ran.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { NodePreconditionError } from '../errors';
import { runTest } from '../run/run-test';
import type { RunConfig } from '../run/run-options';
import type { MatrixCell } from './matrix-plan';
import { matrixMarkdown, type MatrixResult, type MatrixRun } from './matrix-table';

export interface MatrixProgress {
  /** Called before each run and after it, for the person watching. */
  onRun(cell: MatrixCell, index: number, run: MatrixRun | undefined): void;
}

/** The matrix's folder: <store>/matrix/<time>/. */
export function matrixDir(storeRoot: string, startedAt: Date): string {
  return resolve(storeRoot, 'matrix', startedAt.toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z'));
}

function anomaliesOf(checks: Record<string, { anomalies?: Record<string, number> }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of Object.values(checks)) for (const [a, n] of Object.entries(c.anomalies ?? {})) out[a] = (out[a] ?? 0) + n;
  return out;
}

/**
 * Runs the cells. `stopAfterRun` aborted: no new run starts (the current one finishes); `abortRun` aborted: the
 * current run stops early too (its verdict is then unknown). A run that fails on a node precondition is recorded
 * as unknown with the reason and the matrix goes on; any other error ends it (the table is still written).
 */
export async function runMatrix(
  cells: readonly MatrixCell[],
  configs: readonly RunConfig[],
  opts: { testCount: number; storeRoot: string; vary: MatrixResult['vary']; log: Logger; stopAfterRun: AbortSignal; abortRun: AbortSignal; progress: MatrixProgress },
): Promise<{ result: MatrixResult; dir: string }> {
  const startedAt = new Date();
  const dir = matrixDir(opts.storeRoot, startedAt);
  mkdirSync(dir, { recursive: true });
  const result: MatrixResult = { startedAt: startedAt.toISOString(), vary: opts.vary, testCount: opts.testCount, complete: false, rows: cells.map((c) => ({ params: c.params, runs: [] })) };
  const write = () => {
    writeFileSync(join(dir, 'matrix.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(dir, 'matrix.md'), matrixMarkdown(result));
  };
  write();
  try {
    outer: for (let i = 0; i < opts.testCount; i++) {
      for (let c = 0; c < cells.length; c++) {
        if (opts.stopAfterRun.aborted) break outer;
        // Run i of every cell shares a seed, so cells differ only in what was varied.
        const config: RunConfig = { ...configs[c]!, seed: (configs[c]!.seed + i) >>> 0 };
        opts.progress.onRun(cells[c]!, i, undefined);
        let run: MatrixRun;
        try {
          const outcome = await runTest(config, opts.log, opts.abortRun);
          const v = outcome.verdict;
          run = { dir: outcome.storeDir, valid: v.valid, anomalies: anomaliesOf(v.checks), seed: config.seed, ...(v.reason !== undefined ? { reason: v.reason } : {}) };
        } catch (err) {
          if (!(err instanceof NodePreconditionError)) throw err;
          run = { dir: null, valid: 'unknown', anomalies: {}, seed: config.seed, reason: err.message };
        }
        result.rows[c]!.runs.push(run);
        write();
        opts.progress.onRun(cells[c]!, i, run);
      }
    }
    result.complete = result.rows.every((r) => r.runs.length === opts.testCount);
  } finally {
    write();
  }
  return { result, dir };
}
