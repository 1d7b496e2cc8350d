import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findDatabase } from '../../core/databases';
import { createDatabase } from './registry';

test('the SQL modules implement exactly their specs: the same spec object, a client for every workload, and nothing else', () => {
  for (const name of ['postgres', 'mariadb', 'galera']) {
    const db = createDatabase(name, '/nonexistent');
    assert.equal(db.name, name);
    assert.equal(db.spec, findDatabase(name));
    assert.deepEqual(Object.keys(db.clients).sort(), [...db.spec.workloads].sort());
    assert.deepEqual(Object.keys(db.spec.statements ?? {}).sort(), [...db.spec.workloads].sort(), `${name} records its statements for every workload`);
    assert.ok(db.spec.options['isolation'], `${name} has an isolation option`);
    // Not set up: no server, nothing to signal.
    assert.equal(db.state(), 'not-set-up');
    assert.equal(db.pid(), undefined);
  }
});
