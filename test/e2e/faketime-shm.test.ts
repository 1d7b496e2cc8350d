/**
 * libfaketime's shared-memory leftovers. A process under libfaketime that dies by kill -9 leaves
 * `/dev/shm/faketime_shm_<pid>` and `/dev/shm/sem.faketime_sem_<pid>` (glibc keeps named semaphores with a
 * `sem.` prefix). The agent's cleanup must remove both, and the suite's leftover check must see both: before,
 * both looked only for `faketime_*`, so the semaphores piled up and the check passed anyway.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { faketimeEnv, findLibfaketime, removeFaketimeShm } from '../../agent/faults/clock-faketime';
import { faketimeShmLeftovers } from '../support/leftovers';
import { tempDir } from '../support/processes';

test('a kill -9ed process under libfaketime leaves faketime_shm and sem.faketime_sem files: the leftover check sees both, removeFaketimeShm removes both', { timeout: 30_000 }, async (t) => {
  if (findLibfaketime() === undefined) return t.skip('libfaketime is not installed (apt-get install -y faketime)');
  const dir = tempDir(t, 'faketime-shm-');
  const child = spawn(process.execPath, ['-e', 'setInterval(() => Date.now(), 50)'], { env: faketimeEnv(`${dir}/offset`), stdio: 'ignore' });
  const pid = child.pid!;
  const files = [`/dev/shm/faketime_shm_${pid}`, `/dev/shm/sem.faketime_sem_${pid}`];
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const f of files) rmSync(f, { force: true });
  });
  const deadline = Date.now() + 10_000;
  while (!files.every((f) => existsSync(f)) && Date.now() < deadline) await sleep(20);
  for (const f of files) assert.ok(existsSync(f), `${f} was not created by libfaketime`);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  // Gone process, files still there: exactly what a kill fault leaves.
  for (const f of files) assert.ok(existsSync(f), `${f} vanished on its own`);
  const seen = faketimeShmLeftovers();
  for (const f of files) assert.ok(seen.includes(`${f} of a process that is gone`), `the leftover check misses ${f}: ${seen.join(', ')}`);
  assert.deepEqual(removeFaketimeShm(pid).sort(), [`faketime_shm_${pid}`, `sem.faketime_sem_${pid}`]);
  for (const f of files) assert.ok(!existsSync(f), `${f} left after removeFaketimeShm`);
  assert.ok(!faketimeShmLeftovers().some((l) => l.includes(`_${pid} `)));
});

test('removeFaketimeShm touches only the files of the pid it is given', (t) => {
  const dir = tempDir(t, 'fake-shm-');
  const names = ['faketime_shm_4242', 'sem.faketime_sem_4242', 'faketime_shm_4243', 'sem.faketime_sem_4243', 'sem.other_4242', 'faketime_shm_42421'];
  for (const n of names) writeFileSync(`${dir}/${n}`, '');
  assert.deepEqual(removeFaketimeShm(4242, dir).sort(), ['faketime_shm_4242', 'sem.faketime_sem_4242']);
  for (const n of names.slice(2)) assert.ok(existsSync(`${dir}/${n}`), `${n} removed`);
});
