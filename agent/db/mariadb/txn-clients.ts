import { MY_SQL } from '../../../core/databases/mariadb-sql';
import type { Completion, Invocation } from '../../../core/workloads';
import { BANK_INITIAL_BALANCE, bankAccounts } from '../../../core/workloads/bank';
import type { MicroOp } from '../../../core/workloads/txn';
import type { Client, ClientContext } from '../../workload/client';
import { MyConnection, MyTxnAbort, type MyQuery } from './mariadb-connection';

/** Where this node's clients connect: the first member's server (MariaDB), or the node's own (Galera). */
export type HostOf = (ctx: ClientContext) => string;

const isolationOf = (ctx: ClientContext): string => ctx.options['isolation'] ?? 'repeatable-read';

function txnClient(ctx: ClientContext, host: string, name: string, micro: (q: MyQuery, m: MicroOp) => Promise<MicroOp>): Client {
  const conn = new MyConnection(host, ctx);
  return {
    async invoke(op: Invocation, signal: AbortSignal): Promise<Completion> {
      if (op.f !== 'txn' || !Array.isArray(op.value)) return { type: 'fail', value: op.value, error: `${name} has no operation "${op.f}"` };
      const mops = op.value as MicroOp[];
      const out = await conn.transaction(isolationOf(ctx), signal, async (q) => {
        const result: MicroOp[] = [];
        for (const m of mops) result.push(await micro(q, m));
        return result;
      });
      return out.type === 'ok' ? { type: 'ok', value: out.value } : { type: out.type, value: op.value, error: out.error };
    },
    close: () => conn.close(),
  };
}

/** list-append: `lists (k, v LONGTEXT)`, appends by INSERT ... ON DUPLICATE KEY UPDATE v = CONCAT(v, ',', VALUES(v)). */
export const myListAppendClient = (hostOf: HostOf) => (ctx: ClientContext): Client =>
  txnClient(ctx, hostOf(ctx), 'list-append', async (q, [f, k, v]) => {
    if (f === 'append') {
      await q(MY_SQL.append, [k, String(v)]);
      return [f, k, v];
    }
    const rows = await q(MY_SQL.readList, [k]);
    const text = rows[0]?.['v'] as string | undefined;
    return [f, k, text === undefined || text === '' ? [] : text.split(',').map(Number)];
  });

/** rw-register: `registers (k, v BIGINT)`, writes by INSERT ... ON DUPLICATE KEY UPDATE v = VALUES(v). */
export const myRwRegisterClient = (hostOf: HostOf) => (ctx: ClientContext): Client =>
  txnClient(ctx, hostOf(ctx), 'rw-register', async (q, [f, k, v]) => {
    if (f === 'w') {
      await q(MY_SQL.write, [k, v]);
      return [f, k, v];
    }
    const rows = await q(MY_SQL.readRegister, [k]);
    const got = rows[0]?.['v'];
    return [f, k, got === undefined || got === null ? null : Number(got)];
  });

/** bank: as on PostgreSQL (docs/sql.md): accounts created by every process first, transfers write computed balances. */
export const myBankClient = (hostOf: HostOf) => (ctx: ClientContext): Client => {
  const conn = new MyConnection(hostOf(ctx), ctx);
  const accounts = bankAccounts(ctx.keyCount);
  let created = false;
  return {
    async invoke(op: Invocation, signal: AbortSignal): Promise<Completion> {
      try {
        if (!created) {
          await conn.exec(isolationOf(ctx), `INSERT IGNORE INTO accounts (k, balance) VALUES ${accounts.map(() => `(?, ${BANK_INITIAL_BALANCE})`).join(', ')}`, accounts);
          created = true;
        }
      } catch (err) {
        return { type: 'fail', value: op.value, error: `cannot create the accounts: ${(err as Error).message}` };
      }
      if (op.f === 'read') {
        const out = await conn.transaction(isolationOf(ctx), signal, async (q) => {
          const rows = await q(MY_SQL.readAccounts);
          return Object.fromEntries(rows.map((r) => [String(r['k']), Number(r['balance'])]));
        });
        return out.type === 'ok' ? { type: 'ok', value: out.value } : { type: out.type, value: null, error: out.error };
      }
      if (op.f !== 'transfer') return { type: 'fail', value: op.value, error: `bank has no operation "${op.f}"` };
      const { from, to, amount } = op.value as { from: string; to: string; amount: number };
      const out = await conn.transaction(isolationOf(ctx), signal, async (q) => {
        const balance = async (k: string): Promise<number> => {
          const rows = await q(MY_SQL.readBalance, [k]);
          if (rows[0] === undefined) throw new MyTxnAbort(`no account ${k}`);
          return Number(rows[0]['balance']);
        };
        const a = await balance(from);
        const b = await balance(to);
        if (a - amount < 0) throw new MyTxnAbort(`insufficient funds in ${from}`);
        await q(MY_SQL.setBalance, [a - amount, from]);
        await q(MY_SQL.setBalance, [b + amount, to]);
        return op.value;
      });
      return out.type === 'ok' ? { type: 'ok', value: out.value } : { type: out.type, value: op.value, error: out.error };
    },
    close: () => conn.close(),
  };
};
