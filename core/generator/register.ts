import type { Random } from './random';

/** One register operation to invoke: read, write of a unique value, or compare-and-set. */
export type RegisterInvocation =
  | { f: 'read'; key: string; value: null }
  | { f: 'write'; key: string; value: number }
  | { f: 'cas'; key: string; value: [number, number] };

export interface RegisterGeneratorOptions {
  keyCount: number;
  /** Keys rotate every period (controller timeline), so each key's history stays small enough to check. */
  keyPeriodNanos: number;
}

/**
 * Jepsen's register workload for one process: reads, writes and cas on a handful of independent keys.
 * Written values are unique across the whole run (the process id is folded into each value), so a read names
 * the one write it observed. A cas compares against the last value this process saw for the key when it has
 * one, so that some cas operations succeed.
 */
export class RegisterGenerator {
  #counter = 0;
  #lastSeen = new Map<string, number>();

  constructor(
    private readonly opts: RegisterGeneratorOptions,
    private readonly rng: Random,
  ) {}

  next(process: number, nowNanos: number): RegisterInvocation {
    const epoch = Math.floor(Math.max(0, nowNanos) / this.opts.keyPeriodNanos);
    const key = `e${epoch}k${this.rng.int(this.opts.keyCount)}`;
    const roll = this.rng.next();
    if (roll < 0.5) return { f: 'read', key, value: null };
    const fresh = this.#unique(process);
    if (roll < 0.75) return { f: 'write', key, value: fresh };
    const seen = this.#lastSeen.get(key);
    const from = seen !== undefined && this.rng.next() < 0.8 ? seen : this.#unique(process);
    return { f: 'cas', key, value: [from, fresh] };
  }

  /** Tells the generator what an `ok` completion revealed about a key's current value. */
  observe(key: string, value: number | null): void {
    if (value === null) this.#lastSeen.delete(key);
    else this.#lastSeen.set(key, value);
  }

  #unique(process: number): number {
    // Process ids are unique across nodes and never reused, so (process, counter) is unique in the run.
    return (process + 1) * 1_000_000_000 + ++this.#counter;
  }
}
