/**
 * The node daemon: serves the AgentService over gRPC, owns this node's DB member, workload and faults, and
 * publishes events to NATS. `runAgent` settles only once everything it started has stopped.
 */
import * as grpc from '@grpc/grpc-js';
import { connect } from 'nats';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { agentServiceDefinition } from '../proto/gen/agent.grpc-server';
import { AgentService } from './agent-service';
import { agentServerCredentials } from './agent-tls';
import { FaultVerifier } from './fault-verify';
import { guardHandlers, MAX_REQUEST_BYTES } from './rpc-guard';
import { ClockMapper } from './clock';
import type { AgentConfig } from './config';
import { reapOrphans } from './db/registry';
import { EventPublisher } from './event-publisher';
import { FaultJournal } from './fault-journal';
import { FaultManager } from './fault-manager';

export async function runAgent(config: AgentConfig, log: Logger, signal: AbortSignal): Promise<void> {
  // Checked before anything else happens: a key that cannot be read must not leave a half-started agent.
  const credentials = config.tls ? agentServerCredentials(config.tls) : grpc.ServerCredentials.createInsecure();
  mkdirSync(config.dataDir, { recursive: true });
  const journal = new FaultJournal(join(config.dataDir, 'faults.json'));
  let service: AgentService | undefined;
  const faults = new FaultManager(
    journal,
    () => service?.db,
    log.child({ component: 'faults' }),
    config.maxFaultDurationMs,
    join(config.dataDir, 'faketime'),
  );

  // A previous agent process may have died with faults applied or a DB member running: undo both first
  // (partitions, loss, clock offsets, and SIGCONT for a journaled pause before its process is reaped).
  const leftovers = journal.read();
  await faults.healAll('agent start');
  if (leftovers.length > 0) log.warn({ healed: leftovers.map((e) => e.id) }, 'healed faults left by a previous agent');
  for (const orphan of reapOrphans(config.dataDir)) log.warn(orphan, 'killed a DB member left by a previous agent');

  const nc = await connect({
    servers: config.natsUrl,
    name: `faultline-agent-${config.node}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 2000,
    timeout: 5000,
    // Our own inbox prefix: the NATS server lets this agent subscribe to its own replies and nothing else.
    inboxPrefix: `_INBOX_${config.node}`,
    ...(config.nats.user !== undefined ? { user: config.nats.user, pass: config.nats.password ?? '' } : {}),
    ...(config.nats.caFile !== undefined ? { tls: { caFile: config.nats.caFile } } : {}),
  });
  const clock = new ClockMapper();
  const publisher = new EventPublisher(nc, config.node, join(config.dataDir, 'spool'), clock, log.child({ component: 'publisher' }));
  service = new AgentService(config, clock, publisher, faults, log.child({ component: 'service' }));

  const server = new grpc.Server({
    'grpc.keepalive_time_ms': 1000,
    'grpc.keepalive_timeout_ms': 1000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 500,
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
  });
  const verifier = new FaultVerifier(config, faults, () => service?.db, nc, log.child({ component: 'verify' }));
  server.addService(agentServiceDefinition, guardHandlers(service.handlers(), config, log.child({ component: 'guard' }), (rpc, req, res, peer) => verifier.check(rpc, req, res, peer)));
  const address = `${config.listenHost}:${config.listenPort}`;
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(address, credentials, (err) => (err ? reject(err) : resolve())),
  );
  log.info({ address, node: config.node, nats: config.natsUrl, mtls: config.tls !== undefined, allow: { databases: config.allow.databases, faults: config.allow.faults, clockStrategies: config.allow.clockStrategies, targets: config.allow.targetsText } }, 'agent listening');

  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  log.info({ reason: String(signal.reason) }, 'agent stopping');
  // Let in-flight calls finish briefly; a controller that keeps its channel open must not hold us up.
  const graceful = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  if (!(await Promise.race([graceful.then(() => true), sleep(2000, false, { ref: false })]))) server.forceShutdown();
  // Every step runs even when an earlier one fails: a failed heal must not leave the DB member or NATS behind.
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      log.error({ err, step: what }, 'shutdown step failed');
    }
  };
  await step('stop workload', async () => service?.workload?.stop());
  await step('heal faults', () => faults.healAll('agent shutdown'));
  // The DB member is not ours to keep running without an agent: stop it so nothing is left behind.
  await step('stop db', async () => service?.db?.stop());
  await step('close publisher', () => publisher.close());
  // NATS may already be gone (a test, or a lab being taken down): do not wait for it.
  await step('close nats', async () => {
    await Promise.race([nc.drain().catch(() => undefined), sleep(2000, undefined, { ref: false })]);
    if (!nc.isClosed()) await Promise.race([nc.close(), sleep(1000, undefined, { ref: false })]);
  });
  log.info('agent stopped');
}
