import type { RunVerdict } from '../controller/run/run-check';

/** A few lines a person reads after a run: the verdict, why, what was recorded, and where it all is. */
export function summarizeVerdict(v: RunVerdict, storeDir: string): string {
  const lines: string[] = [];
  const word = v.valid === true ? 'VALID' : v.valid === false ? 'INVALID' : 'UNKNOWN';
  lines.push(`verdict: ${word}${v.reason ? ` (${v.reason})` : ''}`);
  if (v.stats) {
    const s = v.stats;
    lines.push(
      `history: ${s.invokes} ops from ${Object.keys(s.byNode).length} nodes (ok ${s.ok}, fail ${s.fail}, info ${s.info}, open ${s.open}), ${s.nemesisEvents} nemesis events, ${v.gaps.length} sequence gaps`,
    );
  }
  const lin = v.checks.linearizable as { valid?: unknown; summary?: string; failures?: { key?: string; op?: unknown; summary?: string }[] } | undefined;
  if (lin?.summary) lines.push(`linearizability: ${lin.summary}`);
  lines.push(`store: ${storeDir}`);
  return `${lines.join('\n')}\n`;
}
