/**
 * `npm run bench:parse`: how fast histories are read. Generates a history of about 100 MB (a keyed register
 * workload, 2 % timeouts) and writes it twice: as Jepsen EDN (one op map per line, [key value] tuples, :time and
 * :index) and as our history.jsonl. Then reads each file with readHistoryFile (the reader `faultline check` uses,
 * streaming in chunks) 3 times and prints the median in MB/s, with the CPU time, beside the targets (EDN >= 150
 * MB/s, JSONL >= 250 MB/s). Prints figures; asserts nothing. `--mb N` picks another size.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulateHistory } from '../core/checker/simulated-history';
import { readHistoryFile } from '../core/history/read-history';
import { jepsenIndependentEdn, loadNote, median } from './bench-support';

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Writes generated batches until the file holds about `targetBytes`. */
function writeHistory(path: string, targetBytes: number, format: (ops: ReturnType<typeof simulateHistory>, offset: number) => string): number {
  const fd = openSync(path, 'w');
  let bytes = 0;
  let events = 0;
  for (let seed = 1; bytes < targetBytes; seed++) {
    const batch = simulateHistory({ seed, ops: 50_000, concurrency: 20, keys: 1000, workload: 'register', timeoutRate: 0.02 });
    // Processes of later batches must not meet earlier ones: move them past every id used so far.
    for (const o of batch) if (typeof o.process === 'number') o.process += seed * 1_000_000;
    const text = format(batch, events);
    bytes += writeSync(fd, text);
    events += batch.length;
  }
  closeSync(fd);
  return events;
}

function main(): void {
  const i = process.argv.indexOf('--mb');
  const mb = i >= 0 ? Number(process.argv[i + 1]) : 100;
  const dir = mkdtempSync(join(tmpdir(), 'fl-bench-parse-'));
  try {
    const ednPath = join(dir, 'history.edn');
    const jsonlPath = join(dir, 'history.jsonl');
    let t = performance.now();
    const ednEvents = writeHistory(ednPath, mb * 1e6, (ops, offset) => jepsenIndependentEdn(ops.map((o, k) => ({ ...o, time: (o.time ?? 0) + offset * 10_000, index: offset + k }))));
    const jsonlEvents = writeHistory(jsonlPath, mb * 1e6, (ops, offset) => `${ops.map((o, k) => JSON.stringify({ ...o, index: offset + k, time: (o.time ?? 0) + offset * 10_000 })).join('\n')}\n`);
    console.log(`generated in ${((performance.now() - t) / 1000).toFixed(1)} s (${loadNote()})`);
    const targets: Record<string, number> = { EDN: 150, JSONL: 250 };
    for (const [name, path, events] of [['EDN', ednPath, ednEvents], ['JSONL', jsonlPath, jsonlEvents]] as const) {
      const size = statSync(path).size;
      const walls: number[] = [];
      const cpus: number[] = [];
      let read = 0;
      for (let r = 0; r < 3; r++) {
        const c = cpuMs();
        t = performance.now();
        read = readHistoryFile(path).ops.length;
        walls.push(performance.now() - t);
        cpus.push(cpuMs() - c);
      }
      const wall = median(walls);
      const cpu = median(cpus);
      const mbps = size / 1e6 / (wall / 1000);
      console.log(
        `${name.padEnd(5)} ${(size / 1e6).toFixed(0)} MB, ${events} events (read ${read}): ${wall.toFixed(0)} ms = ${mbps.toFixed(0)} MB/s ` +
          `(CPU ${cpu.toFixed(0)} ms = ${(size / 1e6 / (cpu / 1000)).toFixed(0)} MB/s); target >= ${targets[name]} MB/s: ${mbps >= targets[name]! ? 'met' : 'NOT met'}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
