/**
 * Seeded generator of histories recorded from a simulated, linearizable keyed store: the property tests
 * and the benchmark use it. Every op takes effect at one instant inside its [invoke, complete] interval;
 * some time out (`info`, applied or not); cas compares fail honestly (`fail`, not applied).
 * Every written value is unique per key, so an injected anomaly has exactly one explanation.
 */
import { seededUniform } from '../generator/random';
import type { Op } from '../history/operation';

/** Deterministic uniform source in [0, 1) (the project's one PRNG). */
export function prng(seed: number): () => number {
  return seededUniform(seed);
}

export interface SimulationOptions {
  seed: number;
  /** Client operations to generate. */
  ops: number;
  /** Concurrent client processes. */
  concurrency: number;
  keys: number;
  /** `register`: read/write/cas, reads of an absent key return null (etcd-register). `kv`: get/put/append on strings. */
  workload: 'register' | 'kv';
  /** Probability that an op times out (`info`); it then takes effect with probability 1/2. */
  timeoutRate?: number;
  /** Clock uncertainty per event, ns. Recorded times are moved by up to ± this (when `jitter`). */
  uncertaintyNs?: number;
  /** Move each recorded time uniformly within ± uncertainty (the true time stays inside the window). */
  jitter?: boolean;
}

interface SimOp {
  process: number;
  f: string;
  key: string;
  arg: unknown;
  result: unknown;
  type: 'ok' | 'fail' | 'info';
  invokeNs: number;
  linNs: number;
  completeNs: number;
  applied: boolean;
  /** Never completes (open at the end). */
  open: boolean;
}

/** A simulated linearizable history in our jsonl shape (ops with key, time, uncertainty). */
export function simulateHistory(o: SimulationOptions): Op[] {
  const rnd = prng(o.seed);
  const u = o.uncertaintyNs ?? 0;
  const timeoutRate = o.timeoutRate ?? 0.05;
  const sims: SimOp[] = [];
  const procClock: number[] = [];
  const procId: number[] = [];
  let nextProcess = o.concurrency;
  for (let p = 0; p < o.concurrency; p++) {
    procClock.push(Math.floor(rnd() * 1000));
    procId.push(p);
  }
  let counter = 0;
  for (let i = 0; i < o.ops; i++) {
    const slot = i % o.concurrency;
    const key = `k${Math.floor(rnd() * o.keys)}`;
    const invokeNs = procClock[slot]! + 1 + Math.floor(rnd() * 2000);
    const linNs = invokeNs + 1 + Math.floor(rnd() * 3000);
    const completeNs = linNs + 1 + Math.floor(rnd() * 3000);
    const r = rnd();
    let f: string;
    let arg: unknown = null;
    if (o.workload === 'register') {
      f = r < 0.5 ? 'read' : r < 0.75 ? 'write' : 'cas';
      if (f === 'write') arg = ++counter;
      if (f === 'cas') arg = [null, ++counter]; // `from` is chosen at linearization time below
    } else {
      f = r < 0.5 ? 'get' : r < 0.6 ? 'put' : 'append';
      if (f !== 'get') arg = `x${++counter} `;
    }
    const timedOut = rnd() < timeoutRate;
    sims.push({ process: procId[slot]!, f, key, arg, result: null, type: timedOut ? 'info' : 'ok', invokeNs, linNs, completeNs, applied: !timedOut || rnd() < 0.5, open: timedOut && rnd() < 0.3 });
    procClock[slot] = completeNs + 2 * u + 1;
    if (timedOut) procId[slot] = nextProcess++; // Jepsen: a process that timed out is retired
  }
  // Apply in linearization order.
  const state = new Map<string, unknown>();
  const byLin = [...sims].sort((a, b) => a.linNs - b.linNs);
  for (const s of byLin) {
    const cur = state.get(s.key) ?? (o.workload === 'kv' ? '' : null);
    if (s.f === 'cas') {
      // Mostly compare against the current value so that many succeed; sometimes against a stale one.
      const from = rnd() < 0.7 ? cur : typeof cur === 'number' ? cur - 1 : 0;
      s.arg = [from, (s.arg as unknown[])[1]];
    }
    if (!s.applied) continue;
    switch (s.f) {
      case 'read':
      case 'get':
        s.result = cur;
        break;
      case 'write':
      case 'put':
        state.set(s.key, s.arg);
        break;
      case 'append':
        state.set(s.key, (cur as string) + (s.arg as string));
        break;
      case 'cas': {
        const [from, to] = s.arg as [unknown, unknown];
        if (from === cur) state.set(s.key, to);
        else if (s.type === 'ok') s.type = 'fail';
        break;
      }
    }
  }
  // Emit events in true-time order; recorded times may be jittered inside the uncertainty.
  const events: Op[] = [];
  const trueNs: number[] = [];
  const rec = (t: number): number => (o.jitter ? t + Math.round((rnd() * 2 - 1) * u) : t);
  for (const s of sims) {
    const isRead = s.f === 'read' || s.f === 'get';
    events.push({ index: 0, type: 'invoke', process: s.process, f: s.f, key: s.key, value: isRead ? null : s.arg, time: rec(s.invokeNs), uncertainty: u });
    trueNs.push(s.invokeNs);
    if (s.open) continue;
    const value = s.type === 'ok' && isRead ? s.result : isRead ? null : s.arg;
    events.push({ index: 0, type: s.type, process: s.process, f: s.f, key: s.key, value, time: rec(s.completeNs), uncertainty: u });
    trueNs.push(s.completeNs);
  }
  sims.length = 0;
  const order = new Uint32Array(events.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => trueNs[a]! - trueNs[b]! || a - b);
  const out: Op[] = new Array<Op>(events.length);
  for (let i = 0; i < order.length; i++) {
    const e = events[order[i]!]!;
    e.index = i;
    out[i] = e;
  }
  return out;
}
