import { connect } from 'nats';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { AgentSession } from '../../controller/rpc/agent-session';
import { startCluster, collectAndTeardown } from '../../controller/db-cluster';
import { HistoryCollector } from '../../controller/history-collector';
import { buildHistory } from '../../controller/history-builder';
import { AgentClient } from '../../controller/rpc/agent-client';
import { INSECURE } from '../../controller/rpc/credentials';
import { Timeline } from '../../controller/timeline';
import { pairOps } from '../../core/history/pair';
import { lifo } from '../support/cleanup';
import { startAgent, startNats, tempDir } from '../support/processes';

const log = pino({ level: 'silent' });

test('agent on loopback: hello, clock sync, single-member etcd, register workload, complete gapless history', { timeout: 120_000 }, async (tc) => {
  const t = lifo(tc);
  const nats = await startNats(t);
  const agent = await startAgent(t, { node: 'n1', natsUrl: nats.url });
  const client = new AgentClient({ name: 'n1', address: '127.0.0.1', agent: agent.address }, INSECURE);
  t.after(() => client.close());

  const hello = await client.hello();
  assert.equal(hello.node, 'n1');
  const caps = Object.fromEntries(hello.capabilities.map((c) => [c.name, c]));
  assert.equal(caps['iptables']?.available, true);
  assert.equal(caps['etcd']?.available, true);
  assert.ok(caps['netem'], 'netem is reported either way');

  const timeline = new Timeline('loopback');
  const session = new AgentSession(client, timeline, log, 10_000);
  t.after(() => session.close());
  await session.open();
  assert.ok(session.mapping && session.mapping.uncertaintyNanos < 20e6, 'clock mapping within 20 ms');

  const nc = await connect({ servers: nats.url });
  t.after(() => nc.close());
  const runId = `t${Date.now()}`;
  const store = tempDir(t, 'run-');
  const collector = new HistoryCollector(nc, runId, `${store}/raw.jsonl`, log);
  await collector.start();
  t.after(() => collector.stop());

  await startCluster([client], 'etcd', runId, {});
  t.after(() => collectAndTeardown([client], 'etcd', undefined, () => undefined));
  const status = await client.db('logs', 'etcd', 5000, { maxLogBytes: 4096 });
  assert.equal(status.state, 'running');

  await client.startWorkload({
    runId, workload: 'register', db: 'etcd', processes: [0, 1], concurrency: 2, rateHz: 40, seed: 1,
    opTimeoutMs: 1000, keyCount: 2, keyPeriodMs: 15_000,
  });
  await sleep(2500);
  const stopped = await client.stopWorkload(runId);
  assert.ok(stopped.lastSeq >= 40, `expected at least 40 events, got ${stopped.lastSeq}`);
  assert.equal(stopped.unacked, 0);
  const gaps = await collector.waitFor({ n1: stopped.lastSeq }, 10_000);
  assert.deepEqual(gaps, []);
  await collector.stop();

  const history = await buildHistory(`${store}/raw.jsonl`, `${store}/history.jsonl`);
  assert.equal(history.length, stopped.lastSeq);
  const ops = pairOps(history);
  assert.equal(ops.filter((o) => o.completionIndex === -1).length, 0, 'every invoke completed');
  assert.ok(ops.some((o) => o.f === 'write' && o.type === 'ok'));
  for (const op of history) {
    assert.ok(op.uncertainty! >= 0 && op.uncertainty! < 50e6, 'uncertainty is stated and small on loopback');
  }
});

test('agent reports a missing etcd binary as a clear check failure', { timeout: 60_000 }, async (tc) => {
  const t = lifo(tc);
  const nats = await startNats(t);
  const agent = await startAgent(t, { node: 'n1', natsUrl: nats.url, env: { FAULTLINE_ETCD_BIN: '/nonexistent/etcd' } });
  const client = new AgentClient({ name: 'n1', address: '127.0.0.1', agent: agent.address }, INSECURE);
  t.after(() => client.close());
  const res = await client.db('check', 'etcd', 5000);
  assert.equal(res.ok, false);
  assert.match(res.message, /apt-get install -y etcd-server/);
});
