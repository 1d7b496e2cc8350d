/**
 * `npm run bench:elle`: generates list-append histories of 10k, 100k, 300k and 1M transactions from the
 * simulated strictly serializable store (10 processes, 2% info, 2% failed, clock uncertainty) and times
 * the transactional checker on each, in a fresh child process per size so each peak RSS is its own.
 * Prints time, transactions per second and peak RSS. `node dist/bench/elle-bench.js --size N` runs one size.
 * Then writes the 1,000,000-transaction history to a history.jsonl and times `faultline check FILE --model
 * list-append` end to end (start, read, check, print), with the CLI's peak RSS (target >= 100,000 txn/s).
 * `--no-e2e` skips that; `--write FILE --size N` only writes the history.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNote, runCli } from './bench-support';
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

function generate(size: number): ReturnType<typeof simulateTxnHistory> {
  return simulateTxnHistory({
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
}

/** Writes the history as our history.jsonl, in 10,000-event writes. */
function writeJsonl(size: number, file: string): void {
  const ops = generate(size);
  const fd = openSync(file, 'w');
  for (let i = 0; i < ops.length; i += 10_000) writeSync(fd, `${ops.slice(i, i + 10_000).map((o) => JSON.stringify(o)).join('\n')}\n`);
  closeSync(fd);
}

function runOne(size: number): Figures {
  const g0 = performance.now();
  const ops = generate(size);
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
  const w = process.argv.indexOf('--write');
  if (w >= 0) {
    writeJsonl(Number(process.argv[i + 1]), process.argv[w + 1]!);
    return;
  }
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
  if (!process.argv.includes('--no-e2e')) endToEnd(SIZES[SIZES.length - 1]!);
}

function endToEnd(size: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-elle-'));
  try {
    const file = join(dir, 'history.jsonl');
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, '--write', file, '--size', String(size)], { encoding: 'utf8' });
    if (child.status !== 0) {
      console.error(`writing the ${size}-transaction history failed: ${child.stderr}`);
      process.exitCode = 1;
      return;
    }
    const r = runCli(['check', file, '--model', 'list-append', '--out', dir]);
    const txnPerSec = size / (r.wallMs / 1000);
    console.log(
      `\nfaultline check history.jsonl --model list-append, ${size} transactions (${(statSync(file).size / 1e6).toFixed(0)} MB), end to end: ` +
        `${(r.wallMs / 1000).toFixed(2)} s wall = ${Math.round(txnPerSec)} txn/s (target >= 100000), ${(r.cpuMs / 1000).toFixed(2)} s CPU, ` +
        `peak RSS ${r.peakRssMiB.toFixed(0)} MiB, exit ${String(r.code)} (${loadNote()})`,
    );
    if (r.code !== 0) console.log(`  ${(r.stdout + r.stderr).trim().split('\n').slice(0, 5).join('\n  ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
