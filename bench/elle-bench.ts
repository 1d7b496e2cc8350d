/**
 * `npm run bench:elle`: generates list-append histories of 10k, 100k, 300k and 1M transactions from the
 * simulated strictly serializable store (10 processes, 2% info, 2% failed, clock uncertainty) and times
 * the transactional checker on each, in a fresh child process per size so each peak RSS is its own.
 * Prints time, transactions per second and peak RSS. `node dist/bench/elle-bench.js --size N` runs one size.
 */
import { spawnSync } from 'node:child_process';
import { checkTxnHistory } from '../core/elle/check-txn-history';
import { simulateTxnHistory } from '../core/elle/sim-store';

const SIZES = [10_000, 100_000, 300_000, 1_000_000];

interface Figures {
  txns: number;
  generateMs: number;
  checkMs: number;
  txnPerSec: number;
  peakRssMiB: number;
  valid: unknown;
  edges: unknown;
}

function runOne(size: number): Figures {
  const g0 = performance.now();
  const ops = simulateTxnHistory({
    model: 'list-append',
    isolation: 'strict-serializable',
    txns: size,
    seed: 42,
    concurrency: 10,
    activeKeys: 10,
    maxWritesPerKey: 32,
    maxTxnLength: 4,
    infoRate: 0.02,
    failRate: 0.02,
    uncertaintyNanos: 300,
  });
  const generateMs = performance.now() - g0;
  const t0 = performance.now();
  const { result } = checkTxnHistory(ops, { model: 'list-append', consistency: 'strict-serializable' });
  const checkMs = performance.now() - t0;
  return {
    txns: size,
    generateMs: Math.round(generateMs),
    checkMs: Math.round(checkMs),
    txnPerSec: Math.round(size / (checkMs / 1000)),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    valid: result.valid,
    edges: result.stats.edges,
  };
}

function main(): void {
  const i = process.argv.indexOf('--size');
  if (i >= 0) {
    process.stdout.write(`${JSON.stringify(runOne(Number(process.argv[i + 1])))}\n`);
    return;
  }
  console.log('list-append, simulated strict-serializable store; checked against strict-serializable');
  console.log('      txns   check time        txn/s   peak RSS   (generation time, verdict)');
  const rows: Figures[] = [];
  for (const size of SIZES) {
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, '--size', String(size)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (child.status !== 0) {
      console.error(`size ${size} failed: ${child.stderr}`);
      process.exitCode = 1;
      return;
    }
    const f = JSON.parse(child.stdout.trim().split('\n').pop()!) as Figures;
    rows.push(f);
    console.log(
      `${String(f.txns).padStart(10)} ${`${(f.checkMs / 1000).toFixed(2)} s`.padStart(12)} ${String(f.txnPerSec).padStart(12)} ${`${f.peakRssMiB} MiB`.padStart(10)}   (${(f.generateMs / 1000).toFixed(1)} s, ${String(f.valid)})`,
    );
  }
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  const growth = last.checkMs / first.checkMs / (last.txns / first.txns);
  console.log(`time per transaction at ${last.txns} vs ${first.txns}: ×${growth.toFixed(2)} (1.00 = linear)`);
}

main();
