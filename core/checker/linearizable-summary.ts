/** Lines a person reads about a linearizability result. */
import type { CheckResult, OpSummary } from './index';

export function describeOp(o: OpSummary): string {
  const v = o.type === 'ok' ? o.value : o.invokeValue;
  return `${o.f} ${JSON.stringify(v ?? null)} by process ${o.process} (${o.line !== undefined ? `line ${o.line}` : `event ${o.index}`})`;
}

const keyName = (k: string): string => (k === '' ? '(single object)' : JSON.stringify(k));

/** One line when the other reading of nil reads would give another verdict, else none. */
function nilReadingLines(r: CheckResult): string[] {
  const n = r.nilReading;
  if (!n) return [];
  const verdict = n.valid === true ? 'valid' : n.valid === false ? 'INVALID' : 'unknown';
  return n.knossosNil
    ? [`  note: with --knossos-nil (Knossos: an ok read of nil constrains nothing) this history is ${verdict}; here an ok read of nil observes nil`]
    : [`  note: without --knossos-nil (an ok read of nil observes nil: the initial value, or an absent key) this history is ${verdict}`];
}

/** The verdict line, then (when invalid) the failing op, the longest prefix and the smallest failing sub-history. */
export function linearizableSummaryLines(r: CheckResult): string[] {
  return [...verdictLines(r), ...nilReadingLines(r)];
}

function verdictLines(r: CheckResult): string[] {
  const what = `${r.model}, ${r.opCount} ops, ${r.keyCount} key${r.keyCount === 1 ? '' : 's'}, ${r.stats.elapsedMs} ms`;
  if (r.valid === true) return [`valid: linearizable (${what})`];
  if (r.valid === 'unknown') {
    const why = r.error ?? r.perKey.filter((k) => k.valid === 'unknown').map((k) => `key ${JSON.stringify(k.key)}: ${k.reason ?? 'unknown'}`).slice(0, 5).join('; ');
    return [`unknown: the check could not decide (${what}): ${why}`];
  }
  const ev = r.evidence;
  const lines = [`INVALID: not linearizable (${what})${r.keyCount > 1 ? `; invalid keys: ${r.invalidKeys.map(keyName).join(', ')}` : ''}`];
  if (ev) {
    if (ev.failingOp) lines.push(`  ${r.keyCount > 1 ? `key ${keyName(ev.key)}: ` : ''}cannot linearize ${describeOp(ev.failingOp)}`);
    lines.push(`  longest linearizable prefix: ${ev.longestPrefix.length} ops, leaving state ${ev.stateAfterPrefix}`);
    lines.push(`  smallest failing sub-history found (${ev.subHistory.length} ops):`);
    for (const o of ev.subHistory.slice(0, 20)) lines.push(`    ${o.type.padEnd(4)} ${describeOp(o)}`);
    if (ev.subHistory.length > 20) lines.push(`    ... ${ev.subHistory.length - 20} more`);
  }
  return lines;
}
