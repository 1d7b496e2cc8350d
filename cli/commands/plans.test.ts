import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { supportedPairs } from '../../core/databases';
import { readPlanFile } from '../../controller/run/plan-file';
import { resolveRunOptions, type RunOptions } from '../../controller/run/run-options';
import { addRunOptions } from './run';

const PLANS = resolve(__dirname, '../../../plans');

/** What `faultline run PLAN.yaml` resolves with no flags: the flags' defaults under the plan's values. */
function resolvePlan(path: string) {
  const cmd = addRunOptions(new Command()).exitOverride();
  cmd.parse([], { from: 'user' });
  return resolveRunOptions({ ...(cmd.opts() as RunOptions), ...readPlanFile(path) });
}

test('every plan in plans/ resolves to a run of the pair its file name names', () => {
  const files = readdirSync(PLANS).filter((f) => /\.ya?ml$/.test(f)).sort();
  assert.ok(files.length > 0, 'plans/ has no plan');
  for (const f of files) {
    const config = resolvePlan(join(PLANS, f));
    assert.ok(f.startsWith(`${config.testName}`), `${f} runs ${config.testName}`);
    assert.ok(supportedPairs().includes(`${config.db}/${config.workload}`), `${f}: ${config.db}/${config.workload} has a client`);
    assert.equal(typeof config.seed, 'number', `${f} fixes its seed`);
    assert.ok(Number.isInteger(config.seed));
  }
});

test('every etcd workload has a plan, and the etcd plans run what the acceptance asks for', () => {
  const etcd = supportedPairs().filter((p) => p.startsWith('etcd/')).map((p) => p.slice('etcd/'.length));
  for (const w of etcd) {
    const c = resolvePlan(join(PLANS, `etcd-${w}.yaml`));
    assert.equal(c.db, 'etcd');
    assert.equal(c.workload, w);
    if (w === 'lock') {
      // Faults longer than the lease TTL: a cut-off holder's lease lapses while it still holds the lock.
      assert.deepEqual(c.nemesis, ['pause', 'partition']);
      assert.ok(c.nemesisIntervalMs > Number(c.dbOptions['lock-ttl']) * 1000, 'faults outlast the lease TTL');
    } else {
      assert.deepEqual(c.nemesis, ['partition', 'kill']);
      assert.ok(c.timeLimitMs <= 45_000, 'the plan itself is short enough for CI; accept:etcd runs it for 3 minutes');
    }
  }
});
