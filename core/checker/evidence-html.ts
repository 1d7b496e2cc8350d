/**
 * Renders linearizability evidence as one self-contained HTML page: the failing sub-history's ops as
 * bars per process on a time axis (as Porcupine's and Knossos's visualisations do), the failing op in
 * red, unknown-outcome ops open-ended, ops of the longest linearizable prefix numbered in linearization
 * order, and, when it can be derived with certainty, which completed ops the failing op contradicts.
 */
import { valueKey } from '../models/model';
import type { LinearizabilityResult, OpSummary } from './linearizable';

/** Drawing geometry, px. SVG text is monospace so that label widths can be bounded without a browser. */
const FONT_PX = 11;
/** Upper bound of a monospace glyph's advance at FONT_PX (DejaVu Sans Mono: 0.602 em). */
const CHAR_PX = 6.8;
const WIDTH_PX = 1180;
const LEFT_PX = 104;
/** The time axis ends here; open-ended (info) bars run on to the arrow at WIDTH_PX - 6. */
const PLOT_RIGHT_PX = WIDTH_PX - 56;
const AXIS_PX = 34;
/** Vertical pitch of one lane of bars, and the bar height in it. */
const LANE_PX = 28;
const BAR_PX = 22;
const ROW_GAP_PX = 8;
/** Extra height under the failing op's row for its full label. */
const NOTE_PX = 18;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function label(op: OpSummary): string {
  const v = op.type === 'ok' && op.f !== 'write' && op.f !== 'put' && op.f !== 'append' ? op.value : op.invokeValue;
  return `${op.f} ${JSON.stringify(v ?? null)}${op.type === 'ok' ? '' : ` (${op.type})`}`;
}

function where(op: OpSummary): string {
  return `process ${op.process}, history index ${op.index}${op.line !== undefined ? `, line ${op.line}` : ''}`;
}

/** Cuts `text` to at most `px` wide (at CHAR_PX per character), ending in an ellipsis when cut. */
function fit(text: string, px: number): string {
  const chars = Array.from(text);
  const max = Math.floor(px / CHAR_PX);
  if (chars.length <= max) return text;
  return max < 2 ? '' : `${chars.slice(0, max - 1).join('')}…`;
}

/** A time scale: ticks at round offsets from the window start, 5 to 8 of them. */
interface Scale {
  unit: string;
  perUnit: number;
  ticks: number[];
}

function timeScale(span: number, positions: boolean): Scale {
  let step = positions ? 1 : span / 5;
  search: for (let e = Math.ceil(Math.log10(Math.max(span, 1e-9))); e > -12; e--) {
    for (const m of [10, 5, 2.5, 2]) {
      const s = m * 10 ** (e - 1);
      if (positions && (!Number.isInteger(s) || s < 1)) continue;
      if (Math.floor(span / s) + 1 >= 5) {
        step = s;
        break search;
      }
    }
  }
  const ticks: number[] = [];
  for (let k = 0; k * step <= span * (1 + 1e-9); k++) ticks.push(k * step);
  if (positions) return { unit: 'events', perUnit: 1, ticks };
  const [unit, perUnit] = step >= 1e9 ? ['s', 1e9] : step >= 1e6 ? ['ms', 1e6] : step >= 1e3 ? ['µs', 1e3] : ['ns', 1];
  return { unit: unit as string, perUnit: perUnit as number, ticks };
}

function fmt(v: number): string {
  return String(Number(v.toFixed(3)));
}

/**
 * What a failing register-like op contradicts, derived only from facts: the completed (ok) writes that
 * certainly finished before it began (end < its start) and that no other such write certainly followed.
 * Returns undefined when nothing can be said with certainty.
 */
function contradiction(model: string, failing: OpSummary, ops: readonly OpSummary[], offset: (t: number) => string): string | undefined {
  const kv = model === 'kv';
  if (!kv && !['register', 'cas-register', 'etcd-register'].includes(model)) return undefined;
  // The sub-history is a time-prefix that keeps every non-read op up to the failing op's end, so every
  // ok write that certainly precedes the failing op is in it.
  if (!ops.some((o) => o.index === failing.index)) return undefined;
  const canon = (v: unknown): unknown => (kv ? (v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v)) : valueKey(v));
  const written = (o: OpSummary): { v: unknown } | undefined => {
    if (o.type !== 'ok') return undefined;
    if (o.f === 'write' || o.f === 'put') return { v: canon(o.invokeValue) };
    if (o.f === 'cas' && Array.isArray(o.invokeValue) && o.invokeValue.length === 2) return { v: canon(o.invokeValue[1]) };
    return undefined;
  };
  const before = ops.filter((o) => o.end !== null && o.end < failing.start && o.index !== failing.index);
  if (before.some((o) => o.f === 'append' && o.type === 'ok')) return undefined; // appends do not set a value
  const writes = before.filter((o) => written(o) !== undefined);
  const latest = writes.filter((w) => !writes.some((w2) => w.end! < w2.start));
  if (latest.length === 0) return undefined;
  const values = latest.map((w) => written(w)!.v);
  const cas = failing.f === 'cas' && Array.isArray(failing.invokeValue) && failing.invokeValue.length === 2 ? canon(failing.invokeValue[0]) : undefined;
  let needs: string;
  let seen: unknown;
  if ((failing.f === 'read' || failing.f === 'get') && failing.type === 'ok') {
    seen = canon(failing.value);
    if (values.includes(seen)) return undefined;
    needs = `it returned ${esc(JSON.stringify(failing.value ?? null))}, which none of them wrote, so some other write of that value must take effect after them and before the read`;
  } else if (failing.f === 'cas' && failing.type === 'ok' && cas !== undefined) {
    seen = cas;
    if (values.includes(cas)) return undefined;
    needs = `its compare needs ${esc(JSON.stringify((failing.invokeValue as unknown[])[0] ?? null))}, which none of them wrote, so some other write of that value must take effect after them and before the cas`;
  } else if (failing.f === 'cas' && failing.type === 'fail' && model === 'etcd-register' && cas !== undefined) {
    if (!values.every((v) => v === cas)) return undefined;
    needs = `they all left ${esc(JSON.stringify((failing.invokeValue as unknown[])[0] ?? null))}, which the cas compares against, yet it failed, so some other write must take effect after them and before the cas`;
  } else {
    return undefined;
  }
  const item = (o: OpSummary): string => `<li><b>${esc(label(o))}</b> (${esc(where(o))}), completed by ${offset(o.end!)}</li>`;
  let stale = '';
  if (seen !== undefined) {
    const source = writes.find((w) => written(w)!.v === seen);
    const later = source && latest.find((l) => source.end! < l.start);
    if (source && later) stale = `<p>The value it saw was written by <b>${esc(label(source))}</b> (${esc(where(source))}), which completed before <b>${esc(label(later))}</b> began: the read is stale unless another write of that value came later.</p>`;
  }
  return `<p><b>${esc(label(failing))}</b> (${esc(where(failing))}) began at ${offset(failing.start)}, after these completed operations, the latest writes that certainly precede it (each ended before it began, and no other such write certainly came after them):</p>
<ul>${latest.map(item).join('')}</ul>
<p>It contradicts them: ${needs}; the search found no order of the ${ops.length} operations below in which that happens.</p>${stale}`;
}

/** HTML page for an invalid result, or undefined when there is no evidence. */
export function renderEvidenceHtml(result: LinearizabilityResult): string | undefined {
  const ev = result.evidence;
  if (result.valid !== false || !ev) return undefined;
  const fromSub = ev.subHistory.length > 0;
  const ops = fromSub ? ev.subHistory : ev.longestPrefix;
  if (ops.length === 0) return undefined;
  // Without timestamps, pairing uses event positions as times, so start is exactly the invocation's index.
  const positions = ops.every((o) => o.start === o.index);
  const finiteEnds = ops.map((o) => o.end).filter((e): e is number => e !== null);
  const t0 = Math.min(...ops.map((o) => o.start));
  const t1 = Math.max(t0 + 1, ...finiteEnds, ...ops.map((o) => o.start));
  const span = t1 - t0;
  const scale = timeScale(span, positions);
  const offset = (t: number): string => (positions ? `event ${t}` : `+${String(Number(((t - t0) / scale.perUnit).toPrecision(4)))} ${scale.unit}`);
  const procs = [...new Set(ops.map((o) => o.process))].sort((a, b) => a - b);
  const rank = new Map(ev.longestPrefix.map((o, i) => [o.index, i + 1]));
  const fo = ev.failingOp;
  const failingShown = fo !== undefined && ops.some((o) => o.index === fo.index);
  const x = (t: number): number => LEFT_PX + ((t - t0) / span) * (PLOT_RIGHT_PX - LEFT_PX);
  // A process's consecutive ops can overlap once widened by clock uncertainty: such ops go to extra lanes.
  const lanes = new Map<number, { op: OpSummary; lane: number }[]>();
  const laneCount = new Map<number, number>();
  for (const p of procs) {
    const laneEnd: number[] = [];
    const placed = ops
      .filter((o) => o.process === p)
      .sort((a, b) => a.start - b.start || a.index - b.index)
      .map((op) => {
        const x0 = x(op.start);
        let lane = laneEnd.findIndex((e) => e + 2 <= x0);
        if (lane < 0) lane = laneEnd.push(0) - 1;
        laneEnd[lane] = op.end === null ? Infinity : Math.max(x(op.end), x0 + 4);
        return { op, lane };
      });
    lanes.set(p, placed);
    laneCount.set(p, laneEnd.length);
  }
  const rowTop = new Map<number, number>();
  let y = AXIS_PX;
  for (const p of procs) {
    rowTop.set(p, y);
    y += laneCount.get(p)! * LANE_PX + ROW_GAP_PX + (failingShown && fo.process === p ? NOTE_PX : 0);
  }
  const height = y + 4;
  const bars: string[] = [];
  const notes: string[] = [];
  const stripes: string[] = [];
  procs.forEach((p, i) => {
    const top = rowTop.get(p)!;
    const bottom = i + 1 < procs.length ? rowTop.get(procs[i + 1]!)! : height;
    if (i % 2 === 1) stripes.push(`<rect x="0" y="${top - ROW_GAP_PX / 2}" width="${WIDTH_PX}" height="${bottom - top}" fill="#f6f8fa"/>`);
    stripes.push(`<text x="6" y="${top + 15}">${esc(fit(`process ${p}`, LEFT_PX - 12))}</text>`);
    const placed = lanes.get(p)!;
    placed.forEach(({ op: o, lane }, k) => {
      const barTop = top + lane * LANE_PX;
      const x0 = x(o.start);
      const open = o.end === null;
      const x1 = open ? PLOT_RIGHT_PX : Math.max(x(o.end!), x0 + 4);
      const failing = fo?.index === o.index;
      const fill = failing ? '#e55' : o.type === 'info' ? '#e6e6e6' : o.type === 'fail' ? '#fc9' : '#9cf';
      const stroke = failing ? '#900' : o.type === 'info' ? '#777' : '#357';
      const r = rank.get(o.index);
      const text = (r ? `#${r} ` : '') + label(o);
      const title = `${label(o)} · ${where(o)} · ${offset(o.start)} to ${open ? '∞ (never completed)' : offset(o.end!)}${r ? ` · linearized #${r} in the longest prefix` : ''}${failing ? ' · cannot be linearized' : ''}`;
      // A label may run past its bar into free space: up to the next bar in its lane, or the drawing's
      // edge; never over another bar, never out of the drawing.
      const next = placed.slice(k + 1).find((q) => q.lane === lane);
      const free = next ? x(next.op.start) - 4 : open ? PLOT_RIGHT_PX : WIDTH_PX - 4;
      const limit = Math.min(WIDTH_PX - 4, Math.max(x1, free));
      const shown = fit(text, limit - (x0 + 4) - 2);
      const shape = open
        ? `<rect x="${x0.toFixed(1)}" y="${barTop}" width="${(x1 - x0).toFixed(1)}" height="${BAR_PX}" fill="${fill}" stroke="${stroke}" stroke-dasharray="4 3"/><path d="M${x1.toFixed(1)} ${barTop + BAR_PX / 2}h${(WIDTH_PX - 8 - x1).toFixed(1)}m-6 -5l6 5l-6 5" fill="none" stroke="${stroke}" stroke-dasharray="4 3"/>`
        : `<rect x="${x0.toFixed(1)}" y="${barTop}" width="${(x1 - x0).toFixed(1)}" height="${BAR_PX}" rx="3" fill="${fill}" stroke="${stroke}"${failing ? ' stroke-width="2"' : ''}/>`;
      bars.push(`<g><title>${esc(title)}</title>${shape}${shown ? `<text x="${(x0 + 4).toFixed(1)}" y="${barTop + 15}">${esc(shown)}</text>` : ''}</g>`);
      if (failing) {
        const note = fit(`✗ cannot linearize ${label(o)} (${where(o)})`, WIDTH_PX - LEFT_PX - 8);
        const nx = Math.max(LEFT_PX, Math.min(x0, WIDTH_PX - 4 - Array.from(note).length * CHAR_PX));
        notes.push(`<g><title>${esc(title)}</title><text x="${nx.toFixed(1)}" y="${top + laneCount.get(p)! * LANE_PX + 11}" fill="#900" font-weight="bold">${esc(note)}</text></g>`);
      }
    });
  });
  const grid = scale.ticks
    .map((d) => {
      const tx = x(t0 + d).toFixed(1);
      const tick = positions ? `+${fmt(d)}` : `+${fmt(d / scale.perUnit)} ${scale.unit}`;
      return `<line x1="${tx}" y1="${AXIS_PX - 8}" x2="${tx}" y2="${height}" stroke="#ddd"/><text class="tick" x="${tx}" y="${AXIS_PX - 12}" text-anchor="middle">${esc(tick)}</text>`;
    })
    .join('');
  const band =
    failingShown && fo.end !== null
      ? `<rect x="${x(fo.start).toFixed(1)}" y="${AXIS_PX - 6}" width="${Math.max(x(fo.end) - x(fo.start), 4).toFixed(1)}" height="${height - AXIS_PX + 2}" fill="#e55" opacity="0.08"/>`
      : '';
  const infoInPrefix = ev.longestPrefix.filter((o) => o.type === 'info').length;
  const contra = fo ? contradiction(result.model, fo, ev.subHistory, offset) : undefined;
  const blocked = ev.blockedAfterPrefix;
  const origin = positions ? 'Times are positions of events in the history (it has no timestamps).' : `Time axis: offsets from t = ${t0} ns on the run's reference timeline.`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>faultline: not linearizable (${esc(result.model)}, key ${esc(JSON.stringify(ev.key))})</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5em;max-width:${WIDTH_PX + 40}px}code{background:#f4f4f4;padding:0 .2em}svg{border:1px solid #ddd;background:#fff}
svg text{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:${FONT_PX}px}.key span{display:inline-block;width:1.6em;height:.9em;vertical-align:middle;margin:0 .3em 0 1em;border:1px solid #357;border-radius:2px}</style></head>
<body>
<h1>Not linearizable</h1>
<p>Model <code>${esc(result.model)}</code>, key <code>${esc(JSON.stringify(ev.key))}</code>${result.invalidKeys.length > 1 ? ` (${result.invalidKeys.length} invalid keys; this is the first)` : ''}.</p>
${!fromSub ? `<p>${fo ? `Cannot linearize <b>${esc(label(fo))}</b> (${esc(where(fo))}). ` : ''}No failing sub-history was kept; below are the ${ops.length} ops of the longest linearizable prefix the search found.</p>` : fo ? `<p>Cannot linearize <b>${esc(label(fo))}</b> (${esc(where(fo))}): the ${ops.length} operations below${ev.minimisationCut ? '' : ', a smallest failing sub-history found,'} have no linearization on their own${ev.minimisationCut ? ' (minimisation stopped at its time limit, so they may not be the fewest)' : ''}, which proves the whole history has none.</p>` : `<p>The ${ops.length} operations below have no linearization on their own${ev.minimisationCut ? ' (minimisation stopped at its time limit)' : ''}.</p>`}
${contra ?? ''}
<p class="key"><span style="background:#9cf"></span>ok<span style="background:#fc9"></span>fail<span style="background:#e6e6e6;border:1px dashed #777"></span>info: outcome unknown, may take effect any time after invocation, or never<span style="background:#e55;border-color:#900"></span>cannot be linearized</p>
<svg width="${WIDTH_PX}" height="${height}" viewBox="0 0 ${WIDTH_PX} ${height}" xmlns="http://www.w3.org/2000/svg">
${stripes.join('')}
${band}
${grid}
${bars.join('\n')}
${notes.join('\n')}
</svg>
<p>${esc(origin)} Bars span the time each op may have taken effect (invocation − clock uncertainty to completion + uncertainty); dashed bars never completed. #n is the op's position in the longest linearizable prefix the search of the whole key found. Labels that do not fit end in “…”: hover for the full text.</p>
<p>That prefix has ${ev.longestPrefix.length} ops${blocked ? `; after it the search could not place <b>${esc(label(blocked))}</b> (${esc(where(blocked))})` : ''}. It leaves the model in state <code>${esc(ev.stateAfterPrefix)}</code>, which is only the state along that one order${infoInPrefix > 0 ? `, and it applies ${infoInPrefix} op${infoInPrefix > 1 ? 's' : ''} whose outcome is unknown (info)` : ''}: not necessarily the state the system was in.</p>
</body></html>
`;
}
