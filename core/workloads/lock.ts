import { fixedKeys, type Workload } from './workload';

/**
 * A lock service: each process acquires one of a few locks (`acquire`, key: the lock) and, once it holds it,
 * releases it (`release`). Checked as a mutex per lock: two processes holding one lock at once is not
 * linearizable. A process that does not know whether it holds the lock (an `info`) is retired by the loop and its
 * successor starts afresh.
 */
export const lockWorkload: Workload = {
  name: 'lock',
  description: 'acquire / release of a few locks; checked for linearizability as a mutex',
  fs: ['acquire', 'release'],
  checkers: () => [{ name: 'linearizable', options: { model: 'mutex' } }],
  generator: (ctx, rng) => {
    const keys = fixedKeys(ctx).map((k) => `lock-${k}`);
    let held: string | undefined;
    return {
      next: () => (held !== undefined ? { f: 'release', key: held, value: null } : { f: 'acquire', key: rng.pick(keys), value: null }),
      complete: (op, done) => {
        // After an ok acquire we hold the lock; after anything else from release (ok, fail, info) we do not know
        // better than to start again, and a release we never sent leaves nothing held.
        if (op.f === 'acquire') held = done.type === 'ok' ? op.key : undefined;
        else held = undefined;
      },
    };
  },
};
