/**
 * The lab runs with mTLS and NATS authentication by default, end to end (issue 13, acceptance 5): a run on a
 * 3-node lab gives a verdict with its nemesis events carrying each node's fault checks; a plaintext gRPC client is
 * refused by the lab's agents; a NATS client without credentials cannot connect, and an agent's credentials can
 * neither read the run's events nor publish as another node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { join } from 'node:path';
import { connect } from 'nats';
import { labAccess } from '../../controller/lab/lab-access';
import { labDir, readLabState } from '../../controller/lab/lab-state';
import { agentNatsUser } from '../../controller/nats-auth';
import { AgentClient } from '../../controller/rpc/agent-client';
import { INSECURE } from '../../controller/rpc/credentials';
import { AgentUnavailableError } from '../../controller/errors';
import { lifo } from '../support/cleanup';
import { labSkipReason } from '../support/netns';
import { runCli, tempDir } from '../support/processes';

const PREFIX = 'flxa';

test('the lab authenticates gRPC and NATS by default, and a run on it still gives a verdict', { timeout: 300_000 }, async (tc) => {
  const skip = await labSkipReason();
  if (skip) return tc.skip(skip);
  const t = lifo(tc);
  t.after(() => runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 }));
  const up = await runCli(['lab', 'up', '--nodes', '3', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
  const state = readLabState(PREFIX)!;
  const n1 = state.agents[0]!;

  // gRPC: plaintext is refused; the lab's controller certificate is served.
  const plain = new AgentClient({ name: n1.name, address: n1.address, agent: n1.agentAddress }, INSECURE);
  await assert.rejects(() => plain.hello(3000), AgentUnavailableError);
  plain.close();
  const secure = new AgentClient({ name: n1.name, address: n1.address, agent: n1.agentAddress }, labAccess(PREFIX).security);
  assert.equal((await secure.hello()).node, n1.name);
  secure.close();

  const store = tempDir(t, 'store-');
  const run = await runCli(['run', '--lab-prefix', PREFIX, '--time-limit', '8', '--nemesis', 'partition', '--nemesis-interval', '2', '--recovery-time', '1', '--store', store], { timeoutMs: 200_000 });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /verdict: VALID/);
  assert.doesNotMatch(run.stderr, /WARNING: --insecure/);
  const latest = join(store, 'latest', 'history.jsonl');
  const nemesis = readFileSync(latest, 'utf8').split('\n').filter((l) => l.includes('"f":"start-partition"') && l.includes('"type":"ok"'));
  assert.ok(nemesis.length > 0, 'a partition was applied');
  const value = (JSON.parse(nemesis[0]!) as { value: { nodes: Record<string, { verified?: { name: string; ok: boolean }[] }> } }).value;
  const cutting = Object.values(value.nodes).filter((n) => n.verified !== undefined);
  assert.ok(cutting.length > 0, JSON.stringify(value));
  for (const n of cutting) assert.ok(n.verified!.every((c) => c.ok) && n.verified!.some((c) => c.name === 'reachability'), JSON.stringify(n));

  // The same lab as a fleet described in a nodes file: certificate paths, NATS URL and the controller's credentials.
  const tls = join(labDir(PREFIX), 'tls');
  const nodesFile = join(store, 'nodes.yaml');
  writeFileSync(
    nodesFile,
    stringify({
      nodes: state.agents.map((a) => ({ name: a.name, address: a.address, agentPort: Number(a.agentAddress.split(':')[1]), settings: { rack: 'lab' } })),
      tls: { ca: join(tls, 'ca.crt'), cert: join(tls, 'controller.crt'), key: join(tls, 'controller.key') },
      nats: { url: state.nats.url, user: 'controller', passwordFile: join(labDir(PREFIX), 'nats-auth', 'controller.password') },
    }),
  );
  const fleet = await runCli(['run', '--nodes-file', nodesFile, '--time-limit', '4', '--nemesis', 'none', '--recovery-time', '0', '--store', store], { timeoutMs: 200_000 });
  assert.equal(fleet.code, 0, fleet.stdout + fleet.stderr);
  assert.match(fleet.stdout, /verdict: VALID/);
  const plan = JSON.parse(readFileSync(join(store, 'latest', 'plan.json'), 'utf8')) as { nodes: { settings?: unknown }[] };
  assert.deepEqual(plan.nodes[0]!.settings, { rack: 'lab' });
  assert.doesNotMatch(readFileSync(join(store, 'latest', 'plan.json'), 'utf8'), new RegExp(readFileSync(join(labDir(PREFIX), 'nats-auth', 'controller.password'), 'utf8').trim()), 'no secret in plan.json');

  // NATS: no credentials, no connection.
  await assert.rejects(() => connect({ servers: state.nats.url, timeout: 3000, maxReconnectAttempts: 0, reconnect: false }), /Authorization Violation/i);

  // An agent's credentials: cannot read the run's events, cannot publish as another node.
  const pass = readFileSync(join(labDir(PREFIX), 'nats-auth', `${agentNatsUser(n1.name)}.password`), 'utf8').trim();
  const nc = await connect({ servers: state.nats.url, user: agentNatsUser(n1.name), pass, inboxPrefix: `_INBOX_${n1.name}`, timeout: 3000 });
  t.after(() => nc.close());
  const jsm = nc.jetstreamManager({ timeout: 2000 });
  await assert.rejects(() => jsm, /permission|timeout|503|no responders/i);
  const js = nc.jetstream({ timeout: 2000 });
  await assert.rejects(() => js.publish(`faultline.events.r1.${state.agents[1]!.name}`, new Uint8Array([1])), /permission|timeout|503/i);
  const statuses = nc.status(); // listening before subscribing: the server's refusal may come back at once
  const sub = nc.subscribe('faultline.events.>');
  const denied = await (async () => {
    for await (const s of statuses) if (/permission/i.test(String(s.data))) return String(s.data);
    return '';
  })();
  assert.match(denied, /PERMISSIONS_VIOLATION/);
  sub.unsubscribe();
});
