/**
 * Faults are undone without the controller (acceptance 5 of issue 3): an agent killed with SIGKILL while a
 * partition, a pause and a clock offset are active on its node undoes all three when it starts again; and a
 * controller (`faultline fault ... --duration 600`) killed with SIGKILL mid-fault leaves every agent to heal on its
 * own within the lease (10 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { readOffsetFile } from '../../agent/faults/clock-faketime';
import { networkFaultState } from '../../agent/faults/partition';
import { shapedAddresses, shapedDevices } from '../../agent/faults/shape';
import { processState } from '../../agent/faults/process-state';
import { labStatus } from '../../controller/lab/lab';
import { labDir } from '../../controller/lab/lab-state';
import { AgentClient } from '../../controller/rpc/agent-client';
import { labAccess } from '../../controller/lab/lab-access';
import { lifo, type AfterHost } from '../support/cleanup';
import { labSkipReason } from '../support/netns';
import { CLI, runCli } from '../support/processes';

const PREFIX = 'flnk';
const LAB = ['--lab-prefix', PREFIX];

/** A holding `faultline fault ...`; resolves once the fault is applied. */
async function startHeld(after: AfterHost, args: string[]): Promise<{ child: ChildProcess; exited: Promise<unknown>; output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'fault', ...args, ...LAB], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((res) => child.once('exit', res));
  after.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const deadline = Date.now() + 20_000;
  while (!out.includes('holding for')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`faultline fault ${args.join(' ')} did not hold:\n${out}`);
    await sleep(50);
  }
  return { child, exited, output: () => out };
}

async function clientsOf(after: AfterHost): Promise<AgentClient[]> {
  const status = await labStatus(PREFIX);
  const clients = status.nodes.map((n) => new AgentClient({ name: n.name, address: n.address, agent: n.agent.address }, labAccess(PREFIX).security));
  after.after(() => clients.forEach((c) => c.close()));
  return clients;
}

async function setupLab(t: TestContext): Promise<AgentClient[]> {
  const after = lifo(t);
  after.after(() => runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 }));
  const up = await runCli(['lab', 'up', '--nodes', '3', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
  const clients = await clientsOf(after);
  const members = clients.map((c) => ({ node: c.node.name, address: c.node.address }));
  await Promise.all(
    clients.map(async (c) => {
      await c.db('setup', 'clockprobe', 10_000, { members, clusterToken: PREFIX });
      await c.db('start', 'clockprobe', 10_000);
    }),
  );
  return clients;
}

const offsetFile = (node: string) => join(labDir(PREFIX), 'nodes', node, 'faketime', 'clockprobe.offset');

test('agents undo faults without the controller', { timeout: 180_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const clients = await setupLab(t);
  const n2 = clients[1]!;
  const ns2 = `${PREFIX}-n2`;

  await t.test('an agent killed with a partition, a rate limit, a pause and a clock offset active undoes them all when restarted', async (st) => {
    const after = lifo(st);
    await startHeld(after, ['partition', '--shape', 'isolate', '--node', 'n2', '--duration', '600']);
    await startHeld(after, ['rate', '--node', 'n2', '--rate', '1mbit', '--duration', '600']);
    await startHeld(after, ['pause', '--node', 'n2', '--duration', '600']);
    await startHeld(after, ['clock', '--node', 'n2', '--bump', '90s', '--duration', '600']);
    const pid = (await n2.status()).faults!.dbPid;
    assert.equal(processState(pid), 'T');
    assert.equal(readOffsetFile(offsetFile('n2')), 90_000);
    assert.deepEqual((await networkFaultState({ namespace: ns2 })).dropFrom.length, 2);
    assert.equal((await shapedAddresses({ namespace: ns2 })).length, 2);

    const agentPid = (await labStatus(PREFIX)).nodes.find((n) => n.name === 'n2')!.agent.pid!;
    process.kill(agentPid, 'SIGKILL');
    while ((await labStatus(PREFIX)).nodes.find((n) => n.name === 'n2')!.agent.pid !== null) await sleep(50);
    // Nothing healed it: the agent is gone and the holding commands still renew the other agents' leases.
    assert.equal(processState(pid), 'T');
    assert.equal(readOffsetFile(offsetFile('n2')), 90_000);
    assert.equal((await shapedAddresses({ namespace: ns2 })).length, 2);

    const up = await runCli(['lab', 'up', '--nodes', '3', '--prefix', PREFIX], { timeoutMs: 60_000 });
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(await networkFaultState({ namespace: ns2 }), { dropFrom: [], loss: [] }, 'partition left after agent restart');
    assert.deepEqual(await shapedDevices({ namespace: ns2 }), [], 'rate limit left after agent restart');
    const state = processState(pid);
    assert.ok(state === undefined || state !== 'T', `the paused DB process is still stopped (state ${String(state)})`);
    assert.equal(readOffsetFile(offsetFile('n2')), 0, 'clock offset left after agent restart');
    const restarted = (await clientsOf(after)).find((c) => c.node.name === 'n2')!;
    assert.deepEqual((await restarted.status()).faults?.faults, []);
  });

  await t.test('a controller killed mid-fault: every agent heals within the lease', async (st) => {
    const after = lifo(st);
    // Bring n2's DB back (the restarted agent reaped the orphan) so the pause below has a process to stop.
    const fresh = await clientsOf(after);
    const members = fresh.map((c) => ({ node: c.node.name, address: c.node.address }));
    await fresh[1]!.db('setup', 'clockprobe', 10_000, { members, clusterToken: PREFIX });
    await fresh[1]!.db('start', 'clockprobe', 10_000);

    const held = await startHeld(after, ['partition', '--shape', 'halves', '--duration', '600']);
    const paused = await startHeld(after, ['pause', '--node', 'all', '--duration', '600']);
    const cut = await Promise.all(fresh.map((c) => networkFaultState({ namespace: `${PREFIX}-${c.node.name}` })));
    assert.ok(cut.some((s) => s.dropFrom.length > 0));
    const pids = await Promise.all(fresh.map(async (c) => (await c.status()).faults!.dbPid));
    assert.ok(pids.every((p) => processState(p) === 'T'));

    const killedAt = Date.now();
    held.child.kill('SIGKILL');
    paused.child.kill('SIGKILL');
    await Promise.all([held.exited, paused.exited]);
    const healed = async () => {
      const rules = await Promise.all(fresh.map((c) => networkFaultState({ namespace: `${PREFIX}-${c.node.name}` })));
      return rules.every((r) => r.dropFrom.length === 0) && pids.every((p) => processState(p) !== 'T');
    };
    while (!(await healed()) && Date.now() - killedAt < 20_000) await sleep(200);
    const tookMs = Date.now() - killedAt;
    st.diagnostic(`agents healed ${tookMs} ms after the controller was killed (lease 10 s)`);
    assert.ok(await healed(), 'agents did not heal after the controller died');
    // Lease of 10 s, renewed every 2.5 s, plus the heal itself.
    assert.ok(tookMs <= 12_000, `healing took ${tookMs} ms, more than the 10 s lease allows`);
  });
});
