import { fixedKeys, type Workload } from './workload';

/**
 * Longest time a process keeps a lock before releasing it (uniform from 0). Holds longer than a lease's TTL are
 * what lets a fault that cuts a holder off show two holders at once; etcd's default lock-ttl (10 s) still
 * outlasts the longest hold plus an op timeout, so without faults a lease cannot lapse even if no keepalive ever
 * got through.
 */
export const LOCK_HOLD_MAX_MS = 6000;

/**
 * A lock service: each process acquires one of a few locks (`acquire`, key: the lock), keeps it for a random
 * while (0 to LOCK_HOLD_MAX_MS) and releases it (`release`). A process only ever releases a lock its own last
 * acquire took. Checked as a mutex per lock (two processes holding one lock at once is not linearizable), and by
 * lock-holders, which names the two acquires whose holds certainly overlap. A process
 * that does not know whether it holds the lock (an `info`) is retired by the loop and its successor starts afresh;
 * a process stopped while it holds a lock releases it first (drain), so the history ends with every lock free.
 */
export const lockWorkload: Workload = {
  name: 'lock',
  description: 'acquire, hold (0-6 s), release of a few locks; checked as a mutex (linearizable) and by lock-holders',
  fs: ['acquire', 'release'],
  checkers: () => [{ name: 'linearizable', options: { model: 'mutex' } }, { name: 'lock-holders' }],
  generator: (ctx, rng) => {
    const keys = fixedKeys(ctx).map((k) => `lock-${k}`);
    let held: string | undefined;
    return {
      next: () =>
        held !== undefined
          ? { f: 'release', key: held, value: null, delayMs: rng.int(LOCK_HOLD_MAX_MS + 1) }
          : { f: 'acquire', key: rng.pick(keys), value: null },
      complete: (op, done) => {
        // After an ok acquire we hold the lock; after anything else from release (ok, fail, info) we do not know
        // better than to start again, and an acquire that failed or may have failed leaves nothing to release (an
        // info acquire's lease is revoked by the client, and its process is retired).
        if (op.f === 'acquire') held = done.type === 'ok' ? op.key : undefined;
        else held = undefined;
      },
      drain: () => (held !== undefined ? { f: 'release', key: held, value: null } : undefined),
    };
  },
};
