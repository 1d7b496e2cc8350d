/**
 * A fault is verified, not assumed (issue 13, acceptance 4). Two agents in lab namespaces: on n2 a partition is
 * applied and verified (its rules are jumped to from INPUT, the cut peer no longer answers, NATS still does), and
 * the checks come back in the reply. On n1 something on the host swallows the jump into our chain (a stand-in
 * `iptables-restore` that drops `-I INPUT` lines, as a firewall manager rewriting INPUT would): the rules land in a
 * chain the kernel never looks at, and the partition fails with an error naming the node instead of succeeding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyGrudge } from '../../controller/nemesis/fault-actions';
import { AgentClient } from '../../controller/rpc/agent-client';
import { AgentRequestError } from '../../controller/errors';
import { labSkipReason, useLab, iptablesSave } from '../support/netns';
import { startNetnsAgent, testPki } from '../support/netns-agent';
import { startNats } from '../support/processes';

const PREFIX = 'flxv';

test('a partition that does not bite is an error naming the node; one that bites reports its checks', { timeout: 180_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: PREFIX, nodes: 2 });
  const [n1, n2] = lab.nodes as [typeof lab.nodes[0], typeof lab.nodes[0]];
  const pki = await testPki(t, lab.nodes);
  const nats = await startNats(t, lab.hostAddress);
  const shim = mkdtempSync(join(tmpdir(), 'ipt-shim-'));
  t.after(() => rmSync(shim, { recursive: true, force: true }));
  writeFileSync(join(shim, 'iptables-restore'), '#!/bin/bash\n# swallows the jump from INPUT into our chain\ngrep -v "^-I INPUT" | exec /usr/sbin/iptables-restore "$@"\n');
  chmodSync(join(shim, 'iptables-restore'), 0o755);

  const a1 = await startNetnsAgent(t, n1, { natsUrl: nats.url, pkiDir: pki.dir, env: { PATH: `${shim}:${process.env['PATH'] ?? ''}` } });
  const a2 = await startNetnsAgent(t, n2, { natsUrl: nats.url, pkiDir: pki.dir });
  const c1 = new AgentClient({ name: 'n1', address: n1.address, agent: a1.address }, pki.controller);
  const c2 = new AgentClient({ name: 'n2', address: n2.address, agent: a2.address }, pki.controller);
  t.after(() => {
    c1.close();
    c2.close();
  });

  // n2 cuts n1 off: the fault bites, and the reply says how that was checked.
  const ok = await c2.partition([n1.address], [], 'cut-1', 30_000, 10_000, 'drop');
  const byName = new Map(ok.checks.map((c) => [c.name, c]));
  assert.equal(byName.get('rules')?.ok, true, JSON.stringify(ok.checks));
  assert.match(byName.get('rules')!.detail, /jumped to from INPUT \(nft backend\)/);
  assert.equal(byName.get('reachability')?.ok, true);
  assert.equal(byName.get('nats')?.ok, true);
  assert.equal(byName.get('controller')?.ok, true);
  await c2.heal();

  // n1's rules land where the kernel does not look: an error naming n1, not a successful fault.
  await assert.rejects(
    () => c1.partition([n2.address], [], 'cut-2', 30_000, 10_000, 'drop'),
    (err: unknown) => {
      assert.ok(err instanceof AgentRequestError, String(err));
      assert.match(err.message, /Cannot confirm the partition on node "n1"/);
      assert.match(err.message, /chain FAULTLINE-IN is not jumped to from INPUT/);
      assert.match(err.message, new RegExp(`${n2.address.replace(/\./g, '\\.')} still answer`));
      return true;
    },
  );
  assert.match(await iptablesSave(n1.namespace), /:FAULTLINE-IN/, 'the rules are there, just never reached');

  // Through the controller's fault actions (what the nemesis runs), the same error names the node.
  await assert.rejects(() => applyGrudge([c1, c2], { n1: ['n2'] }, 'cut-3', 30_000), /Agent "n1" could not apply a partition: Cannot confirm/);
  await c1.heal();
  assert.doesNotMatch(await iptablesSave(n1.namespace), /FAULTLINE-IN/);
});
