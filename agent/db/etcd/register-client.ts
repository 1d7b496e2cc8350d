import type { Completion, Invocation } from '../../../core/workloads';
import { errorText, type Client, type ClientContext } from '../../workload/client';
import { connectLocal, deadline } from './etcd-connection';

/**
 * The register workload on etcd: `read` is a get (linearizable, or serializable with --db-opt
 * read-consistency=serializable), `write` a put, `cas` a transaction comparing the value. A failed compare is a
 * definite answer from the leader (`fail`); any error may have followed an applied request (`info`).
 */
export function etcdRegisterClient(ctx: ClientContext): Client {
  const etcd = connectLocal(ctx);
  const serializable = ctx.options['read-consistency'] === 'serializable';
  return {
    async invoke(op: Invocation): Promise<Completion> {
      const key = op.key ?? '';
      try {
        switch (op.f) {
          case 'read': {
            const raw = await etcd.get(key).serializable(serializable).options(deadline(ctx)).string();
            return { type: 'ok', value: raw === null ? null : Number(raw) };
          }
          case 'write':
            await etcd.put(key).value(String(op.value)).options(deadline(ctx)).exec();
            return { type: 'ok', value: op.value };
          case 'cas': {
            const [from, to] = op.value as [number, number];
            const res = await etcd.if(key, 'Value', '==', String(from)).then(etcd.put(key).value(String(to))).options(deadline(ctx)).commit();
            return res.succeeded ? { type: 'ok', value: op.value } : { type: 'fail', value: op.value, error: 'compare-failed' };
          }
          default:
            return { type: 'fail', value: op.value, error: `register has no operation "${op.f}"` };
        }
      } catch (err) {
        // Timeout, lost connection, leader change: the request may or may not have been applied.
        return { type: 'info', value: op.value, error: errorText(err) };
      }
    },
    async close() {
      etcd.close();
      await Promise.resolve();
    },
  };
}
