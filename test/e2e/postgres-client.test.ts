import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgConnection, TxnAbort } from '../../agent/db/postgres/postgres-connection';
import { PrivatePgServer, pgServerSkipReason } from '../support/pg-server';

/**
 * faultline's PostgreSQL transaction wrapper against a real private server (127.0.0.1, a free port, no lab): the
 * isolation level is set on every transaction of every connection, a fresh one after a lost connection too, and
 * the outcome recorded is what the server did.
 */
let server: PrivatePgServer | undefined;
const skip = pgServerSkipReason();
const never = new AbortController().signal;

before(async () => {
  if (skip) return;
  server = await PrivatePgServer.start();
  const c = server.client();
  await c.connect();
  await c.query('CREATE TABLE lists (k text PRIMARY KEY, v text NOT NULL)');
  await c.end();
});

after(async () => {
  await server?.stop();
});

const rowOf = async (k: string): Promise<string | undefined> => {
  const c = server!.client();
  await c.connect();
  try {
    return (await c.query('SELECT v FROM lists WHERE k = $1', [k])).rows[0]?.v as string | undefined;
  } finally {
    await c.end();
  }
};

test('every transaction runs at the level asked, on a fresh connection after the old one was lost as well', { skip }, async () => {
  const conn = new PgConnection(server!.host, { opTimeoutMs: 5000 }, server!.port);
  try {
    const level = async (isolation: string): Promise<unknown> => {
      const out = await conn.transaction(isolation, never, async (q) => (await q('SHOW transaction_isolation')).rows[0].transaction_isolation);
      assert.equal(out.type, 'ok', JSON.stringify(out));
      return out.type === 'ok' ? out.value : undefined;
    };
    assert.equal(await level('serializable'), 'serializable');
    const pid = await conn.transaction('serializable', never, async (q) => (await q('SELECT pg_backend_pid() AS p')).rows[0].p as number);
    assert.equal(pid.type, 'ok');
    // The server ends this connection between transactions, as a restart or a network fault would.
    const admin = server!.client();
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [pid.type === 'ok' ? pid.value : 0]);
    await admin.end();
    await new Promise((r) => setTimeout(r, 200));
    // The next transaction runs on a fresh connection (a fail first, if the loss is only noticed on use).
    let fresh = await conn.transaction('serializable', never, async (q) => (await q("SELECT pg_backend_pid() AS p, current_setting('transaction_isolation') AS level")).rows[0] as { p: number; level: string });
    if (fresh.type === 'fail') fresh = await conn.transaction('serializable', never, async (q) => (await q("SELECT pg_backend_pid() AS p, current_setting('transaction_isolation') AS level")).rows[0] as { p: number; level: string });
    assert.equal(fresh.type, 'ok', JSON.stringify(fresh));
    assert.notEqual(fresh.type === 'ok' ? fresh.value.p : 0, pid.type === 'ok' ? pid.value : 0, 'a new backend');
    assert.equal(fresh.type === 'ok' ? fresh.value.level : '', 'serializable', 'the fresh connection runs at the same level');
    assert.equal(await level('repeatable-read'), 'repeatable read');
    assert.equal(await level('read-committed'), 'read committed');
  } finally {
    await conn.close();
  }
});

test('a COMMIT answered ROLLBACK (a statement error the body swallowed) is recorded as fail, not ok', { skip }, async () => {
  const conn = new PgConnection(server!.host, { opTimeoutMs: 5000 }, server!.port);
  try {
    const out = await conn.transaction('serializable', never, async (q) => {
      await q("INSERT INTO lists (k, v) VALUES ('swallowed', '1')");
      await q('SELECT no_such_column FROM lists').catch(() => undefined); // the transaction is now aborted
      return 'done';
    });
    assert.equal(out.type, 'fail', JSON.stringify(out));
    assert.match(out.type === 'fail' ? out.error : '', /COMMIT was answered ROLLBACK/);
    assert.equal(await rowOf('swallowed'), undefined, 'nothing was committed');
    // The connection is clean again: the next transaction commits.
    const next = await conn.transaction('serializable', never, async (q) => q("INSERT INTO lists (k, v) VALUES ('after', '1')"));
    assert.equal(next.type, 'ok');
    assert.equal(await rowOf('after'), '1');
  } finally {
    await conn.close();
  }
});

test('an abort the body chooses and a server error before COMMIT are fail and leave nothing behind', { skip }, async () => {
  const conn = new PgConnection(server!.host, { opTimeoutMs: 5000 }, server!.port);
  try {
    const chosen = await conn.transaction('serializable', never, async (q) => {
      await q("INSERT INTO lists (k, v) VALUES ('chosen', '1')");
      throw new TxnAbort('insufficient funds');
    });
    assert.deepEqual(chosen, { type: 'fail', error: 'insufficient funds' });
    const broken = await conn.transaction('serializable', never, async (q) => {
      await q("INSERT INTO lists (k, v) VALUES ('broken', '1')");
      return q('SELECT no_such_column FROM lists');
    });
    assert.equal(broken.type, 'fail');
    assert.match(broken.type === 'fail' ? broken.error : '', /^42703 before commit/);
    assert.equal(await rowOf('chosen'), undefined);
    assert.equal(await rowOf('broken'), undefined);
  } finally {
    await conn.close();
  }
});
