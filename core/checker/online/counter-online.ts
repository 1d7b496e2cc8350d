/**
 * counter, online (core/checker/invariants/counter.ts, one key). A read is judged once the watermark has passed
 * its end: every add that may have been applied before it ended (invoked before then) has arrived, and so has
 * every acknowledgement that ended before it began. Its bounds are then the final check's, or wider: an add still
 * open may yet fail (the final check leaves it out), so counting it as possible only widens the bounds. A read
 * outside them is an `out-of-bounds-read` the final check reports too (the final reads' lost increments included).
 * Memory stays bounded: adds that every later read must count the same way are folded into running sums.
 */
import type { PairedOp } from '../../history/operation';
import { alertOp, EMPTY_STEP, type OnlineChecker, type OnlineFinding, type OnlineStep } from './online-checker';

/** Sums split by sign, as the final check keeps them. */
interface Sums {
  pos: number;
  neg: number;
}

const addTo = (s: Sums, d: number): void => {
  if (d > 0) s.pos += d;
  else s.neg += d;
};

export class CounterOnline implements OnlineChecker {
  readonly name = 'counter';
  /** Adds folded in: certainly applied before every read still to come, and (info) possibly applied before any. */
  readonly #certain: Sums = { pos: 0, neg: 0 };
  readonly #possible: Sums = { pos: 0, neg: 0 };
  /** Adds not folded: open, or completed too recently for every later read to count them alike. */
  #adds: PairedOp[] = [];
  /** Reads invoked and not judged yet (open or pending); their starts bound what may be folded. */
  #reads = new Set<PairedOp>();
  #pending: PairedOp[] = [];

  constructor(
    readonly key: string | undefined,
    private readonly init = 0,
  ) {}

  invoked(op: PairedOp): void {
    if (op.f === 'add') this.#adds.push(op);
    else if (op.f === 'read') this.#reads.add(op);
  }

  completed(op: PairedOp): void {
    if (op.f === 'read') {
      if (op.type === 'ok') this.#pending.push(op);
      else this.#reads.delete(op);
    }
  }

  advance(watermarkNanos: number): OnlineStep {
    const ready = this.#pending.filter((r) => r.end < watermarkNanos);
    if (ready.length === 0) return EMPTY_STEP;
    this.#pending = this.#pending.filter((r) => r.end >= watermarkNanos);
    const step = this.#judge(ready);
    this.#fold(watermarkNanos);
    return step;
  }

  finish(): OnlineStep {
    const step = this.#judge(this.#pending);
    this.#pending = [];
    return step;
  }

  #judge(reads: PairedOp[]): OnlineStep {
    const findings: OnlineFinding[] = [];
    for (const r of reads) {
      this.#reads.delete(r);
      const value = r.value === null || r.value === undefined ? this.init : r.value;
      if (typeof value !== 'number') continue; // malformed: the final check reports it as bad input
      // Folded certain adds are in both sums: an add that ended before the read began is possible too.
      let lower = this.init + this.#certain.pos + this.#possible.neg;
      let upper = this.init + this.#certain.neg + this.#possible.pos;
      for (const a of this.#adds) {
        if (a.type === 'fail' || typeof a.invokeValue !== 'number') continue;
        const d = a.invokeValue;
        const certain = a.type === 'ok' && a.end < r.start;
        const possible = a.start <= r.end;
        if (certain) {
          if (d > 0) lower += d;
          else upper += d;
        }
        if (possible) {
          if (d > 0) upper += d;
          else lower += d;
        }
      }
      if (value < lower || value > upper) {
        findings.push({ checker: this.name, anomaly: 'out-of-bounds-read', operations: [alertOp(r)], revealedBy: alertOp(r), ...(this.key !== undefined ? { key: this.key } : {}), detail: { value, lower, upper } });
      }
    }
    return { findings, judged: reads };
  }

  /**
   * Folds the adds every read still to come counts alike. Reads to come begin after the earliest start of a read
   * already invoked and not judged, and after the watermark (minus its slack, already taken off by the caller):
   * an ok add that ended before that is certain (and possible) for all of them; an info add that began before it
   * is possible for all and certain for none; a failed add counts for none.
   */
  #fold(watermarkNanos: number): void {
    let horizon = watermarkNanos;
    for (const r of this.#reads) if (r.start < horizon) horizon = r.start;
    const kept: PairedOp[] = [];
    for (const a of this.#adds) {
      const done = a.completionIndex >= 0;
      const d = typeof a.invokeValue === 'number' ? a.invokeValue : 0;
      if (done && a.type === 'fail') continue;
      if (done && a.type === 'ok' && a.end < horizon) {
        addTo(this.#certain, d);
        addTo(this.#possible, d);
        continue;
      }
      if (done && a.type === 'info' && a.start < horizon) {
        addTo(this.#possible, d);
        continue;
      }
      kept.push(a);
    }
    this.#adds = kept;
  }

  get stats(): { adds: number; pending: number } {
    return { adds: this.#adds.length, pending: this.#pending.length };
  }
}
