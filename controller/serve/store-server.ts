/**
 * `faultline serve`: a read-only web view of a store. `/` lists the runs newest first (filter by verdict,
 * database, workload); `/runs/<test>/<time>/` lists a run's files and serves them, `report.html` included (built
 * in memory from the history when the run has none on disk); `/archive/<test>/<time>.tar.gz` downloads the run
 * folder. Nothing outside the store is ever served: paths are decoded, resolved and checked, symlinks included.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { readReportData } from '../report/report-data';
import { renderReportHtml } from '../report/report-html';
import { listRuns, type RunEntry, type RunFilter } from './store-index';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.json': 'application/json; charset=utf-8', '.jsonl': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.svg': 'image/svg+xml', '.edn': 'text/plain; charset=utf-8',
};

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const href = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

export interface StoreServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** A path under the store, or undefined when it would leave the store (after decoding and following symlinks). */
export function resolveInStore(storeReal: string, rel: string): string | undefined {
  if (rel.includes('\0')) return undefined;
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..' || p.includes('\\'))) return undefined;
  const abs = resolve(storeReal, ...parts);
  if (abs !== storeReal && !abs.startsWith(storeReal + sep)) return undefined;
  if (!existsSync(abs)) return abs;
  const real = realpathSync(abs);
  return real === storeReal || real.startsWith(storeReal + sep) ? real : undefined;
}

/** Starts the server; resolves once it listens. */
export async function startStoreServer(opts: { store: string; host: string; port: number }): Promise<StoreServer> {
  if (!existsSync(opts.store) || !statSync(opts.store).isDirectory()) throw new RangeError(`Cannot serve the store: "${opts.store}" is not a folder`);
  const storeReal = realpathSync(opts.store);
  const server = createServer((req, res) => {
    handle(storeReal, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(err as Error).message}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolveListen());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}/`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff' });
  res.end(body);
}

async function handle(store: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'read-only: only GET and HEAD\n');
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return send(res, 400, 'text/plain; charset=utf-8', 'bad path encoding\n');
  }
  const filter: RunFilter = {};
  for (const k of ['verdict', 'db', 'workload'] as const) {
    const v = url.searchParams.get(k);
    if (v) filter[k] = v;
  }
  if (path === '/favicon.ico') {
    res.writeHead(204);
    return void res.end();
  }
  if (path === '/') return send(res, 200, 'text/html; charset=utf-8', indexPage(store, filter));
  if (path === '/api/runs') return send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify(listRuns(store, filter))}\n`);
  if (path.startsWith('/archive/') && path.endsWith('.tar.gz')) {
    const rel = path.slice('/archive/'.length, -'.tar.gz'.length);
    const dir = resolveInStore(store, rel);
    if (dir === undefined) return send(res, 403, 'text/plain; charset=utf-8', 'outside the store\n');
    if (!existsSync(dir) || !statSync(dir).isDirectory() || !existsSync(join(dir, 'plan.json')) && !existsSync(join(dir, 'history.jsonl'))) {
      return send(res, 404, 'text/plain; charset=utf-8', 'no such run\n');
    }
    return archive(dir, rel, req, res);
  }
  if (path === '/runs' || path.startsWith('/runs/')) {
    const rel = path.slice('/runs'.length);
    const abs = resolveInStore(store, rel);
    if (abs === undefined) return send(res, 403, 'text/plain; charset=utf-8', 'outside the store\n');
    if (!existsSync(abs)) {
      // A run without report.html on disk (an older run): built in memory, the store stays untouched.
      if (abs.endsWith(`${sep}report.html`) && existsSync(join(abs, '..', 'history.jsonl'))) {
        return send(res, 200, 'text/html; charset=utf-8', renderReportHtml(await readReportData(join(abs, '..'))));
      }
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
    const st = statSync(abs);
    if (st.isDirectory()) {
      if (!path.endsWith('/')) {
        res.writeHead(301, { location: `${href(path)}/` });
        return void res.end();
      }
      return send(res, 200, 'text/html; charset=utf-8', folderPage(store, abs, rel));
    }
    res.writeHead(200, { 'content-type': TYPES[extname(abs)] ?? 'application/octet-stream', 'content-length': st.size, 'x-content-type-options': 'nosniff' });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(abs).pipe(res);
    return;
  }
  return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
}

/** Streams `tar -cz` of the run folder (Debian's tar). */
function archive(dir: string, rel: string, req: IncomingMessage, res: ServerResponse): void {
  const name = rel.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  res.writeHead(200, { 'content-type': 'application/gzip', 'content-disposition': `attachment; filename="${name}.tar.gz"` });
  if (req.method === 'HEAD') return void res.end();
  const parent = resolve(dir, '..');
  const base = dir.slice(parent.length + 1);
  const tar = spawn('tar', ['-czf', '-', '-C', parent, '--', base], { stdio: ['ignore', 'pipe', 'ignore'] });
  tar.stdout.pipe(res);
  res.once('close', () => {
    if (tar.exitCode === null) tar.kill('SIGTERM');
  });
}

const VERDICTS = ['valid', 'invalid', 'unknown', 'unchecked'];

function select(name: string, values: string[], current: string | undefined): string {
  const opts = ['<option value="">all</option>', ...values.map((v) => `<option value="${esc(v)}"${v === current ? ' selected' : ''}>${esc(v)}</option>`)];
  return `<label>${name} <select name="${name}" id="filter-${name}">${opts.join('')}</select></label>`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}main{max-width:1300px;margin:0 auto;padding:16px 20px}
table{border-collapse:collapse;width:100%;background:#fff}td,th{padding:5px 10px;border-bottom:1px solid #e5e7eb;text-align:left}th{color:#667}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;font-weight:600;font-size:12px}.valid{background:#d8f3dc;color:#1b5e20}
.invalid{background:#ffd6de;color:#a0102e}.unknown,.unchecked{background:#ffe9c2;color:#7a4b00}form{margin:10px 0 14px;display:flex;gap:14px;align-items:center}
a{color:#1d4ed8}.muted{color:#667}`;

function indexPage(store: string, filter: RunFilter): string {
  const all = listRuns(store);
  const runs = listRuns(store, filter);
  const dbs = [...new Set(all.map((r) => r.db).filter(Boolean))].sort();
  const workloads = [...new Set(all.map((r) => r.workload).filter(Boolean))].sort();
  const row = (r: RunEntry): string =>
    `<tr class="run" data-id="${esc(r.id)}" data-verdict="${r.verdict}"><td>${esc(r.test)}</td><td>${esc(r.startedAt ?? r.stamp)}</td>` +
    `<td><span class="badge ${r.verdict}">${r.verdict.toUpperCase()}</span>${r.reason ? ` <span class="muted">${esc(r.reason)}</span>` : ''}</td>` +
    `<td>${esc(r.db)}</td><td>${esc(r.workload)}</td><td>${esc(r.faults.join(', ') || 'none')}</td><td>${r.ops ?? ''}</td>` +
    `<td><a class="report" href="/runs/${href(r.id)}/report.html">report</a> · <a href="/runs/${href(r.id)}/">files</a> · ` +
    `<a class="archive" href="/archive/${href(r.id)}.tar.gz">archive</a></td></tr>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>faultline runs</title><style>${STYLE}</style></head><body><main>
<h1>faultline runs</h1><div class="muted">${esc(store)} · ${runs.length} of ${all.length} runs, newest first</div>
<form method="get" action="/">${select('verdict', VERDICTS, filter.verdict)}${select('db', dbs, filter.db)}${select('workload', workloads, filter.workload)}
<button type="submit" id="apply">filter</button> <a href="/">clear</a></form>
<table id="runs"><tr><th>test</th><th>started</th><th>verdict</th><th>db</th><th>workload</th><th>faults</th><th>ops</th><th></th></tr>
${runs.map(row).join('\n')}</table>${runs.length === 0 ? '<p class="muted" id="no-runs">No run matches.</p>' : ''}
<script>document.querySelectorAll('form select').forEach(function(s){s.addEventListener('change',function(){s.form.submit();});});</script>
</main></body></html>`;
}

function folderPage(store: string, abs: string, rel: string): string {
  const entries = readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  const base = `/runs${rel.endsWith('/') ? rel : `${rel}/`}`;
  const isRun = existsSync(join(abs, 'plan.json')) || existsSync(join(abs, 'history.jsonl'));
  const items = entries.map((e) => `<li><a href="${href(base + e.name)}${e.isDirectory() ? '/' : ''}">${esc(e.name)}${e.isDirectory() ? '/' : ''}</a></li>`);
  if (isRun && !entries.some((e) => e.name === 'report.html')) items.unshift(`<li><a href="${href(`${base}report.html`)}">report.html</a> (built from the history)</li>`);
  const runId = abs.slice(store.length + 1);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${esc(runId || 'store')}</title><style>${STYLE}</style></head><body><main>
<p><a href="/">all runs</a></p><h1>${esc(runId || 'store')}</h1>${isRun ? `<p><a href="/archive/${href(runId)}.tar.gz">download as .tar.gz</a></p>` : ''}
<ul>${items.join('')}</ul></main></body></html>`;
}
