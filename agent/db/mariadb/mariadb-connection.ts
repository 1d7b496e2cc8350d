import mysql from 'mysql2/promise';
import type { ClientContext } from '../../workload/client';
import { errorText } from '../../workload/client';

/** The port our MariaDB servers listen on (in their node's namespace, on the node's address). */
export const MY_PORT = 13306;

export const MY_ISOLATION_SQL: Readonly<Record<string, string>> = {
  'read-uncommitted': 'READ UNCOMMITTED',
  'read-committed': 'READ COMMITTED',
  'repeatable-read': 'REPEATABLE READ',
  serializable: 'SERIALIZABLE',
};

/** A thrown abort the transaction body chose (e.g. insufficient funds): rolled back, certainly not committed. */
export class MyTxnAbort extends Error {}

export type MyQuery = (sql: string, values?: unknown[]) => Promise<Record<string, unknown>[]>;
export type MyOutcome<R> = { type: 'ok'; value: R } | { type: 'fail'; error: string } | { type: 'info'; error: string };

/** ER_LOCK_DEADLOCK (also Galera's certification failure) and a serialization failure: the transaction was rolled back. */
const CERTAIN_ABORT_ERRNO = new Set([1213]);

interface MyError {
  errno?: number;
  sqlState?: string;
  fatal?: boolean;
}
/** A server's answer to a statement (the connection is still usable), as opposed to a lost or broken connection. */
const isServerError = (err: unknown): boolean => typeof (err as MyError).sqlState === 'string' && (err as MyError).fatal !== true;

/**
 * One connection per client process, opened lazily (with the session's isolation level set once) and dropped
 * after any error that leaves its state unclear. No retries.
 */
export class MyConnection {
  #conn: mysql.Connection | undefined;

  constructor(
    private readonly host: string,
    private readonly ctx: ClientContext,
  ) {}

  async #get(isolation: string): Promise<mysql.Connection> {
    if (this.#conn) return this.#conn;
    const c = await mysql.createConnection({ host: this.host, port: MY_PORT, user: 'root', database: 'faultline', connectTimeout: this.ctx.opTimeoutMs, supportBigNumbers: true, bigNumberStrings: true });
    c.on('error', () => this.#drop(c));
    try {
      await c.query({ sql: `SET SESSION TRANSACTION ISOLATION LEVEL ${MY_ISOLATION_SQL[isolation] ?? 'REPEATABLE READ'}`, timeout: this.ctx.opTimeoutMs });
    } catch (err) {
      c.destroy();
      throw err;
    }
    this.#conn = c;
    return c;
  }

  #drop(c: mysql.Connection | undefined = this.#conn): void {
    if (c === undefined) return;
    if (this.#conn === c) this.#conn = undefined;
    c.destroy();
  }

  async exec(isolation: string, sql: string, values?: unknown[]): Promise<void> {
    const c = await this.#get(isolation);
    try {
      await c.query({ sql, values, timeout: this.ctx.opTimeoutMs });
    } catch (err) {
      this.#drop(c);
      throw err;
    }
  }

  /**
   * START TRANSACTION, the body, COMMIT. Before COMMIT is sent nothing can have committed: every error is `fail`
   * (a server error rolls back and keeps the connection; anything else drops it, which rolls back on the server).
   * In answer to COMMIT, a deadlock or certification failure (1213) is `fail`; anything else is `info`.
   */
  async transaction<R>(isolation: string, signal: AbortSignal, body: (q: MyQuery) => Promise<R>): Promise<MyOutcome<R>> {
    let c: mysql.Connection;
    try {
      c = await this.#get(isolation);
    } catch (err) {
      return { type: 'fail', error: `cannot connect: ${errorText(err)}` };
    }
    const onAbort = () => this.#drop(c);
    signal.addEventListener('abort', onAbort, { once: true });
    let committing = false;
    const timeout = this.ctx.opTimeoutMs;
    try {
      const q: MyQuery = async (sql, values) => {
        const [rows] = await c.query({ sql, values, timeout });
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
      };
      await q('START TRANSACTION');
      const value = await body(q);
      committing = true;
      await q('COMMIT');
      return { type: 'ok', value };
    } catch (err) {
      const e = err as MyError;
      if (!committing) {
        if (isServerError(err) || err instanceof MyTxnAbort) await c.query({ sql: 'ROLLBACK', timeout }).catch(() => this.#drop(c));
        else this.#drop(c);
        return { type: 'fail', error: err instanceof MyTxnAbort ? err.message : `${e.errno ?? 'error'} before commit: ${errorText(err)}` };
      }
      if (isServerError(err) && e.errno !== undefined && CERTAIN_ABORT_ERRNO.has(e.errno)) return { type: 'fail', error: `${e.errno} on commit: ${errorText(err)}` };
      this.#drop(c);
      return { type: 'info', error: `during commit: ${errorText(err)}` };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    const c = this.#conn;
    this.#conn = undefined;
    await c?.end().catch(() => c.destroy());
  }
}
