import { txnGenerator } from './txn';
import type { Workload } from './workload';

/**
 * Elle's rw-register: transactions (`txn`, value: micro-ops ['w', k, v] and ['r', k, null]; ok: reads carry the
 * value read, null when absent). Writes are unique. Checked by Elle (rw-register).
 */
export const rwRegisterWorkload: Workload = {
  name: 'rw-register',
  description: 'transactions of writes and reads on hot rotating keys; checked by Elle (rw-register)',
  fs: ['txn'],
  checkers: () => [{ name: 'rw-register' }],
  generator: (ctx, rng) => txnGenerator(ctx, rng, 'w'),
};
