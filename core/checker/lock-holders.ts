/**
 * Two holders of one lock at once, shown by the operations themselves (no search): a process holds a lock from
 * the moment its `acquire` completed `ok` until it invokes its next `release` of that lock, and it believes so the
 * whole time. When two processes' holds certainly overlap, clock uncertainty included, both held the lock at once.
 * This names the two acquires behind a mutex's non-linearizability (Jepsen 2020 on etcd: a holder whose lease
 * lapsed still believes it holds the lock). Sound by construction: a hold counts only from the latest time its
 * acquire can have taken effect to the earliest time its release can have; a hold never ended by a release in the
 * history (the process vanished) is not counted at all.
 */
import { HistoryFormatError } from '../errors';
import type { Op, PairedOp } from '../history/operation';
import { pairOps } from '../history/pair';
import type { Validity } from './index';

export interface LockHold {
  process: number;
  node?: string;
  /** Event index of the acquire's invocation, and of the release's. */
  acquireIndex: number;
  releaseIndex: number;
  /** Nanoseconds: the latest time the acquire took effect; the earliest time the release did. */
  from: number;
  to: number;
}

export interface TwoHolders {
  key: string;
  first: LockHold;
  second: LockHold;
  /** The stretch during which both certainly held the lock (nanoseconds). */
  overlap: [number, number];
}

export interface LockHoldersResult {
  valid: Validity;
  /** Ok acquires ended by a release, per the whole history. */
  holds: number;
  /** Every overlapping pair found (a pair is reported once). */
  overlaps: number;
  /** The first overlaps in time, at most 20. */
  examples: TwoHolders[];
  keys: number;
}

const MAX_EXAMPLES = 20;

/** Holds per lock, from the paired history. */
function holdsByKey(ops: readonly PairedOp[]): Map<string, LockHold[]> {
  const out = new Map<string, LockHold[]>();
  // The open ok acquire of each (process, key): its hold ends at the process's next release of that key.
  const open = new Map<string, PairedOp>();
  for (const op of ops) {
    if (op.f !== 'acquire' && op.f !== 'release') throw new HistoryFormatError(`the lock-holders checker has no operation "${op.f}" (expected acquire, release)`);
    const key = op.key ?? '';
    const id = `${op.process}\u0000${key}`;
    if (op.f === 'acquire') {
      if (op.type === 'ok') open.set(id, op);
      continue;
    }
    const acquired = open.get(id);
    if (!acquired) continue;
    open.delete(id);
    const hold: LockHold = { process: op.process, acquireIndex: acquired.index, releaseIndex: op.index, from: acquired.end, to: op.start };
    if (op.node !== undefined) hold.node = op.node;
    if (hold.from < hold.to) out.set(key, [...(out.get(key) ?? []), hold]);
  }
  return out;
}

/** Every pair of holds of one lock by two processes that certainly overlap. */
export function checkLockHolders(history: readonly Op[]): LockHoldersResult {
  const byKey = holdsByKey(pairOps(history).sort((a, b) => a.index - b.index));
  const found: TwoHolders[] = [];
  let holds = 0;
  let overlaps = 0;
  for (const [key, list] of byKey) {
    holds += list.length;
    list.sort((a, b) => a.from - b.from);
    const active: LockHold[] = [];
    for (const h of list) {
      for (let i = active.length - 1; i >= 0; i--) if (active[i]!.to <= h.from) active.splice(i, 1);
      for (const other of active) {
        if (other.process === h.process) continue;
        overlaps++;
        found.push({ key, first: other, second: h, overlap: [h.from, Math.min(h.to, other.to)] });
      }
      active.push(h);
    }
  }
  found.sort((a, b) => a.overlap[0] - b.overlap[0]);
  return { valid: overlaps > 0 ? false : holds > 0 ? true : 'unknown', holds, overlaps, examples: found.slice(0, MAX_EXAMPLES), keys: byKey.size };
}

const seconds = (nanos: number): string => `${(nanos / 1e9).toFixed(3)} s`;
const who = (h: LockHold): string => `process ${h.process}${h.node ? ` on ${h.node}` : ''}`;

/** Lines for people: the verdict, then each pair of holders with the acquire and release events that prove it. */
export function lockHoldersSummaryLines(r: LockHoldersResult): string[] {
  if (r.valid === 'unknown') return ['unknown: no acquire was ever followed by a release: no hold to compare'];
  if (r.valid === true) return [`valid: no two holders at once (${r.holds} holds of ${r.keys} lock${r.keys === 1 ? '' : 's'})`];
  const lines = [`INVALID: two holders at once, ${r.overlaps} time${r.overlaps === 1 ? '' : 's'} (${r.holds} holds of ${r.keys} lock${r.keys === 1 ? '' : 's'})`];
  for (const e of r.examples.slice(0, 5)) {
    lines.push(
      `  lock ${JSON.stringify(e.key)}: ${who(e.first)} acquired it (event ${e.first.acquireIndex}, by ${seconds(e.first.from)}) and did not start releasing it until ${seconds(e.first.to)} (event ${e.first.releaseIndex}); ` +
        `${who(e.second)} acquired it too (event ${e.second.acquireIndex}, by ${seconds(e.second.from)}): both held it from ${seconds(e.overlap[0])} to ${seconds(e.overlap[1])}`,
    );
  }
  if (r.examples.length > 5) lines.push(`  ... ${r.overlaps - 5} more in results.json`);
  return lines;
}
