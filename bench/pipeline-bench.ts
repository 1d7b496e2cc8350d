/**
 * `npm run bench:pipeline`: how many events per second the event pipeline carries end to end. Five agents (the
 * agent's real EventPublisher, each in its own process: spool, batches, end-to-end acks) publish a synthetic
 * register workload with no database as fast as the pipeline takes it, into a real nats-server with JetStream, and
 * the controller's real HistoryCollector writes them to a store's `events.raw.jsonl`. Prints events/s (from "go" to
 * the last event in the file), then reads the file back for lost events and gaps, then measures in the same run the
 * raw JetStream publish rate of one Node client (async, 1,000 in flight) for comparison. Prints figures; asserts
 * nothing. Options: --agents 5 --events-per-agent 100000 --raw-messages 50000 --nats URL[,URL...] (an existing
 * server or cluster; default: start one on loopback), --nats-cluster 3 (start a loopback JetStream cluster; the
 * stream then has 3 replicas), --kill-leader-after S (with --nats-cluster: SIGKILL the stream's leader S seconds in).
 */
import { connect, type NatsConnection, type PubAck } from 'nats';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { EVENT_STREAM } from '../controller/event-stream';
import { HistoryCollector } from '../controller/history-collector';
import { clusterUrl, startNatsCluster, type NatsMember } from '../controller/nats-cluster';
import { freePort, startNatsServer, type NatsServerHandle } from '../controller/nats-server';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkRawFile, spawnSyntheticAgent, stopSyntheticAgent, watchProgress, type SyntheticAgent } from './pipeline-harness';

const RAW_STREAM = 'FAULTLINE_BENCH_RAW';

async function rawPublishRate(nc: NatsConnection, messages: number, payloadBytes: number): Promise<number> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(RAW_STREAM).catch(() => undefined);
  await jsm.streams.add({ name: RAW_STREAM, subjects: ['faultline.benchraw.>'], num_replicas: 1 });
  const js = nc.jetstream({ timeout: 10_000 });
  const payload = new Uint8Array(payloadBytes).fill(7);
  const inFlight = new Set<Promise<PubAck>>();
  const started = process.hrtime.bigint();
  for (let i = 0; i < messages; i++) {
    const p = js.publish('faultline.benchraw.x', payload, { msgID: `raw-${i}` });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
    if (inFlight.size >= 1000) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await jsm.streams.delete(RAW_STREAM).catch(() => undefined);
  return messages / seconds;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string', default: '5' },
      'events-per-agent': { type: 'string', default: '100000' },
      'raw-messages': { type: 'string', default: '50000' },
      nats: { type: 'string' },
      'nats-cluster': { type: 'string' },
      'kill-leader-after': { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const agents = Number(values.agents);
  const perAgent = Number(values['events-per-agent']);
  const dir = mkdtempSync(join(tmpdir(), 'faultline-pipeline-bench-'));
  const log = pino({ level: 'warn' }, pino.destination(2));
  let server: NatsServerHandle | undefined;
  let members: NatsMember[] = [];
  let nc: NatsConnection | undefined;
  const spawned: SyntheticAgent[] = [];
  try {
    let natsUrl = values.nats;
    if (!natsUrl && values['nats-cluster']) {
      members = await startNatsCluster({ host: '127.0.0.1', size: Number(values['nats-cluster']), dir: join(dir, 'nats') });
      natsUrl = clusterUrl(members);
    } else if (!natsUrl) {
      server = await startNatsServer({ host: '127.0.0.1', port: await freePort('127.0.0.1'), dir: join(dir, 'nats') });
      natsUrl = server.url;
    }
    nc = await connect({ servers: natsUrl.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const runId = `bench${Date.now()}`;
    const rawPath = join(dir, 'events.raw.jsonl');
    const collector = new HistoryCollector(nc, runId, rawPath, log);
    await collector.start();
    for (let i = 1; i <= agents; i++) {
      spawned.push(spawnSyntheticAgent({ natsUrl, node: `n${i}`, runId, events: perAgent, spoolDir: join(dir, `spool-n${i}`) }));
    }
    await Promise.all(spawned.map((a) => a.ready));
    const total = agents * perAgent;
    const progress = watchProgress(collector);
    const started = Date.now();
    for (const a of spawned) a.go();
    let killed = '';
    if (values['kill-leader-after'] && members.length > 0) {
      const jsm = await nc.jetstreamManager();
      await sleep(Number(values['kill-leader-after']) * 1000);
      const leader = (await jsm.streams.info(EVENT_STREAM)).cluster?.leader;
      const victim = members.find((m) => m.name === leader);
      if (victim?.pid) {
        process.kill(victim.pid, 'SIGKILL');
        killed = `; killed the stream leader ${victim.name} ${values['kill-leader-after']} s in, after ${collector.received} events`;
      }
    }
    const results = await Promise.all(spawned.map((a) => a.result));
    progress.stop();
    const completeAt = progress.completeAt(total) ?? Date.now();
    const seconds = (completeAt - started) / 1000;
    await collector.stop();
    await collector.deleteConsumer().catch(() => undefined);
    const check = await checkRawFile(rawPath, Object.fromEntries(spawned.map((a) => [a.node, perAgent])));
    const rate = Math.round(total / seconds);
    const unconfirmed = results.reduce((n, r) => n + r.unwritten, 0);
    console.log(`agents ${agents} x ${perAgent} events; ${check.events} events in events.raw.jsonl in ${seconds.toFixed(2)} s`);
    console.log(`end to end (publish -> JetStream -> collector -> file): ${rate} events/s; longest stall ${progress.longestStallMs()} ms${killed}`);
    console.log(`lost ${check.lost}, gaps ${check.gaps}, duplicate lines ${check.duplicates}, events still unconfirmed in spools ${unconfirmed}`);
    console.log(`per agent: ${results.map((r) => `${r.node} published in ${r.publishMs} ms, all confirmed on disk after ${r.confirmMs} ms`).join('; ')}`);
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(EVENT_STREAM);
    console.log(`stream ${EVENT_STREAM}: ${info.state.messages} messages, ${info.state.bytes} bytes, ${info.config.num_replicas} replica(s)`);
    const rawRate = Math.round(await rawPublishRate(nc, Number(values['raw-messages']), 100));
    console.log(`pipeline: ${rate} events/s, lost ${check.lost}, gaps ${check.gaps}; raw JetStream publish: ${rawRate} msg/s`);
  } finally {
    await Promise.all(spawned.map((a) => stopSyntheticAgent(a)));
    await nc?.drain().catch(() => undefined);
    await server?.stop();
    for (const m of members) {
      try {
        if (m.pid) process.kill(m.pid, 'SIGTERM');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
    if (members.length > 0) await sleep(1000); // let them exit before their folders go
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`Cannot run the pipeline benchmark: ${(err as Error).message}`);
  process.exitCode = 255;
});
