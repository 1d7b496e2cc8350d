import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveDbOptions } from '../../../core/databases';
import { redisSpec } from '../../../core/databases/redis';
import { createDatabase, DB_NAMES } from '../registry';
import { parseInfo, pairsToMap, sentinelConfig, sentinelQuorum, serverConfig } from './redis-config';

const members = ['n1', 'n2', 'n3', 'n4', 'n5'].map((node, i) => ({ node, address: `10.0.0.${11 + i}` }));
const spec = (node: string, given: Record<string, string> = {}) => ({
  node,
  address: members.find((m) => m.node === node)!.address,
  members,
  clusterToken: 't',
  options: resolveDbOptions(redisSpec, given),
});

test('sentinelQuorum() is a majority of the members', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 7].map(sentinelQuorum), [1, 2, 2, 3, 3, 4]);
});

test('serverConfig() makes the first member primary and the others its replicas, with the options', () => {
  const primary = serverConfig(spec('n1', { appendfsync: 'always', 'min-replicas-to-write': '1' }), '/d');
  assert.doesNotMatch(primary, /replicaof/);
  assert.match(primary, /^appendonly yes$/m);
  assert.match(primary, /^appendfsync always$/m);
  assert.match(primary, /^min-replicas-to-write 1$/m);
  assert.match(primary, /^repl-diskless-sync-delay 0$/m);
  assert.match(primary, /^bind 10\.0\.0\.11$/m);
  assert.match(serverConfig(spec('n3'), '/d'), /^replicaof 10\.0\.0\.11 6379$/m);
});

test('sentinelConfig() monitors the first member with a majority quorum and the Sentinel options', () => {
  const conf = sentinelConfig(spec('n4', { 'down-after-milliseconds': '1500', 'failover-timeout': '5000' }), '/s');
  assert.match(conf, /^sentinel monitor faultline 10\.0\.0\.11 6379 3$/m);
  assert.match(conf, /^sentinel down-after-milliseconds faultline 1500$/m);
  assert.match(conf, /^sentinel failover-timeout faultline 5000$/m);
  assert.match(conf, /^bind 10\.0\.0\.14$/m);
});

test('parseInfo() and pairsToMap() read INFO text and flat SENTINEL replies', () => {
  const info = parseInfo('# Replication\r\nrole:slave\r\nmaster_host:10.0.0.11\r\n\r\nslave_repl_offset:42\r\n');
  assert.equal(info.get('role'), 'slave');
  assert.equal(info.get('slave_repl_offset'), '42');
  assert.equal(info.has('# Replication'), false);
  assert.equal(pairsToMap(['flags', 'master', 'num-slaves', '4']).get('num-slaves'), '4');
});

test('every agent DB module has a client for exactly the workloads its spec lists', () => {
  for (const name of DB_NAMES) {
    const db = createDatabase(name, '/nonexistent');
    assert.deepEqual(Object.keys(db.clients).sort(), [...db.spec.workloads].sort(), name);
  }
});
