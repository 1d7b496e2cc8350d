import pg from 'pg';
import { PG_SQL } from '../../../core/databases/postgres-sql';
import type { ClientContext } from '../../workload/client';
import { errorText } from '../../workload/client';

/** The port every PostgreSQL server of ours listens on (in its node's namespace, on the node's address). */
export const PG_PORT = 15432;

/** SQL for each `isolation` option value. */
export const PG_ISOLATION_SQL: Readonly<Record<string, string>> = {
  'read-committed': 'READ COMMITTED',
  'repeatable-read': 'REPEATABLE READ',
  serializable: 'SERIALIZABLE',
};

/** The schema the primary creates before it reports ready (docs/sql.md documents it). */
export const PG_SCHEMA = PG_SQL.schema;

/** Where the cluster's servers are: the first member is the primary, the next `replicas` are hot standbys. */
export function pgTopology(members: readonly { node: string; address: string }[], options: Readonly<Record<string, string>>): { primary: string; standbys: string[] } {
  const replicas = Math.min(Number(options['replicas'] ?? '0'), Math.max(0, members.length - 1));
  return { primary: members[0]!.address, standbys: members.slice(1, 1 + replicas).map((m) => m.address) };
}

/** A thrown abort the transaction body chose (e.g. insufficient funds): rolled back, certainly not committed. */
export class TxnAbort extends Error {}

export type TxnOutcome<R> = { type: 'ok'; value: R } | { type: 'fail'; error: string } | { type: 'info'; error: string };

/** Serialization failure and deadlock: PostgreSQL aborted the transaction. */
const CERTAIN_ABORT = new Set(['40001', '40P01']);

export type Query = (text: string, values?: unknown[]) => Promise<pg.QueryResult>;

/**
 * One connection per client process, opened lazily and dropped after any error that leaves its state unclear, so
 * a later transaction never runs inside an earlier one's leftovers. No retries: a transaction runs once.
 */
export class PgConnection {
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;

  constructor(
    private readonly host: string,
    private readonly ctx: Pick<ClientContext, 'opTimeoutMs'>,
    private readonly port = PG_PORT,
  ) {}

  async #get(): Promise<pg.Client> {
    if (this.#client) return this.#client;
    this.#connecting ??= (async () => {
      const c = new pg.Client({
        host: this.host,
        port: this.port,
        user: 'postgres',
        database: 'postgres',
        application_name: 'faultline-client',
        connectionTimeoutMillis: this.ctx.opTimeoutMs,
        query_timeout: this.ctx.opTimeoutMs,
        keepAlive: true,
      });
      c.on('error', () => this.#drop(c)); // a server gone away between queries: the next op reconnects
      try {
        await c.connect();
      } catch (err) {
        c.end().catch(() => undefined);
        throw err;
      }
      this.#client = c;
      return c;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #drop(c: pg.Client | undefined = this.#client): void {
    if (c === undefined) return;
    if (this.#client === c) this.#client = undefined;
    c.end().catch(() => undefined);
  }

  /** Runs `sql` on the connection outside any transaction (schema, account set-up). */
  async exec(sql: string, values?: unknown[]): Promise<pg.QueryResult> {
    const c = await this.#get();
    try {
      return await c.query(sql, values);
    } catch (err) {
      this.#drop(c);
      throw err;
    }
  }

  /**
   * BEGIN at `isolation` (on every transaction, so a fresh connection runs at the same level), the body, COMMIT;
   * the outcome as the history must record it. Before COMMIT is sent nothing can have committed, so every error
   * there is `fail` (a server error rolls back and keeps the connection; anything else drops it, which aborts the
   * transaction on the server). During COMMIT, a serialization failure or deadlock is `fail`, and so is a COMMIT
   * answered ROLLBACK; anything else (lost connection, timeout, shutdown) is `info`.
   */
  async transaction<R>(isolation: string, signal: AbortSignal, body: (q: Query) => Promise<R>): Promise<TxnOutcome<R>> {
    const level = PG_ISOLATION_SQL[isolation];
    if (level === undefined) return { type: 'fail', error: `unknown isolation "${isolation}"` };
    let c: pg.Client;
    try {
      c = await this.#get();
    } catch (err) {
      return { type: 'fail', error: `cannot connect: ${errorText(err)}` };
    }
    // A deadline or stop cuts the connection: whatever was in flight ends with an error, judged by phase below.
    const onAbort = () => this.#drop(c);
    signal.addEventListener('abort', onAbort, { once: true });
    let committing = false;
    try {
      const q: Query = (text, values) => c.query(text, values);
      await q(`BEGIN ISOLATION LEVEL ${level}`);
      const value = await body(q);
      committing = true;
      // PostgreSQL answers COMMIT in a transaction that already failed with the tag ROLLBACK and no error
      // (a statement error the body swallowed): certainly not committed.
      const done = await q('COMMIT');
      if (done.command !== 'COMMIT') return { type: 'fail', error: `COMMIT was answered ${done.command}: the transaction had failed and was rolled back` };
      return { type: 'ok', value };
    } catch (err) {
      const state = err instanceof pg.DatabaseError ? err.code : undefined;
      if (!committing) {
        if (state !== undefined || err instanceof TxnAbort) await c.query('ROLLBACK').catch(() => this.#drop(c));
        else this.#drop(c);
        return { type: 'fail', error: err instanceof TxnAbort ? err.message : `${state ?? 'error'} before commit: ${errorText(err)}` };
      }
      if (state !== undefined && CERTAIN_ABORT.has(state)) return { type: 'fail', error: `${state} on commit: ${errorText(err)}` };
      this.#drop(c);
      return { type: 'info', error: `during commit: ${errorText(err)}` };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    const c = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    await c?.end().catch(() => undefined);
  }
}
