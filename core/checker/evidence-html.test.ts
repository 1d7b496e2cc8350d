import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../history/operation';
import { renderEvidenceHtml } from './evidence-html';
import { checkLinearizable } from './linearizable';

const MS = 1_000_000;
/** Glyph advance assumed by the renderer's bound (monospace 11 px); a real glyph is narrower. */
const CHAR_PX = 6.8;

/** [process, f, invoke value, completion type, completion value, start ms, end ms | null (never completes)]. */
type Row = [number, string, unknown, 'ok' | 'fail' | 'info', unknown, number, number | null];

function history(rows: Row[], timed = true): Op[] {
  const events: { t: number; op: Omit<Op, 'index'> }[] = [];
  for (const [process, f, arg, type, value, start, end] of rows) {
    const time = (ms: number) => (timed ? { time: 1_000 * MS + ms * MS, uncertainty: 100_000 } : {});
    events.push({ t: start, op: { type: 'invoke', process, f, key: 'k', value: arg, ...time(start) } });
    if (end !== null) events.push({ t: end, op: { type, process, f, key: 'k', value, ...time(end) } });
  }
  return events.sort((a, b) => a.t - b.t).map((e, index) => ({ index, ...e.op }) as Op);
}

function render(h: Op[], model: 'cas-register' | 'etcd-register' = 'cas-register'): string {
  const result = checkLinearizable(h, { model });
  assert.equal(result.valid, false);
  const html = renderEvidenceHtml(result);
  assert.ok(html);
  return html;
}

const decode = (s: string): string => s.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));

/** Every SVG text element with its anchor, x and content. */
function texts(html: string): { x: number; anchor: string; text: string; cls: string }[] {
  const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
  return [...svg.matchAll(/<text([^>]*)>([^<]*)<\/text>/g)].map((m) => ({
    x: Number(/ x="([-\d.]+)"/.exec(m[1]!)![1]),
    anchor: /text-anchor="(\w+)"/.exec(m[1]!)?.[1] ?? 'start',
    cls: /class="(\w+)"/.exec(m[1]!)?.[1] ?? '',
    text: decode(m[2]!),
  }));
}

function assertBounded(html: string): void {
  const width = Number(/<svg width="(\d+)"/.exec(html)![1]);
  for (const t of texts(html)) {
    const w = Array.from(t.text).length * CHAR_PX;
    const [from, to] = t.anchor === 'middle' ? [t.x - w / 2, t.x + w / 2] : [t.x, t.x + w];
    assert.ok(from >= 0 && to <= width, `text "${t.text}" spans [${from}, ${to}], outside the SVG's width ${width}`);
  }
}

// A stale read at the right edge, with a long value written by an op that never completes.
const LONG = 'a-rather-long-string-value-that-will-not-fit-anywhere-in-a-bar-'.repeat(3);
const stale: Row[] = [
  [0, 'write', 1, 'ok', 1, 0, 4],
  [1, 'write', 3000000001, 'ok', 3000000001, 6, 10],
  [3, 'write', LONG, 'info', LONG, 13, null],
  [0, 'write', 7, 'ok', 7, 14, 16],
  [4, 'cas', [7, 8], 'ok', [7, 8], 16.5, 18],
  [2, 'read', null, 'ok', 3000000001, 19, 21],
];

test('labels stay inside the drawing; long values are cut with an ellipsis and kept whole in a tooltip', () => {
  const html = render(history(stale));
  assertBounded(html);
  const all = texts(html);
  assert.ok(all.some((t) => t.text.includes('write "a-rather') && t.text.endsWith('…')), 'long label ellipsised');
  assert.ok(html.includes(`<title>write &#34;${LONG}&#34;`), 'tooltip has the full value');
  // The failing op's full label is drawn, inside the drawing.
  assert.ok(all.some((t) => t.text.includes('cannot linearize read 3000000001 (process 2')));
  assert.ok(all.some((t) => t.text === 'read 3000000001'));
});

test('the time axis has 5 to 8 ticks at round offsets from the window start, with a unit', () => {
  const ticks = texts(render(history(stale))).filter((t) => t.cls === 'tick');
  assert.ok(ticks.length >= 5 && ticks.length <= 8, `${ticks.length} ticks`);
  assert.deepEqual(
    ticks.map((t) => t.text),
    ['+0 ms', '+5 ms', '+10 ms', '+15 ms', '+20 ms'],
  );
  const xs = ticks.map((t) => t.x);
  assert.deepEqual([...xs].sort((a, b) => a - b), xs);
});

test('without timestamps the axis counts events', () => {
  const html = render(history(stale, false));
  assertBounded(html);
  const ticks = texts(html).filter((t) => t.cls === 'tick');
  assert.ok(ticks.length >= 4 && ticks.length <= 8, `${ticks.length} ticks`);
  assert.ok(ticks.every((t) => /^\+\d+$/.test(t.text)));
  assert.match(html, /positions of events/);
});

test('names the completed writes a stale read contradicts: only the latest that certainly precede it', () => {
  const html = render(history(stale));
  const said = html.slice(html.indexOf('after these completed operations'), html.indexOf('<svg'));
  assert.match(said, /It contradicts them: it returned 3000000001/);
  assert.match(said, /<b>cas \[7,8\]<\/b> \(process 4/);
  // write 7 is certainly followed by cas [7,8]; write 1 and write 3000000001 are older; the info write is unknown.
  assert.doesNotMatch(said.slice(0, said.indexOf('It contradicts')), /write 7|write 1 |write 3000000001|a-rather/);
  assert.match(said, /written by <b>write 3000000001<\/b>.*completed before <b>cas \[7,8\]<\/b> began/);
  // The prefix state is not presented as the system's state.
  assert.match(html, /applies 1 op whose outcome is unknown/);
});

test('says nothing about contradicted writes when the read matches the latest write before it', () => {
  // write 2 is concurrent with both reads; the first read sees 2, the second (after it) sees 1 again.
  const h = history([
    [0, 'write', 1, 'ok', 1, 0, 10],
    [1, 'write', 2, 'ok', 2, 20, 100],
    [2, 'read', null, 'ok', 2, 30, 40],
    [2, 'read', null, 'ok', 1, 50, 60],
  ]);
  const html = render(h);
  assertBounded(html);
  assert.doesNotMatch(html, /contradicts/);
});

test('a failed etcd cas contradicts the write of the value it compared against', () => {
  const html = render(
    history([
      [0, 'write', 5, 'ok', 5, 0, 10],
      [1, 'cas', [5, 6], 'fail', [5, 6], 20, 30],
    ]),
    'etcd-register',
  );
  assertBounded(html);
  assert.match(html, /they all left 5, which the cas compares against, yet it failed/);
  assert.match(html, /<li><b>write 5<\/b>/);
});
