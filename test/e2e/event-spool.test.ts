import { connect } from 'nats';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { killStalePid } from '../../agent/db/pid-file';
import { RunSpool } from '../../agent/spool';
import { AgentSession } from '../../controller/rpc/agent-session';
import { startCluster } from '../../controller/db-cluster';
import { HistoryCollector } from '../../controller/history-collector';
import { buildHistory } from '../../controller/history-builder';
import { startNatsServer } from '../../controller/nats-server';
import { AgentClient } from '../../controller/rpc/agent-client';
import { INSECURE } from '../../controller/rpc/credentials';
import { Timeline } from '../../controller/timeline';
import { pairOps } from '../../core/history/pair';
import { lifo } from '../support/cleanup';
import { freePort, startAgent, tempDir } from '../support/processes';

const log = pino({ level: 'silent' });

test('no event is lost: NATS goes down mid-run, the agent is killed -9, and the restarted agent resends its spool', { timeout: 180_000 }, async (tc) => {
  const t = lifo(tc);
  const port = await freePort();
  const natsDir = tempDir(t, 'nats-');
  let nats = await startNatsServer({ host: '127.0.0.1', port, dir: natsDir });
  t.after(() => nats.stop());
  const dataDir = tempDir(t, 'agent-n1-');
  // Whatever happens, no etcd member outlives the test (the killed agent leaves one until its successor reaps it).
  t.after(() => killStalePid(`${dataDir}/etcd.pid`, 'etcd'));
  const first = await startAgent(t, { node: 'n1', natsUrl: nats.url, dataDir });
  const client = new AgentClient({ name: 'n1', address: '127.0.0.1', agent: first.address }, INSECURE);
  t.after(() => client.close());
  const timeline = new Timeline('spool-test');
  const session = new AgentSession(client, timeline, log, 60_000);
  t.after(() => session.close());
  await session.open();

  const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  t.after(() => nc.close());
  const runId = `spool${Date.now()}`;
  const store = tempDir(t, 'run-');
  const collector = new HistoryCollector(nc, runId, `${store}/raw.jsonl`, log);
  await collector.start();
  t.after(() => collector.stop());

  await startCluster([client], 'etcd', runId, {});
  await client.startWorkload({
    runId, workload: 'register', db: 'etcd', processes: [0, 1], concurrency: 2, rateHz: 100, seed: 3,
    opTimeoutMs: 1000, keyCount: 2, keyPeriodMs: 5000,
  });
  await sleep(1000);
  // NATS goes away: the agent keeps working, spooling what it cannot publish.
  await nats.stop();
  await sleep(1500);
  const during = await client.status();
  assert.ok(during.workload!.unacked > 0, 'events are waiting in the spool while NATS is down');
  // The agent dies without warning, with unacknowledged events on disk.
  first.child.kill('SIGKILL');
  await first.exited;
  const spooled = new RunSpool(`${dataDir}/spool`, runId);
  const lastSeq = spooled.readBase() + spooled.readAll().length;
  assert.ok(spooled.readAcked() < lastSeq, 'some events were never acknowledged before the kill');

  nats = await startNatsServer({ host: '127.0.0.1', port, dir: natsDir });
  // A new agent process on the same data dir: it reaps the orphaned etcd member and resends the spool.
  const second = await startAgent(t, { node: 'n1', natsUrl: nats.url, dataDir });
  const client2 = new AgentClient({ name: 'n1', address: '127.0.0.1', agent: second.address }, INSECURE);
  t.after(() => client2.close());
  const gaps = await collector.waitFor({ n1: lastSeq }, 30_000);
  assert.deepEqual(gaps, [], `every event 1..${lastSeq} arrived exactly once`);
  assert.equal(collector.tracker.contiguous('n1'), lastSeq);
  await collector.stop();
  const history = await buildHistory(`${store}/raw.jsonl`, `${store}/history.jsonl`);
  assert.equal(history.length, lastSeq, 'no duplicates in the history');
  pairOps(history); // well formed: the ops cut off by the kill stay open, which counts as info
  const orphanState = await client2.db('check', 'etcd', 5000);
  assert.equal(orphanState.ok, true);
});
