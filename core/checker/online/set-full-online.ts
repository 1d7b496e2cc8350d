/**
 * set-full, online (core/checker/invariants/set-full.ts, one key). Reads are judged once the watermark has passed
 * their end: by then every add acknowledged before the read began, and every read that ended before it began, has
 * arrived. For each element the checker keeps what decides set-full's verdict, not the reads themselves: when it
 * was first known present (its earliest acknowledgement, or the end of the first read that saw it), and the latest
 * start of a read that missed it and of one that saw it. Set-full calls an element lost when the last read that
 * began after it was known present misses it; that read may always be followed by one that sees it again (stale,
 * not an error), so a loss is proved only when the history is complete (after the final reads): `finish()`.
 * A read returning an element twice is proved at once. An element seen but never added (unexpected) is proved at
 * the end too: an add of it may still come.
 */
import type { PairedOp } from '../../history/operation';
import { vkey } from '../invariants/result';
import { alertOp, EMPTY_STEP, type OnlineChecker, type OnlineFinding, type OnlineStep } from './online-checker';

interface ElementState {
  value: unknown;
  /** Adds that did not fail (open ones count: they may take effect), and adds in all. */
  adds: number;
  failedAdds: number;
  /** Earliest end of an ok add. */
  okEnd: number;
  okAdd: PairedOp | undefined;
  /** Earliest end of a read that saw it. */
  minHitEnd: number;
  firstHit: PairedOp | undefined;
  maxMissStart: number;
  lastMiss: PairedOp | undefined;
  maxHitStart: number;
}

export class SetFullOnline implements OnlineChecker {
  readonly name = 'set-full';
  readonly #elements = new Map<string, ElementState>();
  /** Completed ok reads not judged yet (their end is not below the watermark). */
  #pending: PairedOp[] = [];
  #readsJudged = 0;

  constructor(readonly key: string | undefined) {}

  #element(k: string, value: unknown): ElementState {
    let e = this.#elements.get(k);
    if (e === undefined) {
      e = { value, adds: 0, failedAdds: 0, okEnd: Infinity, okAdd: undefined, minHitEnd: Infinity, firstHit: undefined, maxMissStart: -Infinity, lastMiss: undefined, maxHitStart: -Infinity };
      this.#elements.set(k, e);
    }
    return e;
  }

  invoked(op: PairedOp): void {
    if (op.f === 'add') this.#element(vkey(op.invokeValue), op.invokeValue).adds++;
  }

  completed(op: PairedOp): void {
    if (op.f === 'add') {
      const e = this.#element(vkey(op.invokeValue), op.invokeValue);
      if (op.type === 'fail') e.failedAdds++;
      else if (op.type === 'ok' && op.end < e.okEnd) {
        e.okEnd = op.end;
        e.okAdd = op;
      }
    } else if (op.f === 'read' && op.type === 'ok') {
      this.#pending.push(op);
    }
  }

  advance(watermarkNanos: number): OnlineStep {
    const ready = this.#pending.filter((r) => r.end < watermarkNanos);
    if (ready.length === 0) return EMPTY_STEP;
    this.#pending = this.#pending.filter((r) => r.end >= watermarkNanos);
    return this.#judge(ready);
  }

  finish(): OnlineStep {
    const step = this.#judge(this.#pending);
    this.#pending = [];
    return { findings: [...step.findings, ...this.#endFindings()], judged: step.judged };
  }

  /** Reads in order of their end, so that a read that saw an element is judged before any read that began after it ended. */
  #judge(reads: PairedOp[]): OnlineStep {
    reads.sort((a, b) => a.end - b.end);
    const findings: OnlineFinding[] = [];
    for (const r of reads) {
      const value = r.value === null || r.value === undefined ? [] : r.value;
      if (!Array.isArray(value)) continue; // malformed: the final check reports it as bad input
      const seen = new Set<string>();
      for (const v of value) {
        const k = vkey(v);
        seen.add(k);
        const e = this.#element(k, v);
        if (r.end < e.minHitEnd) {
          e.minHitEnd = r.end;
          e.firstHit = r;
        }
        if (r.start > e.maxHitStart) e.maxHitStart = r.start;
      }
      if (seen.size !== value.length) {
        findings.push({ checker: this.name, anomaly: 'duplicated', operations: [alertOp(r)], revealedBy: alertOp(r), ...this.#keyed(), detail: { read: r.index } });
      }
      for (const [k, e] of this.#elements) {
        if (!seen.has(k) && r.start > e.maxMissStart) {
          e.maxMissStart = r.start;
          e.lastMiss = r;
        }
      }
      this.#readsJudged++;
    }
    return { findings, judged: reads };
  }

  #keyed(): { key?: string } {
    return this.key !== undefined ? { key: this.key } : {};
  }

  /** What only the complete history proves: lost elements (set-full's rule on the kept extremes) and unexpected ones. */
  #endFindings(): OnlineFinding[] {
    const out: OnlineFinding[] = [];
    for (const e of this.#elements.values()) {
      if (e.adds === 0 || e.adds === e.failedAdds) {
        if (e.firstHit) out.push({ checker: this.name, anomaly: 'unexpected', operations: [alertOp(e.firstHit)], revealedBy: alertOp(e.firstHit), ...this.#keyed(), detail: { element: e.value } });
        continue;
      }
      const known = Math.min(e.okEnd, e.minHitEnd);
      if (!Number.isFinite(known)) continue;
      if (!(e.maxMissStart > known)) continue; // no read after it was known present missed it
      if (e.maxHitStart > e.maxMissStart) continue; // seen again after the last miss: stale, not lost
      const shown = [e.okAdd ?? e.firstHit!, e.lastMiss!].map(alertOp);
      out.push({ checker: this.name, anomaly: 'lost', operations: shown, revealedBy: shown[1]!, ...this.#keyed(), detail: { element: e.value } });
    }
    return out;
  }

  /** How many ok reads were judged, and elements tracked (for tests and summaries). */
  get stats(): { reads: number; elements: number; pending: number } {
    return { reads: this.#readsJudged, elements: this.#elements.size, pending: this.#pending.length };
  }
}
