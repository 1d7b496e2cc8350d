/**
 * `npm run bench:report`: what report.html costs for a big run. Writes a run folder with a 1,000,000-operation
 * history (50 client processes on 5 nodes, ok / fail / info outcomes, a partition or a kill every 20 s), builds
 * its report (and the Perfetto trace big runs get), then opens the page in headless Debian chromium and waits
 * for its first render. Prints the build time, the file size (target: under 30 MB) and the time to first render
 * (target: under 5 s, measured from navigation start). Prints figures; asserts nothing. `--ops N` picks the size.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRACE_THRESHOLD_OPS, writeRunReport } from '../controller/report/write-report';
import { haveChromium, launchChromium } from '../test/support/browser';
import { READY, STATE, type ReportState } from '../test/support/report-page';
import { writeSyntheticRun } from '../test/support/synthetic-run';

async function main(): Promise<void> {
  const i = process.argv.indexOf('--ops');
  const ops = i > 0 ? Number(process.argv[i + 1]) : 1_000_000;
  const store = mkdtempSync(join(tmpdir(), 'faultline-report-bench-'));
  const cleanups: (() => unknown)[] = [];
  try {
    let t0 = Date.now();
    const run = await writeSyntheticRun(store, { ops, concurrency: 50, rateHz: 2000, faultIntervalS: 20 });
    const historyBytes = statSync(join(run.dir, 'history.jsonl')).size;
    console.log(`history: ${run.invokes} operations, ${run.events} events, ${run.faults} faults, ${(historyBytes / 1e6).toFixed(0)} MB (written in ${Date.now() - t0} ms)`);
    t0 = Date.now();
    const written = await writeRunReport(run.dir, { trace: false });
    const buildMs = Date.now() - t0;
    const mb = written.sizeBytes / 1e6;
    console.log(`report build: ${buildMs} ms (history read, packed, report.html written)`);
    console.log(`report.html size: ${mb.toFixed(1)} MB (target < 30 MB: ${mb < 30 ? 'met' : 'MISSED'})`);
    t0 = Date.now();
    const trace = await writeRunReport(run.dir, { trace: true });
    console.log(`with the Perfetto trace (as faultline run does from ${TRACE_THRESHOLD_OPS} ops on): ${Date.now() - t0} ms, trace.json ${(statSync(trace.tracePath!).size / 1e6).toFixed(0)} MB`);
    if (!haveChromium()) {
      console.log('time to first render: not measured (chromium not installed: apt-get install -y chromium)');
      return;
    }
    const browser = await launchChromium({ after: (fn) => cleanups.push(fn) });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const t1 = Date.now();
    await page.goto(`file://${written.path}`, { timeout: 120_000 });
    await page.waitForFunction(READY, null, { timeout: 120_000 });
    const wallMs = Date.now() - t1;
    const state = (await page.evaluate(STATE)) as ReportState;
    if (state.errors.length > 0) console.log(`page errors: ${state.errors.join('; ')}`);
    const firstRender = state.renderedAtMs ?? NaN;
    console.log(`time to first render: ${firstRender.toFixed(0)} ms from navigation start (${wallMs} ms wall clock from goto; target < 5000 ms: ${firstRender < 5000 ? 'met' : 'MISSED'})`);
    console.log(`page timings (ms since navigation start): ${JSON.stringify(await page.evaluate('window.__faultlineReport.timings'))}`);
    console.log(`page: ${state.ops} operations loaded, ${state.opsDrawn} drawn in the whole-run view, ${state.faultBandsDrawn} fault bands`);
    // A zoom to one fault window and back: the redraw a user waits for.
    const zoomMs = (await page.evaluate(`(() => { const t = performance.now(); const r = window.__faultlineReport; r.view.setRange(20000, 40000); r.timeline.reset(); return performance.now() - t; })()`)) as number;
    console.log(`zoom in and out (timeline and charts redrawn twice): ${zoomMs.toFixed(0)} ms`);
  } finally {
    for (const fn of cleanups.reverse()) await fn();
    rmSync(store, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
