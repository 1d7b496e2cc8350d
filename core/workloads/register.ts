import type { Random } from '../generator/random';
import { rotatingKey, uniqueValue, type Completion, type GeneratorContext, type Invocation, type OpGenerator, type Workload } from './workload';

/**
 * Jepsen's register workload for one process: reads, writes and cas on a handful of independent keys.
 * Values: `read` null (ok: the value, null when absent), `write` a run-unique number, `cas` [from, to].
 * Written values are unique across the run (the process id is folded into each), so a read names the one write
 * it observed. A cas compares against the last value this process saw for the key when it has one, so that some
 * cas operations succeed.
 */
export class RegisterGenerator implements OpGenerator {
  #counter = 0;
  #lastSeen = new Map<string, number>();

  constructor(
    private readonly ctx: GeneratorContext,
    private readonly rng: Random,
  ) {}

  next(process: number, nowNanos: number): Invocation {
    const key = rotatingKey(this.ctx, nowNanos, this.rng.int(this.ctx.keyCount));
    const roll = this.rng.next();
    if (roll < 0.5) return { f: 'read', key, value: null };
    const fresh = uniqueValue(process, ++this.#counter);
    if (roll < 0.75) return { f: 'write', key, value: fresh };
    const seen = this.#lastSeen.get(key);
    const from = seen !== undefined && this.rng.next() < 0.8 ? seen : uniqueValue(process, ++this.#counter);
    return { f: 'cas', key, value: [from, fresh] };
  }

  complete(op: Invocation, done: Completion): void {
    if (done.type !== 'ok' || op.key === undefined) return;
    const seen = op.f === 'read' ? (done.value as number | null) : op.f === 'write' ? (op.value as number) : (op.value as [number, number])[1];
    if (seen === null) this.#lastSeen.delete(op.key);
    else this.#lastSeen.set(op.key, seen);
  }
}

/** Reads, writes and compare-and-set on rotating keys, checked for linearizability (nil read = key absent). */
export const registerWorkload: Workload = {
  name: 'register',
  description: 'read / write / compare-and-set on rotating keys; checked for linearizability',
  fs: ['read', 'write', 'cas'],
  checkers: () => [{ name: 'linearizable', options: { model: 'etcd-register' } }],
  generator: (ctx, rng: Random) => new RegisterGenerator(ctx, rng),
};
