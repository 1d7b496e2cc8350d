/**
 * report.html on stored runs and `faultline serve`, driven through headless Debian chromium: a run with no ok
 * operation is flagged; checker results of any shape render with their anomalies and evidence; `faultline
 * report` rebuilds a page; `serve` lists runs newest first, filters them, opens one and shows its verdict, hands
 * out a run as .tar.gz, writes nothing, and refuses every path outside the store.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveChromium, launchChromium, watchPageErrors } from '../support/browser';
import { CLI, runCli, tempDir } from '../support/processes';
import { READY, STATE, type ReportState } from '../support/report-page';
import { writeSyntheticRun } from '../support/synthetic-run';

const skipNoChromium = haveChromium() ? false : 'chromium is not installed (apt-get install -y chromium)';

/** GET (or another method) with the path sent exactly as given: no client-side normalisation of `..`. */
function rawRequest(url: string, path: string, method = 'GET'): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startServe(t: { after(fn: () => unknown): void }, store: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--store', store, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  });
  return { url, child };
}

test('a run with no ok operation is flagged, and no checker means every op is grey', { timeout: 120_000, skip: skipNoChromium }, async (t) => {
  const store = tempDir(t, 'report-nook-');
  const run = await writeSyntheticRun(store, {
    ops: 300, noOk: true, faultIntervalS: 0,
    results: { valid: 'unknown', reason: 'no operation completed with a known outcome: nothing to check', gaps: [], checks: {} },
  });
  const res = await runCli(['report', run.dir]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /report: .*report\.html \(300 operations/);
  const browser = await launchChromium(t);
  const page = await browser.newPage();
  const errors = watchPageErrors(page);
  await page.goto(`file://${join(run.dir, 'report.html')}`);
  await page.waitForFunction(READY, null, { timeout: 30_000 });
  const state = (await page.evaluate(STATE)) as ReportState;
  assert.deepEqual(state.errors, []);
  assert.equal(state.ops, 300);
  assert.match((await page.textContent('#no-ok-flag')) ?? '', /No operation completed ok: this run proves nothing/);
  assert.match((await page.textContent('#summary')) ?? '', /not checked 300/);
  assert.match((await page.textContent('#checks')) ?? '', /No checker ran: no operation completed/);
  assert.deepEqual(errors, []);
});

test('checker results of any shape: anomaly counts, Elle explanations, lost elements, linearizability evidence in the timeline', { timeout: 120_000, skip: skipNoChromium }, async (t) => {
  const store = tempDir(t, 'report-checks-');
  // A first pass to learn the indexes of a few invocations, then the results naming them.
  const probe = await writeSyntheticRun(store, { ops: 400, faultIntervalS: 0, stamp: '2026-01-01T000000Z' });
  const lines = execFileSync('head', ['-n', '40', join(probe.dir, 'history.jsonl')], { encoding: 'utf8' }).trim().split('\n').map((l) => JSON.parse(l) as { index: number; type: string; process: unknown; f: string; value: unknown; key?: string });
  const invokes = lines.filter((o) => o.type === 'invoke');
  const failing = invokes[5]!;
  const results = {
    valid: false, gaps: [], stats: { invokes: 400 },
    checks: {
      linearizable: {
        valid: false, model: 'etcd-register', opCount: 400, keyCount: 3, invalidKeys: [failing.key], unknownKeys: [], perKey: [{ key: failing.key, valid: false, ops: 10, configurations: 5 }],
        evidence: { key: failing.key, failingOp: { index: failing.index, process: failing.process, f: failing.f, type: 'ok', value: failing.value }, longestPrefix: [], stateAfterPrefix: '7', subHistory: invokes.slice(3, 7).map((o) => ({ index: o.index, process: o.process, f: o.f, type: 'ok', value: o.value })), minimisationCut: false },
        stats: { elapsedMs: 1, configurations: 5, backtracks: 0 },
      },
      'set-full': { checker: 'set-full', valid: false, anomalies: { lost: 2, stale: 0 }, summary: ['2 of 50 acknowledged adds were never read back'], lost: [3, 7], lostCount: 2 },
      'list-append': {
        checker: 'list-append', valid: false, summary: ['G1c: a cycle of write-read dependencies'],
        anomalies: { G1c: { count: 1, examples: [{ txns: ['T1', 'T2'], explanation: ['T1 appended 4 to x, which T2 read', 'T2 appended 5 to y, which T1 read'] }] } },
      },
      counter: { checker: 'counter', valid: 'unknown', anomalies: {}, summary: ['no acknowledged read: nothing to check'] },
    },
  };
  const run = await writeSyntheticRun(store, { ops: 400, faultIntervalS: 0, stamp: '2026-01-01T000000Z', results });
  assert.equal((await runCli(['report', run.dir])).code, 0);
  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors = watchPageErrors(page);
  await page.goto(`file://${join(run.dir, 'report.html')}`);
  await page.waitForFunction(READY, null, { timeout: 30_000 });
  const checks = (await page.textContent('#checks')) ?? '';
  for (const text of ['linearizable', 'set-full', '2 lost element(s)', 'list-append', 'G1c', 'T1 appended 4 to x, which T2 read', 'counter', 'no acknowledged read']) {
    assert.ok(checks.includes(text), `checks section lacks "${text}"`);
  }
  assert.equal(await page.locator('[data-checker="set-full"] .badge').textContent(), 'INVALID');
  assert.equal(await page.locator('[data-checker="counter"] .badge').textContent(), 'UNKNOWN');
  await page.getByRole('button', { name: 'show in timeline' }).click();
  const detail = (await page.textContent('#detail')) ?? '';
  assert.match(detail, new RegExp(`#${failing.index}\\b`));
  assert.match(detail, /named in a checker's evidence/);
  assert.deepEqual(errors, []);
});

test('faultline report on a folder without a history: one line, exit 254', async (t) => {
  const dir = tempDir(t, 'report-empty-');
  const res = await runCli(['report', dir]);
  assert.equal(res.code, 254);
  assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
  assert.match(res.stderr, /^faultline: Cannot build a report: no history\.jsonl in /);
});

test('faultline serve lists runs newest first, filters them, opens one with its verdict, and stays inside the store', { timeout: 180_000, skip: skipNoChromium }, async (t) => {
  const store = tempDir(t, 'serve-store-');
  const outside = tempDir(t, 'serve-outside-');
  writeFileSync(join(outside, 'secret.txt'), 'not for the web\n');
  const valid = await writeSyntheticRun(store, { ops: 200, stamp: '2026-03-01T100000Z', faultIntervalS: 0 });
  const invalid = await writeSyntheticRun(store, {
    ops: 200, stamp: '2026-03-02T100000Z', testName: 'redis-set', db: 'redis', workload: 'set', faultIntervalS: 0,
    results: { valid: false, gaps: [], stats: { invokes: 200 }, checks: { 'set-full': { checker: 'set-full', valid: false, anomalies: { lost: 1 }, summary: ['1 lost'], lost: [1], lostCount: 1 } } },
  });
  await writeSyntheticRun(store, { ops: 200, stamp: '2026-03-03T100000Z', faultIntervalS: 0, results: { valid: 'unknown', reason: 'history incomplete: 1 sequence gap(s)', gaps: [{ node: 'n1', from: 3, to: 3 }], checks: {} } });
  assert.equal((await runCli(['report', invalid.dir])).code, 0);
  symlinkSync(outside, join(store, 'escape'));
  const before = execFileSync('find', [store, '-printf', '%p %s\n'], { encoding: 'utf8' });

  const { url } = await startServe(t, store);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'loopback unless told otherwise');

  const api = JSON.parse((await rawRequest(url, '/api/runs')).body.toString()) as { id: string; verdict: string }[];
  assert.deepEqual(api.map((r) => r.verdict), ['unknown', 'invalid', 'valid'], 'newest first');

  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const errors = watchPageErrors(page);
  await page.goto(url);
  assert.equal(await page.locator('tr.run').count(), 3);
  assert.equal(await page.locator('tr.run').first().getAttribute('data-verdict'), 'unknown');
  await Promise.all([page.waitForURL(/verdict=invalid/), page.selectOption('#filter-verdict', 'invalid')]);
  assert.equal(await page.locator('tr.run').count(), 1);
  assert.equal(await page.locator('tr.run').first().getAttribute('data-id'), 'redis-set/2026-03-02T100000Z');
  await page.goto(`${url}?db=etcd`);
  assert.equal(await page.locator('tr.run').count(), 2);
  await page.goto(`${url}?workload=set&verdict=valid`);
  assert.equal(await page.locator('#no-runs').count(), 1);
  await page.goto(`${url}?verdict=invalid`);
  await Promise.all([page.waitForURL(/report\.html$/), page.locator('tr.run a.report').first().click()]);
  await page.waitForFunction(READY, null, { timeout: 30_000 });
  assert.equal(await page.locator('#summary .badge').first().textContent(), 'INVALID');
  // A run without report.html on disk: built in memory.
  await page.goto(`${url}runs/etcd-register/2026-03-01T100000Z/report.html`);
  await page.waitForFunction(READY, null, { timeout: 30_000 });
  assert.equal(await page.locator('#summary .badge').first().textContent(), 'VALID');
  assert.ok(!existsSync(join(valid.dir, 'report.html')), 'serve wrote into the store');
  assert.deepEqual(errors, []);

  // The archive holds the run folder.
  const tgz = await rawRequest(url, '/archive/redis-set/2026-03-02T100000Z.tar.gz');
  assert.equal(tgz.status, 200);
  assert.match(String(tgz.headers['content-disposition']), /attachment; filename="redis-set-2026-03-02T100000Z\.tar\.gz"/);
  const listing = execFileSync('tar', ['-tzf', '-'], { input: tgz.body, encoding: 'utf8' });
  for (const f of ['history.jsonl', 'plan.json', 'results.json', 'report.html']) assert.ok(listing.includes(`2026-03-02T100000Z/${f}`), listing);

  // Nothing outside the store, however the path is spelled.
  for (const path of [
    '/runs/../../../../etc/passwd', '/runs/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/runs/..%2f..%2f..%2fetc%2fpasswd', '/runs/%2E%2E%5C..%5Cetc/passwd',
    '/runs/escape/secret.txt', '/runs/escape/', '/archive/..%2f..%2fetc.tar.gz', '/archive/escape.tar.gz', '/runs/%00', '/runs/%E0%A4%A',
  ]) {
    const res = await rawRequest(url, path);
    assert.ok([400, 403, 404].includes(res.status), `${path} answered ${res.status}`);
    assert.ok(!res.body.toString().includes('root:') && !res.body.toString().includes('not for the web'), `${path} leaked a file`);
  }
  assert.equal((await rawRequest(url, '/runs/escape/secret.txt')).status, 403);
  // (%2e%2e segments are dot segments to the URL parser, so they never reach /runs; an encoded slash does.)
  assert.equal((await rawRequest(url, '/runs/..%2f..%2f..%2fetc%2fpasswd')).status, 403);
  // Read-only.
  for (const method of ['POST', 'PUT', 'DELETE']) assert.equal((await rawRequest(url, '/runs/etcd-register/', method)).status, 405);
  assert.equal(execFileSync('find', [store, '-printf', '%p %s\n'], { encoding: 'utf8' }), before, 'the store changed');
  assert.ok(readdirSync(store).includes('escape'));
});

test('faultline serve: a store that is not a folder, or a bad port, is one line and exit 254', async (t) => {
  const dir = tempDir(t, 'serve-bad-');
  mkdirSync(join(dir, 'x'));
  const missing = await runCli(['serve', '--store', join(dir, 'nope'), '--port', '0']);
  assert.equal(missing.code, 254);
  assert.match(missing.stderr, /^faultline: Cannot serve the store: ".*nope" is not a folder\n$/);
  const port = await runCli(['serve', '--store', dir, '--port', 'eighty']);
  assert.equal(port.code, 254);
  assert.match(port.stderr, /Cannot serve the store: --port "eighty" is not a port number/);
});
