import { Random } from '../../core/generator/random';
import { describeGrudge, grudgeFor, type Grudge, type PartitionShape } from '../../core/nemesis/grudge';
import type { ControllerEvents } from '../controller-events';
import type { AgentClient } from '../rpc/agent-client';

/**
 * Cuts the network along a grudge and heals it. Each action is recorded as a nemesis invoke and completion in the
 * history, with the grudge as the value. A partition is `ok` only when every node applied its part; if any node
 * fails, the whole partition is healed and the action completes as `info`.
 */
export class PartitionNemesis {
  #rng: Random;
  #n = 0;

  constructor(
    private readonly clients: AgentClient[],
    private readonly events: ControllerEvents,
    private readonly shape: PartitionShape,
    seed: number,
    private readonly target: string | undefined,
    private readonly maxDurationMs: number,
  ) {
    this.#rng = new Random(seed ^ 0x5bd1e995);
  }

  async start(): Promise<Grudge> {
    const names = this.clients.map((c) => c.node.name);
    const grudge = grudgeFor(this.shape, names, {
      rng: () => this.#rng.next(),
      ...(this.target !== undefined ? { target: [this.target] } : {}),
    });
    const value = { shape: this.shape, grudge, description: describeGrudge(grudge) };
    await this.events.nemesis('invoke', 'start-partition', value);
    const addressOf = new Map(this.clients.map((c) => [c.node.name, c.node.address]));
    const id = `partition-${++this.#n}`;
    try {
      await Promise.all(
        this.clients.map((c) =>
          c.partition((grudge[c.node.name] ?? []).map((n) => addressOf.get(n)!), [], id, this.maxDurationMs),
        ),
      );
    } catch (err) {
      await this.heal().catch(() => undefined);
      await this.events.nemesis('info', 'start-partition', value, (err as Error).message);
      throw err;
    }
    await this.events.nemesis('ok', 'start-partition', value);
    return grudge;
  }

  /** Heals every node; succeeds only when all of them confirm. */
  async stop(): Promise<void> {
    await this.events.nemesis('invoke', 'stop-partition', null);
    try {
      await this.heal();
    } catch (err) {
      await this.events.nemesis('info', 'stop-partition', null, (err as Error).message);
      throw err;
    }
    await this.events.nemesis('ok', 'stop-partition', 'fully connected');
  }

  async heal(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.heal()));
  }
}
