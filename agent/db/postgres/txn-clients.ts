import { PG_SQL } from '../../../core/databases/postgres-sql';
import type { Completion, Invocation } from '../../../core/workloads';
import { BANK_INITIAL_BALANCE, bankAccounts } from '../../../core/workloads/bank';
import type { MicroOp } from '../../../core/workloads/txn';
import type { Client, ClientContext } from '../../workload/client';
import { PgConnection, pgTopology, TxnAbort, type Query } from './postgres-connection';

/**
 * Where each transaction of a process goes: writes (and everything, with read-from=primary) to the primary;
 * read-only transactions to a standby (this node's own if it is one, else one picked by process) with
 * read-from=replica, or to either at random with read-from=any.
 */
class Router {
  readonly #primary: PgConnection;
  readonly #replica: PgConnection | undefined;
  readonly #readFrom: string;

  constructor(ctx: ClientContext) {
    const { primary, standbys } = pgTopology(ctx.members, ctx.options);
    this.#primary = new PgConnection(primary, ctx);
    this.#readFrom = ctx.options['read-from'] ?? 'primary';
    if (standbys.length > 0 && this.#readFrom !== 'primary') {
      const own = standbys.includes(ctx.address) ? ctx.address : standbys[Math.floor(Math.random() * standbys.length)]!;
      this.#replica = new PgConnection(own, ctx);
    }
  }

  for(readOnly: boolean): PgConnection {
    if (!readOnly || this.#replica === undefined) return this.#primary;
    if (this.#readFrom === 'any') return Math.random() < 0.5 ? this.#primary : this.#replica;
    return this.#replica;
  }

  async close(): Promise<void> {
    await Promise.all([this.#primary.close(), this.#replica?.close()]);
  }
}

const isolationOf = (ctx: ClientContext): string => ctx.options['isolation'] ?? 'read-committed';

/**
 * Elle's list-append: one row per key in `lists (k text PRIMARY KEY, v text)`, the list as comma-separated
 * elements. An append is `INSERT INTO lists (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = lists.v ||
 * ',' || excluded.v`; a read is `SELECT v FROM lists WHERE k = $1` (no row: the empty list). One transaction per
 * op at the run's isolation level.
 */
export function pgListAppendClient(ctx: ClientContext): Client {
  return txnClient(ctx, 'list-append', async (q, [f, k, v]) => {
    if (f === 'append') {
      await q(PG_SQL.append, [k, String(v)]);
      return [f, k, v];
    }
    const res = await q(PG_SQL.readList, [k]);
    const text = (res.rows[0] as { v?: string } | undefined)?.v;
    return [f, k, text === undefined || text === '' ? [] : text.split(',').map(Number)];
  });
}

/**
 * Elle's rw-register: one row per key in `registers (k text PRIMARY KEY, v bigint)`. A write is `INSERT ... ON
 * CONFLICT (k) DO UPDATE SET v = excluded.v`; a read `SELECT v FROM registers WHERE k = $1` (no row: null).
 */
export function pgRwRegisterClient(ctx: ClientContext): Client {
  return txnClient(ctx, 'rw-register', async (q, [f, k, v]) => {
    if (f === 'w') {
      await q(PG_SQL.write, [k, v]);
      return [f, k, v];
    }
    const res = await q(PG_SQL.readRegister, [k]);
    const got = (res.rows[0] as { v?: string } | undefined)?.v;
    return [f, k, got === undefined ? null : Number(got)];
  });
}

function txnClient(ctx: ClientContext, name: string, micro: (q: Query, m: MicroOp) => Promise<MicroOp>): Client {
  const router = new Router(ctx);
  return {
    async invoke(op: Invocation, signal: AbortSignal): Promise<Completion> {
      if (op.f !== 'txn' || !Array.isArray(op.value)) return { type: 'fail', value: op.value, error: `${name} has no operation "${op.f}"` };
      const mops = op.value as MicroOp[];
      const readOnly = mops.every((m) => m[0] === 'r');
      const out = await router.for(readOnly).transaction(isolationOf(ctx), signal, async (q) => {
        const result: MicroOp[] = [];
        for (const m of mops) result.push(await micro(q, m));
        return result;
      });
      return out.type === 'ok' ? { type: 'ok', value: out.value } : { type: out.type, value: op.value, error: out.error };
    },
    close: () => router.close(),
  };
}

/**
 * Jepsen's bank: `accounts (k text PRIMARY KEY, balance bigint)`, every account created with the initial balance
 * (`INSERT ... ON CONFLICT DO NOTHING`, by each process before its first op, so every read sees them all). A
 * transfer reads both balances and writes the values it computed (`UPDATE accounts SET balance = $1 WHERE k =
 * $2`), so that a weak isolation level shows as a total that is not conserved; one that would leave a negative
 * balance is rolled back (`fail`). A read is `SELECT k, balance FROM accounts`.
 */
export function pgBankClient(ctx: ClientContext): Client {
  const router = new Router(ctx);
  const accounts = bankAccounts(ctx.keyCount);
  let created = false;
  const ensureAccounts = async (): Promise<void> => {
    if (created) return;
    const values = accounts.map((_, i) => `($${i + 1}, ${BANK_INITIAL_BALANCE})`).join(', ');
    await router.for(false).exec(`INSERT INTO accounts (k, balance) VALUES ${values} ON CONFLICT (k) DO NOTHING`, accounts);
    created = true;
  };
  return {
    async invoke(op: Invocation, signal: AbortSignal): Promise<Completion> {
      try {
        await ensureAccounts();
      } catch (err) {
        // An idempotent insert of rows that must exist anyway: whether it happened or not changes no balance.
        return { type: 'fail', value: op.value, error: `cannot create the accounts: ${(err as Error).message}` };
      }
      if (op.f === 'read') {
        const out = await router.for(true).transaction(isolationOf(ctx), signal, async (q) => {
          const res = await q(PG_SQL.readAccounts);
          return Object.fromEntries((res.rows as { k: string; balance: string }[]).map((r) => [r.k, Number(r.balance)]));
        });
        return out.type === 'ok' ? { type: 'ok', value: out.value } : { type: out.type, value: null, error: out.error };
      }
      if (op.f !== 'transfer') return { type: 'fail', value: op.value, error: `bank has no operation "${op.f}"` };
      const { from, to, amount } = op.value as { from: string; to: string; amount: number };
      const out = await router.for(false).transaction(isolationOf(ctx), signal, async (q) => {
        const balance = async (k: string): Promise<number> => {
          const res = await q(PG_SQL.readBalance, [k]);
          const row = res.rows[0] as { balance: string } | undefined;
          if (row === undefined) throw new TxnAbort(`no account ${k}`);
          return Number(row.balance);
        };
        const a = await balance(from);
        const b = await balance(to);
        if (a - amount < 0) throw new TxnAbort(`insufficient funds in ${from}`);
        await q(PG_SQL.setBalance, [a - amount, from]);
        await q(PG_SQL.setBalance, [b + amount, to]);
        return op.value;
      });
      return out.type === 'ok' ? { type: 'ok', value: out.value } : { type: out.type, value: op.value, error: out.error };
    },
    close: () => router.close(),
  };
}
