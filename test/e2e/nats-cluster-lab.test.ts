import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'nats';
import { setTimeout as sleep } from 'node:timers/promises';
import { EVENT_STREAM } from '../../controller/event-stream';
import { labDir } from '../../controller/lab/lab-state';
import { agentNatsUser, CONTROLLER_NATS_USER } from '../../controller/nats-auth';
import { CLI, runCli, tempDir } from '../support/processes';

/**
 * `lab up --nats-cluster 3` on a real 3-node lab: three nats-servers with clustered JetStream, the event stream
 * replicated 3 times, every member requiring the lab's NATS users as the single server does; a real etcd run during
 * which the test kills the server leading the stream with SIGKILL.
 */
const PREFIX = process.env['FAULTLINE_TEST_LAB_PREFIX'] ?? 'flpc';

function natsPassword(user: string): string {
  return readFileSync(join(labDir(PREFIX), 'nats-auth', `${user}.password`), 'utf8').trim();
}

interface Status {
  nats: { url: string | null; servers?: { name: string; url: string; pid: number | null }[] };
}

async function status(): Promise<Status> {
  const r = await runCli(['lab', 'status', '--json', '--prefix', PREFIX]);
  return JSON.parse(r.stdout) as Status;
}

test('lab up --nats-cluster 3: killing the stream leader mid-run loses no event, the run completes, the stall is logged', { timeout: 600_000, skip: process.getuid?.() !== 0 ? 'needs root (network namespaces)' : false }, async (t) => {
  t.after(async () => {
    await runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 });
  });
  const up = await runCli(['lab', 'up', '--nodes', '3', '--prefix', PREFIX, '--nats-cluster', '3'], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, /a 3-server NATS cluster at nats:\/\/[^,]+,nats:\/\/[^,]+,nats:\/\/\S+/);
  const before = await status();
  assert.equal(before.nats.servers?.length, 3);
  assert.ok(before.nats.servers!.every((s) => s.pid !== null));
  const url = before.nats.url!;

  const store = tempDir(t, 'store-cluster-');
  const run = spawn(process.execPath, [
    CLI, 'run', '--nodes', 'lab', '--lab-prefix', PREFIX, '--db', 'etcd', '--workload', 'register',
    '--time-limit', '24', '--nemesis', 'none', '--concurrency', '6', '--rate', '200', '--recovery-time', '1', '--store', store,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FAULTLINE_LOG_LEVEL: 'info' } });
  let stdout = '';
  let stderr = '';
  run.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  run.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => run.once('exit', resolve));
  t.after(() => {
    if (run.exitCode === null) run.kill('SIGKILL');
  });

  // Once the workload's events flow, kill the server that leads the stream.
  const nc = await connect({ servers: url.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 200, user: CONTROLLER_NATS_USER, pass: natsPassword(CONTROLLER_NATS_USER) });
  t.after(() => nc.close());
  const jsm = await nc.jetstreamManager();
  let leader: string | undefined;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && run.exitCode === null) {
    const info = await jsm.streams.info(EVENT_STREAM).catch(() => undefined);
    if (stderr.includes('"msg":"cluster ready"') && info && info.state.messages > 50) {
      assert.equal(info.config.num_replicas, 3);
      leader = info.cluster?.leader;
      break;
    }
    await sleep(200);
  }
  assert.ok(leader, `the stream has a leader while the run goes on:\n${stderr}`);
  await sleep(3000);
  const victim = (await status()).nats.servers!.find((s) => s.name === leader)!;
  process.kill(victim.pid!, 'SIGKILL');

  const code = await exited;
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  assert.match(stdout, /verdict: VALID/);
  assert.match(stdout, / 0 sequence gaps/);
  const runs = readdirSync(join(store, 'etcd-register'));
  const results = JSON.parse(readFileSync(join(store, 'etcd-register', runs[0]!, 'results.json'), 'utf8')) as { gaps: unknown[] };
  assert.deepEqual(results.gaps, []);
  const pipeline = stderr.split('\n').filter((l) => l.includes('"msg":"event pipeline"')).map((l) => JSON.parse(l) as { longestStallMs: number });
  assert.equal(pipeline.length, 1, 'the run logs its pipeline figures');
  t.diagnostic(`killed the stream leader ${leader} mid-run; longest stall of the event stream: ${pipeline[0]!.longestStallMs} ms`);

  // `lab up` again restarts the killed member with its identity and data.
  const again = await runCli(['lab', 'up', '--nodes', '3', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(again.code, 0, again.stderr);
  const after = await status();
  assert.ok(after.nats.servers!.every((s) => s.pid !== null), 'every member runs again');
  assert.deepEqual(after.nats.servers!.map((s) => s.url), before.nats.servers!.map((s) => s.url));

  // Every member (the restarted one too) requires credentials, and an agent's user may publish only its own subject, on any member.
  for (const server of before.nats.servers!) {
    await assert.rejects(() => connect({ servers: server.url, timeout: 3000, maxReconnectAttempts: 0, reconnect: false }), /Authorization Violation/i, `${server.name} refuses a client without credentials`);
    const agent = await connect({ servers: server.url, user: agentNatsUser('n1'), pass: natsPassword(agentNatsUser('n1')), inboxPrefix: '_INBOX_n1', timeout: 3000 });
    try {
      const js = agent.jetstream({ timeout: 3000 });
      await assert.rejects(() => js.publish('faultline.events.r1.n2', new Uint8Array([1])), /permission|timeout|503/i, `${server.name}: n1 cannot publish as n2`);
      await assert.rejects(() => agent.jetstreamManager({ timeout: 2000 }), /permission|timeout|503|no responders/i, `${server.name}: n1 cannot manage streams`);
      // Its own subject is allowed: the run's stream stores it.
      const own = await js.publish('faultline.events.authcheck.n1', new Uint8Array([1]));
      assert.equal(own.stream, EVENT_STREAM, `${server.name}: n1 may publish its own subject`);
    } finally {
      await agent.close();
    }
  }
});
