/** The matrix's results: matrix.json's shape, its markdown table, and the exit code. */
import type { Validity } from '../../core/checker';

export interface MatrixRun {
  /** The run folder (absolute), or null when the run failed before it had one. */
  dir: string | null;
  valid: Validity;
  /** Anomaly name -> count, summed over the run's checkers (results.json checks.<name>.anomalies). */
  anomalies: Record<string, number>;
  seed: number;
  /** Why the run has no verdict of its checkers (interrupted, a node precondition, a sequence gap, ...). */
  reason?: string;
}

export interface MatrixRow {
  params: Record<string, string>;
  runs: MatrixRun[];
}

export interface MatrixResult {
  startedAt: string;
  /** The varied options in order, and the runs per cell. */
  vary: { name: string; values: string[] }[];
  testCount: number;
  /** False when Ctrl-C (or an error) stopped the matrix before every run was done. */
  complete: boolean;
  rows: MatrixRow[];
}

const word = (v: Validity): string => (v === true ? 'valid' : v === false ? 'INVALID' : 'unknown');

/** Anomalies over a row's runs: name -> total count, and in how many runs each appeared. */
function rowAnomalies(row: MatrixRow): string {
  const total = new Map<string, { count: number; runs: number }>();
  for (const r of row.runs) {
    for (const [a, n] of Object.entries(r.anomalies)) {
      const t = total.get(a) ?? { count: 0, runs: 0 };
      total.set(a, { count: t.count + n, runs: t.runs + 1 });
    }
  }
  if (total.size === 0) return '—';
  const many = row.runs.length > 1;
  return [...total.entries()].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0])).map(([a, t]) => `${a} ×${t.count}${many ? ` (${t.runs}/${row.runs.length} runs)` : ''}`).join(', ');
}

/** The folder of the run that shows the anomalies: the first invalid run, else the first unknown, else the first. */
function showingRun(row: MatrixRow): MatrixRun | undefined {
  return row.runs.find((r) => r.valid === false) ?? row.runs.find((r) => r.valid === 'unknown') ?? row.runs[0];
}

const cell = (s: string): string => s.replaceAll('|', '\\|');

/** A markdown table: one row per cell, its params, each run's verdict, the anomalies with counts, the run folder. */
export function matrixMarkdown(m: MatrixResult): string {
  const names = m.vary.map((v) => v.name);
  const head = [...names, 'verdicts', 'anomalies', 'run'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of m.rows) {
    const shown = showingRun(row);
    const verdicts = row.runs.length > 0 ? row.runs.map((r) => word(r.valid)).join(' ') : 'not run';
    lines.push(`| ${[...names.map((n) => row.params[n] ?? ''), verdicts, rowAnomalies(row), shown?.dir ?? (shown?.reason ?? '—')].map(cell).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** 1 when any run is invalid, else 2 when any is unknown (or the matrix was cut short), else 0. */
export function matrixExitCode(m: MatrixResult): number {
  const runs = m.rows.flatMap((r) => r.runs);
  if (runs.some((r) => r.valid === false)) return 1;
  if (runs.some((r) => r.valid === 'unknown') || !m.complete) return 2;
  return 0;
}
