/**
 * `npm run bench:checker`: checks every history of the shared corpus and prints, per file, the time and
 * whether the verdict agrees with verdicts.json, then totals, compared with Porcupine's own medians on this
 * machine type (../shared/corpus/porcupine/README.md). Then generates a 1,000,000-op kv history over
 * 1,000 keys and reports its check time and peak RSS. Prints figures; asserts nothing.
 *
 * Timing follows Porcupine's measurement: parsing not timed (from the columns `faultline check` reads a file into,
 * to the verdict), one check per file, median of 3 runs.
 * The verdict time excludes evidence minimisation (Porcupine has none); the with-evidence total is printed too.
 *
 * Then the groups of issue 14's table, each check-only beside Porcupine's figure and end to end through the CLI
 * (start, read, check, print; peak RSS of the CLI process): Porcupine's etcd and kv logs (one `faultline check DIR`),
 * 20 generated multi-key cas-register histories (1k-50k ops, 5-1,000 keys, 1-2 % info) and three 200k-op histories
 * over 1,000 keys; and `faultline --help` and `check` of a 10-op history end to end.
 * `--corpus-only` skips everything after the corpus; `--no-big-kv` skips the 1,000,000-op kv history.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jepsenIndependentEdn, loadNote, medianCli } from './bench-support';
import { checkLinearizable } from '../core/checker/linearizable';
import { simulateHistory } from '../core/checker/simulated-history';
import type { Op } from '../core/history/operation';
import type { HistoryColumns } from '../core/history/columns';
import { readHistoryColumns } from '../core/history/read-history';
import type { ModelName } from '../core/models';

const PORCUPINE_TOTAL_MS = 1143; // etcd 699 + kv 444, from the corpus README

function corpusDir(): string {
  return process.env.FAULTLINE_CORPUS ?? resolve(__dirname, '../..', '../shared/corpus');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row { set: string; file: string; ms: number; evidenceMs: number; agree: boolean; verdict: string }

function benchCorpus(): Row[] {
  const root = corpusDir();
  const rows: Row[] = [];
  for (const sub of ['knossos', 'porcupine']) {
    const verdicts = JSON.parse(readFileSync(join(root, sub, 'verdicts.json'), 'utf8')) as { file: string; model: ModelName; linearizable: boolean; init?: unknown }[];
    for (const v of verdicts) {
      const { columns: ops } = readHistoryColumns(join(root, sub, v.file));
      const opts = { model: v.model, timeLimitMs: 60_000, evidence: false, ...(v.model === 'multi-register' ? { init: v.init } : {}) };
      const times: number[] = [];
      let valid: unknown;
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        valid = checkLinearizable(ops, opts).valid;
        times.push(performance.now() - t);
      }
      let evidenceMs = 0;
      if (valid === false) {
        const t = performance.now();
        checkLinearizable(ops, { ...opts, evidence: true });
        evidenceMs = performance.now() - t;
      }
      const set = sub === 'knossos' ? 'knossos' : v.file.startsWith('kv/') ? 'porcupine-kv' : 'porcupine-etcd';
      rows.push({ set, file: `${sub}/${v.file}`, ms: median(times), evidenceMs, agree: valid === v.linearizable, verdict: String(valid) });
    }
  }
  return rows;
}

function benchBigKv(): void {
  const t0 = performance.now();
  const history: Op[] = simulateHistory({ seed: 42, ops: 1_000_000, concurrency: 50, keys: 1000, workload: 'kv', timeoutRate: 0.01, uncertaintyNs: 100 });
  const genMs = performance.now() - t0;
  const t1 = performance.now();
  const r = checkLinearizable(history, { model: 'kv', timeLimitMs: 120_000 });
  const checkMs = performance.now() - t1;
  const rssMiB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  console.log(`\n1,000,000-op kv history (${history.length} events, ${r.keyCount} keys, 50 processes, 1% timeouts): generated in ${(genMs / 1000).toFixed(1)} s`);
  console.log(`  verdict ${String(r.valid)} in ${(checkMs / 1000).toFixed(2)} s (target < 30 s); peak RSS of this process ${rssMiB.toFixed(0)} MiB (target < 2048 MiB)`);
}

function main(): void {
  const rows = benchCorpus();
  for (const r of rows) console.log(`${r.agree ? 'agree   ' : 'DISAGREE'} ${r.ms.toFixed(2).padStart(8)} ms  ${r.file}${r.evidenceMs ? `  (with evidence ${r.evidenceMs.toFixed(1)} ms)` : ''}`);
  const total = (set?: string) => rows.filter((r) => !set || r.set === set || (set === 'porcupine' && r.set.startsWith('porcupine'))).reduce((s, r) => s + r.ms, 0);
  const disagree = rows.filter((r) => !r.agree);
  console.log(`\nfiles ${rows.length}, agree ${rows.length - disagree.length}, disagree ${disagree.length}${disagree.length ? `: ${disagree.map((r) => r.file).join(', ')}` : ''}`);
  console.log(`knossos        ${total('knossos').toFixed(1)} ms (Porcupine: 44 ms)`);
  console.log(`porcupine-etcd ${total('porcupine-etcd').toFixed(1)} ms (Porcupine: 699 ms)`);
  console.log(`porcupine-kv   ${total('porcupine-kv').toFixed(1)} ms (Porcupine: 444 ms, per key)`);
  const p = total('porcupine');
  console.log(`porcupine corpus total ${p.toFixed(1)} ms = ${((p / PORCUPINE_TOTAL_MS) * 100).toFixed(0)}% of Porcupine's ${PORCUPINE_TOTAL_MS} ms (target: at most 50%)`);
  console.log(`with evidence for invalid files: ${(p + rows.filter((r) => r.set.startsWith('porcupine')).reduce((s, r) => s + r.evidenceMs - (r.evidenceMs ? r.ms : 0), 0)).toFixed(1)} ms`);
  if (process.argv.includes('--corpus-only')) return;
  benchTableGroups(rows);
  benchStartup();
  if (!process.argv.includes('--no-big-kv')) benchBigKv();
}

/** Porcupine's figures from issue 14's table (same files, same machine type, check only). */
const PORCUPINE_MS = { etcd: 526, kv: 208, multiKey: 400, big: 902 };

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Median wall and CPU time of 3 checks (parse excluded, no evidence). CPU time counts every thread of the process
 * (V8's parallel GC too), so it can exceed wall time on an idle machine; on a loaded one, wall time grows instead.
 */
function checkOnlyMs(ops: HistoryColumns, model: ModelName, independent: boolean): { ms: number; cpuMs: number; valid: unknown } {
  const times: number[] = [];
  const cpu: number[] = [];
  let valid: unknown;
  for (let i = 0; i < 3; i++) {
    const c = cpuNow();
    const t = performance.now();
    valid = checkLinearizable(ops, { model, independent, evidence: false }).valid;
    times.push(performance.now() - t);
    cpu.push(cpuNow() - c);
  }
  return { ms: median(times), cpuMs: median(cpu), valid };
}

function line(name: string, checkMs: number, porcupineMs: number, e2e?: { wallMs: number; cpuMs: number; peakRssMiB: number }, checkCpuMs?: number): void {
  const ratio = checkMs / porcupineMs;
  console.log(
    `${name.padEnd(44)} check ${checkMs.toFixed(0).padStart(6)} ms${checkCpuMs !== undefined ? ` (CPU ${checkCpuMs.toFixed(0)} ms, ÷ ${(checkCpuMs / porcupineMs).toFixed(2)})` : ''}  Porcupine ${String(porcupineMs).padStart(4)} ms  ÷ ${ratio.toFixed(2)} ${ratio < 1 ? '(faster)' : '(SLOWER)'}` +
      (e2e ? `  | end to end ${e2e.wallMs.toFixed(0)} ms wall, ${e2e.cpuMs.toFixed(0)} ms CPU, peak RSS ${e2e.peakRssMiB.toFixed(0)} MiB` : ''),
  );
}

function benchTableGroups(rows: Row[]): void {
  console.log(`
issue 14 groups (${loadNote()}):`);
  const root = corpusDir();
  const out = mkdtempSync(join(tmpdir(), 'fl-bench-checker-'));
  try {
    const sum = (set: string): number => rows.filter((r) => r.set === set).reduce((a, r) => a + r.ms, 0);
    const etcdDir = medianCli(['check', join(root, 'porcupine/jepsen'), '--out', join(out, 'evidence')], 1);
    line('Porcupine etcd logs (103), one process', sum('porcupine-etcd'), PORCUPINE_MS.etcd, etcdDir);
    const kvDir = medianCli(['check', join(root, 'porcupine/kv'), '--out', join(out, 'evidence')], 1);
    line('Porcupine kv logs (6), one process', sum('porcupine-kv'), PORCUPINE_MS.kv, kvDir);
    // 20 multi-key histories: sizes 1k..50k geometrically, keys 5..1,000, 1-2 % info.
    let multiMs = 0;
    let multiCpu = 0;
    const files: string[] = [];
    for (let i = 0; i < 20; i++) {
      const ops = Math.round(1000 * Math.pow(50, i / 19));
      const keys = Math.round(5 * Math.pow(200, ((i * 7) % 20) / 19));
      const h = simulateHistory({ seed: 100 + i, ops, concurrency: 20, keys, workload: 'register', timeoutRate: 0.01 + (i % 2) * 0.01 });
      const file = join(out, `multi-${String(i).padStart(2, '0')}-${ops}ops-${keys}keys.edn`);
      writeFileSync(file, jepsenIndependentEdn(h));
      files.push(file);
      const { columns: parsed } = readHistoryColumns(file);
      const r = checkOnlyMs(parsed, 'cas-register', true);
      if (r.valid !== true) console.log(`  ${file}: verdict ${String(r.valid)} (the simulated store is linearizable: expected true)`);
      multiMs += r.ms;
      multiCpu += r.cpuMs;
    }
    const multiE2e = medianCli(['check', ...files, '--model', 'cas-register', '--independent'], 1);
    line('20 multi-key cas-register (1k-50k ops), one process', multiMs, PORCUPINE_MS.multiKey, multiE2e, multiCpu);
    let bigMs = 0;
    let bigCpu = 0;
    const big: ReturnType<typeof medianCli>[] = [];
    for (let i = 0; i < 3; i++) {
      const h = simulateHistory({ seed: 900 + i, ops: 200_000, concurrency: 20, keys: 1000, workload: 'register', timeoutRate: 0.015 });
      const file = join(out, `big-${i}.edn`);
      writeFileSync(file, jepsenIndependentEdn(h));
      const { columns: parsed } = readHistoryColumns(file);
      const r = checkOnlyMs(parsed, 'cas-register', true);
      if (r.valid !== true) console.log(`  ${file}: verdict ${String(r.valid)} (expected true)`);
      bigMs += r.ms;
      bigCpu += r.cpuMs;
      big.push(medianCli(['check', file, '--model', 'cas-register', '--independent']));
    }
    const worst = big.reduce((a, b) => (b.wallMs > a.wallMs ? b : a));
    line('three 200k-op histories over 1,000 keys', bigMs, PORCUPINE_MS.big, worst, bigCpu);
    console.log(`  faultline check FILE (200k ops, 1,000 keys), slowest of the three: ${worst.wallMs.toFixed(0)} ms wall, ${worst.cpuMs.toFixed(0)} ms CPU (target < 2000), peak RSS ${worst.peakRssMiB.toFixed(0)} MiB (target < 300)`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function benchStartup(): void {
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-start-'));
  try {
    const file = join(dir, 'ten.edn');
    const ev: string[] = [];
    for (let p = 0; p < 5; p++) ev.push(`{:process ${p}, :type :invoke, :f :write, :value ${p}}`, `{:process ${p}, :type :ok, :f :write, :value ${p}}`);
    writeFileSync(file, `${ev.join('\n')}\n`);
    const help = medianCli(['--help'], 5);
    const ten = medianCli(['check', file], 5);
    console.log(`\nfaultline --help: ${help.wallMs.toFixed(0)} ms wall, ${help.cpuMs.toFixed(0)} ms CPU (target < 150 ms); check of a 10-op history: ${ten.wallMs.toFixed(0)} ms wall, ${ten.cpuMs.toFixed(0)} ms CPU (target < 250 ms); medians of 5`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
