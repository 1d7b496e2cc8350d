import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ControllerEvents } from '../controller-events';
import type { AgentClient } from '../rpc/agent-client';
import { NemesisSchedule, type NemesisScheduleOptions } from './nemesis-schedule';

/**
 * Where the schedule aims clock faults (pure aiming logic: the agents are stand-ins that answer status and record
 * the clock faults they are asked for). On postgres and mariadb only n1 runs a server; n2 and n3 report
 * `dbProcessState: 'none'`.
 */
interface Recorded {
  events: { type: string; f: string; value: unknown; error: string }[];
  clockHits: string[];
}

function fakeCluster(serverless: string[], primary = 'n1'): { clients: AgentClient[]; rec: Recorded } {
  const rec: Recorded = { events: [], clockHits: [] };
  const state = (name: string) => ({ faults: [], clockOffsetMs: 0n, clockStrategy: '', db: 'postgres', dbPid: serverless.includes(name) ? 0 : 42, dbProcessState: serverless.includes(name) ? 'none' : 'S' });
  const clients = ['n1', 'n2', 'n3'].map((name, i) => ({
    node: { name, address: `10.0.0.${i + 1}`, agentPort: 1 },
    status: async () => ({ node: name, dbState: 'running', activeFaults: [], faults: state(name) }),
    db: async () => ({ primaryKnown: true, primary: name === primary }),
    clockFault: async () => {
      rec.clockHits.push(name);
      return { ok: true, message: 'clock shifted', active: [], state: { ...state(name), clockOffsetMs: 500n }, checks: [] };
    },
    heal: async () => ({ ok: true, message: 'healed', active: [], state: state(name), checks: [] }),
  })) as unknown as AgentClient[];
  return { clients, rec };
}

function schedule(clients: AgentClient[], rec: Recorded, extra: Partial<NemesisScheduleOptions> = {}): NemesisSchedule {
  const events = {
    nemesis: async (type: string, f: string, value: unknown, error = '') => {
      rec.events.push({ type, f, value, error });
    },
  } as unknown as ControllerEvents;
  const opts: NemesisScheduleOptions = {
    kinds: ['clock'], db: 'postgres', seed: 7, partitionShape: 'halves', partitionTarget: undefined,
    clockStrategy: 'faketime', maxFaultDurationMs: 60_000, lossProbability: 0.5, ...extra,
  };
  return new NemesisSchedule(clients, events, opts, pino({ level: 'silent' }));
}

test('by default a clock fault hits only nodes that run a DB server, and the event names them', async () => {
  const { clients, rec } = fakeCluster(['n2', 'n3']);
  const s = schedule(clients, rec);
  for (let i = 0; i < 12; i++) {
    await s.start();
    await s.stop();
  }
  assert.equal(rec.clockHits.length, 12, 'every start applied a clock fault');
  assert.deepEqual([...new Set(rec.clockHits)], ['n1']);
  const oks = rec.events.filter((e) => e.f === 'start-clock' && e.type === 'ok');
  assert.equal(oks.length, 12);
  for (const e of oks) {
    const v = e.value as { servers: string[]; nodes: Record<string, { clockOffsetMs: number }> };
    assert.deepEqual(v.servers, ['n1']);
    assert.equal(v.nodes['n1']!.clockOffsetMs, 500);
    assert.equal(v.nodes['n2']!.clockOffsetMs, 0, 'every node is on the event, hit or not');
  }
});

test('where every node runs a server, clock faults still rotate over one, a minority and all of them', async () => {
  const { clients, rec } = fakeCluster([]);
  const s = schedule(clients, rec, { seed: 3 });
  const targets = new Set<string>();
  for (let i = 0; i < 30; i++) {
    await s.start();
    await s.stop();
  }
  for (const e of rec.events.filter((x) => x.f === 'start-clock' && x.type === 'invoke')) targets.add((e.value as { target: string }).target);
  assert.deepEqual([...targets].sort(), ['all', 'minority', 'one']);
  assert.deepEqual([...new Set(rec.clockHits)].sort(), ['n1', 'n2', 'n3']);
});

test('--nemesis-target aims clock faults as it aims kill and pause: primary, all, or a refusal that hits nothing', async () => {
  const primary = fakeCluster(['n1'], 'n2'); // a cluster whose primary (and only server besides n3) is n2
  const sp = schedule(primary.clients, primary.rec, { nemesisTarget: 'primary' });
  await sp.start();
  assert.deepEqual(primary.rec.clockHits, ['n2']);
  assert.equal((primary.rec.events.find((e) => e.type === 'invoke')!.value as { target: string }).target, 'primary');

  const all = fakeCluster(['n2', 'n3']);
  const sa = schedule(all.clients, all.rec, { nemesisTarget: 'all' });
  await sa.start();
  assert.deepEqual(all.rec.clockHits, ['n1'], '"all" is every server node, not the client-only ones');

  const minority = fakeCluster(['n2', 'n3']);
  const sm = schedule(minority.clients, minority.rec, { nemesisTarget: 'minority' });
  assert.equal(await sm.start(), undefined);
  assert.deepEqual(minority.rec.clockHits, [], 'a minority of one server node is no node: nothing is shifted');
  const info = minority.rec.events.find((e) => e.type === 'info')!;
  assert.match(info.error, /minority: that selects no node of n1/);
});
