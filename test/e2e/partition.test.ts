/**
 * Partitions on a real 5-node lab: for every grudge shape, each ordered pair of nodes can or cannot open a TCP
 * connection exactly as the grudge says, while the host (where the controller and NATS live) keeps reaching every
 * node, over fresh connections and over long-lived sessions; after heal every pair connects again and no rule of
 * ours is left.
 */
import { seededUniform } from '../../core/generator/random';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PARTITION_SHAPES, delivers, describeGrudge, grudgeFor } from '../../core/nemesis/grudge';
import { applyDrop, healNetwork, networkFaultState } from '../../agent/faults/partition';
import type { LabNetwork } from '../../controller/lab/network';
import {
  PROBE_PORT,
  connectivity,
  hostConnect,
  iptablesSave,
  labSkipReason,
  openHostSession,
  startProbe,
  startProbes,
  useLab,
  type Probe,
} from '../support/netns';

const CONNECT_TIMEOUT_MS = 400;

/** Seeded, so a failing shape can be replayed. */
const seeded = seededUniform;

function addressOf(lab: LabNetwork, name: string): string {
  const node = lab.nodes.find((n) => n.name === name);
  assert.ok(node, `no node ${name}`);
  return node.address;
}

async function assertHostReachesAll(lab: LabNetwork, sessions: { echo(ms: number): Promise<boolean> }[], when: string): Promise<void> {
  const fresh = await Promise.all(lab.nodes.map((n) => hostConnect(n.address, 1000)));
  assert.deepEqual(fresh, lab.nodes.map(() => true), `${when}: host could not open a connection to every node`);
  const old = await Promise.all(sessions.map((s) => s.echo(1000)));
  assert.deepEqual(old, lab.nodes.map(() => true), `${when}: a long-lived host session stopped answering`);
}

test('every partition shape on 5 nodes cuts exactly the pairs its grudge names, and heal restores all', { timeout: 90_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'fltp', nodes: 5 });
  const probes = await startProbes(t, lab);
  const sessions = await Promise.all(lab.nodes.map((n) => openHostSession(t, n.address)));
  const names = lab.nodes.map((n) => n.name);

  const before = await connectivity(probes, CONNECT_TIMEOUT_MS);
  assert.ok([...before.values()].every(Boolean), 'the lab is not fully connected before any fault');

  for (const [i, shape] of PARTITION_SHAPES.entries()) {
    const grudge = grudgeFor(shape, names, { rng: seeded(100 + i), primaries: ['n2'] });
    const label = `${shape} (${describeGrudge(grudge)})`;
    // Each node's agent drops packets from the nodes in its grudge; the previous shape's set is replaced.
    await Promise.all(
      lab.nodes.map((n) =>
        applyDrop({
          fromAddresses: (grudge[n.name] ?? []).map((m) => addressOf(lab, m)),
          neverDrop: [lab.hostAddress],
          namespace: n.namespace,
        }),
      ),
    );
    for (const n of lab.nodes) {
      const state = await networkFaultState({ namespace: n.namespace });
      assert.deepEqual(state.dropFrom.sort(), (grudge[n.name] ?? []).map((m) => addressOf(lab, m)).sort(), `${label}: rules on ${n.name}`);
    }
    const reach = await connectivity(probes, CONNECT_TIMEOUT_MS);
    for (const a of names) {
      for (const b of names) {
        if (a === b) continue;
        // A TCP handshake needs packets both ways, so it succeeds only if neither side drops the other.
        const expected = delivers(grudge, a, b) && delivers(grudge, b, a);
        assert.equal(reach.get(`${a}>${b}`), expected, `${label}: connect ${a} -> ${b} should ${expected ? 'succeed' : 'fail'}`);
      }
    }
    await assertHostReachesAll(lab, sessions, label);
  }

  await Promise.all(lab.nodes.map((n) => healNetwork({ namespace: n.namespace })));
  const after = await connectivity(probes, CONNECT_TIMEOUT_MS);
  assert.deepEqual([...after.entries()].filter(([, ok]) => !ok), [], 'pairs still cut after heal');
  await assertHostReachesAll(lab, sessions, 'after heal');
  for (const n of lab.nodes) assert.doesNotMatch(await iptablesSave(n.namespace), /FAULTLINE/, `rules left on ${n.name}`);
});

test('a one-way grudge drops only the packets arriving at the deaf node', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'fltw', nodes: 3 });
  const probes = await startProbes(t, lab);
  const [p1, p2] = probes as [Probe, Probe, Probe];
  const grudge = grudgeFor('one-way', lab.nodes.map((n) => n.name), { target: ['n1'] });
  await Promise.all(
    lab.nodes.map((n) => applyDrop({ fromAddresses: (grudge[n.name] ?? []).map((m) => addressOf(lab, m)), namespace: n.namespace })),
  );
  // UDP shows the direction: n1 -> n2 arrives, n2 -> n1 does not.
  await p1.request({ op: 'udp-send', host: p2.node.address, port: PROBE_PORT, count: 50, tag: 'out' });
  await p2.request({ op: 'udp-send', host: p1.node.address, port: PROBE_PORT, count: 50, tag: 'in' });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await p2.request<{ count: number }>({ op: 'udp-count', tag: 'out' })).count, 50);
  assert.equal((await p1.request<{ count: number }>({ op: 'udp-count', tag: 'in' })).count, 0);
  assert.ok(await hostConnect(p1.node.address, 1000), 'the host lost the deaf node');
});

test('applyDrop run by a process inside a namespace acts on that namespace only', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'flti', nodes: 3 });
  const [p1, p2, p3] = (await startProbes(t, lab)) as [Probe, Probe, Probe];
  const partition = require.resolve('../../agent/faults/partition');
  // Like an agent living in n1's namespace: no namespace option, the rules land where the process runs.
  await p1.call(partition, 'applyDrop', { fromAddresses: [p2.node.address] });
  const state = await p1.call<{ dropFrom: string[] }>(partition, 'networkFaultState', {});
  assert.deepEqual(state.dropFrom, [p2.node.address]);
  assert.deepEqual(await p1.connect([{ host: p2.node.address }, { host: p3.node.address }], CONNECT_TIMEOUT_MS), [false, true]);
  assert.deepEqual(await p3.connect([{ host: p2.node.address }], CONNECT_TIMEOUT_MS), [true]);
  assert.doesNotMatch(await iptablesSave(), /FAULTLINE-IN/, 'a rule reached the host namespace');
  assert.doesNotMatch(await iptablesSave(p2.node.namespace), /FAULTLINE/, 'a rule reached another node');
  await p1.call(partition, 'healNetwork', {});
  await p1.call(partition, 'healNetwork', {}); // idempotent
  assert.deepEqual(await p1.connect([{ host: p2.node.address }], CONNECT_TIMEOUT_MS), [true]);
  assert.doesNotMatch(await iptablesSave(p1.node.namespace), /FAULTLINE/);
});

test('applyDrop refuses to drop the host address and leaves the firewall as it was', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'fltr', nodes: 2 });
  const [n1] = lab.nodes as [LabNetwork['nodes'][number]];
  const before = await iptablesSave(n1.namespace);
  await assert.rejects(
    applyDrop({ fromAddresses: [lab.hostAddress], neverDrop: [lab.hostAddress], namespace: n1.namespace }),
    /protected address/,
  );
  assert.equal((await iptablesSave(n1.namespace)).replace(/^#.*$/gm, ''), before.replace(/^#.*$/gm, ''));
  const probe = await startProbe(t, n1);
  assert.ok(await hostConnect(probe.node.address, 1000));
});
