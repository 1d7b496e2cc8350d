import { connect } from 'nats';
import { readFileSync } from 'node:fs';
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

/**
 * A real agent's session carries progress markers (how far its events have got, on the events' own timeline) every
 * half second, also while its workload is stopped and it publishes nothing; the markers hold what online checking's
 * watermark relies on (every event up to the marker's sequence number is timed at or before it, every later one at
 * or after it) and never become events: the stream, the raw file and the history hold the workload's events only.
 */
test('agent session: progress markers bound the event stream, keep coming while the node is silent, and are no events', { timeout: 120_000 }, async (tc) => {
  const t = lifo(tc);
  const nats = await startNats(t);
  const agent = await startAgent(t, { node: 'n1', natsUrl: nats.url });
  const client = new AgentClient({ name: 'n1', address: '127.0.0.1', agent: agent.address }, INSECURE);
  t.after(() => client.close());
  const runId = `p${Date.now()}`;
  const timeline = new Timeline(runId);
  const session = new AgentSession(client, timeline, log, 10_000);
  const markers: { lastSeq: number; timeNanos: number }[] = [];
  session.onProgress = (p) => markers.push({ lastSeq: p.lastSeq, timeNanos: p.timeNanos });
  t.after(() => session.close());
  await session.open();

  const nc = await connect({ servers: nats.url });
  t.after(() => nc.close());
  const store = tempDir(t, 'run-');
  const raw = `${store}/raw.jsonl`;
  const collector = new HistoryCollector(nc, runId, raw, log);
  await collector.start();
  t.after(() => collector.stop());
  await startCluster([client], 'etcd', runId, {});
  t.after(() => collectAndTeardown([client], 'etcd', undefined, () => undefined));

  await client.startWorkload({
    runId, workload: 'register', db: 'etcd', processes: [0, 1], concurrency: 2, rateHz: 40, seed: 1,
    opTimeoutMs: 1000, keyCount: 2, keyPeriodMs: 15_000,
  });
  await sleep(2500);
  const stopped = await client.stopWorkload(runId);
  const stoppedAt = markers.length;
  await sleep(2000); // silent: nothing to publish
  assert.ok(stopped.lastSeq >= 40, `events: ${stopped.lastSeq}`);
  assert.deepEqual(await collector.waitFor({ n1: stopped.lastSeq }, 10_000), []);
  await collector.stop();

  const events = readFileSync(raw, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: string; timeNanos: string; f: string });
  assert.deepEqual(events.map((e) => Number(e.seq)).sort((a, b) => a - b), [...Array(stopped.lastSeq).keys()].map((i) => i + 1), 'the raw file holds the events 1..lastSeq, each once, and nothing else');
  const timeOf = new Map(events.map((e) => [Number(e.seq), Number(e.timeNanos)]));
  const lastEventNanos = Math.max(...timeOf.values());

  assert.ok(markers.some((m) => m.lastSeq > 0 && m.lastSeq < stopped.lastSeq), 'markers came while the workload ran');
  const silent = markers.slice(stoppedAt);
  assert.ok(silent.length >= 3, `markers while silent: ${silent.length}`);
  for (const m of silent) assert.equal(m.lastSeq, stopped.lastSeq);
  assert.ok(silent.at(-1)!.timeNanos > lastEventNanos + 1.5e9, 'a silent node\'s markers move on with its clock');
  for (let i = 1; i < markers.length; i++) {
    assert.ok(markers[i]!.lastSeq >= markers[i - 1]!.lastSeq && markers[i]!.timeNanos >= markers[i - 1]!.timeNanos, 'markers never go back');
  }
  // What the watermark relies on: events up to a marker's sequence number are timed at or before it, later ones at or after.
  for (const m of markers) {
    for (const [seq, time] of timeOf) {
      if (seq <= m.lastSeq) assert.ok(time <= m.timeNanos, `event ${seq} at ${time} is covered by the marker (${m.lastSeq}, ${m.timeNanos})`);
      else assert.ok(time >= m.timeNanos, `event ${seq} at ${time} comes after the marker (${m.lastSeq}, ${m.timeNanos})`);
    }
  }

  const history = await buildHistory(raw, `${store}/history.jsonl`);
  assert.equal(history.length, stopped.lastSeq, 'the history holds the workload\'s events only');
  assert.ok(history.every((o) => o.f === 'read' || o.f === 'write' || o.f === 'cas'), `ops: ${[...new Set(history.map((o) => o.f))].join(', ')}`);
  assert.equal(pairOps(history).filter((o) => o.completionIndex === -1).length, 0, 'every invoke completed');
});
