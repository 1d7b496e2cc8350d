import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLabOptions, labNames, nodeAddressOf, subnetCandidates, subnetOfAddress } from './lab-layout';
import { netnsSpawnArgs } from './network';

test('labNames() derives every name from the prefix and keeps labs apart', () => {
  const fl = labNames('fl');
  assert.equal(fl.bridge, 'fl-br');
  assert.equal(fl.hostChain, 'FAULTLINE-LAB-FL');
  assert.ok(fl.namespacePattern.test('fl-n12'));
  assert.ok(!fl.namespacePattern.test('flt-n1'), 'lab "fl" must not claim the namespaces of lab "flt"');
  assert.ok(!fl.vethPattern.test('flt-v1'));
  assert.ok(labNames('abcdefgh').bridge.length <= 15, 'interface names are limited to 15 characters');
  for (const bad of ['', 'fl-x', 'FL', '1fl', 'abcdefghi', 'fl x']) assert.throws(() => labNames(bad), RangeError, bad);
});

test('subnetCandidates() starts at a prefix-derived subnet, lists each of 1..254 once', () => {
  const fl = subnetCandidates('fl');
  assert.equal(fl.length, 254);
  assert.deepEqual([...fl].sort((a, b) => a - b), Array.from({ length: 254 }, (_, i) => i + 1));
  assert.deepEqual(subnetCandidates('fl'), fl);
  assert.notEqual(subnetCandidates('flt')[0], fl[0]);
});

test('node addresses stay inside 10.250.X.0/24', () => {
  assert.equal(nodeAddressOf(87, 1), '10.250.87.11');
  assert.equal(nodeAddressOf(87, 200), '10.250.87.210');
  assert.equal(subnetOfAddress('10.250.87.11'), 87);
  assert.equal(subnetOfAddress('10.251.87.11'), undefined);
  assert.throws(() => checkLabOptions({ nodes: 201 }), RangeError);
  assert.throws(() => checkLabOptions({ nodes: 1.5 }), RangeError);
  assert.throws(() => checkLabOptions({ nodes: 3, subnet: 0 }), RangeError);
  assert.doesNotThrow(() => checkLabOptions({ nodes: 3, subnet: 254 }));
});

test('netnsSpawnArgs() wraps a command in ip netns exec, only for lab namespaces', () => {
  assert.deepEqual(netnsSpawnArgs('fl-n1', 'node', ['a.js', '--x']), ['ip', ['netns', 'exec', 'fl-n1', 'node', 'a.js', '--x']]);
  assert.throws(() => netnsSpawnArgs('-n1', 'node', []), RangeError);
  assert.throws(() => netnsSpawnArgs('fl-n1', '', []), RangeError);
});
