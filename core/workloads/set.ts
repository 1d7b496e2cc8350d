import { finalReads, fixedKeys, uniqueValue, type Workload } from './workload';

/**
 * Jepsen's set: each process adds run-unique elements to one of a few sets (`add`, value: the element) and now and
 * then reads a whole set (`read`, ok value: the elements). After the heal every node reads every set (final
 * phase), so that an acknowledged add the database lost shows up as lost. Checked by set-full.
 */
export const setWorkload: Workload = {
  name: 'set',
  description: 'unique adds to a few sets, reads, and final reads of every set on every node; checked by set-full',
  fs: ['add', 'read'],
  checkers: () => [{ name: 'set-full' }],
  generator: (ctx, rng) => {
    const keys = fixedKeys(ctx);
    let counter = 0;
    return {
      next: (process) => {
        const key = rng.pick(keys);
        return rng.next() < 0.1 ? { f: 'read', key, value: null } : { f: 'add', key, value: uniqueValue(process, ++counter) };
      },
      complete: () => undefined,
    };
  },
  finalGenerator: (ctx) => finalReads(fixedKeys(ctx)),
};
