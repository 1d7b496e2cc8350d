/**
 * `npm run bench:parse`: how fast histories are read. Generates a history of about 100 MB (a keyed register
 * workload, 2 % timeouts) and writes it twice: as Jepsen EDN (one op map per line, [key value] tuples, :time and
 * :index) and as our history.jsonl. Then reads each file 5 times with readHistoryColumns, the reader `faultline
 * check` uses for the linearizability checker (streaming in chunks, into columns), and prints the median in MB/s,
 * with the CPU time and the garbage collector's pauses, beside the targets (EDN >= 150 MB/s, JSONL >= 250 MB/s).
 * Beside it, the same for readHistoryFile, the reader into Op objects (what the invariant and Elle checkers read).
 * Prints figures; asserts nothing. `--mb N` picks another size.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { join } from 'node:path';
import { simulateHistory } from '../core/checker/simulated-history';
import { readHistoryColumns, readHistoryFile } from '../core/history/read-history';
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

/** GC pauses as the runtime reports them (after the fact: read them after yielding to the event loop). */
const gcPauses: { start: number; ms: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, ms: e.duration });
}).observe({ entryTypes: ['gc'] });

async function gcMsBetween(from: number, to: number): Promise<number> {
  await tick();
  await tick();
  return gcPauses.filter((g) => g.start >= from && g.start <= to).reduce((sum, g) => sum + g.ms, 0);
}

/**
 * Runs `read` 5 times: the median wall, CPU and GC pause time, and what it read. The first read is counted too
 * (a command reads a file once, its code not yet optimised); five, because this machine's speed moves by a third
 * between runs and a median of three is one slow run away from the slower of two.
 */
async function timeReads(read: () => number): Promise<{ wall: number; cpu: number; gc: number; read: number }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  const gcs: number[] = [];
  let n = 0;
  for (let r = 0; r < 5; r++) {
    const c = cpuMs();
    const t = performance.now();
    n = read();
    const end = performance.now();
    walls.push(end - t);
    cpus.push(cpuMs() - c);
    gcs.push(await gcMsBetween(t, end));
  }
  return { wall: median(walls), cpu: median(cpus), gc: median(gcs), read: n };
}

async function main(): Promise<void> {
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
      const columns = await timeReads(() => readHistoryColumns(path).columns.length);
      const ops = await timeReads(() => readHistoryFile(path).ops.length);
      const mbps = size / 1e6 / (columns.wall / 1000);
      const rate = (ms: number): string => `${(size / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
      console.log(
        `${name.padEnd(5)} ${(size / 1e6).toFixed(0)} MB, ${events} events (read ${columns.read}): ${columns.wall.toFixed(0)} ms = ${rate(columns.wall)} ` +
          `(CPU ${columns.cpu.toFixed(0)} ms = ${rate(columns.cpu)}); target >= ${targets[name]} MB/s: ${mbps >= targets[name]! ? 'met' : 'NOT met'}`,
      );
      console.log(`      of which GC pauses ${columns.gc.toFixed(0)} ms; into columns, as \`faultline check\` reads it for the linearizability checker`);
      console.log(`      into Op objects (readHistoryFile, what the invariant and Elle checkers read): ${ops.wall.toFixed(0)} ms = ${rate(ops.wall)}, GC pauses ${ops.gc.toFixed(0)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
