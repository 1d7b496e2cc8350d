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
  assert.throws(() => resolveRunOptions({ ...base, db: 'mongo' }), (e: unknown) => e instanceof UsageError && /--db must be one of etcd \(got "mongo"\)/.test(e.message) && !e.message.includes('\n'));
  assert.throws(() => resolveRunOptions({ ...base, workload: 'bank' }), /--workload must be one of register/);
  assert.throws(() => resolveRunOptions({ ...base, timeLimit: Number('x') }), /--time-limit/);
  assert.throws(() => resolveRunOptions({ ...base, nodes: 'n1=nohost' }), /NAME=HOST:PORT/);
});

test('resolveRunOptions parses a node list and converts units', () => {
  const c = resolveRunOptions({ ...base, nodes: 'n1=10.0.0.1:7701,n2=10.0.0.2:7701', nats: 'nats://10.0.0.9:4222', seed: 7 });
  assert.deepEqual(c.nodes, { lab: false, list: [{ name: 'n1', address: '10.0.0.1', agent: '10.0.0.1:7701' }, { name: 'n2', address: '10.0.0.2', agent: '10.0.0.2:7701' }] });
  assert.equal(c.timeLimitMs, 60_000);
  assert.equal(c.seed, 7);
});
