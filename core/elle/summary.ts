/** What a person reads about an Elle result: a few summary lines, and the full explanation file. */
import { ANOMALY_DESCRIPTIONS } from './anomaly';
import type { ElleResult } from './check-txn-history';
import { VERSION_INFERENCE_DESCRIPTIONS } from './rw-register-versions';

/** The verdict line, each anomaly with its first example explained edge by edge, and the model boundary. */
export function elleSummaryLines(r: ElleResult): string[] {
  const lines: string[] = [];
  const verdict = r.valid === true ? 'valid' : r.valid === false ? 'INVALID' : 'unknown';
  lines.push(`${r.model} history of ${r.stats.txns} transactions (${r.stats.ok} ok, ${r.stats.fail} failed, ${r.stats.info} info) checked against ${r.consistency}: ${verdict}`);
  for (const a of r.anomalyTypes) {
    const e = r.anomalies[a]!;
    lines.push(`  ${a} ×${e.count}: ${ANOMALY_DESCRIPTIONS[a]}`);
    const first = e.examples[0];
    if (first) for (const l of first.explanation) lines.push(`      ${l}`);
  }
  if (r.models.violated.length > 0) lines.push(`  violates: ${r.models.weakestViolated.join(', ')} (and every stronger model)`);
  if (r.models.unknown.length > 0) lines.push(`  undecided: ${r.models.unknown.join(', ')}`);
  lines.push(`  strongest models still possible: ${r.models.strongestPossible.join(', ') || 'none'}`);
  if (r.versionOrder) lines.push(`  version order inferred from: ${r.versionOrder.inferences.map((i) => `${i} (${VERSION_INFERENCE_DESCRIPTIONS[i]})`).join(', ')}`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return lines;
}

/** Every anomaly with every example, for explanation.txt beside the evidence pictures. */
export function elleExplanationText(r: ElleResult): string {
  const out: string[] = [];
  for (const a of r.anomalyTypes) {
    const e = r.anomalies[a]!;
    out.push(`== ${a} (${e.count} found): ${ANOMALY_DESCRIPTIONS[a]}`);
    e.examples.forEach((ex, i) => {
      out.push(`-- example ${i + 1}${ex.picture ? ` (picture: ${ex.picture})` : ''}`);
      out.push(...ex.explanation);
    });
    out.push('');
  }
  out.push(`Violated models: ${r.models.violated.join(', ') || 'none'}`);
  out.push(`Undecided models: ${r.models.unknown.join(', ') || 'none'}`);
  out.push(`Strongest models still possible: ${r.models.strongestPossible.join(', ') || 'none'}`);
  return `${out.join('\n')}\n`;
}
