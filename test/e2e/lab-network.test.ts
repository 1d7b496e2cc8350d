/**
 * The lab network on the real kernel: layout, idempotence, repair, isolation from the outside, coexistence of two
 * labs, and teardown that leaves nothing behind, also when processes were left running in the namespaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createLabNetwork, describeLabNetwork, destroyLabNetwork } from '../../controller/lab/network';
import {
  connectivity,
  faultlineLeftovers,
  hostConnect,
  iptablesSave,
  labSkipReason,
  startProbe,
  startProbes,
  useLab,
  type Probe,
} from '../support/netns';

const run = promisify(execFile);

async function bridgedThroughIptables(): Promise<boolean> {
  const flag = await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(() => '0');
  return flag.trim() === '1';
}

async function ip(...args: string[]): Promise<string> {
  return (await run('ip', args)).stdout;
}

test('createLabNetwork builds the promised layout and a second call changes nothing', { timeout: 60_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'flta', nodes: 3 });
  const x = lab.cidr.split('.')[2];
  assert.equal(lab.bridge, 'flta-br');
  assert.equal(lab.cidr, `10.250.${x}.0/24`);
  assert.equal(lab.hostAddress, `10.250.${x}.1`);
  assert.deepEqual(lab.nodes, [1, 2, 3].map((i) => ({ name: `n${i}`, namespace: `flta-n${i}`, address: `10.250.${x}.${10 + i}` })));
  assert.equal(lab.problems, undefined);
  assert.deepEqual(await createLabNetwork({ nodes: 3, prefix: 'flta' }), lab);
  assert.deepEqual(await describeLabNetwork('flta'), lab);

  for (const n of lab.nodes) {
    assert.equal((await ip('-n', n.namespace, 'route', 'show', 'default')).trim(), '', `${n.name} has a default route`);
    assert.match(await ip('-n', n.namespace, 'link', 'show', 'lo'), /[<,]UP[,>]/, `${n.name}: lo is down`);
    assert.doesNotMatch(await ip('-n', n.namespace, '-6', 'addr', 'show', 'dev', 'eth0'), /inet6/, `${n.name} has IPv6`);
  }
  const host = await iptablesSave();
  assert.match(host, /-A FORWARD -i flta-br -o flta-br -j FAULTLINE-LAB-FLTA/);
  assert.match(host, new RegExp(`-A INPUT -d ${lab.hostAddress.replaceAll('.', '\\.')}/32 -i flta-br -j FAULTLINE-LAB-FLTA`));

  const probes = await startProbes(t, lab);
  assert.ok([...(await connectivity(probes, 1000)).values()].every(Boolean), 'nodes cannot reach each other');
  for (const n of lab.nodes) assert.ok(await hostConnect(n.address, 1000), `host cannot reach ${n.name}`);
  // Our accept rules sit on the path of the lab's traffic, first in FORWARD and INPUT, so a DROP policy on the
  // host (as Docker sets) cannot cut the lab: their packet counters moved.
  const counted = (await run('iptables-save', ['-c', '-t', 'filter'])).stdout;
  const packets = (builtin: string): number =>
    Number(new RegExp(`^\\[(\\d+):\\d+\\] -A ${builtin} .*-j FAULTLINE-LAB-FLTA$`, 'm').exec(counted)?.[1] ?? -1);
  if (await bridgedThroughIptables()) assert.ok(packets('FORWARD') > 0, 'bridged lab traffic did not cross our FORWARD rule');
  assert.ok(packets('INPUT') > 0, 'lab traffic to the host address did not cross our INPUT rule');
  const firstRule = (builtin: string): string | undefined => counted.split('\n').find((l) => l.includes(`-A ${builtin} `));
  assert.match(firstRule('FORWARD') ?? '', /FAULTLINE-LAB-/, 'our FORWARD rule is not first');
  assert.match(firstRule('INPUT') ?? '', /FAULTLINE-LAB-/, 'our INPUT rule is not first');
  // Nothing outside the lab is reachable: some host address that is not the bridge's.
  const outside = JSON.parse(await ip('-j', '-4', 'addr', 'show')) as { ifname: string; addr_info: { local: string }[] }[];
  const target = outside.flatMap((i) => i.addr_info.map((a) => a.local)).find((a) => !a.startsWith('127.') && !a.startsWith('10.250.'));
  if (target !== undefined) {
    assert.deepEqual(await (probes[0] as Probe).connect([{ host: target, port: 22 }], 500), [false], `n1 reached ${target}`);
  }

  await assert.rejects(createLabNetwork({ nodes: 2, prefix: 'flta' }), /already has node\(s\) n3/);
  const other = Number(x) === 254 ? 253 : Number(x) + 1;
  await assert.rejects(createLabNetwork({ nodes: 3, prefix: 'flta', subnet: other }), /already uses/);
  await assert.rejects(createLabNetwork({ nodes: 3, prefix: 'fl-a' }), RangeError);
  await assert.rejects(createLabNetwork({ nodes: 0, prefix: 'flta' }), RangeError);
});

test('describeLabNetwork names the damage and createLabNetwork repairs it', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'fltd', nodes: 3 });
  await ip('link', 'del', 'fltd-v2'); // takes n2's eth0 with it
  await ip('-n', 'fltd-n3', 'link', 'set', 'lo', 'down');
  await ip('-n', 'fltd-n1', 'route', 'add', 'default', 'via', lab.hostAddress);
  const damaged = await describeLabNetwork('fltd');
  const problems = (damaged?.problems ?? []).join('\n');
  assert.match(problems, /node n1 has a default route/);
  assert.match(problems, /node n2 has address ""/);
  assert.match(problems, /node n3 has an interface down/);
  assert.deepEqual(await createLabNetwork({ nodes: 3, prefix: 'fltd' }), lab);
  const probes = await startProbes(t, lab);
  assert.ok([...(await connectivity(probes, 1000)).values()].every(Boolean), 'the repaired lab is not fully connected');
});

test('destroyLabNetwork stops processes left in the namespaces (SIGTERM, then SIGKILL) and leaves nothing', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'fltk', nodes: 2 });
  const [n1, n2] = lab.nodes as [(typeof lab.nodes)[number], (typeof lab.nodes)[number]];
  const polite = await startProbe(t, n1, { linger: true });
  const stubborn = await startProbe(t, n2, { linger: true, ignoreSigterm: true });
  const started = Date.now();
  await destroyLabNetwork('fltk', { graceMs: 300 });
  const tookMs = Date.now() - started;
  assert.equal(await polite.exited, 'SIGTERM');
  assert.equal(await stubborn.exited, 'SIGKILL');
  assert.ok(tookMs >= 300, `the stubborn process got no grace period (${tookMs} ms)`);
  assert.equal(await describeLabNetwork('fltk'), undefined);
  assert.deepEqual((await faultlineLeftovers()).filter((l) => /fltk|FLTK/.test(l)), []);
  await destroyLabNetwork('fltk'); // idempotent
});

test('two labs coexist on different subnets, cannot reach each other, and go down separately', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const b = await useLab(t, { prefix: 'fltb', nodes: 2 });
  const c = await useLab(t, { prefix: 'fltc', nodes: 2 });
  assert.notEqual(b.cidr, c.cidr);
  const [b1] = (await startProbes(t, b)) as [Probe, Probe];
  const [c1] = (await startProbes(t, c)) as [Probe, Probe];
  assert.deepEqual(await b1.connect([{ host: c.nodes[1]?.address ?? '' }], 400), [false], 'lab b reached lab c');
  // A subnet that is taken is refused, and nothing of the refused lab is created.
  const taken = Number(c.cidr.split('.')[2]);
  t.after(() => destroyLabNetwork('flte'));
  await assert.rejects(createLabNetwork({ nodes: 1, prefix: 'flte', subnet: taken }), /already in use/);
  assert.equal(await describeLabNetwork('flte'), undefined);
  await destroyLabNetwork('fltb', { graceMs: 300 });
  assert.equal(await describeLabNetwork('fltb'), undefined);
  assert.deepEqual(await describeLabNetwork('fltc'), c);
  assert.deepEqual(await c1.connect([{ host: c.nodes[1]?.address ?? '' }], 1000), [true]);
});

test('destroyLabNetwork finds a half-built lab by name, as after a crash', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  t.after(() => destroyLabNetwork('flth'));
  await ip('netns', 'add', 'flth-n1');
  await ip('netns', 'add', 'flth-n2');
  await ip('link', 'add', 'flth-v2', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'flth-n2');
  await ip('link', 'add', 'flth-br', 'type', 'bridge');
  const half = await describeLabNetwork('flth');
  assert.ok(half !== undefined);
  assert.match((half.problems ?? []).join('\n'), /no 10\.250\.X\.1 address/);
  await destroyLabNetwork('flth');
  assert.equal(await describeLabNetwork('flth'), undefined);
  assert.deepEqual((await faultlineLeftovers()).filter((l) => /flth/.test(l)), []);
});
