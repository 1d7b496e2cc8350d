import type { Etcd3 } from 'etcd3';
import type { Completion, Invocation } from '../../../core/workloads';
import type { MicroOp } from '../../../core/workloads/txn';
import { errorText, type Client, type ClientContext } from '../../workload/client';
import { connectLocal } from './etcd-connection';

/** The list of a key as stored: a JSON array of the appended elements, or nothing yet. */
function parseList(raw: Buffer | undefined): unknown[] {
  if (raw === undefined || raw.length === 0) return [];
  const v = JSON.parse(raw.toString('utf8')) as unknown;
  return Array.isArray(v) ? v : [];
}

/**
 * Elle's list-append on etcd, as optimistic transactions: read every key the transaction touches (noting each
 * key's mod revision), apply the micro-ops locally (reads see the transaction's own earlier appends), then commit
 * one etcd transaction that writes the new lists only if no touched key (read or written) changed since it was read.
 * A key never written compares as mod revision 0. So at the commit's revision every touched key still holds what
 * was read: a committed transaction took effect atomically at that point, inside its real-time interval (strict
 * serializability, reads included). Outcomes: a failed guard is `fail` (nothing was written); an
 * error before the commit is sent is `fail` too (only reads happened); an error during the commit is `info`.
 * No retries: a retried transaction would be a second transaction.
 */
export function etcdListAppendClient(ctx: ClientContext): Client {
  const etcd: Etcd3 = connectLocal(ctx);
  const key = (k: string): string => `la/${k}`;
  return {
    async invoke(op: Invocation): Promise<Completion> {
      if (op.f !== 'txn' || !Array.isArray(op.value)) return { type: 'fail', value: op.value, error: `list-append has no operation "${op.f}"` };
      const mops = op.value as MicroOp[];
      // One deadline for the whole transaction (reads and commit), so that it ends within the op timeout.
      const until = { deadline: Date.now() + ctx.opTimeoutMs };
      const touched = [...new Set(mops.map((m) => m[1]))];
      const lists = new Map<string, unknown[]>();
      const revisions = new Map<string, string>();
      try {
        for (const k of touched) {
          const res = await etcd.get(key(k)).options(until).exec();
          const kv = res.kvs[0];
          revisions.set(k, kv?.mod_revision ?? '0');
          lists.set(k, parseList(kv?.value));
        }
      } catch (err) {
        return { type: 'fail', value: op.value, error: `read before commit failed, nothing written: ${errorText(err)}` };
      }
      const written = new Set<string>();
      const result: MicroOp[] = mops.map(([f, k, v]) => {
        const list = lists.get(k)!;
        if (f === 'append') {
          list.push(v);
          written.add(k);
          return [f, k, v];
        }
        return [f, k, [...list]];
      });
      try {
        let txn = etcd.if(key(touched[0]!), 'Mod', '==', revisions.get(touched[0]!)!);
        for (const k of touched.slice(1)) txn = txn.and(key(k), 'Mod', '==', revisions.get(k)!);
        const res = await txn
          .then(...[...written].map((k) => etcd.put(key(k)).value(JSON.stringify(lists.get(k)))))
          .options(until)
          .commit();
        return res.succeeded ? { type: 'ok', value: result } : { type: 'fail', value: op.value, error: 'conflict: a key changed since it was read' };
      } catch (err) {
        return { type: 'info', value: op.value, error: errorText(err) };
      }
    },
    async close() {
      etcd.close();
      await Promise.resolve();
    },
  };
}
