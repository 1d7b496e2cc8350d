/**
 * `report.html` for a run folder: what `faultline run` writes at the end of every run and `faultline report`
 * rebuilds. Runs bigger than a page browses comfortably also get `trace.json` for Perfetto.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePerfettoTrace } from './perfetto-trace';
import { readReportData } from './report-data';
import { renderReportHtml } from './report-html';

/** From this many client operations on, a run also gets a Perfetto trace. */
export const TRACE_THRESHOLD_OPS = 200_000;

export interface WrittenReport {
  path: string;
  sizeBytes: number;
  ops: number;
  tracePath?: string;
}

/**
 * Builds `<runDir>/report.html` from the run's history.jsonl, results.json and plan.json.
 * @throws RangeError when the folder holds no history.jsonl.
 */
export async function writeRunReport(runDir: string, opts: { trace?: boolean } = {}): Promise<WrittenReport> {
  const data = await readReportData(runDir);
  let tracePath: string | undefined;
  if (opts.trace ?? data.columns.count >= TRACE_THRESHOLD_OPS) {
    tracePath = join(runDir, 'trace.json');
    await writePerfettoTrace(data, tracePath);
    data.meta.traceFile = 'trace.json';
    if (!data.meta.files.includes('trace.json')) data.meta.files.push('trace.json');
  }
  const path = join(runDir, 'report.html');
  writeFileSync(path, renderReportHtml(data));
  return { path, sizeBytes: statSync(path).size, ops: data.columns.count, ...(tracePath !== undefined ? { tracePath } : {}) };
}
