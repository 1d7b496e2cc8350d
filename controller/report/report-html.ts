/**
 * Turns report data into one self-contained HTML page: the operations packed as gzip-compressed typed arrays in
 * base64 (the page inflates them with the browser's DecompressionStream), uPlot and the page's own script and
 * style inlined from disk. Nothing is fetched when the page opens, so it works from the file system, offline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ReportColumns, ReportData } from './report-data';

/** The page's own script and style live beside the sources; dist/ holds only compiled TypeScript. */
function assetPath(name: string): string {
  const candidates = [join(__dirname, 'assets', name), join(__dirname, '../../../controller/report/assets', name)];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`Cannot build a report: asset "${name}" not found (looked in ${candidates.join(', ')})`);
  return found;
}

function uplotFile(name: string): string {
  const pkg = require.resolve('uplot/package.json');
  return readFileSync(join(dirname(pkg), 'dist', name), 'utf8');
}

const COLUMN_ORDER: (keyof Omit<ReportColumns, 'count'>)[] = ['start', 'dur', 'process', 'type', 'f', 'node', 'key', 'err', 'index', 'checked', 'uncertaintyUs'];

/**
 * Packs the columns and string tables into one buffer: a little-endian u32 header length, the header (JSON:
 * column names, array types, byte offsets, and the string tables), then each column's bytes at an 8-byte
 * aligned offset. Gzip-compressed.
 */
export function packColumns(data: ReportData): Buffer {
  const cols = data.columns;
  const layout: { name: string; type: string; offset: number; length: number }[] = [];
  let offset = 0;
  for (const name of COLUMN_ORDER) {
    const arr = cols[name];
    layout.push({ name, type: arr.constructor.name, offset, length: arr.length });
    offset += Math.ceil(arr.byteLength / 8) * 8;
  }
  const header = Buffer.from(JSON.stringify({ count: cols.count, columns: layout, tables: data.tables }), 'utf8');
  const headerPadded = Math.ceil((4 + header.length) / 8) * 8;
  const out = Buffer.alloc(headerPadded + offset);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  for (const [i, name] of COLUMN_ORDER.entries()) {
    const arr = cols[name];
    Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).copy(out, headerPadded + layout[i]!.offset);
  }
  return gzipSync(out, { level: 6 });
}

/** JSON safe to embed in a <script> element. */
function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The whole page. */
export function renderReportHtml(data: ReportData): string {
  const packed = packColumns(data).toString('base64');
  const css = readFileSync(assetPath('report.css'), 'utf8');
  const js = readFileSync(assetPath('report.js'), 'utf8');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<link rel="icon" href="data:,">',
    `<title>faultline report: ${escapeHtml(data.meta.title)}</title>`,
    `<style>${uplotFile('uPlot.min.css')}</style>`,
    `<style>${css}</style>`,
    '</head><body>',
    '<div id="app"><p id="loading">Loading the report…</p></div>',
    `<script type="application/json" id="meta">${embedJson(data.meta)}</script>`,
    `<script type="application/octet-stream" id="ops">${packed}</script>`,
    `<script>${uplotFile('uPlot.iife.min.js')}</script>`,
    `<script>${js}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
