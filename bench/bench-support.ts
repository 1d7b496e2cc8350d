/**
 * What the benchmarks share: the built CLI run as a child process with its wall time, CPU time and peak RSS, and
 * Jepsen-style histories written to files. Figures only; nothing here asserts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Op } from '../core/history/operation';

export const CLI = resolve(__dirname, '../cli/main.js');

export interface CliRun {
  code: number | null;
  wallMs: number;
  /** User + system CPU of the child, from its own resource usage. */
  cpuMs: number;
  peakRssMiB: number;
  stdout: string;
  stderr: string;
}

let probeDir: string | undefined;

/** A preload that reports the child's own CPU time and peak RSS on stderr as it exits. */
function probe(): string {
  if (!probeDir) {
    probeDir = mkdtempSync(join(tmpdir(), 'fl-bench-probe-'));
    const dir = probeDir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'probe.js'), "process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\nBENCH ' + JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssKiB: u.maxRSS }) + '\\n'); });\n");
  }
  return join(probeDir, 'probe.js');
}

/** Runs `faultline ARGS` end to end (start, read, check, print) and measures it. */
export function runCli(args: string[]): CliRun {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', probe(), CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallMs = performance.now() - t0;
  const m = /\nBENCH (\{.*\})\n?$/.exec(r.stderr);
  const p = m ? (JSON.parse(m[1]!) as { cpuMs: number; maxRssKiB: number }) : { cpuMs: NaN, maxRssKiB: NaN };
  return { code: r.status, wallMs, cpuMs: p.cpuMs, peakRssMiB: p.maxRssKiB / 1024, stdout: r.stdout, stderr: m ? r.stderr.slice(0, m.index) : r.stderr };
}

/** Median of `runs` CLI runs (by wall time). */
export function medianCli(args: string[], runs = 3): CliRun {
  const all = Array.from({ length: runs }, () => runCli(args)).sort((a, b) => a.wallMs - b.wallMs);
  return all[Math.floor(all.length / 2)]!;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A value as Clojure prints it. */
export function edn(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return `[${v.map(edn).join(' ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/**
 * A keyed history (ops with `key`, as simulateHistory makes them) as Jepsen writes an independent one: one op map
 * per line, the value a `[key value]` tuple, with :time and :index.
 */
export function jepsenIndependentEdn(history: readonly Op[]): string {
  const lines = history.map((o, i) => `{:type :${o.type}, :f :${o.f}, :value [${(o.key ?? '').replace(/^k/, '')} ${edn(o.value)}], :process ${String(o.process)}, :time ${o.time ?? i}, :index ${o.index}}`);
  return `${lines.join('\n')}\n`;
}

/** The load on this machine, to print beside figures taken on a shared one. */
export function loadNote(): string {
  return `load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} CPUs`;
}
