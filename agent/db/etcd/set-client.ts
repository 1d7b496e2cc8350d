import type { Completion, Invocation } from '../../../core/workloads';
import { errorText, type Client, type ClientContext } from '../../workload/client';
import { connectLocal, deadline } from './etcd-connection';

/**
 * The set workload on etcd: each element is its own key under the set's prefix (`add` is a put of
 * `<set>/<element>`), and `read` lists the prefix (linearizable, or serializable with read-consistency).
 */
export function etcdSetClient(ctx: ClientContext): Client {
  const etcd = connectLocal(ctx);
  const serializable = ctx.options['read-consistency'] === 'serializable';
  const prefix = (key: string | undefined): string => `set/${key ?? ''}/`;
  return {
    async invoke(op: Invocation): Promise<Completion> {
      try {
        switch (op.f) {
          case 'add':
            await etcd.put(`${prefix(op.key)}${String(op.value)}`).value('1').options(deadline(ctx)).exec();
            return { type: 'ok', value: op.value };
          case 'read': {
            const keys = await etcd.getAll().prefix(prefix(op.key)).serializable(serializable).options(deadline(ctx)).keys();
            const elements = keys.map((k) => Number(k.slice(prefix(op.key).length))).sort((a, b) => a - b);
            return { type: 'ok', value: elements };
          }
          default:
            return { type: 'fail', value: op.value, error: `set has no operation "${op.f}"` };
        }
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
