import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEmptyShape, needsNetem, netemArgs, shapeCommands } from './shape';

test('netemArgs() turns a spec into netem arguments and refuses what netem cannot do', () => {
  assert.deepEqual(netemArgs({ rateBitsPerSecond: 1e6 }), []);
  assert.deepEqual(netemArgs({ delayMs: 100, jitterMs: 10, reorderPercent: 25, duplicatePercent: 1, corruptPercent: 0.5 }), [
    'delay', '100ms', '10ms', 'reorder', '25%', 'duplicate', '1%', 'corrupt', '0.5%',
  ]);
  assert.throws(() => netemArgs({ jitterMs: 5 }), /jitter needs a delay/);
  assert.throws(() => netemArgs({ reorderPercent: 5 }), /reordering needs a delay/);
  assert.throws(() => netemArgs({ corruptPercent: -1 }), /corrupt \(%\) must be between 0 and 100/);
  assert.throws(() => netemArgs({ delayMs: Number.NaN }), RangeError);
});

test('needsNetem() and isEmptyShape() tell a rate limit, a netem fault and nothing apart', () => {
  assert.equal(needsNetem({ rateBitsPerSecond: 1e6 }), false);
  assert.equal(needsNetem({ delayMs: 1 }), true);
  assert.equal(isEmptyShape({}), true);
  assert.equal(isEmptyShape({ rateBitsPerSecond: 0, delayMs: 0 }), true);
  assert.equal(isEmptyShape({ rateBitsPerSecond: 8 }), false);
});

test('shapeCommands() builds one htb tree of ours: default class unlimited, one limited class and one u32 filter per address', () => {
  assert.deepEqual(shapeCommands('eth0', ['10.0.0.2', '10.0.0.3'], { rateBitsPerSecond: 1e6 }), [
    'qdisc add dev eth0 root handle fa17: htb default 1',
    'class add dev eth0 parent fa17: classid fa17:1 htb rate 100gbit quantum 60000',
    'class add dev eth0 parent fa17: classid fa17:10 htb rate 1000000bit ceil 1000000bit',
    'filter add dev eth0 parent fa17: protocol ip prio 1 u32 match ip dst 10.0.0.2/32 flowid fa17:10',
    'class add dev eth0 parent fa17: classid fa17:11 htb rate 1000000bit ceil 1000000bit',
    'filter add dev eth0 parent fa17: protocol ip prio 1 u32 match ip dst 10.0.0.3/32 flowid fa17:11',
  ]);
  const delayed = shapeCommands('eth0', ['10.0.0.2', '10.0.0.3'], { delayMs: 50 });
  assert.equal(delayed[2], 'class add dev eth0 parent fa17: classid fa17:10 htb rate 100gbit ceil 100gbit quantum 60000');
  assert.equal(delayed[3], 'qdisc add dev eth0 parent fa17:10 handle fa18: netem delay 50ms');
  assert.equal(delayed[6], 'qdisc add dev eth0 parent fa17:11 handle fa19: netem delay 50ms');
});
