/**
 * `npm run bench:parse`: how fast histories are read. Generates a history of about 100 MB (a keyed register
 * workload, 2 % timeouts) and writes it twice: as Jepsen EDN (one op map per line, [key value] tuples, :time and
 * :index) and as our history.jsonl. Then reads each file with readHistoryFile (the reader `faultline check` uses,
 * streaming in chunks) 3 times and prints the median in MB/s, with the CPU time, beside the targets (EDN >= 150
 * MB/s, JSONL >= 250 MB/s). Beside each it prints where the time goes: the garbage collector's pauses during the
 * read, and the floor no reader can go below, the time to copy the ops it read into new objects of the same shape
 * (allocation and collection alone, no bytes looked at). Prints figures; asserts nothing. `--mb N` picks another
 * size.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { join } from 'node:path';
import { simulateHistory } from '../core/checker/simulated-history';
import type { Op } from '../core/history/operation';
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

/** Copies every op into a new object with the same fields (values shared): what making the ops costs by itself. */
function copyOps(ops: readonly Op[]): number {
  const out: Op[] = new Array<Op>(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    out[i] = { ...o, value: Array.isArray(o.value) ? [...(o.value as unknown[])] : o.value };
  }
  return out.length;
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
      const walls: number[] = [];
      const cpus: number[] = [];
      const gcs: number[] = [];
      const floors: number[] = [];
      let read = 0;
      for (let r = 0; r < 3; r++) {
        const c = cpuMs();
        t = performance.now();
        read = readHistoryFile(path).ops.length;
        const end = performance.now();
        walls.push(end - t);
        cpus.push(cpuMs() - c);
        gcs.push(await gcMsBetween(t, end));
      }
      // The floor, after the timed reads (its garbage must not slow them): the ops of one more read, copied.
      {
        const ops = readHistoryFile(path).ops;
        const f = performance.now();
        copyOps(ops);
        floors.push(performance.now() - f);
      }
      const wall = median(walls);
      const cpu = median(cpus);
      const mbps = size / 1e6 / (wall / 1000);
      console.log(
        `${name.padEnd(5)} ${(size / 1e6).toFixed(0)} MB, ${events} events (read ${read}): ${wall.toFixed(0)} ms = ${mbps.toFixed(0)} MB/s ` +
          `(CPU ${cpu.toFixed(0)} ms = ${(size / 1e6 / (cpu / 1000)).toFixed(0)} MB/s); target >= ${targets[name]} MB/s: ${mbps >= targets[name]! ? 'met' : 'NOT met'}`,
      );
      console.log(`      of which GC pauses ${median(gcs).toFixed(0)} ms; making the ops alone (copying them, no bytes read) takes ${median(floors).toFixed(0)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
