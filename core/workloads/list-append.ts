import { txnGenerator } from './txn';
import type { Workload } from './workload';

/**
 * Elle's list-append: transactions (`txn`, value: micro-ops ['append', k, v] and ['r', k, null]; ok: reads carry
 * the list read). Appends are unique, so every read reveals the order of the appends before it. Checked by Elle
 * against strict serializability unless the run asks for another model.
 */
export const listAppendWorkload: Workload = {
  name: 'list-append',
  description: 'transactions of appends and reads on hot rotating keys; checked by Elle (list-append)',
  fs: ['txn'],
  checkers: () => [{ name: 'list-append' }],
  generator: (ctx, rng) => txnGenerator(ctx, rng, 'append'),
};
