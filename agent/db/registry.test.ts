import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { DATABASES } from '../../core/databases';
import { WORKLOADS } from '../../core/workloads';
import { DB_NAMES, createDatabase } from './registry';

test('every agent DB module implements exactly its spec in core: same names, a client for each workload the spec names', () => {
  assert.deepEqual([...DB_NAMES].sort(), [...DATABASES.keys()].sort(), 'core/databases and agent/db/registry list the same modules');
  for (const name of DB_NAMES) {
    const db = createDatabase(name, tmpdir());
    assert.equal(db.spec, DATABASES.get(name), `${name}: its spec is the one in core`);
    assert.deepEqual(Object.keys(db.clients).sort(), [...db.spec.workloads].sort(), `${name}: clients for exactly the spec's workloads`);
    for (const w of db.spec.workloads) assert.ok(WORKLOADS.has(w), `${name} names workload ${w}, which core/workloads does not have`);
  }
});

test('createDatabase refuses a name no module has, naming the modules', () => {
  assert.throws(() => createDatabase('mongodb', tmpdir()), /Cannot manage db "mongodb": this agent knows etcd/);
  assert.throws(() => createDatabase('__proto__', tmpdir()), RangeError);
});
