import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunVerdict } from '../controller/run/run-check';
import { describeOperation } from '../core/history/describe-op';

interface PairedOpLike {
  index: number;
  process: number;
  f: string;
  type: string;
  value: unknown;
  invokeValue?: unknown;
  line?: number;
  node?: string;
}

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
  const lin = v.checks.linearizable;
  if (lin) {
    const ev = lin.evidence as { key?: string; failingOp?: PairedOpLike; stateAfterPrefix?: string } | undefined;
    if (lin.valid === false && ev?.failingOp) {
      const op = ev.failingOp;
      lines.push(`not linearizable: key ${JSON.stringify(ev.key ?? '')}: cannot linearize ${describeOperation(op)}, impossible once the register held ${ev.stateAfterPrefix ?? 'nil'}`);
    } else if (lin.valid === 'unknown') {
      lines.push(`linearizability: unknown for keys ${(lin.unknownKeys ?? []).join(', ')} (search budget exhausted)`);
    }
  }
  lines.push(`store: ${storeDir}`);
  if (existsSync(join(storeDir, 'report.html'))) lines.push(`report: ${join(storeDir, 'report.html')}`);
  return `${lines.join('\n')}\n`;
}
