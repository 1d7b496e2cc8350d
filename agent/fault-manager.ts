import type { Logger } from 'pino';
import { applyLoss } from './faults/loss';
import { applyDrop, healNetwork } from './faults/partition';
import type { Database } from './db/database';
import { FaultJournal, type JournalEntry } from './fault-journal';

export interface NetworkFault {
  dropFrom: string[];
  loss: { from: string; probability: number }[];
}

/**
 * Applies and undoes this node's faults. Every fault is journaled before it is applied and carries a deadline;
 * `healAll` undoes everything (network chains, paused DB) and is idempotent. It is called on heal requests, when
 * a fault's deadline passes, when the controller's lease lapses, at shutdown, and at start for leftovers.
 */
export class FaultManager {
  #timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly journal: FaultJournal,
    private readonly db: () => Database | undefined,
    private readonly log: Logger,
    private readonly maxFaultDurationMs: number,
  ) {}

  active(): JournalEntry[] {
    return this.journal.read();
  }

  /**
   * Drops and loses packets as `fault` says. Addresses in `neverDrop` (the controller's and NATS's) are refused:
   * a fault must never cut the agent off from the controller that has to heal it.
   */
  async applyNetwork(id: string, fault: NetworkFault, durationMs: number, neverDrop: string[]): Promise<void> {
    const ms = Math.min(durationMs > 0 ? durationMs : this.maxFaultDurationMs, this.maxFaultDurationMs);
    const now = Date.now();
    this.journal.add({ id, kind: 'partition', detail: fault, appliedAtMs: now, expiresAtMs: now + ms });
    try {
      await applyDrop({ fromAddresses: fault.dropFrom, neverDrop });
      await applyLoss({
        neverDrop,
        fromAddresses: fault.loss.map((l) => l.from),
        probability: fault.loss[0]?.probability ?? 0,
      });
    } catch (err) {
      await this.healAll('apply failed'); // never leave a half-applied fault behind
      throw err;
    }
    this.#expireAfter(id, ms);
    this.log.info({ id, dropFrom: fault.dropFrom, loss: fault.loss, durationMs: ms }, 'network fault applied');
  }

  /** Records a paused DB so that it is resumed by any heal, including one after an agent crash. */
  notePause(id: string, durationMs: number): void {
    const ms = Math.min(durationMs > 0 ? durationMs : this.maxFaultDurationMs, this.maxFaultDurationMs);
    const now = Date.now();
    this.journal.add({ id, kind: 'pause', detail: null, appliedAtMs: now, expiresAtMs: now + ms });
    this.#expireAfter(id, ms);
  }

  noteResume(): void {
    this.journal.remove((e) => e.kind === 'pause');
  }

  /** Undoes every fault this agent applied. Safe to call at any time, any number of times. */
  async healAll(reason: string): Promise<void> {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    const had = this.journal.read();
    await healNetwork();
    this.db()?.resume();
    this.journal.clear();
    if (had.length > 0) this.log.info({ reason, healed: had.map((e) => e.id) }, 'faults healed');
  }

  #expireAfter(id: string, ms: number): void {
    clearTimeout(this.#timers.get(id));
    const timer = setTimeout(() => {
      this.log.warn({ id, ms }, 'fault reached its maximum duration, healing');
      this.healAll(`fault ${id} expired`).catch((err: unknown) => this.log.error({ err }, 'heal after expiry failed'));
    }, ms);
    timer.unref();
    this.#timers.set(id, timer);
  }
}
