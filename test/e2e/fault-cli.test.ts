/**
 * `faultline fault` on a real 5-node lab, through the CLI, the agents and their gRPC calls (acceptance 1-4 of
 * issue 3): partitions and loss seen as TCP reachability and iptables rules, kill/pause/resume/restart seen on the
 * real DB process in /proc, clock bumps and strobes seen by a libfaketime-wrapped process, and each heal checked.
 * The DB on every node is `clockprobe` (a Node server under libfaketime that reports its Date.now()).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { networkFaultState } from '../../agent/faults/partition';
import { shapedAddresses, shapedDevices } from '../../agent/faults/shape';
import { processState } from '../../agent/faults/process-state';
import { CLOCKPROBE_PORT } from '../../agent/db/clockprobe';
import { labStatus } from '../../controller/lab/lab';
import { AgentClient } from '../../controller/rpc/agent-client';
import { labAccess } from '../../controller/lab/lab-access';
import { lifo, type AfterHost } from '../support/cleanup';
import { labSkipReason } from '../support/netns';
import { CLI, runCli } from '../support/processes';

const PREFIX = 'fln';
const LAB = ['--lab-prefix', PREFIX];

interface Held {
  child: ChildProcess;
  output: () => string;
  /** SIGINT (the user's Ctrl-C) and wait for the exit code. */
  interrupt(): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts a holding `faultline fault ...` and resolves once it says the fault is applied and held. */
async function startHeld(after: AfterHost, args: string[]): Promise<Held> {
  const child = spawn(process.execPath, [CLI, 'fault', ...args, '--hold', ...LAB], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  after.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await exited;
    }
  });
  const deadline = Date.now() + 20_000;
  while (!out.includes('holding for')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`faultline fault ${args.join(' ')} did not hold:\n${out}`);
    await sleep(50);
  }
  return {
    child,
    exited,
    output: () => out,
    interrupt: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** The clock the DB process on `address` sees, minus ours, in ms (± a few ms of round trip). */
function clockSkewMs(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sentAt = Date.now();
    const socket = connect({ host: address, port: CLOCKPROBE_PORT });
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.once('error', reject);
    socket.once('end', () => {
      const { nowMs } = JSON.parse(data) as { nowMs: number };
      resolve(nowMs - (sentAt + Date.now()) / 2);
    });
  });
}

/** Polls `fn` until it returns true or `timeoutMs` passes; returns the last result. */
async function eventually(fn: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

async function setupLab(t: TestContext): Promise<AgentClient[]> {
  const after = lifo(t);
  after.after(() => runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 }));
  const up = await runCli(['lab', 'up', '--nodes', '5', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
  const status = await labStatus(PREFIX);
  const clients = status.nodes.map((n) => new AgentClient({ name: n.name, address: n.address, agent: n.agent.address }, labAccess(PREFIX).security));
  after.after(() => clients.forEach((c) => c.close()));
  const members = clients.map((c) => ({ node: c.node.name, address: c.node.address }));
  await Promise.all(
    clients.map(async (c) => {
      await c.db('setup', 'clockprobe', 10_000, { members, clusterToken: 'fln' });
      await c.db('start', 'clockprobe', 10_000);
    }),
  );
  return clients;
}

/** Which ordered pairs connect, asked of the agents themselves (their Probe call, to each peer's DB port). */
async function reachability(clients: AgentClient[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  await Promise.all(
    clients.map(async (c) => {
      const peers = clients.filter((o) => o !== c);
      const res = await c.probe(peers.map((p) => p.node.address), 0, 700);
      peers.forEach((p, i) => out.set(`${c.node.name}>${p.node.name}`, res.results[i]!.ok));
    }),
  );
  return out;
}

async function dbPid(c: AgentClient): Promise<number> {
  return (await c.status()).faults?.dbPid ?? 0;
}

test('faultline fault on a 5-node lab: partition, loss, process and clock faults, observed and healed', { timeout: 240_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const clients = await setupLab(t);
  const [n1, n2, n3] = clients as [AgentClient, AgentClient, AgentClient, AgentClient, AgentClient];
  const names = clients.map((c) => c.node.name);

  await t.test('partition --shape isolate cuts n1 off exactly, agents keep answering, Ctrl-C heals', async (st) => {
    const held = await startHeld(lifo(st), ['partition', '--shape', 'isolate', '--node', 'n1', '--duration', '120s']);
    const r = await reachability(clients);
    for (const a of names) {
      for (const b of names) {
        if (a === b) continue;
        assert.equal(r.get(`${a}>${b}`), a !== 'n1' && b !== 'n1', `${a} -> ${b}`);
      }
    }
    // Controller <-> agent calls keep working on both sides of the cut, including the isolated node.
    for (const c of clients) assert.equal((await c.status()).node, c.node.name);
    const status = await runCli(['fault', 'status', '--json', ...LAB]);
    const parsed = JSON.parse(status.stdout) as { nodes: { name: string; faults: { kind: string; since: string }[] }[] };
    assert.deepEqual(parsed.nodes.find((n) => n.name === 'n1')!.faults.map((f) => f.kind), ['partition']);
    assert.equal(await held.interrupt(), 0, held.output());
    assert.ok([...(await reachability(clients)).values()].every(Boolean), 'not every pair reconnects after the heal');
  });

  await t.test('a held fault healed on Ctrl-C releases its lease: a detached fault applied next outlives the lease', async (st) => {
    const held = await startHeld(lifo(st), ['loss', '--node', 'n4', '--percent', '30']);
    assert.equal(await held.interrupt(), 0, held.output());
    const detached = await runCli(['fault', 'loss', '--node', 'n5', '--percent', '40', '--duration', '60s', ...LAB]);
    assert.equal(detached.code, 0, detached.stderr);
    st.after(() => runCli(['fault', 'heal', ...LAB]));
    // The held command's lease was 10 s; had it been left to lapse, the agents would heal everything at its end.
    await sleep(12_000);
    assert.deepEqual(
      (await networkFaultState({ namespace: `${PREFIX}-n5` })).loss.map((l) => l.probability),
      [0.4, 0.4, 0.4, 0.4],
      'the detached loss on n5 was healed by a lapsing lease',
    );
    assert.equal((await runCli(['fault', 'heal', ...LAB])).code, 0);
  });

  await t.test('partition --shape custom applies a one-way grudge', async (st) => {
    const held = await startHeld(lifo(st), ['partition', '--shape', 'custom', '--grudge', '{"n2":["n3"]}']);
    const r = await reachability(clients);
    // n2 drops n3's packets: neither direction of a TCP handshake completes, other pairs are untouched.
    assert.equal(r.get('n2>n3'), false);
    assert.equal(r.get('n3>n2'), false);
    assert.equal([...r.values()].filter((v) => !v).length, 2);
    assert.deepEqual((await networkFaultState({ namespace: `${PREFIX}-n2` })).dropFrom, [n3.node.address]);
    assert.equal(await held.interrupt(), 0);
  });

  await t.test('loss --node n2 --percent 50 puts 50 % loss on both directions of every n2 link, and nowhere else', async (st) => {
    const held = await startHeld(lifo(st), ['loss', '--node', 'n2', '--percent', '50']);
    const others = clients.filter((c) => c !== n2);
    assert.deepEqual(
      (await networkFaultState({ namespace: `${PREFIX}-n2` })).loss,
      others.map((o) => ({ from: o.node.address, probability: 0.5 })),
    );
    for (const o of others) {
      assert.deepEqual(await networkFaultState({ namespace: `${PREFIX}-${o.node.name}` }), { dropFrom: [], loss: [{ from: n2.node.address, probability: 0.5 }] });
    }
    assert.equal(await held.interrupt(), 0);
    for (const c of clients) assert.deepEqual(await networkFaultState({ namespace: `${PREFIX}-${c.node.name}` }), { dropFrom: [], loss: [] });
  });

  await t.test('rate --node n2 --rate 1mbit shapes both directions of every n2 link and nothing else; Ctrl-C heals', async (st) => {
    const nodes = (await labStatus(PREFIX)).nodes;
    const held = await startHeld(st, ['rate', '--node', 'n2', '--rate', '1mbit', '--duration', '60s']);
    assert.match(held.output(), /rate limited to 1mbit\/s on the links of n2/);
    const addressOf = new Map(nodes.map((n) => [n.name, n.address]));
    for (const n of nodes) {
      const expected = n.name === 'n2' ? nodes.filter((o) => o.name !== 'n2').map((o) => o.address) : [addressOf.get('n2')!];
      assert.deepEqual((await shapedAddresses({ namespace: n.namespace })).sort(), expected.sort(), `shaped links of ${n.name}`);
    }
    const status = (JSON.parse((await runCli(['fault', 'status', '--json', ...LAB])).stdout) as { nodes: { name: string; faults: { kind: string }[] }[] }).nodes;
    assert.ok(status.every((n) => n.faults.some((f) => f.kind === 'shape')), 'fault status lists the shaping on every node');
    // A request the agent refuses for what it asks leaves the shaping in force as it was.
    const n2Node = nodes.find((n) => n.name === 'n2')!;
    await assert.rejects(n2.shape([addressOf.get('n1')!], { jitterMs: 5 }, 'refused-shape', 60_000), /jitter needs a delay/);
    assert.deepEqual((await shapedAddresses({ namespace: n2Node.namespace })).sort(), nodes.filter((o) => o.name !== 'n2').map((o) => o.address).sort(), 'a refused request removed the shaping');
    assert.equal(await held.interrupt(), 0, held.output());
    for (const n of nodes) assert.deepEqual(await shapedDevices({ namespace: n.namespace }), [], `shaping left on ${n.name}`);
  });

  await t.test('kill, pause, resume and restart are seen on the real DB process', async (st) => {
    const pid = await dbPid(n3);
    assert.equal(processState(pid) === 'S' || processState(pid) === 'R', true);

    const paused = await startHeld(lifo(st), ['pause', '--node', 'n3']);
    assert.equal(processState(pid), 'T', 'paused process is not in state T');
    const resumed = await runCli(['fault', 'resume', '--node', 'n3', ...LAB]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(await eventually(() => processState(pid) !== 'T', 2000), 'resumed process still stopped');
    assert.equal(await paused.exited.then(() => 'exited'), 'exited', 'pause command did not notice the resume');
    assert.match(paused.output(), /healed elsewhere/);

    const killed = await startHeld(lifo(st), ['kill', '--node', 'n3']);
    assert.equal(processState(pid), undefined, 'killed process still exists');
    assert.equal(await dbPid(n3), 0);
    assert.equal(await killed.interrupt(), 0, killed.output());
    const started = await dbPid(n3);
    assert.ok(started > 0 && started !== pid, 'heal did not start the killed member again');

    const restart = await runCli(['fault', 'restart', '--node', 'n3', ...LAB]);
    assert.equal(restart.code, 0, restart.stderr);
    const fresh = await dbPid(n3);
    assert.ok(fresh > 0 && fresh !== started, `restart kept pid ${started}`);
    assert.equal(processState(started), undefined);
    assert.notEqual(processState(fresh), 'T');
  });

  await t.test('clock --bump 60s on n2 is seen by n2\'s faketime process only; strobe flips; reset returns to zero', async (st) => {
    const after = lifo(st);
    // The host's wall clock against its monotonic clock: a jump of the host clock would move this difference.
    const hostWallMinusMono = () => Date.now() - Number(process.hrtime.bigint() / 1_000_000n);
    const hostBefore = hostWallMinusMono();
    const held = await startHeld(after, ['clock', '--node', 'n2', '--bump', '60s', '--duration', '120s']);
    assert.ok(await eventually(async () => Math.abs((await clockSkewMs(n2.node.address)) - 60_000) < 1500, 3000), 'n2 does not see +60 s');
    assert.ok(Math.abs(await clockSkewMs(n1.node.address)) < 1500, 'n1 sees a skew');
    assert.ok(Math.abs(hostWallMinusMono() - hostBefore) < 100, 'the host clock moved');
    const statusJson = JSON.parse((await runCli(['fault', 'status', '--json', ...LAB])).stdout) as { nodes: { name: string; clockOffsetMs: number }[] };
    assert.deepEqual(statusJson.nodes.map((n) => n.clockOffsetMs), [0, 60_000, 0, 0, 0]);

    const reset = await runCli(['fault', 'clock', '--node', 'n2', '--reset', ...LAB]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.ok(await eventually(async () => Math.abs(await clockSkewMs(n2.node.address)) < 1500, 3000), 'reset did not return n2 to zero');
    await held.exited;

    // Strobe between 0 and +30 s every 1.5 s: n2 must be seen at both offsets, and nothing else.
    const strobe = await startHeld(after, ['clock', '--node', 'n2', '--strobe', '0,30s', '--period', '1500ms', '--duration', '60s']);
    const seen = new Set<number>();
    const deadline = Date.now() + 9000;
    while (Date.now() < deadline && seen.size < 2) {
      const skew = await clockSkewMs(n2.node.address);
      const near = [0, 30_000].find((o) => Math.abs(skew - o) < 1500);
      assert.notEqual(near, undefined, `n2 skew ${skew} ms is neither 0 nor +30 s`);
      seen.add(near!);
      await sleep(200);
    }
    assert.deepEqual([...seen].sort((a, b) => a - b), [0, 30_000], 'strobe did not flip');
    assert.equal(await strobe.interrupt(), 0);
    assert.ok(await eventually(async () => Math.abs(await clockSkewMs(n2.node.address)) < 1500, 3000), 'strobe left an offset');
  });

  await t.test('clock faults are refused on etcd, netem faults where netem is missing', async () => {
    await n1.db('setup', 'etcd', 30_000, { members: [{ node: 'n1', address: n1.node.address }], clusterToken: 'fln-etcd' });
    await n1.db('start', 'etcd', 30_000);
    const refused = await runCli(['fault', 'clock', '--node', 'n1', '--bump', '5s', ...LAB]);
    assert.equal(refused.code, 254);
    assert.match(refused.stderr, /etcd is a Go program: libfaketime cannot shift its clock; use --clock-strategy system on dedicated VMs/);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    const system = await runCli(['fault', 'clock', '--node', 'n1', '--bump', '5s', '--clock-strategy', 'system', ...LAB]);
    assert.equal(system.code, 254, 'the lab agents must refuse the system clock strategy');
    assert.match(system.stderr, /dedicated VMs/);
    await n1.db('teardown', 'etcd', 30_000);
    const nodes = (await labStatus(PREFIX)).nodes;
    const netemFound = (await n2.hello()).capabilities.find((c) => c.name === 'netem')?.available === true;
    if (!netemFound) {
      const netem = await runCli(['fault', 'delay', '--node', 'n2', '--delay', '100ms', ...LAB]);
      assert.equal(netem.code, 254);
      assert.match(netem.stderr, /Cannot apply delay on node "n\d": this kernel has no netem qdisc .*\(faultline fault rate, faultline fault loss\)/);
      for (const n of nodes) assert.deepEqual(await shapedDevices({ namespace: n.namespace }), [], `a refused delay left shaping on ${n.name}`);
    }
    const bad = await runCli(['fault', 'duplicate', '--node', 'n2', '--percent', '250', ...LAB]);
    assert.equal(bad.code, 254);
    assert.match(bad.stderr, /--percent "250": it must be above 0 and at most 100/);
  });

  const heal = await runCli(['fault', 'heal', ...LAB]);
  assert.equal(heal.code, 0, heal.stderr);
  for (const c of clients) assert.equal((await c.status()).faults?.faults.length, 0);
});
