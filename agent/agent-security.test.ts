import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNetworks, parseCidr } from './target-networks';
import { resolveAgentOptions } from './config';
import { parseBackend } from './faults/iptables-backend';

test('parseCidr() and inNetworks() keep addresses inside the allowed networks only', () => {
  const nets = [parseCidr('10.250.24.0/24'), parseCidr('192.168.1.7')];
  assert.equal(inNetworks('10.250.24.13', nets), true);
  assert.equal(inNetworks('10.250.25.13', nets), false);
  assert.equal(inNetworks('192.168.1.7', nets), true);
  assert.equal(inNetworks('192.168.1.8', nets), false);
  assert.equal(inNetworks('10.250.24.13; rm -rf /', nets), false);
  assert.equal(inNetworks('8.8.8.8', [parseCidr('0.0.0.0/0')]), true);
  assert.throws(() => parseCidr('10.0.0.0/33'), RangeError);
  assert.throws(() => parseCidr('10.0.0/8'), RangeError);
});

test('resolveAgentOptions() refuses plaintext unless --insecure, and a half-given certificate set', () => {
  const base = { node: 'n1', listen: '10.0.0.11:7701', nats: 'nats://10.0.0.1:4222', dataDir: '/tmp/x' };
  assert.throws(() => resolveAgentOptions(base), /no certificates given/);
  assert.throws(() => resolveAgentOptions({ ...base, ca: '/c', cert: '/d' }), /needs all of --ca, --cert and --key/);
  const insecure = resolveAgentOptions({ ...base, insecure: true });
  assert.equal(insecure.tls, undefined);
  assert.deepEqual(insecure.allow.targetsText, ['10.0.0.0/24']);
  const tls = resolveAgentOptions({ ...base, ca: '/c', cert: '/d', key: '/e' });
  assert.deepEqual(tls.tls?.controllerNames, ['faultline-controller']);
});

test('parseBackend() names the backend iptables -V reports', () => {
  assert.equal(parseBackend('iptables v1.8.9 (nf_tables)'), 'nft');
  assert.equal(parseBackend('iptables v1.8.9 (legacy)'), 'legacy');
  assert.equal(parseBackend('iptables v1.4.21'), 'unknown');
});
