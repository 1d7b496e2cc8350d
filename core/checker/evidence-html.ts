/**
 * Renders linearizability evidence as one self-contained HTML page: the failing sub-history's ops as
 * bars per process on a time axis (as Porcupine's and Knossos's visualisations do), the failing op in
 * red, ops of the longest linearizable prefix numbered in linearization order.
 */
import type { LinearizabilityResult, OpSummary } from './linearizable';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function label(op: OpSummary): string {
  const v = op.type === 'ok' && op.f !== 'write' && op.f !== 'put' && op.f !== 'append' ? op.value : op.invokeValue;
  return `${op.f} ${JSON.stringify(v ?? null)}${op.type === 'ok' ? '' : ` (${op.type})`}`;
}

/** HTML page for an invalid result, or undefined when there is no evidence. */
export function renderEvidenceHtml(result: LinearizabilityResult): string | undefined {
  const ev = result.evidence;
  if (result.valid !== false || !ev) return undefined;
  const ops = ev.subHistory.length > 0 ? ev.subHistory : ev.longestPrefix;
  const finiteEnds = ops.map((o) => o.end).filter((e): e is number => e !== null);
  const t0 = Math.min(...ops.map((o) => o.start));
  const t1 = Math.max(t0 + 1, ...finiteEnds, ...ops.map((o) => o.start));
  const span = t1 - t0;
  const procs = [...new Set(ops.map((o) => o.process))].sort((a, b) => a - b);
  const rank = new Map(ev.longestPrefix.map((o, i) => [o.index, i + 1]));
  const rowH = 34;
  const width = 1000;
  const left = 90;
  const x = (t: number): number => left + ((t - t0) / span) * (width - left - 20);
  const bars = ops
    .map((o) => {
      const row = procs.indexOf(o.process);
      const x0 = x(o.start);
      const x1 = o.end === null ? width - 10 : Math.max(x(o.end), x0 + 4);
      const failing = ev.failingOp?.index === o.index;
      const fill = failing ? '#e55' : o.type === 'info' ? '#ccc' : o.type === 'fail' ? '#fc9' : '#9cf';
      const r = rank.get(o.index);
      const title = `${label(o)} · index ${o.index}${o.line !== undefined ? ` · line ${o.line}` : ''} · [${o.start}, ${o.end ?? '∞'}]${r ? ` · linearized #${r}` : ''}`;
      return `<g><title>${esc(title)}</title><rect x="${x0.toFixed(1)}" y="${row * rowH + 24}" width="${(x1 - x0).toFixed(1)}" height="${rowH - 10}" rx="3" fill="${fill}" stroke="${failing ? '#900' : '#357'}"${o.end === null ? ' stroke-dasharray="4 3"' : ''}/><text x="${(x0 + 3).toFixed(1)}" y="${row * rowH + 41}" font-size="11">${esc((r ? `#${r} ` : '') + label(o))}</text></g>`;
    })
    .join('\n');
  const rows = procs.map((p, i) => `<text x="4" y="${i * rowH + 41}" font-size="12">process ${p}</text>`).join('\n');
  const height = procs.length * rowH + 40;
  const fo = ev.failingOp;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>faultline: not linearizable (${esc(result.model)}, key ${esc(JSON.stringify(ev.key))})</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em}code{background:#f4f4f4;padding:0 .2em}svg{border:1px solid #ddd}</style></head>
<body>
<h1>Not linearizable</h1>
<p>Model <code>${esc(result.model)}</code>, key <code>${esc(JSON.stringify(ev.key))}</code>${result.invalidKeys.length > 1 ? ` (${result.invalidKeys.length} invalid keys; this is the first)` : ''}.</p>
${fo ? `<p>Cannot linearize <b>${esc(label(fo))}</b> by process ${fo.process} (history index ${fo.index}${fo.line !== undefined ? `, line ${fo.line}` : ''}) after the longest linearizable prefix found (${ev.longestPrefix.length} ops), which leaves the state at <code>${esc(ev.stateAfterPrefix)}</code>.</p>` : ''}
<p>The ${ops.length} operations below form a failing sub-history${ev.minimisationCut ? ' (minimisation stopped at its time limit)' : ''}: on their own they already have no linearization. Bars span the time each op may have taken effect (invocation − uncertainty to completion + uncertainty); dashed bars never completed; red is the op that cannot be linearized; #n is its position in the longest linearizable prefix. Hover for details.</p>
<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
<text x="${left}" y="14" font-size="11">t = ${t0}</text><text x="${width - 160}" y="14" font-size="11">t = ${t1}</text>
${rows}
${bars}
</svg>
</body></html>
`;
}
