/**
 * `npm run bench:pg-ssi`: a reproduction of PostgreSQL serializable transactions that commit in a G2-item cycle,
 * outside faultline's lab, agents and event pipeline. It starts its own PostgreSQL (initdb in a temporary folder,
 * as the `postgres` OS user, on 127.0.0.1 and a free port, no libfaketime), and runs rounds of the list-append
 * workload with the statements faultline's client runs (`core/databases/postgres-sql.ts`): C clients, one
 * connection each, `BEGIN ISOLATION LEVEL SERIALIZABLE`, 1-4 reads and appends on 5 hot keys rotated every 5 s,
 * `COMMIT`, no retries; a COMMIT answered with anything but the COMMIT tag counts as failed. After each round one
 * transaction reads every key written: the final lists, the ground truth of every key's order.
 *
 * Each round's history goes through faultline's Elle checker (serializable), and every cycle it reports is
 * verified again by a plain reading against the final lists, without the checker's inference: an rw edge A -> B
 * on key k holds when A's read of k is a prefix of k's final list and the next element is one B appended; wr
 * A -> B when B's read of k holds an element A appended; ww A -> B when an element of A's is followed by one of
 * B's in the final list. Prints the rounds, the cycles with each edge's evidence, the server version and the load.
 *
 * Options: --rounds N (20), --seconds S (20), --clients C (20), --statement upsert|update (upsert: faultline's
 * INSERT ... ON CONFLICT DO UPDATE; update: a plain UPDATE of rows created empty before the round), --keep DIR
 * (histories of invalid rounds, with the final lists, as history.jsonl files). Exit 1 when a round was invalid.
 * Needs root (the server runs as `postgres` through setpriv) and PostgreSQL (`FAULTLINE_PG_BIN`, default
 * /usr/lib/postgresql/15/bin).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PG_SQL } from '../core/databases/postgres-sql';
import { checkTxnHistory } from '../core/elle/check-txn-history';
import type { Op } from '../core/history/operation';
import { PrivatePgServer, pgServerSkipReason } from '../test/support/pg-server';

interface Options {
  rounds: number;
  seconds: number;
  clients: number;
  statement: 'upsert' | 'update';
  keep: string | undefined;
  /** Check a kept history.jsonl (its last transaction the final read) instead of running rounds. */
  check: string | undefined;
}

const KEYS = 5;
const PERIOD_S = 5;
const UPDATE_APPEND = "UPDATE lists SET v = CASE WHEN v = '' THEN $2 ELSE v || ',' || $2 END WHERE k = $1";

function parseArgs(argv: string[]): Options {
  const o: Options = { rounds: 20, seconds: 20, clients: 20, statement: 'upsert', keep: undefined, check: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--rounds') o.rounds = Number(v);
    else if (a === '--seconds') o.seconds = Number(v);
    else if (a === '--clients') o.clients = Number(v);
    else if (a === '--statement') o.statement = v as Options['statement'];
    else if (a === '--keep') o.keep = v;
    else if (a === '--check') o.check = v;
    else throw new Error(`Cannot run: unknown option ${a}`);
    i++;
  }
  if (![o.rounds, o.seconds, o.clients].every((n) => Number.isInteger(n) && n > 0)) throw new Error('Cannot run: --rounds, --seconds and --clients take positive integers');
  if (o.statement !== 'upsert' && o.statement !== 'update') throw new Error('Cannot run: --statement is upsert or update');
  return o;
}

type Mop = [string, string, unknown];

/** Set on Ctrl-C: the clients stop at once, so the server can shut down and its folder go. */
let stopping = false;

/** One round: the history (faultline's Op shape) with the final read of every key as its last transaction. */
async function round(port: number, o: Options, seed: number): Promise<{ ops: Op[]; final: Map<string, number[]>; counts: Record<string, number> }> {
  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    c.on('error', () => undefined); // the server going away (Ctrl-C) ends the round's queries, not the process
    await c.connect();
    return c;
  };
  const admin = await connect();
  await admin.query('DROP TABLE IF EXISTS lists');
  await admin.query(PG_SQL.schema[0]!);
  if (o.statement === 'update') {
    for (let e = 0; e < Math.ceil(o.seconds / PERIOD_S) + 2; e++) for (let i = 0; i < KEYS; i++) await admin.query("INSERT INTO lists (k, v) VALUES ($1, '')", [`e${e}k${i}`]);
  }
  const append = o.statement === 'update' ? UPDATE_APPEND : PG_SQL.append;
  const events: Omit<Op, 'index'>[] = [];
  const counts: Record<string, number> = { ok: 0, fail: 0, info: 0 };
  const written = new Set<string>();
  const t0 = process.hrtime.bigint();
  const now = (): number => Number(process.hrtime.bigint() - t0);
  let state = seed >>> 0 || 1;
  const rnd = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const until = Date.now() + o.seconds * 1000;
  const parse = (text: string | undefined): number[] => (text === undefined || text === '' ? [] : text.split(',').map(Number));
  await Promise.all(
    [...Array(o.clients).keys()].map(async (i) => {
      let proc = i;
      let counter = 0;
      let c = await connect();
      while (Date.now() < until && !stopping) {
        const epoch = Math.floor(now() / 1e9 / PERIOD_S);
        const mops: Mop[] = [];
        for (let j = 1 + Math.floor(rnd() * 4); j > 0; j--) {
          const k = `e${epoch}k${Math.floor(rnd() * KEYS)}`;
          mops.push(rnd() < 0.5 ? ['r', k, null] : ['append', k, (proc + 1) * 1_000_000_000 + ++counter]);
        }
        events.push({ type: 'invoke', process: proc, f: 'txn', value: mops, time: now() });
        const done: Mop[] = [];
        let type: 'ok' | 'fail' | 'info' = 'ok';
        let committing = false;
        try {
          await c.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
          for (const [f, k, v] of mops) {
            if (f === 'append') {
              written.add(k);
              const r = await c.query(append, [k, String(v)]);
              if (r.rowCount !== 1) throw new Error(`append changed ${r.rowCount} rows`);
              done.push([f, k, v]);
            } else {
              done.push([f, k, parse((await c.query(PG_SQL.readList, [k])).rows[0]?.v as string | undefined)]);
            }
          }
          committing = true;
          if ((await c.query('COMMIT')).command !== 'COMMIT') type = 'fail';
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (!committing) {
            type = 'fail';
            await c.query('ROLLBACK').catch(() => undefined);
          } else type = code === '40001' || code === '40P01' ? 'fail' : 'info';
        }
        counts[type]!++;
        events.push({ type, process: proc, f: 'txn', value: type === 'ok' ? done : mops, time: now() });
        if (type === 'info') {
          proc += o.clients;
          await c.end().catch(() => undefined);
          c = await connect();
        }
      }
      await c.end();
    }),
  );
  const keys = [...written].sort();
  const finalMops: Mop[] = keys.map((k) => ['r', k, null]);
  const fin = o.clients * 1000;
  events.push({ type: 'invoke', process: fin, f: 'txn', value: finalMops, time: now() });
  await admin.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
  const final = new Map<string, number[]>();
  for (const k of keys) final.set(k, parse((await admin.query(PG_SQL.readList, [k])).rows[0]?.v as string | undefined));
  await admin.query('COMMIT');
  events.push({ type: 'ok', process: fin, f: 'txn', value: keys.map((k) => ['r', k, final.get(k)]), time: now() });
  await admin.end();
  events.sort((a, b) => a.time! - b.time!);
  return { ops: events.map((e, index) => ({ index, line: index + 1, ...e })), final, counts };
}

/** The completed micro-ops of the transaction invoked at history index `inv`. */
function completedMops(ops: readonly Op[], inv: number): { type: string; mops: Mop[] } {
  const p = ops[inv]!.process;
  const done = ops.slice(inv + 1).find((x) => x.process === p)!;
  return { type: done.type, mops: done.value as Mop[] };
}

/** Evidence for one edge from the final lists alone, or undefined when they do not show it. */
function edgeEvidence(ops: readonly Op[], final: Map<string, number[]>, from: number, to: number, rel: string): string | undefined {
  const a = completedMops(ops, from).mops;
  const b = completedMops(ops, to).mops;
  const appendsOf = (m: Mop[], k: string): Set<number> => new Set(m.filter(([f, key]) => f === 'append' && key === k).map(([, , v]) => v as number));
  for (const [k, list] of final) {
    if (rel === 'rw') {
      for (const [f, key, v] of a) {
        if (f !== 'r' || key !== k) continue;
        const own = appendsOf(a, k);
        const seen = (v as number[]).filter((x) => !own.has(x));
        const prefix = seen.every((x, i) => list[i] === x);
        if (prefix && appendsOf(b, k).has(list[seen.length]!)) return `T${from} read ${k} with ${seen.length} elements; the final list's next element, ${list[seen.length]}, is T${to}'s append`;
      }
    } else if (rel === 'wr') {
      const mine = appendsOf(a, k);
      for (const [f, key, v] of b) if (f === 'r' && key === k && (v as number[]).some((x) => mine.has(x))) return `T${to} read ${k} holding T${from}'s append ${[...mine].find((x) => (v as number[]).includes(x))}`;
    } else if (rel === 'ww') {
      const mine = appendsOf(a, k);
      const theirs = appendsOf(b, k);
      for (let i = 1; i < list.length; i++) if (mine.has(list[i - 1]!) && theirs.has(list[i]!)) return `${k}'s final list has T${from}'s ${list[i - 1]} right before T${to}'s ${list[i]}`;
    }
  }
  return undefined;
}

/** Checks one history and prints its verdict and every cycle with each edge's evidence; true when valid. */
function report(ops: readonly Op[], final: Map<string, number[]>, title: string): boolean {
  const res = checkTxnHistory(ops, { model: 'list-append', consistency: 'serializable' }).result;
  const names = Object.entries(res.anomalies).map(([a, x]) => `${a} ×${x!.count}`);
  console.log(`${title}: ${res.valid === true ? 'valid' : `${res.valid === false ? 'INVALID' : 'UNKNOWN'}: ${names.join(', ')}`} (load ${loadavg()[0]!.toFixed(1)})`);
  if (res.valid === true) return true;
  for (const [name, a] of Object.entries(res.anomalies)) {
    for (const ex of a!.examples) {
      if (!ex.relations) continue;
      const ids = ex.txns.map((t) => Number(t.slice(1)));
      console.log(`  ${name}: ${ex.txns.join(' -> ')} -> ${ex.txns[0]} (${ex.relations.join(', ')}); ${ids.every((t) => completedMops(ops, t).type === 'ok') ? 'all committed' : 'NOT all committed'}`);
      ids.forEach((t, i) => {
        const next = ids[(i + 1) % ids.length]!;
        const why = edgeEvidence(ops, final, t, next, ex.relations![i]!);
        console.log(`    ${ex.relations![i]} T${t} -> T${next}: ${why ?? 'NOT shown by the final lists'}`);
      });
      for (const t of ids) {
        const shown = completedMops(ops, t).mops.map(([f, k, v]) => `[${f} ${k} ${Array.isArray(v) ? `(${v.length} elements, last ${v[v.length - 1] ?? '-'})` : String(v)}]`);
        console.log(`    T${t} (process ${String(ops[t]!.process)}): ${shown.join(' ')}`);
      }
    }
  }
  return false;
}

/** A kept history: its last completed transaction read every key (the final lists). */
function checkFile(path: string): boolean {
  const ops = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Op);
  const last = ops[ops.length - 1]!;
  const final = new Map((last.value as Mop[]).map(([, k, v]) => [k, v as number[]] as [string, number[]]));
  return report(ops, final, path);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.check !== undefined) {
    process.exitCode = checkFile(o.check) ? 0 : 1;
    return;
  }
  const skip = pgServerSkipReason();
  if (skip) throw new Error(`Cannot run: ${skip}`);
  const server = await PrivatePgServer.start();
  const cleanup = (): void => {
    stopping = true;
    void server.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  let invalid = 0;
  let txns = 0;
  let ok = 0;
  try {
    const v = server.client();
    await v.connect();
    const version = (await v.query('SHOW server_version')).rows[0].server_version as string;
    await v.end();
    console.log(`PostgreSQL ${version}, ${o.rounds} rounds of ${o.seconds} s, ${o.clients} clients, statement: ${o.statement === 'upsert' ? PG_SQL.append : UPDATE_APPEND}`);
    for (let r = 1; r <= o.rounds; r++) {
      const { ops, final, counts } = await round(server.port, o, 0x9e3779b9 ^ r);
      txns += counts['ok']! + counts['fail']! + counts['info']!;
      ok += counts['ok']!;
      const res = report(ops, final, `round ${r}: ${counts['ok']} ok, ${counts['fail']} failed, ${counts['info']} info`);
      if (res) continue;
      invalid++;
      if (o.keep) {
        const dir = join(o.keep, `round-${r}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'history.jsonl'), ops.map((x) => JSON.stringify(x)).join('\n') + '\n');
        console.log(`  history kept in ${dir}/history.jsonl (its last transaction is the final read of every key)`);
      }
    }
  } finally {
    await server.stop();
  }
  console.log(`${invalid} of ${o.rounds} rounds invalid; ${txns} transactions, ${ok} committed (${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]} load)`);
  process.exitCode = invalid > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(`faultline: ${(err as Error).message}`);
  process.exit(254);
});
