/**
 * bank, online: with the total known (the workload names it), every acknowledged read is judged on its own, the
 * moment it arrives, by the final check's own function on that one read: a wrong total, a negative or nil balance,
 * an account missing or unexpected is an error whatever else the history holds.
 */
import type { Op, PairedOp } from '../../history/operation';
import { checkBank, type BankOptions } from '../invariants/bank';
import { alertOp, EMPTY_STEP, type OnlineChecker, type OnlineFinding, type OnlineStep } from './online-checker';

export class BankOnline implements OnlineChecker {
  readonly name = 'bank';
  #ready: PairedOp[] = [];

  /** @param opts must name the total: without it only reads compared with each other prove anything (at the end). */
  constructor(private readonly opts: BankOptions & { total: number }) {}

  invoked(): void {}

  completed(op: PairedOp): void {
    if (op.f === 'read' && op.type === 'ok') this.#ready.push(op);
  }

  advance(): OnlineStep {
    if (this.#ready.length === 0) return EMPTY_STEP;
    const reads = this.#ready;
    this.#ready = [];
    const findings: OnlineFinding[] = [];
    for (const r of reads) {
      const history: Op[] = [
        { index: 0, type: 'invoke', process: r.process, f: 'read', value: null, time: 0 },
        { index: 1, type: 'ok', process: r.process, f: 'read', value: r.value, time: 1 },
      ];
      let kinds: string[];
      try {
        kinds = [...new Set(checkBank(history, this.opts).errors.map((e) => e.kind))];
      } catch {
        continue; // a read that is not a map of balances: the final check reports it as bad input
      }
      for (const kind of kinds) findings.push({ checker: this.name, anomaly: kind, operations: [alertOp(r)], revealedBy: alertOp(r), detail: { balances: r.value } });
    }
    return { findings, judged: reads };
  }

  finish(): OnlineStep {
    return this.advance();
  }
}
