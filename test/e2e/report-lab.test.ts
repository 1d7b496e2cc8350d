/**
 * A real lab run with faults, seen as a user sees it: `faultline run --json` without a terminal (one JSON object
 * on stdout, plain progress lines on stderr, no control codes), its report.html opened in headless Debian chromium
 * (timeline, fault bands, every chart, no page error, a screenshot kept as an artifact), and a 60 s run read
 * through a pseudo-terminal whose status line updates at least once a second.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Op } from '../../core/history/operation';
import { haveChromium, launchChromium, watchPageErrors } from '../support/browser';
import { labSkipReason } from '../support/netns';
import { CLI, runCli, tempDir } from '../support/processes';
import { PAINTED, READY, STATE, type ReportState } from '../support/report-page';

const PREFIX = 'flr';
const baseArgs = (store: string) => ['run', '--nodes', 'lab', '--lab-prefix', PREFIX, '--concurrency', '6', '--rate', '60', '--recovery-time', '2', '--store', store];

/** Screenshots stay after the test (artifacts); the folder is printed. */
const ARTIFACTS = mkdtempSync(join(tmpdir(), 'faultline-report-artifacts-'));

test('report.html and progress of real lab runs', { timeout: 900_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  if (!haveChromium()) return t.skip('chromium is not installed (apt-get install -y chromium)');
  t.after(async () => {
    await runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 });
  });
  const up = await runCli(['lab', 'up', '--nodes', '3', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
  t.diagnostic(`screenshots in ${ARTIFACTS}`);

  await t.test('run --json without a terminal: one JSON object on stdout, plain progress on stderr, a report that opens', async (t2) => {
    const store = tempDir(t2, 'store-report-');
    const res = await runCli([...baseArgs(store), '--time-limit', '14', '--nemesis', 'partition,kill', '--nemesis-interval', '3', '--json']);
    assert.ok(res.code === 0 || res.code === 1, `exit ${res.code}\n${res.stderr}`);
    const lines = res.stdout.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `stdout must hold exactly one JSON object:\n${res.stdout}`);
    const out = JSON.parse(lines[0]!) as { verdict: string; checks: Record<string, { valid: unknown }>; counts: { invokes: number; ok: number }; folder: string; report: string };
    assert.ok(['valid', 'invalid'].includes(out.verdict));
    assert.ok('linearizable' in out.checks, JSON.stringify(out.checks));
    assert.ok(out.counts.ok > 0 && out.counts.invokes >= out.counts.ok);
    // Nothing but plain text on stderr: no escape sequences, no carriage returns.
    assert.doesNotMatch(res.stderr, /[\x1b\r]/, 'control codes on stderr without a terminal');
    assert.match(res.stderr, /faultline: progress: running \d+s\/14s \| \d+ ops\/s \| ok \d+ fail \d+ info \d+ \| faults: .+ \| nodes 3\/3 reachable/);
    assert.match(res.stderr, /faultline: running etcd-register for 14s/);

    const dir = out.folder;
    const reportPath = join(dir, 'report.html');
    assert.ok(existsSync(reportPath), 'report.html written by the run');
    assert.equal(out.report, reportPath);
    const history = readFileSync(join(dir, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Op);
    const invokes = history.filter((o) => o.process !== 'nemesis' && o.type === 'invoke').length;
    const faultStarts = history.filter((o) => o.process === 'nemesis' && o.type === 'ok' && o.f.startsWith('start-')).length;
    assert.ok(faultStarts >= 2, `the run applied faults (${faultStarts})`);
    // An op is named by its invocation's index; the reason comes with its completion.
    const invocationOf = (done: Op | undefined): { index: number; type: string; error: string } | undefined => {
      if (!done) return undefined;
      const inv = history.filter((o) => o.process === done.process && o.type === 'invoke' && o.index < done.index).pop()!;
      return { index: inv.index, type: done.type, error: done.error! };
    };
    const infoOp = invocationOf(history.find((o) => o.process !== 'nemesis' && o.type === 'info' && o.error));
    const failOp = invocationOf(history.find((o) => o.process !== 'nemesis' && o.type === 'fail' && o.error));
    assert.ok(failOp !== undefined, 'the run has a failed op (a cas whose compare failed) to ask about');

    const browser = await launchChromium(t2);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchPageErrors(page);
    await page.goto(`file://${reportPath}`);
    await page.waitForFunction(READY, null, { timeout: 30_000 });
    const state = (await page.evaluate(STATE)) as ReportState;
    assert.deepEqual(state.errors, []);
    assert.equal(state.ops, invokes, 'every operation of the history is in the page');
    assert.equal(state.opsDrawn, invokes, 'the whole-run view draws every operation');
    assert.equal(state.faultBandsDrawn, faultStarts, 'one fault band per applied fault');
    // The timeline canvas has the outcome colours in it; each chart rendered a canvas with something on it.
    const painted = (await page.evaluate(PAINTED)) as { timeline: number; charts: { title: string; pixels: number }[] };
    assert.ok(painted.timeline > 10_000, `timeline painted ${painted.timeline} pixels`);
    assert.equal(painted.charts.length, 3, JSON.stringify(painted.charts));
    for (const c of painted.charts) assert.ok(c.pixels > 1000, `chart "${c.title}" painted only ${c.pixels} pixels`);
    assert.match(await page.textContent('#checks') ?? '', /linearizable/);
    assert.match(await page.textContent('#faults') ?? '', /partition/);
    await page.screenshot({ path: join(ARTIFACTS, 'lab-run-report.png'), fullPage: true });

    // Each operation says why it is ok, fail or info: the client's own reason.
    for (const op of [infoOp, failOp]) {
      if (!op) continue;
      await page.evaluate(`window.__faultlineReport.view.focusIndex(${op.index})`);
      const detail = (await page.textContent('#detail')) ?? '';
      assert.match(detail, new RegExp(`#${op.index}\\b`));
      assert.ok(detail.includes(op.error), `detail of #${op.index} gives the client's reason "${op.error}": ${detail}`);
      assert.match(detail, op.type === 'info' ? /info: outcome unknown/ : /fail: certainly did not take effect/);
      const drawn = (await page.evaluate('window.__faultlineReport.opsDrawn')) as number;
      assert.ok(drawn < invokes, `zoomed in on one op, ${drawn} of ${invokes} ops are in view`);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'lab-run-report-zoomed.png') });
    assert.deepEqual(errors, []);
  });

  await t.test('a 60 s run on a terminal redraws its status line at least once a second', async (t2) => {
    const store = tempDir(t2, 'store-pty-');
    const cmd = [process.execPath, CLI, ...baseArgs(store), '--time-limit', '60', '--nemesis', 'partition', '--nemesis-interval', '10'].join(' ');
    // script(1) runs the command on a pseudo-terminal and copies what it writes to our pipe as it comes.
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
    t2.after(() => {
      if (child.exitCode === null) child.kill('SIGTERM');
    });
    const updates: { at: number; text: string }[] = [];
    let all = '';
    child.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      all += s;
      for (const part of s.split('\r\x1b[K').slice(1)) updates.push({ at: Date.now(), text: part });
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, all.slice(-2000));
    const running = updates.filter((u) => /^running \d+s\/60s/.test(u.text));
    assert.ok(running.length >= 60, `only ${running.length} status updates during the main phase`);
    let maxGap = 0;
    for (let i = 1; i < running.length; i++) maxGap = Math.max(maxGap, running[i]!.at - running[i - 1]!.at);
    t2.diagnostic(`${running.length} status updates in the main phase, longest gap ${maxGap} ms`);
    assert.ok(maxGap <= 1000, `the status line went ${maxGap} ms without an update`);
    assert.ok(running.some((u) => /^running 5\ds\/60s/.test(u.text)), 'elapsed time reaches the time limit');
    assert.ok(running.some((u) => /faults: partition/.test(u.text)), 'a partition in force is shown');
    assert.match(all, /verdict: VALID/);
  });
  await t.test('fault partition returns once in force; the agents heal it on their own after --duration, capped at their maximum', async () => {
    const LAB = ['--lab-prefix', PREFIX];
    const rules = (node: string): string =>
      execFileSync('ip', ['netns', 'exec', `${PREFIX}-${node}`, 'iptables-save'], { encoding: 'utf8' }).split('\n').filter((l) => /faultline/i.test(l)).join('\n');
    type Status = { nodes: { name: string; faults: { kind: string; until: string }[] }[] };
    const status = async (): Promise<Status> => JSON.parse((await runCli(['fault', 'status', '--json', ...LAB])).stdout) as Status;
    // The runs above just ended: they healed every agent and released its lease, so no lease is left to run out and
    // heal the fault applied now before its duration (checked below).
    const t0 = Date.now();
    const res = await runCli(['fault', 'partition', '--shape', 'isolate', '--node', 'n1', '--duration', '8s', ...LAB]);
    const tookMs = Date.now() - t0;
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /partition isolate: n1 \| n2 n3/);
    assert.match(res.stdout, /in force until \S+ \([678]s\): the agents heal it then on their own/);
    assert.ok(tookMs < 8000, `the command took ${tookMs} ms: it held the fault instead of returning`);
    // In force after the command ended, with nothing of ours running.
    const during = await status();
    assert.ok(during.nodes.find((n) => n.name === 'n1')!.faults.some((f) => f.kind === 'partition'), JSON.stringify(during));
    assert.notEqual(rules('n1'), '', 'no partition rules on n1 after the command returned');
    // Healed by the agents' own timers, not before the duration.
    let healedAt = 0;
    while (Date.now() - t0 < 20_000) {
      if (rules('n1') === '' && rules('n2') === '' && (await status()).nodes.every((n) => n.faults.length === 0)) {
        healedAt = Date.now();
        break;
      }
      await sleep(250);
    }
    assert.ok(healedAt > 0, 'the agents did not heal the partition within 20 s');
    assert.ok(healedAt - t0 >= 7000, `healed after ${healedAt - t0} ms, before its 8 s duration`);

    // Past the agents' maximum fault duration (5 min by default): capped, and said so.
    const long = await runCli(['fault', 'partition', '--shape', 'isolate', '--node', 'n2', '--duration', '1h', '--json', ...LAB]);
    assert.equal(long.code, 0, long.stderr);
    const out = JSON.parse(long.stdout) as { until: string; capped: boolean; requestedDurationMs: number };
    assert.equal(out.capped, true);
    assert.equal(out.requestedDurationMs, 3_600_000);
    const leftMs = Date.parse(out.until) - Date.now();
    assert.ok(leftMs > 200_000 && leftMs <= 300_000, `until is ${leftMs} ms away`);
    const text = await runCli(['fault', 'loss', '--node', 'n3', '--percent', '10', '--duration', '1h', ...LAB]);
    assert.match(text.stdout, /note: the agents cap a fault at their --max-fault-duration: \d+s, not the 1h asked for/);
    const heal = await runCli(['fault', 'heal', ...LAB]);
    assert.equal(heal.code, 0, heal.stderr);
    for (const n of ['n1', 'n2', 'n3']) assert.equal(rules(n), '', `rules left on ${n}`);

    // --hold: the old foreground behaviour, healed on Ctrl-C.
    const held = spawn(process.execPath, [CLI, 'fault', 'partition', '--shape', 'isolate', '--node', 'n3', '--hold', ...LAB], { stdio: ['ignore', 'pipe', 'pipe'] });
    let heldOut = '';
    held.stdout.on('data', (d: Buffer) => (heldOut += d.toString()));
    const exited = new Promise<number | null>((r) => held.once('exit', r));
    const deadline = Date.now() + 20_000;
    while (!heldOut.includes('holding for') && Date.now() < deadline && held.exitCode === null) await sleep(50);
    assert.match(heldOut, /holding for 60s/);
    assert.notEqual(rules('n3'), '');
    held.kill('SIGINT');
    assert.equal(await exited, 0, heldOut);
    assert.match(heldOut, /interrupted: healed/);
    assert.equal(rules('n3'), '');
  });
});
