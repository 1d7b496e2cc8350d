/**
 * Simulated transactional stores that produce histories with known isolation, for property tests and
 * the benchmark. Seeded and deterministic. Three engines:
 * - `strict-serializable`: each transaction takes effect atomically at one instant between its
 *   invocation and completion;
 * - `snapshot-isolation`: reads from a snapshot taken at the first micro-op, first committer wins;
 * - `read-committed`: every read sees the latest committed state, writes are buffered until commit,
 *   no conflict detection (so lost updates, read skew and write skew all happen).
 * Clients see `info` for some transactions (which then may or may not take effect) and `fail` for others
 * (which do not); recorded times carry bounded noise and state its bound as `uncertainty`.
 */
import { seededUniform } from '../generator/random';
import type { Op } from '../history/operation';
import { HistoryBuilder, type MicroOp } from './history-builder';
import type { TxnModel } from './txn-history';

export type SimIsolation = 'strict-serializable' | 'snapshot-isolation' | 'read-committed';

export interface SimOptions {
  model: TxnModel;
  isolation: SimIsolation;
  txns: number;
  seed: number;
  /** Client processes running at once. */
  concurrency?: number;
  /** Keys in use at a time; a key is retired after `maxWritesPerKey` writes (Elle's generator does this). */
  activeKeys?: number;
  maxWritesPerKey?: number;
  /** Micro-ops per transaction: 1 … maxTxnLength. */
  maxTxnLength?: number;
  /** Probability that the client sees `info` (the transaction then takes effect with probability 1/2). */
  infoRate?: number;
  /** Probability that the store rejects a transaction before it takes effect (`fail`). */
  failRate?: number;
  /** Recorded times are off by up to this much (uniform), and say so in `uncertainty`. */
  uncertaintyNanos?: number;
}

/** Seeded uniform source in [0, 1) (the project's one PRNG). */
export function makeRandom(seed: number): () => number {
  return seededUniform(seed);
}

interface Running {
  process: number;
  mops: MicroOp[];
  /** Next micro-op to execute (engines that execute one per step). */
  next: number;
  outcome: 'ok' | 'fail' | 'info';
  /** For info: whether it will take effect. */
  applies: boolean;
  snapshotSeq: number;
  buffered: Map<number, unknown[]>;
  done: boolean;
}

type Value = unknown;

/** Generates a history of `opts.txns` transactions from the chosen simulated store. */
export function simulateTxnHistory(opts: SimOptions): Op[] {
  const rnd = makeRandom(opts.seed);
  const concurrency = opts.concurrency ?? 5;
  const activeKeys = opts.activeKeys ?? 5;
  const maxWrites = opts.maxWritesPerKey ?? 16;
  const maxLen = opts.maxTxnLength ?? 4;
  const infoRate = opts.infoRate ?? 0;
  const failRate = opts.failRate ?? 0;
  const u = opts.uncertaintyNanos ?? 0;
  const listAppend = opts.model === 'list-append';
  const b = new HistoryBuilder();
  let now = 0;
  const stamp = (): [number, number | undefined] => [now + (u > 0 ? (rnd() * 2 - 1) * u : 0), u > 0 ? u : undefined];

  // Key pool with retirement, and per-key unique write values.
  let nextKey = 0;
  const pool: number[] = [];
  const writesOf = new Map<number, number>();
  for (let i = 0; i < activeKeys; i++) pool.push(nextKey++);
  const pickKey = (): number => pool[Math.floor(rnd() * pool.length)]!;
  const writeValue = (k: number): number => {
    const n = (writesOf.get(k) ?? 0) + 1;
    writesOf.set(k, n);
    if (n >= maxWrites) pool[pool.indexOf(k)] = nextKey++;
    return n;
  };

  // Committed state: latest value per key, and (for snapshots) every version with its commit sequence.
  const latest = new Map<number, Value>();
  const versions = new Map<number, { seq: number; value: Value }[]>();
  const lastCommitSeq = new Map<number, number>();
  let commitSeq = 0;
  const keepVersions = opts.isolation === 'snapshot-isolation';
  const readCommitted = (k: number, atSeq: number): Value => {
    if (!keepVersions || atSeq === Infinity) return latest.get(k) ?? null;
    const vs = versions.get(k);
    if (!vs) return null;
    for (let i = vs.length - 1; i >= 0; i--) if (vs[i]!.seq <= atSeq) return vs[i]!.value;
    return null;
  };
  const commit = (writes: Map<number, unknown[]>): void => {
    commitSeq++;
    for (const [k, ws] of writes) {
      let v: Value;
      if (listAppend) v = [...((latest.get(k) as number[] | undefined) ?? []), ...(ws as number[])];
      else v = ws[ws.length - 1];
      latest.set(k, v);
      lastCommitSeq.set(k, commitSeq);
      if (keepVersions) {
        const vs = versions.get(k) ?? [];
        vs.push({ seq: commitSeq, value: v });
        versions.set(k, vs);
      }
    }
  };
  /** Executes one micro-op against `atSeq`'s committed state plus the transaction's own writes. */
  const execute = (r: Running, i: number, atSeq: number): void => {
    const mop = r.mops[i]!;
    const k = mop[1] as number;
    const own = r.buffered.get(k);
    if (mop[0] === 'r') {
      const base = readCommitted(k, atSeq);
      if (listAppend) mop[2] = [...((base as number[] | null) ?? []), ...((own as number[] | undefined) ?? [])];
      else mop[2] = own && own.length > 0 ? own[own.length - 1] : base;
    } else {
      if (own) own.push(mop[2]);
      else r.buffered.set(k, [mop[2]]);
    }
  };

  const slots: (Running | undefined)[] = new Array<Running | undefined>(concurrency).fill(undefined);
  const processOf = slots.map((_, i) => i);
  let started = 0;
  let finished = 0;
  while (finished < opts.txns) {
    now += 200 + Math.floor(rnd() * 800);
    const s = Math.floor(rnd() * concurrency);
    const r = slots[s];
    if (!r) {
      if (started >= opts.txns) continue;
      started++;
      const len = 1 + Math.floor(rnd() * maxLen);
      const mops: MicroOp[] = [];
      for (let i = 0; i < len; i++) {
        const k = pickKey();
        if (rnd() < 0.5) mops.push(['r', k, null]);
        else mops.push([listAppend ? 'append' : 'w', k, writeValue(k)]);
      }
      const x = rnd();
      const outcome = x < infoRate ? 'info' : x < infoRate + failRate ? 'fail' : 'ok';
      const run: Running = {
        process: processOf[s]!,
        mops,
        next: 0,
        outcome,
        applies: outcome === 'ok' || (outcome === 'info' && rnd() < 0.5),
        snapshotSeq: -1,
        buffered: new Map(),
        done: false,
      };
      slots[s] = run;
      const [t, unc] = stamp();
      b.invoke(run.process, mops, t, unc);
      continue;
    }
    if (!r.done) {
      if (!r.applies) {
        r.done = true;
      } else if (opts.isolation === 'strict-serializable') {
        for (let i = 0; i < r.mops.length; i++) execute(r, i, Infinity);
        commit(r.buffered);
        r.done = true;
      } else if (r.next < r.mops.length) {
        if (r.snapshotSeq < 0) r.snapshotSeq = commitSeq;
        execute(r, r.next++, opts.isolation === 'snapshot-isolation' ? r.snapshotSeq : Infinity);
      } else {
        if (opts.isolation === 'snapshot-isolation') {
          const conflict = [...r.buffered.keys()].some((k) => (lastCommitSeq.get(k) ?? 0) > r.snapshotSeq);
          if (conflict) {
            r.outcome = r.outcome === 'info' ? 'info' : 'fail';
            r.applies = false;
          }
        }
        if (r.applies) commit(r.buffered);
        r.done = true;
      }
      continue;
    }
    const [t, unc] = stamp();
    if (r.outcome === 'ok') b.complete(r.process, 'ok', r.mops, t, unc);
    else b.complete(r.process, r.outcome, r.mops.map(([f, k, v]) => [f, k, f === 'r' ? null : v]), t, unc);
    if (r.outcome === 'info') processOf[s] = processOf[s]! + concurrency; // the process may still be running
    slots[s] = undefined;
    finished++;
  }
  return b.ops;
}
