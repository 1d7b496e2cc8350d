/**
 * Runs last in the suite (files run in name order): after every other test, nothing faultline made may remain on
 * this host: no lab namespace, bridge or veth, and no FAULTLINE chain or rule in the host's firewall or in any
 * named network namespace. What already existed before the suite started (recorded by scripts/test.sh, see
 * test/support/leftovers.ts) is not the suite's doing and is not counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labSkipReason } from '../support/netns';
import { baseline, faultlineLeftovers, processLeftovers, sinceBaseline } from '../support/leftovers';

test('no faultline namespace, link, chain or rule is left after the suite', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  if (baseline().size > 0) t.diagnostic(`ignoring ${baseline().size} resource(s) that existed before the suite`);
  assert.deepEqual(sinceBaseline(await faultlineLeftovers()), []);
});

test('no paused DB process, running redis member, redis data directory, SQL server, its data dir or port, clock offset or libfaketime shm file of ours is left after the suite', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  assert.deepEqual(sinceBaseline(processLeftovers()), []);
});
