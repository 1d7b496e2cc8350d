/** Which model a stored history is checked against when the user names none. */
import { HistoryColumns } from '../history/columns';
import type { HistoryFormat } from '../history/read-history';
import type { Op } from '../history/operation';
import type { ModelName } from '../models';

/** The transactional (Elle) models, checked by the list-append and rw-register checkers. */
export const TXN_MODELS = ['list-append', 'rw-register'] as const;
export type TxnModelName = (typeof TXN_MODELS)[number];

export function isTxnModel(name: string): name is TxnModelName {
  return (TXN_MODELS as readonly string[]).includes(name);
}

/**
 * Infers the model from the format and the operations. Porcupine etcd logs: etcd-register; kv files: kv;
 * txns with append micro-ops: list-append, with r/w: rw-register, with read/write: multi-register;
 * acquire/release: mutex; add: set; enqueue/dequeue: unordered-queue (the weaker promise);
 * get/put/append: kv; read/write/cas: etcd-register for our jsonl (null = key absent), else cas-register.
 */
export function inferModel(format: HistoryFormat, ops: readonly Op[] | HistoryColumns): ModelName | TxnModelName {
  if (format === 'porcupine-etcd') return 'etcd-register';
  if (format === 'porcupine-kv') return 'kv';
  const fs = ops instanceof HistoryColumns ? clientFs(ops) : new Set(ops.filter((o) => o.process !== 'nemesis').map((o) => o.f));
  if (fs.has('txn')) {
    const micro = new Set<string>();
    const values = ops instanceof HistoryColumns ? txnValues(ops) : ops.filter((o) => o.f === 'txn').map((o) => o.value);
    for (const v of values) if (Array.isArray(v)) for (const m of v) if (Array.isArray(m)) micro.add(String(m[0]));
    if (micro.has('append')) return 'list-append';
    if (micro.has('r') || micro.has('w')) return 'rw-register';
    return 'multi-register';
  }
  if (fs.has('acquire') || fs.has('release')) return 'mutex';
  if (fs.has('enqueue') || fs.has('dequeue')) return 'unordered-queue';
  if (fs.has('add')) return 'set';
  if (fs.has('get') || fs.has('put') || fs.has('append')) return 'kv';
  return format === 'jsonl' ? 'etcd-register' : 'cas-register';
}

/** The operation names of a history's client events. */
function clientFs(c: HistoryColumns): Set<string> {
  const ids = new Set<number>();
  for (let i = 0; i < c.length; i++) if (!Number.isNaN(c.process[i]!)) ids.add(c.f[i]!);
  return new Set([...ids].map((id) => c.string(id)));
}

/** The values of every `txn` event (the nemesis's too, as for ops). */
function txnValues(c: HistoryColumns): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < c.length; i++) if (c.string(c.f[i]!) === 'txn') out.push(c.valueOf(i));
  return out;
}
