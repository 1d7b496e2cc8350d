import { finalReads, fixedKeys, type Workload } from './workload';

/**
 * Jepsen's counter: increments by small positive amounts (`add`, value: the amount) and reads (`read`, ok value:
 * the counter) on a few counters starting at 0, plus final reads of every counter on every node after the heal.
 * Checked by counter: every read lies between the increments certainly applied and those possibly applied.
 */
export const counterWorkload: Workload = {
  name: 'counter',
  description: 'increments and reads of a few counters, final reads on every node; checked by counter',
  fs: ['add', 'read'],
  checkers: () => [{ name: 'counter', options: { init: 0 } }],
  generator: (ctx, rng) => {
    const keys = fixedKeys(ctx);
    return {
      next: () => {
        const key = rng.pick(keys);
        return rng.next() < 0.3 ? { f: 'read', key, value: null } : { f: 'add', key, value: 1 + rng.int(5) };
      },
      complete: () => undefined,
    };
  },
  finalGenerator: (ctx) => finalReads(fixedKeys(ctx)),
};
