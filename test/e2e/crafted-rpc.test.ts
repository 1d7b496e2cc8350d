/**
 * The agent cannot be turned against its node (issue 13, acceptance 2): an agent in a lab namespace, under mTLS
 * with a narrow allow-list, gets crafted RPCs — shell metacharacters and path traversal in every string field,
 * unknown enum values, an oversized message, fault targets, kinds, clock strategies and database modules outside
 * the allow-list — and answers each with a clean refusal, logged with the caller's certificate name; afterwards
 * no process was started, no file written and no rule or qdisc applied in its namespace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { AgentClient } from '../../controller/rpc/agent-client';
import {
  ClockFaultRequest,
  DbRequest,
  PartitionRequest,
  ProbeRequest,
  ProcessFaultRequest,
  ShapeRequest,
  StartWorkloadRequest,
  StopWorkloadRequest,
  DbAction,
  ClockAction,
  ProcessFaultAction,
  PartitionMode,
} from '../../proto/gen/agent';
import { labSkipReason, useLab, iptablesSave } from '../support/netns';
import { startNetnsAgent, testPki } from '../support/netns-agent';
import { startNats } from '../support/processes';

const execFileAsync = promisify(execFile);
const PREFIX = 'flxc';
const EVIL = ['; touch /tmp/flx-pwned', '$(touch /tmp/flx-pwned)', '`touch /tmp/flx-pwned`', '../../../../tmp/flx-pwned', 'a|b&&c', "x'\"\n"];

/** Every file under `dir` with its size and mtime. */
function snapshotFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${p} ${statSync(p).size} ${statSync(p).mtimeMs}`);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/** Pids whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return Number(readFileSync(`/proc/${e}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const rulesOnly = (save: string) => save.split('\n').filter((l) => !l.startsWith('#')).join('\n');

test('crafted RPCs get clean refusals and change nothing on the node', { timeout: 180_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: PREFIX, nodes: 2 });
  const [n1, n2] = lab.nodes as [typeof lab.nodes[0], typeof lab.nodes[0]];
  const pki = await testPki(t, lab.nodes);
  const nats = await startNats(t, lab.hostAddress);
  const agent = await startNetnsAgent(t, n1, {
    natsUrl: nats.url,
    pkiDir: pki.dir,
    config: { allow: { databases: ['clockprobe'], faults: ['partition', 'kill'], clockStrategies: ['faketime'], targets: [`${n2.address}/32`] } },
  });
  const client = new AgentClient({ name: 'n1', address: n1.address, agent: agent.address }, pki.controller);
  t.after(() => client.close());
  assert.equal((await client.hello()).node, 'n1');
  // A request inside the allow-list is served: the guard is not refusing everything.
  assert.equal((await client.probe([n2.address], 1, 300)).results.length, 1);

  const before = {
    rules: rulesOnly(await iptablesSave(n1.namespace)),
    qdiscs: (await execFileAsync('ip', ['netns', 'exec', n1.namespace, 'tc', 'qdisc', 'show'])).stdout,
    files: snapshotFiles(agent.dataDir),
    children: childrenOf(agent.pid),
  };

  type Raw = (req: never, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void) => unknown;
  const send = (method: string, req: object) =>
    new Promise<{ code: grpc.status; details: string } | undefined>((resolve) => {
      const fn = (client.raw as unknown as Record<string, Raw>)[method]!.bind(client.raw);
      fn(req as never, { deadline: Date.now() + 10_000 }, (err) => resolve(err ? { code: err.code, details: err.details } : undefined));
    });

  const crafted: [string, string, object][] = [];
  const member = (node: string, address: string) => ({ node, address });
  for (const evil of EVIL) {
    crafted.push(
      ['db name', 'db', DbRequest.create({ action: DbAction.SETUP, db: `clockprobe${evil}`, members: [member('n1', n1.address)] })],
      ['db member name', 'db', DbRequest.create({ action: DbAction.SETUP, db: 'clockprobe', members: [member(`n1${evil}`, n2.address)] })],
      ['db member address', 'db', DbRequest.create({ action: DbAction.SETUP, db: 'clockprobe', members: [member('n1', `${n2.address}${evil}`)] })],
      ['db option value', 'db', DbRequest.create({ action: DbAction.SETUP, db: 'clockprobe', options: { 'data-dir': evil }, members: [member('n1', n2.address)] })],
      ['db option name', 'db', DbRequest.create({ action: DbAction.SETUP, db: 'clockprobe', options: { [`x${evil}`]: '1' }, members: [member('n1', n2.address)] })],
      ['workload db option', 'startWorkload', StartWorkloadRequest.create({ runId: 'r1', workload: 'register', db: 'clockprobe', dbOptions: { 'read-consistency': evil } })],
      ['workload phase', 'startWorkload', StartWorkloadRequest.create({ runId: 'r1', workload: 'register', db: 'clockprobe', phase: evil })],
      ['db cluster token', 'db', DbRequest.create({ action: DbAction.SETUP, db: 'clockprobe', clusterToken: evil, members: [member('n1', n2.address)] })],
      ['partition address', 'partition', PartitionRequest.create({ dropFrom: [`${n2.address}${evil}`] })],
      ['partition fault id', 'partition', PartitionRequest.create({ dropFrom: [n2.address], faultId: evil })],
      ['loss address', 'partition', PartitionRequest.create({ loss: [{ from: evil, probability: 0.5 }] })],
      ['shape address', 'shape', ShapeRequest.create({ to: [evil], delayMs: 10 })],
      ['shape fault id', 'shape', ShapeRequest.create({ to: [n2.address], rateBitsPerSecond: 1000, faultId: evil })],
      ['process fault id', 'processFault', ProcessFaultRequest.create({ action: ProcessFaultAction.KILL, faultId: evil })],
      ['clock strategy', 'clockFault', ClockFaultRequest.create({ action: ClockAction.BUMP, strategy: `faketime${evil}`, offsetMs: 1000 })],
      ['clock fault id', 'clockFault', ClockFaultRequest.create({ action: ClockAction.BUMP, strategy: 'faketime', offsetMs: 1000, faultId: evil })],
      ['probe host', 'probe', ProbeRequest.create({ hosts: [evil], port: 22 })],
      ['workload run id', 'startWorkload', StartWorkloadRequest.create({ runId: `r1${evil}`, workload: 'register', db: 'clockprobe' })],
      ['workload name', 'startWorkload', StartWorkloadRequest.create({ runId: 'r1', workload: evil, db: 'clockprobe' })],
      ['workload endpoint', 'startWorkload', StartWorkloadRequest.create({ runId: 'r1', workload: 'register', db: 'clockprobe', endpoint: `http://${n2.address}:2379/${evil}` })],
      ['workload consistency', 'startWorkload', StartWorkloadRequest.create({ runId: 'r1', workload: 'register', db: 'clockprobe', readConsistency: evil })],
      ['workload subject', 'startWorkload', StartWorkloadRequest.create({ runId: 'r1', workload: 'register', db: 'clockprobe', natsSubject: `faultline.events.r1.n2${evil}` })],
      ['stop run id', 'stopWorkload', StopWorkloadRequest.create({ runId: evil })],
    );
  }
  crafted.push(
    ['unknown db action', 'db', DbRequest.create({ action: 77 as DbAction, db: 'clockprobe' })],
    ['unknown partition mode', 'partition', PartitionRequest.create({ dropFrom: [n2.address], mode: 9 as PartitionMode })],
    ['unknown process action', 'processFault', ProcessFaultRequest.create({ action: 42 as ProcessFaultAction })],
    ['unknown clock action', 'clockFault', ClockFaultRequest.create({ action: 13 as ClockAction, strategy: 'faketime' })],
    ['db outside the allow-list', 'db', DbRequest.create({ action: DbAction.SETUP, db: 'etcd', members: [member('n1', n2.address)] })],
    ['target outside the allow-list', 'partition', PartitionRequest.create({ dropFrom: ['10.99.0.1'] })],
    ['own address outside the allow-list', 'db', DbRequest.create({ action: DbAction.SETUP, db: 'clockprobe', members: [member('n1', n1.address)] })],
    ['probe outside the allow-list', 'probe', ProbeRequest.create({ hosts: ['8.8.8.8'], port: 53 })],
    ['fault kind outside the allow-list (loss)', 'partition', PartitionRequest.create({ loss: [{ from: n2.address, probability: 0.5 }] })],
    ['fault kind outside the allow-list (pause)', 'processFault', ProcessFaultRequest.create({ action: ProcessFaultAction.PAUSE })],
    ['fault kind outside the allow-list (rate)', 'shape', ShapeRequest.create({ to: [n2.address], rateBitsPerSecond: 1_000_000 })],
    ['clock strategy outside the allow-list', 'clockFault', ClockFaultRequest.create({ action: ClockAction.BUMP, strategy: 'system', offsetMs: 1000 })],
    ['clock kind outside the allow-list', 'clockFault', ClockFaultRequest.create({ action: ClockAction.BUMP, strategy: 'faketime', offsetMs: 1000 })],
    ['loss probability out of range', 'partition', PartitionRequest.create({ dropFrom: [n2.address], loss: [{ from: n2.address, probability: 7 }] })],
    ['another node\'s subject', 'startWorkload', StartWorkloadRequest.create({ runId: 'r1', workload: 'register', db: 'clockprobe', natsSubject: 'faultline.events.r1.n2' })],
    ['oversized message', 'partition', PartitionRequest.create({ dropFrom: [n2.address], faultId: 'x'.repeat(200_000) })],
    ['too many addresses', 'probe', ProbeRequest.create({ hosts: Array.from({ length: 2000 }, () => n2.address) })],
  );

  const clean = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.PERMISSION_DENIED, grpc.status.RESOURCE_EXHAUSTED]);
  let tooBig = 0;
  for (const [what, method, req] of crafted) {
    const err = await send(method, req);
    if (err?.code === grpc.status.RESOURCE_EXHAUSTED) tooBig++;
    assert.ok(err !== undefined, `${what}: served`);
    assert.ok(clean.has(err.code), `${what}: ${grpc.status[err.code]} ${err.details}`);
    if (err.code !== grpc.status.RESOURCE_EXHAUSTED) assert.match(err.details, /^Cannot /, what);
    assert.ok(!err.details.includes('\n'), `${what}: one line`);
  }

  // Each refusal is logged with the caller's certificate name.
  assert.ok(tooBig >= 1, 'the oversized message is refused');
  const refusals = crafted.length - tooBig; // oversized ones are refused by grpc-js before any handler
  const deadline = Date.now() + 5000;
  const logged = () => agent.output().split('\n').filter((l) => l.includes('"msg":"request refused"') && l.includes('"caller":"faultline-controller"')).length;
  while (logged() < refusals && Date.now() < deadline) await sleep(50);
  assert.equal(logged(), refusals);

  // Nothing happened on the node.
  assert.equal(existsSync('/tmp/flx-pwned'), false);
  assert.equal(rulesOnly(await iptablesSave(n1.namespace)), before.rules, 'no rule applied');
  assert.equal((await execFileAsync('ip', ['netns', 'exec', n1.namespace, 'tc', 'qdisc', 'show'])).stdout, before.qdiscs, 'no qdisc added');
  assert.deepEqual(snapshotFiles(agent.dataDir), before.files, 'no file written');
  assert.deepEqual(childrenOf(agent.pid), before.children, 'no process started');
  assert.equal((await client.status()).dbState, 'not-set-up');
});
