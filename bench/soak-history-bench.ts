/**
 * `npm run bench:soak`: what the end of a long soak costs the controller. Writes the raw events file a run of
 * H hours would leave (the register workload at 100 ops/s from 5 nodes, keys rotating every 5 s, 5 % timeouts,
 * 200 µs clock uncertainty: a simulated linearizable store, so the verdict must be valid), then, in a fresh child
 * process so that its peak RSS is its own, does what `faultline run` does after the workload stops: build
 * `history.jsonl` from the raw file (external merge sort) and check it (etcd-register, per key, streamed). Prints events, build and check time,
 * verdict and peak RSS per size. Prints figures; asserts nothing. `--hours 1,4` picks the sizes.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateHistory } from '../core/checker/simulated-history';
import { buildHistoryFile } from '../controller/history-builder';
import type { RawEvent } from '../controller/history-collector';
import { checkHistoryFile, surveyHistory } from '../controller/run/stream-check';

const OPS_PER_SECOND = 100;
const KEY_PERIOD_S = 5;
const KEYS_PER_PERIOD = 5;
const NODES = 5;
const UNCERTAINTY_NS = 200_000;

/** Writes the raw events of `hours` of workload to `path`, one key period at a time; returns the event count. */
async function writeRawEvents(path: string, hours: number): Promise<number> {
  const out = createWriteStream(path);
  const seqs = new Array<number>(NODES).fill(0);
  const periods = Math.round((hours * 3600) / KEY_PERIOD_S);
  let events = 0;
  for (let period = 0; period < periods; period++) {
    // One key period: its own keys and processes, times scaled so that its ops span about KEY_PERIOD_S.
    const ops = simulateHistory({
      seed: period + 1,
      ops: OPS_PER_SECOND * KEY_PERIOD_S,
      concurrency: 10,
      keys: KEYS_PER_PERIOD,
      workload: 'register',
      timeoutRate: 0.05,
      // Exact times here: an agent's own events are in order on its clock; each event then states UNCERTAINTY_NS.
      jitter: false,
    });
    const span = Math.max(1, ...ops.map((o) => o.time ?? 0));
    const scale = (KEY_PERIOD_S * 1e9) / span;
    const startNs = period * KEY_PERIOD_S * 1e9;
    let text = '';
    for (const o of ops) {
      const p = o.process as number;
      const node = p % NODES;
      const ev: RawEvent = {
        runId: 'bench',
        node: `n${node + 1}`,
        seq: ++seqs[node]!,
        process: period * 1000 + p,
        type: o.type,
        f: o.f,
        key: `p${period}-${o.key ?? ''}`,
        valueJson: JSON.stringify(o.value ?? null),
        error: o.type === 'info' ? 'timeout' : '',
        timeNanos: Math.round(startNs + (o.time ?? 0) * scale),
        uncertaintyNanos: UNCERTAINTY_NS,
        agentMonoNanos: 0,
      };
      text += `${JSON.stringify(ev)}\n`;
      events++;
    }
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end(() => resolve()).once('error', reject));
  return events;
}

/** In the child: build and check, as `faultline run` does after the workload (both streamed from disk). */
async function buildAndCheck(raw: string, history: string): Promise<void> {
  const t0 = performance.now();
  await buildHistoryFile(raw, history);
  const buildMs = performance.now() - t0;
  const t1 = performance.now();
  const survey = await surveyHistory(history);
  const result = await checkHistoryFile(history, survey, { model: 'etcd-register', timeLimitMs: 600_000 });
  const checkMs = performance.now() - t1;
  process.stdout.write(
    `${JSON.stringify({
      events: survey.stats.events,
      keys: result.keyCount,
      buildMs: Math.round(buildMs),
      checkMs: Math.round(checkMs),
      valid: result.valid,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      historyMiB: Math.round(statSync(history).size / 2 ** 20),
    })}\n`,
  );
}

async function main(): Promise<void> {
  const child = process.argv.indexOf('--child');
  if (child >= 0) return buildAndCheck(process.argv[child + 1]!, process.argv[child + 2]!);
  const h = process.argv.indexOf('--hours');
  const sizes = (h >= 0 ? process.argv[h + 1]! : '1,4').split(',').map(Number);
  console.log(`register workload at ${OPS_PER_SECOND} ops/s from ${NODES} nodes, keys rotating every ${KEY_PERIOD_S} s; build history.jsonl + check (etcd-register)`);
  console.log('  hours      events   history   build time   check time   verdict   peak RSS');
  for (const hours of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'fl-soak-bench-'));
    try {
      const raw = join(dir, 'events.raw.jsonl');
      await writeRawEvents(raw, hours);
      const r = spawnSync(process.execPath, [__filename, '--child', raw, join(dir, 'history.jsonl')], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (process.env.FL_BENCH_KEEP) console.log(`  raw file: ${raw}`);
      if (r.status !== 0) {
        console.log(`  ${hours} h: the build/check process failed (exit ${String(r.status ?? r.signal)}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        continue;
      }
      const f = JSON.parse(r.stdout) as { events: number; buildMs: number; checkMs: number; valid: unknown; peakRssMiB: number; historyMiB: number };
      console.log(
        `  ${String(hours).padStart(5)} ${String(f.events).padStart(11)} ${`${f.historyMiB} MiB`.padStart(9)} ${`${(f.buildMs / 1000).toFixed(1)} s`.padStart(12)} ${`${(f.checkMs / 1000).toFixed(1)} s`.padStart(12)} ${String(f.valid).padStart(9)} ${`${f.peakRssMiB} MiB`.padStart(10)}`,
      );
    } finally {
      if (!process.env.FL_BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
