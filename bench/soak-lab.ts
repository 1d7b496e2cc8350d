/**
 * A soak on the lab, measured: one `faultline run` on Redis + Sentinel (the counter workload: fixed keys, so the
 * history grows with the run while online checking must stay bounded) under rotating faults, summaries every few
 * seconds, then the figures the issue asks for, from the run's own files: the controller's RSS at the reference
 * minute and at the end of the run (summaries.jsonl, written by the controller itself, before the final check),
 * online checker lag (results.json `online.lagMs`, and the worst any summary saw), sequence gaps, ops, verdict.
 * Used by `npm run bench:soak-lab` (10 minutes) and by the 2-minute lab test.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadNote } from './bench-support';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');

export interface SoakLabOptions {
  prefix: string;
  durationS: number;
  rateHz: number;
  concurrency: number;
  nemesis: string;
  nemesisIntervalS: number;
  /** The summary whose RSS the end is compared with (s into the run; the issue: minute 2). */
  referenceS: number;
  summaryIntervalS: number;
  store: string;
  workload: string;
  seed: number;
}

export interface SoakLabFigures {
  exitCode: number | null;
  runDir: string | undefined;
  wallS: number;
  ops: number;
  completed: number;
  /** Completed ops per second over the main phase. */
  achievedOpsPerS: number;
  rssReferenceMiB: number | undefined;
  rssEndMiB: number | undefined;
  /** End RSS relative to the reference, in percent (positive: grew). */
  rssChangePct: number | undefined;
  /** Every summary's RSS: [s into the run, MiB]. */
  rssSeriesMiB: [number, number][];
  lagMedianMs: number | null;
  lagMaxMs: number | null;
  /** The highest lag any periodic summary saw (the final figure covers the whole run too). */
  lagMaxInSummariesMs: number | null;
  /** The most the online watermark was ever behind now (a node whose events stopped holds it back). */
  behindMaxMs: number | null;
  gaps: number;
  verdict: unknown;
  onlineAlerts: number;
  onlineAgrees: boolean | undefined;
  faults: Record<string, number>;
  load: string;
  stderrTail: string;
}

interface Summary {
  elapsedS: number;
  rssBytes: number;
  checkerLagMs: { maxMs: number | null; maxBehindMs?: number } | null;
}

/** Runs the soak (a child `faultline run`, so that the RSS is the controller's own) and reads its figures. */
export async function soakLab(o: SoakLabOptions): Promise<SoakLabFigures> {
  const args = [
    CLI, 'run', '--db', 'redis', '--workload', o.workload, '--nodes', 'lab', '--lab-prefix', o.prefix,
    '--time-limit', String(o.durationS), '--rate', String(o.rateHz), '--concurrency', String(o.concurrency),
    '--nemesis', o.nemesis, '--nemesis-interval', String(o.nemesisIntervalS), '--summary-interval', String(o.summaryIntervalS),
    '--seed', String(o.seed), '--store', o.store,
  ];
  const t0 = Date.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 1 << 20) err = err.slice(-(1 << 19));
    });
    child.on('close', (c) => res({ code: c, stdout: out, stderr: err }));
  });
  const wallS = (Date.now() - t0) / 1000;
  const runDir = /store: (\S+)/.exec(stdout)?.[1];
  const load = loadNote();
  const figures: SoakLabFigures = {
    exitCode: code, runDir, wallS, ops: 0, completed: 0, achievedOpsPerS: 0, rssReferenceMiB: undefined, rssEndMiB: undefined, rssChangePct: undefined, rssSeriesMiB: [],
    lagMedianMs: null, lagMaxMs: null, lagMaxInSummariesMs: null, behindMaxMs: null, gaps: -1, verdict: undefined, onlineAlerts: 0, onlineAgrees: undefined, faults: {}, load,
    stderrTail: stderr.trim().split('\n').slice(-5).join('\n'),
  };
  if (!runDir || !existsSync(join(runDir, 'results.json'))) return figures;
  const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as {
    valid: unknown;
    gaps: unknown[];
    stats?: { invokes: number; ok: number; fail: number; info: number; faults?: Record<string, number> };
    online?: { alerts: number; agrees: boolean; lagMs: { medianMs: number | null; maxMs: number | null; maxBehindMs?: number } };
  };
  const summaries = existsSync(join(runDir, 'summaries.jsonl'))
    ? readFileSync(join(runDir, 'summaries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Summary)
    : [];
  const reference = summaries.find((s) => s.elapsedS >= o.referenceS);
  const end = summaries[summaries.length - 1];
  const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
  figures.rssSeriesMiB = summaries.map((s) => [s.elapsedS, mib(s.rssBytes)]);
  figures.verdict = results.valid;
  figures.gaps = results.gaps.length;
  figures.ops = results.stats?.invokes ?? 0;
  figures.completed = (results.stats?.ok ?? 0) + (results.stats?.fail ?? 0) + (results.stats?.info ?? 0);
  figures.achievedOpsPerS = Math.round(figures.completed / o.durationS);
  figures.faults = results.stats?.faults ?? {};
  if (reference && end) {
    figures.rssReferenceMiB = mib(reference.rssBytes);
    figures.rssEndMiB = mib(end.rssBytes);
    figures.rssChangePct = Math.round(((end.rssBytes - reference.rssBytes) / reference.rssBytes) * 1000) / 10;
  }
  figures.lagMedianMs = results.online?.lagMs.medianMs ?? null;
  figures.lagMaxMs = results.online?.lagMs.maxMs ?? null;
  figures.behindMaxMs = results.online?.lagMs.maxBehindMs ?? null;
  const inSummaries = summaries.map((s) => s.checkerLagMs?.maxMs ?? null).filter((x): x is number => x !== null);
  figures.lagMaxInSummariesMs = inSummaries.length > 0 ? Math.max(...inSummaries) : null;
  if (figures.behindMaxMs === null) {
    const behind = summaries.map((s) => s.checkerLagMs?.maxBehindMs ?? null).filter((x): x is number => x !== null);
    figures.behindMaxMs = behind.length > 0 ? Math.max(...behind) : null;
  }
  figures.onlineAlerts = results.online?.alerts ?? 0;
  figures.onlineAgrees = results.online?.agrees;
  return figures;
}

/** The figures as the benchmark prints them; the last line is the one to quote. */
export function soakLabLines(o: SoakLabOptions, f: SoakLabFigures): string[] {
  const faults = Object.entries(f.faults).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
  return [
    `soak-lab: redis ${o.workload}, ${o.durationS} s asked at ${o.rateHz} ops/s, concurrency ${o.concurrency}, nemesis ${o.nemesis} every ${o.nemesisIntervalS} s (${faults}); ${f.load}`,
    `  run folder: ${f.runDir ?? 'none'} (exit ${f.exitCode}, ${Math.round(f.wallS)} s wall)`,
    `  ops: ${f.ops} invoked, ${f.completed} completed: ${f.achievedOpsPerS} ops/s done`,
    `  controller RSS: ${f.rssReferenceMiB ?? '?'} MiB at ${o.referenceS} s, ${f.rssEndMiB ?? '?'} MiB at the end (${f.rssChangePct === undefined ? '?' : `${f.rssChangePct >= 0 ? '+' : ''}${f.rssChangePct} %`})`,
    `  RSS by summary (s: MiB): ${f.rssSeriesMiB.map(([t, m]) => `${t}: ${m}`).join(', ')}`,
    `  online checker lag: median ${f.lagMedianMs ?? '?'} ms, max ${f.lagMaxMs ?? '?'} ms; watermark at most ${f.behindMaxMs ?? '?'} ms behind; online alerts ${f.onlineAlerts}, ${f.onlineAgrees === undefined ? 'no online summary' : f.onlineAgrees ? 'agree with the final check' : 'DISAGREE with the final check'}`,
    ...(f.runDir ? [] : [`  ${f.stderrTail}`]),
    `soak-lab: ${f.achievedOpsPerS} ops/s, RSS ${f.rssReferenceMiB ?? '?'} -> ${f.rssEndMiB ?? '?'} MiB (${f.rssChangePct ?? '?'} %), lag median ${f.lagMedianMs ?? '?'} ms max ${f.lagMaxMs ?? '?'} ms, gaps ${f.gaps}, ops ${f.ops}, verdict ${String(f.verdict)}`,
  ];
}
