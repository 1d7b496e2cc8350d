import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../core/errors';
import { resolveRunOptions, type RunOptions } from './run-options';

const base: RunOptions = {
  db: 'etcd', workload: 'register', timeLimit: 60, concurrency: 10, rate: 100, nemesis: 'partition',
  nemesisInterval: 10, nodes: 'lab', readConsistency: 'linearizable', store: 'store', recoveryTime: 5,
  opTimeout: 1500, keys: 5, keyPeriod: 5, checkTimeLimit: 300,
};

test('resolveRunOptions rejects an unknown --db and --workload with a one-line message naming the flag', () => {
  assert.throws(() => resolveRunOptions({ ...base, db: 'mongo' }), (e: unknown) => e instanceof UsageError && /--db must be one of etcd, redis, postgres, mariadb, galera \(got "mongo"\)/.test(e.message) && !e.message.includes('\n'));
  assert.throws(() => resolveRunOptions({ ...base, workload: 'queue' }), /--workload must be one of register, set, counter, bank, list-append, rw-register, lock \(got "queue"\)/);
  // A workload without a client on this database: the pairs that exist are named.
  assert.throws(() => resolveRunOptions({ ...base, workload: 'bank' }), (e: unknown) => e instanceof UsageError && /etcd has no client for the bank workload; the pairs that exist are etcd\/register, etcd\/set/.test(e.message));
  assert.throws(() => resolveRunOptions({ ...base, timeLimit: Number('x') }), /--time-limit/);
  assert.throws(() => resolveRunOptions({ ...base, nodes: 'n1=nohost' }), /NAME=HOST:PORT/);
});

test('resolveRunOptions checks --db-opt keys and values against the database, and records every option', () => {
  assert.throws(() => resolveRunOptions({ ...base, dbOpt: ['nope=1'] }), /unknown --db-opt "nope" for etcd \(it has read-consistency, lock-ttl\)/);
  assert.throws(() => resolveRunOptions({ ...base, dbOpt: ['lock-ttl=zero'] }), /--db-opt lock-ttl=zero for etcd: must be a whole number from 1 to 600/);
  assert.throws(() => resolveRunOptions({ ...base, dbOpt: ['lock-ttl'] }), /--db-opt must be KEY=VALUE/);
  const c = resolveRunOptions({ ...base, dbOpt: ['lock-ttl=5'], readConsistency: 'serializable' });
  assert.deepEqual(c.dbOptions, { 'lock-ttl': '5', 'read-consistency': 'serializable' });
  const r = resolveRunOptions({ ...base, db: 'redis', workload: 'set', dbOpt: ['wait=1'] });
  assert.equal(r.dbOptions['wait'], '1');
  assert.equal(r.dbOptions['down-after-milliseconds'], '2000');
  assert.equal(r.dbOptions['read-consistency'], undefined);
});

test('resolveRunOptions refuses clock faults libfaketime cannot deliver, and primary targets a module cannot name', () => {
  assert.throws(() => resolveRunOptions({ ...base, nemesis: 'clock' }), /etcd is a Go program/);
  assert.equal(resolveRunOptions({ ...base, db: 'redis', workload: 'set', nemesis: 'clock' }).nemesis[0], 'clock');
  const p = resolveRunOptions({ ...base, db: 'redis', workload: 'set', partitionShape: 'isolate', partitionTarget: 'primary', nemesisTarget: 'primary' });
  assert.equal(p.partitionTarget, 'primary');
  assert.equal(p.nemesisTarget, 'primary');
  assert.throws(() => resolveRunOptions({ ...base, nemesisTarget: 'leader' }), /--nemesis-target must be one of one, minority, majority, all, primary/);
});

test('resolveRunOptions parses a node list and converts units', () => {
  const c = resolveRunOptions({ ...base, nodes: 'n1=10.0.0.1:7701,n2=10.0.0.2:7701', nats: 'nats://10.0.0.9:4222', seed: 7, certs: '/etc/fl' });
  assert.deepEqual(c.nodes, {
    lab: false,
    list: [{ name: 'n1', address: '10.0.0.1', agent: '10.0.0.1:7701' }, { name: 'n2', address: '10.0.0.2', agent: '10.0.0.2:7701' }],
    access: { security: { kind: 'mtls', tls: { caFile: '/etc/fl/ca.crt', certFile: '/etc/fl/controller.crt', keyFile: '/etc/fl/controller.key' } }, nats: {} },
  });
  // Plaintext only when asked for.
  assert.throws(() => resolveRunOptions({ ...base, nodes: 'n1=10.0.0.1:7701', nats: 'nats://10.0.0.9:4222' }), /needs --certs DIR .* or --insecure/);
  assert.equal(resolveRunOptions({ ...base, nodes: 'n1=10.0.0.1:7701', nats: 'nats://10.0.0.9:4222', insecure: true }).nodes.lab, false);
  assert.equal(c.timeLimitMs, 60_000);
  assert.equal(c.seed, 7);
});

test('--isolation: a bad level, a database without levels, a level the database lacks, or a contradicting --db-opt is one line', () => {
  const pg: RunOptions = { ...base, db: 'postgres', workload: 'list-append' };
  const oneLine = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n');
  assert.throws(() => resolveRunOptions({ ...pg, isolation: 'snapshot' }), oneLine(/--isolation must be one of read-uncommitted, read-committed, repeatable-read, serializable \(got "snapshot"\)/));
  assert.throws(() => resolveRunOptions({ ...pg, isolation: 'read-uncommitted' }), oneLine(/--isolation read-uncommitted: postgres does not offer it \(must be one of read-committed, repeatable-read, serializable\)/));
  assert.throws(() => resolveRunOptions({ ...base, isolation: 'serializable' }), oneLine(/--isolation serializable: etcd has no transaction isolation levels/));
  assert.throws(() => resolveRunOptions({ ...pg, isolation: 'serializable', dbOpt: ['isolation=read-committed'] }), oneLine(/contradicts --db-opt isolation=read-committed/));
  assert.throws(() => resolveRunOptions({ ...pg, dbOpt: ['isolation=chaos'] }), oneLine(/--db-opt isolation=chaos for postgres: must be one of read-committed, repeatable-read, serializable/));
});

test('--isolation maps onto the isolation db option; plan.json gets the level and the statements', () => {
  const c = resolveRunOptions({ ...base, db: 'postgres', workload: 'list-append', isolation: 'repeatable-read' });
  assert.equal(c.dbOptions['isolation'], 'repeatable-read');
  assert.equal(c.isolation, 'repeatable-read');
  assert.ok(c.statements?.some((s) => s.startsWith('INSERT INTO lists')), JSON.stringify(c.statements));
  const d = resolveRunOptions({ ...base, db: 'postgres', workload: 'bank', dbOpt: ['isolation=serializable'] });
  assert.equal(d.isolation, 'serializable');
  // Without either, the database's own default (PostgreSQL: read committed) is what runs and what is recorded.
  assert.equal(resolveRunOptions({ ...base, db: 'postgres', workload: 'rw-register' }).isolation, 'read-committed');
});
