/**
 * Writes a run folder as `faultline run` leaves it (plan.json, history.jsonl, results.json) from a seeded
 * generator: client ops on several nodes with ok / fail / info outcomes and the client's reasons, and nemesis
 * partitions and kills on a schedule. For report tests and the report benchmark, where a real run of that size
 * would take hours.
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SyntheticRunOptions {
  ops: number;
  concurrency?: number;
  nodes?: string[];
  /** Client ops per second over all processes. */
  rateHz?: number;
  /** Seconds between fault and heal (0: no faults). */
  faultIntervalS?: number;
  /** Outcome mix: every `failEvery`-th op fails, every `infoEvery`-th is info; `noOk` makes every op info. */
  failEvery?: number;
  infoEvery?: number;
  noOk?: boolean;
  /** What results.json holds; by default a valid linearizable check of every key. */
  results?: Record<string, unknown>;
  testName?: string;
  stamp?: string;
  db?: string;
  workload?: string;
  seed?: number;
}

/** A small seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes the run folder `<store>/<test>/<stamp>/` and returns its path and what went into it. */
export async function writeSyntheticRun(store: string, o: SyntheticRunOptions): Promise<{ dir: string; invokes: number; faults: number; events: number }> {
  const testName = o.testName ?? 'etcd-register';
  const stamp = o.stamp ?? '2026-01-01T000000Z';
  const dir = join(store, testName, stamp);
  mkdirSync(dir, { recursive: true });
  const nodes = o.nodes ?? ['n1', 'n2', 'n3', 'n4', 'n5'];
  const concurrency = o.concurrency ?? 10;
  const rateHz = o.rateHz ?? 1000;
  const random = rng(o.seed ?? 42);
  const failEvery = o.failEvery ?? 7;
  const infoEvery = o.infoEvery ?? 53;
  const faultNs = (o.faultIntervalS ?? 10) * 1e9;
  const gapNs = 1e9 / rateHz;
  const out = createWriteStream(join(dir, 'history.jsonl'));
  let buf = '';
  let index = 0;
  const seqs = new Map<string, number>();
  const line = async (op: Record<string, unknown>): Promise<void> => {
    const node = op['node'] as string;
    const seq = (seqs.get(node) ?? 0) + 1;
    seqs.set(node, seq);
    buf += `${JSON.stringify({ index: index++, ...op, seq })}\n`;
    if (buf.length > 1 << 20) {
      const chunk = buf;
      buf = '';
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  };
  // Events are produced in time order: each process has at most one op open; ops end before the next starts.
  const procOf = new Array<number>(concurrency).fill(0).map((_, i) => i);
  const pending: { time: number; op: Record<string, unknown> }[] = [];
  let t = 500e6;
  let faults = 0;
  let nextFault = faultNs > 0 ? t + faultNs : Infinity;
  let faultOn = false;
  let faultKind = 'partition';
  let value = 1;
  const flushUntil = async (time: number): Promise<void> => {
    pending.sort((a, b) => a.time - b.time);
    while (pending.length > 0 && pending[0]!.time <= time) await line(pending.shift()!.op);
  };
  for (let i = 0; i < o.ops; i++) {
    t += gapNs * (0.5 + random());
    if (t >= nextFault) {
      await flushUntil(nextFault);
      const f = faultOn ? `stop-${faultKind}` : `start-${faultKind}`;
      const v = faultOn ? null : faultKind === 'partition' ? { shape: 'isolate', grudge: { n1: nodes.slice(1), [nodes[1]!]: ['n1'] }, description: `n1 | ${nodes.slice(1).join(' ')}` } : { target: 'one', nodes: ['n2'] };
      await line({ type: 'invoke', process: 'nemesis', f, value: v, time: nextFault, uncertainty: 0, node: 'controller' });
      await line({ type: 'ok', process: 'nemesis', f, value: v, time: nextFault + 50e6, uncertainty: 0, node: 'controller' });
      if (!faultOn) faults++;
      else faultKind = faultKind === 'partition' ? 'kill' : 'partition';
      faultOn = !faultOn;
      nextFault += faultNs;
    }
    await flushUntil(t);
    const slot = i % concurrency;
    const process = procOf[slot]!;
    const node = nodes[slot % nodes.length]!;
    const f = random() < 0.5 ? 'read' : random() < 0.7 ? 'write' : 'cas';
    const key = `k${Math.floor(t / 5e9)}-${slot % 5}`;
    const invValue = f === 'read' ? null : f === 'write' ? value++ : [value - 1, value++];
    const uncertainty = 200_000 + Math.floor(random() * 200_000);
    await line({ type: 'invoke', process, f, key, value: invValue, time: t, uncertainty, node });
    const latency = (faultOn ? 5e6 : 1e6) * (0.3 + random() * 3) * (random() < 0.01 ? 30 : 1);
    const end = t + Math.min(latency, gapNs * concurrency * 0.45);
    let type = 'ok';
    let error: string | undefined;
    if (o.noOk || i % infoEvery === 0) {
      type = 'info';
      error = '4 DEADLINE_EXCEEDED: Deadline exceeded after 1.500s';
    } else if (f === 'cas' && i % failEvery === 0) {
      type = 'fail';
      error = 'compare-failed';
    }
    const done: Record<string, unknown> = { type, process, f, key, value: f === 'read' && type === 'ok' ? value - 1 : invValue, time: end, uncertainty, node };
    if (error) done['error'] = error;
    pending.push({ time: end, op: done });
    if (type === 'info') procOf[slot] = process + concurrency;
  }
  await flushUntil(Infinity);
  out.end(buf);
  await new Promise<void>((r) => out.once('finish', () => r()));
  const plan = { runId: `synthetic-${stamp}`, testName, db: o.db ?? 'etcd', workload: o.workload ?? 'register', timeLimitMs: Math.round((t - 500e6) / 1e6), concurrency, rateHz, nemesis: faultNs > 0 ? ['partition', 'kill'] : [], nodes: nodes.map((n) => ({ name: n })), seed: o.seed ?? 42 };
  writeFileSync(join(dir, 'plan.json'), `${JSON.stringify(plan, null, 2)}\n`);
  const results = o.results ?? { valid: true, gaps: [], stats: { invokes: o.ops }, checks: { linearizable: { valid: true, model: 'etcd-register', opCount: o.ops, keyCount: 0, invalidKeys: [], unknownKeys: [], stats: { elapsedMs: 0, configurations: 0, backtracks: 0 } } } };
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  return { dir, invokes: o.ops, faults, events: index };
}
