import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../core/errors';
import { parseNemesis, resolveRunOptions, type RunOptions } from '../run/run-options';
import { formatRate, parseRateBitsPerSecond } from './durations';

const base: RunOptions = {
  db: 'etcd', workload: 'register', timeLimit: 60, concurrency: 10, rate: 100, nemesis: 'partition',
  nemesisInterval: 10, nodes: 'lab', readConsistency: 'linearizable', store: 'store', recoveryTime: 5,
  opTimeout: 1500, keys: 5, keyPeriod: 5, checkTimeLimit: 300,
};

test('parseNemesis() reads none or a mix of fault kinds, and names a bad one', () => {
  assert.deepEqual(parseNemesis('none'), []);
  assert.deepEqual(parseNemesis('partition,kill,pause,clock,loss'), ['partition', 'kill', 'pause', 'clock', 'loss']);
  assert.deepEqual(parseNemesis('kill,kill'), ['kill']);
  assert.throws(() => parseNemesis('partition,meteor'), (e: unknown) => e instanceof UsageError && /"meteor"/.test(e.message));
});

test('a clock nemesis on etcd is refused with faketime and allowed only with --clock-strategy system', () => {
  assert.throws(
    () => resolveRunOptions({ ...base, nemesis: 'partition,clock' }),
    (e: unknown) => e instanceof UsageError && /etcd is a Go program: libfaketime cannot shift its clock; use --clock-strategy system on dedicated VMs/.test(e.message),
  );
  const c = resolveRunOptions({ ...base, nemesis: 'clock', clockStrategy: 'system' });
  assert.deepEqual([c.nemesis, c.clockStrategy], [['clock'], 'system']);
  assert.throws(() => resolveRunOptions({ ...base, clockStrategy: 'sundial' }), /--clock-strategy/);
});

test('parseRateBitsPerSecond() reads tc bandwidths and names a bad one', () => {
  assert.equal(parseRateBitsPerSecond('1mbit', '--rate'), 1e6);
  assert.equal(parseRateBitsPerSecond('500kbit', '--rate'), 5e5);
  assert.equal(parseRateBitsPerSecond('2mbps', '--rate'), 16e6);
  assert.equal(parseRateBitsPerSecond('64000', '--rate'), 64000);
  assert.equal(formatRate(1e6), '1mbit');
  assert.equal(formatRate(1500), '1.5kbit');
  assert.throws(() => parseRateBitsPerSecond('fast', '--rate'), /Cannot read --rate "fast"/);
  assert.throws(() => parseRateBitsPerSecond('1lightyear', '--rate'), RangeError);
  assert.throws(() => parseRateBitsPerSecond('0', '--rate'), /at least 8 bit\/s/);
  assert.deepEqual(parseNemesis('rate,delay'), ['rate', 'delay']);
});
