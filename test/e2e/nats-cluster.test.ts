import { connect } from 'nats';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { checkRawFile, spawnSyntheticAgent, stopSyntheticAgent, watchProgress, type SyntheticAgent } from '../../bench/pipeline-harness';
import { EVENT_STREAM } from '../../controller/event-stream';
import { HistoryCollector } from '../../controller/history-collector';
import { clusterUrl, startNatsCluster, type NatsMember } from '../../controller/nats-cluster';
import { lifo } from '../support/cleanup';
import { tempDir } from '../support/processes';

const log = pino({ level: 'silent' });

async function killMember(m: NatsMember): Promise<void> {
  try {
    process.kill(m.pid!, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  // Ours and not detached: it is our child, reaped by Node; wait until the pid is gone.
  for (;;) {
    try {
      process.kill(m.pid!, 0);
    } catch {
      return;
    }
    await sleep(20);
  }
}

test('a 3-server JetStream cluster replicates the event stream 3 times, and killing its leader mid-run loses no event', { timeout: 180_000 }, async (tc) => {
  const t = lifo(tc);
  const dir = tempDir(t, 'nats-cluster-');
  const members = await startNatsCluster({ host: '127.0.0.1', size: 3, dir });
  t.after(async () => {
    for (const m of members) await killMember(m);
  });
  const url = clusterUrl(members);
  const nc = await connect({ servers: url.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  t.after(() => nc.close());
  const runId = `cluster${Date.now()}`;
  const raw = join(dir, 'events.raw.jsonl');
  const collector = new HistoryCollector(nc, runId, raw, log);
  await collector.start();
  t.after(() => collector.stop());
  const jsm = await nc.jetstreamManager();
  const before = await jsm.streams.info(EVENT_STREAM);
  assert.equal(before.config.num_replicas, 3);
  assert.ok(before.config.max_age > 0 && before.config.max_bytes > 0, 'the stream is bounded by age and by bytes');

  const perAgent = 24_000;
  const agents: SyntheticAgent[] = [];
  for (let i = 1; i <= 3; i++) {
    const a = spawnSyntheticAgent({ natsUrl: url, node: `n${i}`, runId, events: perAgent, spoolDir: join(dir, `spool-n${i}`), ratePerS: 3000 });
    t.after(() => stopSyntheticAgent(a));
    agents.push(a);
  }
  await Promise.all(agents.map((a) => a.ready));
  const progress = watchProgress(collector);
  t.after(() => progress.stop());
  for (const a of agents) a.go();
  await sleep(2500);
  const leaderName = (await jsm.streams.info(EVENT_STREAM)).cluster?.leader;
  const leader = members.find((m) => m.name === leaderName);
  assert.ok(leader, `the stream has a leader among ${members.map((m) => m.name).join(', ')}: ${leaderName}`);
  const receivedAtKill = collector.received;
  await killMember(leader);

  const results = await Promise.all(agents.map((a) => a.result));
  progress.stop();
  for (const r of results) assert.equal(r.unwritten, 0, `${r.node}: every event confirmed on the controller's disk`);
  await collector.stop();
  const check = await checkRawFile(raw, { n1: perAgent, n2: perAgent, n3: perAgent });
  assert.deepEqual(check, { events: 3 * perAgent, duplicates: 0, lost: 0, gaps: 0 });
  assert.ok(receivedAtKill < 3 * perAgent, 'the leader died mid-run');
  const after = await jsm.streams.info(EVENT_STREAM);
  assert.notEqual(after.cluster?.leader, leaderName, 'another server leads the stream');
  tc.diagnostic(`stream leader ${leaderName} killed after ${receivedAtKill} events; new leader ${after.cluster?.leader}; longest stall ${progress.longestStallMs()} ms`);
});
