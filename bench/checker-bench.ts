/**
 * `npm run bench:checker`: checks every history of the shared corpus and prints, per file, the time and
 * whether the verdict agrees with verdicts.json, then totals, compared with Porcupine's own medians on this
 * machine type (../shared/corpus/porcupine/README.md). Then generates a 1,000,000-op kv history over
 * 1,000 keys and reports its check time and peak RSS. Prints figures; asserts nothing.
 *
 * Timing follows Porcupine's measurement: parsing not timed, one check per file, median of 3 runs.
 * The verdict time excludes evidence minimisation (Porcupine has none); the with-evidence total is printed too.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkLinearizable } from '../core/checker/linearizable';
import { simulateHistory } from '../core/checker/simulated-history';
import type { Op } from '../core/history/operation';
import { readHistoryFile } from '../core/history/read-history';
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
      const { ops } = readHistoryFile(join(root, sub, v.file));
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
  if (!process.argv.includes('--corpus-only')) benchBigKv();
}

main();
