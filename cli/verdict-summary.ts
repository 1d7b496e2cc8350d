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

const word = (v: unknown): string => (v === true ? 'VALID' : v === false ? 'INVALID' : 'UNKNOWN');

/**
 * A few lines a person reads after a run: the verdict and why, what was recorded, which faults ran, every
 * checker's verdict with its anomalies, and where it all is.
 */
export function summarizeVerdict(v: RunVerdict, storeDir: string): string {
  const lines: string[] = [];
  lines.push(`verdict: ${word(v.valid)}${v.reason ? ` (${v.reason})` : ''}`);
  if (v.stats) {
    const s = v.stats;
    lines.push(
      `history: ${s.invokes} ops from ${Object.keys(s.byNode).length} nodes (ok ${s.ok}, fail ${s.fail}, info ${s.info}, open ${s.open}), ${s.nemesisEvents} nemesis events, ${v.gaps.length} sequence gaps`,
    );
    const faults = Object.entries(s.faults ?? {});
    lines.push(`faults: ${faults.length > 0 ? faults.map(([k, n]) => `${k} ×${n}`).join(', ') : 'none'}`);
    if (s.ok === 0 && s.invokes > 0) lines.push('warning: no operation completed ok: the run proves nothing about the database');
  }
  for (const [name, c] of Object.entries(v.checks)) {
    const anomalies = Object.entries(c.anomalies ?? {});
    lines.push(`check ${name}: ${word(c.valid)}${anomalies.length > 0 ? `: ${anomalies.map(([a, n]) => `${a} ×${n}`).join(', ')}` : ''}`);
    if (name === 'linearizable') {
      const ev = c['evidence'] as { key?: string; failingOp?: PairedOpLike; stateAfterPrefix?: unknown } | undefined;
      if (c.valid === false && ev?.failingOp) {
        const op = ev.failingOp;
        lines.push(
          `  not linearizable: key ${JSON.stringify(ev.key ?? '')}: cannot linearize ${describeOperation(op)}, ` +
            (c['model'] === 'mutex' ? `impossible while the lock was ${String(ev.stateAfterPrefix)}` : `impossible once the register held ${String(ev.stateAfterPrefix ?? 'nil')}`),
        );
      } else if (c.valid === 'unknown') {
        lines.push(`  linearizability: unknown for keys ${((c['unknownKeys'] as string[] | undefined) ?? []).join(', ')} (search budget exhausted)`);
      }
      continue;
    }
    // The checker's own lines, past its head line, when it found something or could not decide.
    if (c.valid !== true) for (const l of (c.summary ?? []).slice(1, 8)) lines.push(`  ${l.trimStart()}`);
  }
  if (v.online) {
    const o = v.online;
    const found = Object.entries(o.checkers).flatMap(([name, c]) => Object.entries(c.anomalies).map(([a, n]) => `${name} ${a} ×${n}`));
    const lag = o.lagMs.count > 0 ? `, checker lag median ${o.lagMs.medianMs} ms, max ${o.lagMs.maxMs} ms` : '';
    lines.push(`online: ${o.alerts} alert(s)${found.length > 0 ? ` (${found.join(', ')})` : ''}${lag}; ${o.agrees ? 'agrees with the final check' : `DISAGREES with the final check: ${o.disagreements.join('; ')}`}`);
  }
  lines.push(`store: ${storeDir}`);
  if (existsSync(join(storeDir, 'report.html'))) lines.push(`report: ${join(storeDir, 'report.html')}`);
  return `${lines.join('\n')}\n`;
}
