import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import type { RegisterInvocation } from '../../core/generator/register';

export type ReadConsistency = 'linearizable' | 'serializable';

/** The completion of one register op: `info` whenever the request may have reached the server. */
export interface RegisterCompletion {
  type: 'ok' | 'fail' | 'info';
  value: unknown;
  error?: string;
}

/**
 * Executes register ops against one etcd member. Retries and failover are disabled: a retried cas that was
 * applied the first time would be reported as failed, which would make the checker unsound.
 */
export class EtcdRegisterClient {
  readonly #etcd: Etcd3;

  constructor(
    endpoint: string,
    private readonly readConsistency: ReadConsistency,
    private readonly timeoutMs: number,
  ) {
    this.#etcd = new Etcd3({
      hosts: [endpoint],
      faultHandling: { host: () => noop, global: noop },
      grpcOptions: { 'grpc.keepalive_time_ms': 1000, 'grpc.keepalive_timeout_ms': 1000 },
    });
  }

  async invoke(op: RegisterInvocation): Promise<RegisterCompletion> {
    const deadline = { deadline: Date.now() + this.timeoutMs };
    try {
      switch (op.f) {
        case 'read': {
          const raw = await this.#etcd
            .get(op.key)
            .serializable(this.readConsistency === 'serializable')
            .options(deadline)
            .string();
          return { type: 'ok', value: raw === null ? null : Number(raw) };
        }
        case 'write':
          await this.#etcd.put(op.key).value(String(op.value)).options(deadline).exec();
          return { type: 'ok', value: op.value };
        case 'cas': {
          const [from, to] = op.value;
          const res = await this.#etcd
            .if(op.key, 'Value', '==', String(from))
            .then(this.#etcd.put(op.key).value(String(to)))
            .options(deadline)
            .commit();
          // A failed compare is a definite answer from the leader: the put was not applied.
          return res.succeeded ? { type: 'ok', value: op.value } : { type: 'fail', value: op.value, error: 'compare-failed' };
        }
      }
    } catch (err) {
      // Timeout, lost connection, leader change: the request may or may not have been applied.
      return { type: 'info', value: op.value, error: err instanceof Error ? err.message.slice(0, 200) : String(err) };
    }
  }

  close(): void {
    this.#etcd.close();
  }
}
