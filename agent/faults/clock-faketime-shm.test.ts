import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeGoneFaketimeShmOf } from './clock-faketime';

test('removeGoneFaketimeShmOf removes only the faketime files of that user whose process is gone', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const make = (name: string, uid: number): string => {
    const p = join(dir, name);
    writeFileSync(p, 'x');
    chownSync(p, uid, uid);
    return p;
  };
  const gone = make('faketime_shm_99999999', 4321);
  const goneSem = make('sem.faketime_sem_99999999', 4321);
  const alive = make(`faketime_shm_${process.pid}`, 4321);
  const other = make('faketime_shm_99999998', 4322);
  const unrelated = make('PostgreSQL.1234', 4321);
  assert.deepEqual(removeGoneFaketimeShmOf(4321, dir).sort(), ['faketime_shm_99999999', 'sem.faketime_sem_99999999']);
  assert.ok(!existsSync(gone) && !existsSync(goneSem));
  for (const kept of [alive, other, unrelated]) assert.ok(existsSync(kept), kept);
  assert.deepEqual(removeGoneFaketimeShmOf(0, dir), [], 'never for root');
});
