/**
 * Packet loss through the iptables statistic match on a real lab: 50 % loss on one link drops roughly half of the
 * datagrams on that link and none on the others; loss and a partition live side by side and heal together.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { netemAvailable } from '../../agent/faults/iptables';
import { applyLoss } from '../../agent/faults/loss';
import { applyDrop, healNetwork, networkFaultState } from '../../agent/faults/partition';
import { PROBE_PORT, iptablesSave, labSkipReason, startProbes, useLab, type Probe } from '../support/netns';

const DATAGRAMS = 400;

/** Sends DATAGRAMS datagrams from `from` to `to` and returns how many arrived (waiting until the count settles). */
async function delivered(from: Probe, to: Probe, tag: string): Promise<number> {
  await from.request({ op: 'udp-send', host: to.node.address, port: PROBE_PORT, count: DATAGRAMS, tag });
  let last = -1;
  for (;;) {
    await sleep(100);
    const { count } = await to.request<{ count: number }>({ op: 'udp-count', tag });
    if (count === last) return count;
    last = count;
  }
}

test('50 % loss from n2 at n1 drops about half of n2 -> n1 and nothing on other links', { timeout: 60_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'fltl', nodes: 3 });
  const [p1, p2, p3] = (await startProbes(t, lab)) as [Probe, Probe, Probe];

  await applyLoss({ fromAddresses: [p2.node.address], probability: 0.5, namespace: p1.node.namespace });
  assert.deepEqual(await networkFaultState({ namespace: p1.node.namespace }), {
    dropFrom: [],
    loss: [{ from: p2.node.address, probability: 0.5 }],
  });

  const [lossy, otherIn, reverse, unrelated] = await Promise.all([
    delivered(p2, p1, 'n2-n1'),
    delivered(p3, p1, 'n3-n1'),
    delivered(p1, p2, 'n1-n2'),
    delivered(p3, p2, 'n3-n2'),
  ]);
  const lossRate = 1 - lossy / DATAGRAMS;
  t.diagnostic(`n2 -> n1 lost ${DATAGRAMS - lossy} of ${DATAGRAMS} (${(lossRate * 100).toFixed(1)} %)`);
  assert.ok(lossRate >= 0.35 && lossRate <= 0.65, `loss on n2 -> n1 was ${(lossRate * 100).toFixed(1)} %, expected 35-65 %`);
  assert.equal(otherIn, DATAGRAMS, 'n3 -> n1 lost datagrams');
  assert.equal(reverse, DATAGRAMS, 'n1 -> n2 lost datagrams');
  assert.equal(unrelated, DATAGRAMS, 'n3 -> n2 lost datagrams');

  await healNetwork({ namespace: p1.node.namespace });
  assert.equal(await delivered(p2, p1, 'healed'), DATAGRAMS, 'loss remained after heal');
});

test('loss and drop are replaced independently and healed together', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'fltm', nodes: 3 });
  const [n1, n2, n3] = lab.nodes as [(typeof lab.nodes)[number], (typeof lab.nodes)[number], (typeof lab.nodes)[number]];
  const ns = n1.namespace;
  await applyDrop({ fromAddresses: [n3.address], namespace: ns });
  await applyLoss({ fromAddresses: [n2.address], probability: 0.3, namespace: ns });
  assert.deepEqual(await networkFaultState({ namespace: ns }), {
    dropFrom: [n3.address],
    loss: [{ from: n2.address, probability: 0.3 }],
  });
  // Replacing the drop set keeps the loss; clearing the loss keeps the drop set.
  await applyDrop({ fromAddresses: [n2.address, n3.address], namespace: ns });
  await applyLoss({ fromAddresses: [], probability: 0, namespace: ns });
  assert.deepEqual(await networkFaultState({ namespace: ns }), { dropFrom: [n2.address, n3.address], loss: [] });
  assert.doesNotMatch(await iptablesSave(ns), /FAULTLINE-LOSS/, 'an empty loss set left its chain');
  await applyLoss({ fromAddresses: [n2.address], probability: 1, namespace: ns });
  await healNetwork({ namespace: ns });
  await healNetwork({ namespace: ns });
  assert.deepEqual(await networkFaultState({ namespace: ns }), { dropFrom: [], loss: [] });
  assert.doesNotMatch(await iptablesSave(ns), /FAULTLINE/);
  await assert.rejects(applyLoss({ fromAddresses: [n2.address], probability: 1.5, namespace: ns }), RangeError);
});

test('netemAvailable() probes in a throwaway namespace, says why when netem is missing, and changes nothing', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const run = promisify(execFile);
  const snapshot = async (): Promise<string> =>
    (await run('tc', ['qdisc', 'show'])).stdout + (await run('ip', ['netns', 'list'])).stdout;
  const before = await snapshot();
  const found = await netemAvailable();
  t.diagnostic(`netem: ${JSON.stringify(found)}`);
  if (!found.ok) {
    assert.match(found.reason ?? '', /netem/);
    assert.doesNotMatch(found.reason ?? '', /\n/);
  }
  assert.equal(await snapshot(), before);
});
