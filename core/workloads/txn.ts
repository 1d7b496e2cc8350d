import type { Random } from '../generator/random';
import { rotatingKey, uniqueValue, type GeneratorContext, type OpGenerator } from './workload';

/** A micro-operation: [f, key, value]; reads carry null when invoked and the value read when ok. */
export type MicroOp = [string, string, unknown];

/**
 * Transactions of 1–4 micro-operations over a few hot keys (rotating over the run, so that each key's history
 * stays checkable), mixing reads with writes whose values are unique in the run: the shape Elle needs to infer
 * version orders. `write` names the write micro-op: `append` (list-append) or `w` (rw-register).
 */
export function txnGenerator(ctx: GeneratorContext, rng: Random, write: 'append' | 'w'): OpGenerator {
  let counter = 0;
  return {
    next: (process, nowNanos) => {
      const n = 1 + rng.int(4);
      const mops: MicroOp[] = [];
      for (let i = 0; i < n; i++) {
        const key = rotatingKey(ctx, nowNanos, rng.int(ctx.keyCount));
        mops.push(rng.next() < 0.5 ? ['r', key, null] : [write, key, uniqueValue(process, ++counter)]);
      }
      return { f: 'txn', value: mops };
    },
    complete: () => undefined,
  };
}
