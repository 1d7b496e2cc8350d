import { connect, type NatsConnection } from 'nats';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { checkRawFile, spawnSyntheticAgent, stopSyntheticAgent, type SyntheticAgent } from '../../bench/pipeline-harness';
import { EVENT_STREAM, runConsumerName } from '../../controller/event-stream';
import { HistoryCollector } from '../../controller/history-collector';
import { startNatsServer, type NatsServerHandle } from '../../controller/nats-server';
import { lifo } from '../support/cleanup';
import { freePort, tempDir } from '../support/processes';

const log = pino({ level: 'silent' });

function spawnAgents(t: { after(fn: () => unknown): void }, n: number, opts: { natsUrl: string; runId: string; events: number; dir: string; ratePerS?: number }): SyntheticAgent[] {
  const agents: SyntheticAgent[] = [];
  for (let i = 1; i <= n; i++) {
    const a = spawnSyntheticAgent({ natsUrl: opts.natsUrl, node: `n${i}`, runId: opts.runId, events: opts.events, spoolDir: join(opts.dir, `spool-n${i}`), ...(opts.ratePerS ? { ratePerS: opts.ratePerS } : {}) });
    t.after(() => stopSyntheticAgent(a));
    agents.push(a);
  }
  return agents;
}

async function natsConnect(t: { after(fn: () => unknown): void }, url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  t.after(() => nc.close());
  return nc;
}

test('agents batch events: three publishers\' events all reach the raw file once, in far fewer messages, and every spool is confirmed empty', { timeout: 120_000 }, async (tc) => {
  const t = lifo(tc);
  const dir = tempDir(t, 'pipeline-');
  const nats = await startNatsServer({ host: '127.0.0.1', port: await freePort(), dir: join(dir, 'nats') });
  t.after(() => nats.stop());
  const nc = await natsConnect(t, nats.url);
  const runId = `batch${Date.now()}`;
  const raw = join(dir, 'events.raw.jsonl');
  const collector = new HistoryCollector(nc, runId, raw, log);
  await collector.start();
  t.after(() => collector.stop());
  const perAgent = 20_000;
  const agents = spawnAgents(t, 3, { natsUrl: nats.url, runId, events: perAgent, dir });
  await Promise.all(agents.map((a) => a.ready));
  for (const a of agents) a.go();
  const results = await Promise.all(agents.map((a) => a.result));
  for (const r of results) {
    assert.equal(r.lastSeq, perAgent);
    assert.equal(r.unwritten, 0, `${r.node}: the controller confirmed every event on disk`);
  }
  await collector.stop();
  const check = await checkRawFile(raw, { n1: perAgent, n2: perAgent, n3: perAgent });
  assert.deepEqual(check, { events: 3 * perAgent, duplicates: 0, lost: 0, gaps: 0 });
  const info = await (await nc.jetstreamManager()).streams.info(EVENT_STREAM);
  assert.ok(info.state.messages * 10 <= 3 * perAgent, `batched: ${info.state.messages} messages for ${3 * perAgent} events`);
});

test('acknowledged means on disk: NATS killed -9 with its stream files deleted, twice, loses no event, because the spools keep what the controller has not written', { timeout: 180_000 }, async (tc) => {
  const t = lifo(tc);
  const dir = tempDir(t, 'pipeline-');
  const port = await freePort();
  const natsDir = join(dir, 'nats');
  let nats: NatsServerHandle = await startNatsServer({ host: '127.0.0.1', port, dir: natsDir });
  t.after(() => nats.stop());
  const nc = await natsConnect(t, nats.url);
  const runId = `wipe${Date.now()}`;
  const raw = join(dir, 'events.raw.jsonl');
  const perAgent = 24_000;
  const ratePerS = 2000; // about 12 s of events per agent
  const killAndWipe = async () => {
    process.kill(nats.pid, 'SIGKILL');
    await nats.stop(); // resolves once the killed process is gone
    rmSync(join(natsDir, 'jetstream'), { recursive: true, force: true });
    await sleep(500);
    nats = await startNatsServer({ host: '127.0.0.1', port, dir: natsDir });
  };

  // A controller that falls behind: it writes for a while, then stops consuming while JetStream keeps
  // acknowledging the agents' events.
  const first = new HistoryCollector(nc, runId, raw, log);
  await first.start();
  const agents = spawnAgents(t, 3, { natsUrl: nats.url, runId, events: perAgent, dir, ratePerS });
  await Promise.all(agents.map((a) => a.ready));
  for (const a of agents) a.go();
  await sleep(2000);
  await first.stop();
  const writtenByFirst = first.received;
  assert.ok(writtenByFirst > 0);
  await sleep(1500);
  const jsm = await nc.jetstreamManager();
  const pending = (await jsm.consumers.info(EVENT_STREAM, runConsumerName(runId))).num_pending;
  assert.ok(pending > 0, 'JetStream holds acknowledged events the controller never wrote');

  // Power loss, as far as JetStream is concerned: the server dies and its data with it.
  await killAndWipe();
  // The controller comes back on the same raw file and finds neither stream nor consumer: it makes both again.
  const second = new HistoryCollector(nc, runId, raw, log);
  await second.start();
  t.after(() => second.stop());
  assert.equal(second.received, writtenByFirst, 'the resumed collector counted what the first one wrote');
  await sleep(3000);
  // And once more while the collector is consuming.
  await killAndWipe();
  const results = await Promise.all(agents.map((a) => a.result));
  for (const r of results) assert.equal(r.unwritten, 0, `${r.node}: every event confirmed on the controller's disk`);
  assert.ok(second.recreated >= 1, 'the collector re-created the stream and its consumer after the second wipe');
  await second.stop();
  const check = await checkRawFile(raw, { n1: perAgent, n2: perAgent, n3: perAgent });
  assert.deepEqual({ lost: check.lost, gaps: check.gaps, duplicates: check.duplicates }, { lost: 0, gaps: 0, duplicates: 0 });
  assert.equal(check.events, 3 * perAgent);
});
