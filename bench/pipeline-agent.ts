/**
 * One synthetic agent for `npm run bench:pipeline` and the pipeline tests: the agent's real EventPublisher (spool,
 * batches, end-to-end acks) fed by a synthetic register workload with no database, as fast as the pipeline takes it.
 * Usage: node pipeline-agent.js --nats URL[,URL...] --node n1 --run RUN --events N --spool DIR [--rate EVENTS_PER_S]
 * Prints `ready` once connected, waits for a line `go` on stdin, publishes N events, waits until the controller has
 * confirmed every one on its disk, and prints one JSON line `{"node","lastSeq","unwritten","publishMs","confirmMs"}`.
 * SIGTERM closes the publisher (the spool keeps what is unconfirmed), like the agent's own shutdown.
 */
import { connect } from 'nats';
import { createInterface } from 'node:readline';
import { setImmediate as yieldNow, setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ClockMapper, monoNanos } from '../agent/clock';
import { EventPublisher } from '../agent/event-publisher';

/** Stop generating while this many events are unconfirmed: a fast database's clients would block the same way. */
const MAX_UNWRITTEN = 150_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nats: { type: 'string' },
      node: { type: 'string' },
      run: { type: 'string' },
      events: { type: 'string' },
      spool: { type: 'string' },
      rate: { type: 'string' },
      'confirm-timeout-ms': { type: 'string' },
    },
  });
  const node = values.node!;
  const runId = values.run!;
  const total = Number(values.events);
  const ratePerS = values.rate ? Number(values.rate) : 0;
  const log = pino({ level: process.env['FAULTLINE_LOG_LEVEL'] ?? 'warn' }, pino.destination(2)).child({ node });
  const nc = await connect({
    servers: values.nats!.split(','),
    name: `bench-agent-${node}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 2000,
    timeout: 5000,
  });
  const clock = new ClockMapper();
  clock.update({ timelineId: runId, offsetNanos: 0, uncertaintyNanos: 100_000, syncedAtAgentMonoNanos: monoNanos() });
  const publisher = new EventPublisher(nc, node, values.spool!, clock, log);
  let stopping = false;
  process.once('SIGTERM', () => {
    stopping = true;
  });

  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) if (line.trim() === 'go') break;

  const started = Date.now();
  const processes = 10;
  let published = publisher.stats(runId).lastSeq; // a restarted agent carries on
  let op = 0;
  while (published < total && !stopping) {
    if (publisher.stats(runId).unwritten > MAX_UNWRITTEN) {
      await sleep(5);
      continue;
    }
    const chunk = ratePerS > 0 ? Math.max(1, Math.round(ratePerS / 100)) : 200;
    for (let i = 0; i < chunk && published < total; i += 2, op++) {
      const process = op % processes;
      const key = `k${op % 7}`;
      publisher.publish({ runId, process, type: 'invoke', f: 'write', key, value: op });
      published++;
      if (published < total) {
        publisher.publish({ runId, process, type: 'ok', f: 'write', key, value: op });
        published++;
      }
    }
    if (ratePerS > 0) await sleep(10);
    else await yieldNow();
  }
  const publishMs = Date.now() - started;
  const timeoutMs = Number(values['confirm-timeout-ms'] ?? 120_000);
  const deadline = Date.now() + timeoutMs;
  while (!stopping && publisher.stats(runId).unwritten > 0 && Date.now() < deadline) await sleep(20);
  const stats = publisher.stats(runId);
  process.stdout.write(`${JSON.stringify({ node, lastSeq: stats.lastSeq, unwritten: stats.unwritten, publishMs, confirmMs: Date.now() - started })}\n`);
  lines.close();
  await publisher.close();
  await Promise.race([nc.drain().catch(() => undefined), sleep(2000)]);
  if (!nc.isClosed()) await nc.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
  process.exitCode = 255;
});
