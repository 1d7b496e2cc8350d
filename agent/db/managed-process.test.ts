/**
 * ManagedProcess with a real process under a real libfaketime: a DB process that ends without running libfaketime's
 * destructor (here it SIGKILLs itself, as a member that dies on its own would) leaves no /dev/shm file behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { faketimeEnv, findLibfaketime } from '../faults/clock-faketime';
import { ManagedProcess } from './managed-process';

function shmOf(pid: number): string[] {
  return readdirSync('/dev/shm').filter((n) => n === `faketime_shm_${pid}` || n === `sem.faketime_sem_${pid}`);
}

test('a process under libfaketime that dies on its own leaves no shm file once it is reaped', { skip: findLibfaketime() === undefined ? 'libfaketime is not installed' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fl-managed-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // `date` first makes libfaketime set up its shared memory; then the shell SIGKILLs itself: no destructor runs.
  const proc = new ManagedProcess({ command: 'sh', args: ['-c', 'date >/dev/null; sleep 0.3; kill -9 $$'], env: faketimeEnv(join(dir, 'offset')), logFile: join(dir, 'log'), stopGraceMs: 1000 });
  const pid = await proc.start();
  t.after(() => {
    for (const n of shmOf(pid)) rmSync(join('/dev/shm', n), { force: true });
  });
  await sleep(150);
  assert.ok(shmOf(pid).length > 0, `libfaketime made its files for ${pid} while it ran`);
  const deadline = Date.now() + 5000;
  while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await sleep(20);
  await sleep(50); // the exit is handled on the next turn of the event loop
  assert.equal(proc.state, 'stopped');
  assert.deepEqual(shmOf(pid), [], 'its shm files are gone with it');
});
