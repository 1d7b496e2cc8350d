import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readPlanFile, readReplay } from './plan-file';
import { resolveRunOptions, type RunOptions } from './run-options';

const base: RunOptions = {
  db: 'etcd', workload: 'register', timeLimit: 60, concurrency: 10, rate: 100, nemesis: 'partition', nemesisInterval: 10, nodes: 'lab',
  readConsistency: 'linearizable', store: 'store', recoveryTime: 5, opTimeout: 1500, keys: 5, keyPeriod: 5, checkTimeLimit: 300,
};

test('readPlanFile reads the flags\' names, db-opt as a map or a list, nemesis as a list', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'plan-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'p.yaml');
  writeFileSync(file, 'db: redis\nworkload: set\ntime-limit: 40\nnemesis: [partition, clock]\npartition-shape: isolate\npartition-target: primary\ndb-opt:\n  wait: 1\n  min-replicas-to-write: 1\n');
  const p = readPlanFile(file);
  assert.deepEqual(p, { db: 'redis', workload: 'set', timeLimit: 40, nemesis: 'partition,clock', partitionShape: 'isolate', partitionTarget: 'primary', dbOpt: ['wait=1', 'min-replicas-to-write=1'] });
  const c = resolveRunOptions({ ...base, ...p });
  assert.equal(c.dbOptions['wait'], '1');
  assert.deepEqual(c.nemesis, ['partition', 'clock']);
});

test('readReplay gives back the options of a stored run, seed included, so it resolves to the same config', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const original = resolveRunOptions({ ...base, db: 'redis', workload: 'counter', seed: 1234, dbOpt: ['wait=2'], nemesis: 'partition,kill', nemesisTarget: 'primary' });
  writeFileSync(join(dir, 'plan.json'), JSON.stringify({ runId: 'x', ...original, nodeSpec: original.nodes, nodes: [{ name: 'n1' }] }));
  const again = resolveRunOptions({ ...base, ...readReplay(dir) });
  assert.deepEqual(again, original);
});
