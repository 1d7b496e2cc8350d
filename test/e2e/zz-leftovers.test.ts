/**
 * Runs last in the suite (files run in name order): after every other test, nothing faultline made may remain on
 * this host: no lab namespace, bridge or veth, and no FAULTLINE chain or rule in the host's firewall or in any
 * named network namespace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultlineLeftovers, labSkipReason } from '../support/netns';

test('no faultline namespace, link, chain or rule is left after the suite', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  assert.deepEqual(await faultlineLeftovers(), []);
});
