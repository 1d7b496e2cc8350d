import { test } from 'node:test';
import assert from 'node:assert/strict';
import { natsAuthorizationBlock } from './nats-auth';

test('natsAuthorizationBlock() lets each agent publish only to its own subject and read only its own inbox', () => {
  const block = natsAuthorizationBlock([
    { user: 'controller', password: 'a'.repeat(32) },
    { user: 'agent-n1', password: 'b'.repeat(32), node: 'n1' },
  ]);
  assert.match(block, /\{ user: "controller", password: "a{32}" \}/);
  assert.match(block, /publish: \{ allow: \["faultline\.events\.\*\.n1"\] \}, subscribe: \{ allow: \["_INBOX_n1\.>"\] \}/);
  assert.throws(() => natsAuthorizationBlock([{ user: 'agent-"x', password: 'b'.repeat(32), node: 'n1' }]), RangeError);
  assert.throws(() => natsAuthorizationBlock([{ user: 'agent-n1', password: 'b'.repeat(32), node: 'n1 }' }]), RangeError);
});
