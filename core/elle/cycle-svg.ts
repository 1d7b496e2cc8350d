/**
 * Draws one anomaly cycle as a self-contained SVG: transactions on a circle, each dependency an arrow
 * labelled with its relation, and each transaction's micro-operations listed underneath. Our own writer,
 * so no Graphviz is needed.
 */
import { PROCESS, REALTIME, RW, WR, WW } from './dependency-graph';
import { edgeTag } from './explain';
import { formatTxn, txnName, type TxnHistory } from './txn-history';

const COLOURS: Record<number, string> = {
  [WW]: '#1f5fbf',
  [WR]: '#2a8a2a',
  [RW]: '#c0392b',
  [PROCESS]: '#7d3c98',
  [REALTIME]: '#b9770e',
};

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** SVG text for the cycle `vertices[0] -> vertices[1] -> … -> vertices[0]`. */
export function renderCycleSvg(
  h: TxnHistory,
  title: string,
  vertices: readonly number[],
  relations: readonly number[],
): string {
  const k = vertices.length;
  const radius = Math.max(110, 38 * k);
  const cx = radius + 120;
  const cy = radius + 70;
  const width = Math.max(2 * cx, 760);
  const boxW = 110;
  const boxH = 40;
  const pos = vertices.map((_, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / k;
    return { x: cx + radius * Math.cos(angle), y: cy + radius * Math.sin(angle) };
  });
  const parts: string[] = [];
  parts.push(`<text x="16" y="26" font-size="16" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i < k; i++) {
    const p = pos[i]!;
    const q = pos[(i + 1) % k]!;
    const rel = relations[i]!;
    const colour = COLOURS[rel] ?? '#444';
    // Bend each arrow outwards so that a two-transaction cycle shows two distinct arrows.
    const mx = (p.x + q.x) / 2;
    const my = (p.y + q.y) / 2;
    const dx = q.x - p.x;
    const dy = q.y - p.y;
    const len = Math.hypot(dx, dy) || 1;
    const bend = k === 2 ? 60 : 28;
    const ctrl = { x: mx + (dy / len) * bend, y: my - (dx / len) * bend };
    // Stop the arrow at the box edge: shorten along the curve's end tangent.
    const ex = q.x - ctrl.x;
    const ey = q.y - ctrl.y;
    const el = Math.hypot(ex, ey) || 1;
    const end = { x: q.x - (ex / el) * (boxH / 2 + 14), y: q.y - (ey / el) * (boxH / 2 + 14) };
    const sx = ctrl.x - p.x;
    const sy = ctrl.y - p.y;
    const sl = Math.hypot(sx, sy) || 1;
    const start = { x: p.x + (sx / sl) * (boxH / 2 + 6), y: p.y + (sy / sl) * (boxH / 2 + 6) };
    parts.push(
      `<path d="M${start.x.toFixed(1)},${start.y.toFixed(1)} Q${ctrl.x.toFixed(1)},${ctrl.y.toFixed(1)} ${end.x.toFixed(1)},${end.y.toFixed(1)}" fill="none" stroke="${colour}" stroke-width="2" marker-end="url(#arrow-${rel})"/>`,
    );
    parts.push(
      `<text x="${ctrl.x.toFixed(1)}" y="${ctrl.y.toFixed(1)}" font-size="13" fill="${colour}" text-anchor="middle">${esc(edgeTag(rel))}</text>`,
    );
  }
  for (let i = 0; i < k; i++) {
    const p = pos[i]!;
    const t = vertices[i]!;
    parts.push(
      `<g><title>${esc(formatTxn(h, t, 50))}</title><rect x="${(p.x - boxW / 2).toFixed(1)}" y="${(p.y - boxH / 2).toFixed(1)}" width="${boxW}" height="${boxH}" rx="6" fill="#fdfdf5" stroke="#333"/>` +
        `<text x="${p.x.toFixed(1)}" y="${(p.y - 3).toFixed(1)}" font-size="14" text-anchor="middle" font-weight="bold">${esc(txnName(h, t))}</text>` +
        `<text x="${p.x.toFixed(1)}" y="${(p.y + 13).toFixed(1)}" font-size="11" text-anchor="middle">process ${esc(String(h.process[t]))}, line ${h.line[t]}</text></g>`,
    );
  }
  let y = 2 * cy - 10;
  for (const t of vertices) {
    parts.push(`<text x="16" y="${y}" font-size="12" font-family="monospace">${esc(`${txnName(h, t)}: ${formatTxn(h, t, 12)}`)}</text>`);
    y += 18;
  }
  const markers = Object.entries(COLOURS)
    .map(
      ([rel, c]) =>
        `<marker id="arrow-${rel}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(y + 10)}" font-family="sans-serif">
<defs>${markers}</defs>
<rect width="100%" height="100%" fill="white"/>
${parts.join('\n')}
</svg>
`;
}
