/**
 * Finds and stops the processes that live in a lab namespace. Deleting a namespace's name does not stop what runs
 * in it, so the lab kills those processes first: SIGTERM, then SIGKILL after a grace period.
 */
import { rmSync } from 'node:fs';
import { readdir, readlink, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where `ip netns` keeps a named namespace. */
export function namespacePath(namespace: string): string {
  return `/run/netns/${namespace}`;
}

/**
 * The pids whose network namespace is `namespace` (what `ip netns pids` prints), found by comparing each
 * `/proc/PID/ns/net` with the namespace's inode. Empty when the namespace does not exist.
 */
export async function namespacePids(namespace: string): Promise<number[]> {
  let inode: bigint;
  try {
    inode = (await stat(namespacePath(namespace), { bigint: true })).ino;
  } catch (err) {
    if (isCode(err, 'ENOENT')) return [];
    throw err;
  }
  const wanted = `net:[${inode}]`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readlink(`/proc/${entry}/ns/net`)) === wanted) pids.push(Number(entry));
    } catch (err) {
      // The process exited while we looked, or is a kernel thread without a namespace link: not ours to stop.
      if (!isCode(err, 'ENOENT') && !isCode(err, 'EACCES') && !isCode(err, 'ESRCH')) throw err;
    }
  }
  return pids;
}

/**
 * Stops every process in `namespace`: SIGTERM, up to `graceMs` to exit, then SIGKILL, then up to `killWaitMs` for
 * the kernel to reap them. Each signal goes only to pids just re-read from /proc as living in that namespace.
 * Resolves with the pids still there at the end (normally none).
 * @throws Error when the calling process itself lives in the namespace (it would kill itself).
 */
export async function stopNamespaceProcesses(
  namespace: string,
  opts: { graceMs: number; killWaitMs?: number },
): Promise<number[]> {
  let pids = await namespacePids(namespace);
  if (pids.includes(process.pid)) {
    throw new Error(`Cannot stop the processes in namespace "${namespace}": this process (${process.pid}) runs in it`);
  }
  if (pids.length === 0) return [];
  const stopped = pids;
  signalAll(pids, 'SIGTERM');
  signalAll(pids, 'SIGCONT'); // a stopped (paused) process only acts on SIGTERM once continued
  pids = await waitUntilEmpty(namespace, opts.graceMs);
  if (pids.length > 0) {
    signalAll(pids, 'SIGKILL');
    pids = await waitUntilEmpty(namespace, opts.killWaitMs ?? 5000);
  }
  removeFaketimeFilesOf(stopped.filter((p) => !pids.includes(p)));
  return pids;
}

/**
 * libfaketime keeps a shared-memory file and a semaphore per process (`/dev/shm/faketime_shm_<pid>`,
 * `sem.faketime_sem_<pid>`; the agent's agent/faults/clock-faketime.ts knows the same names) and removes them only
 * on a clean exit. A lab taken down after a failed test kills its DB members directly, so their files go here, by
 * the pids this call stopped.
 */
function removeFaketimeFilesOf(pids: readonly number[]): void {
  for (const pid of pids) for (const name of [`faketime_shm_${pid}`, `sem.faketime_sem_${pid}`]) rmSync(`/dev/shm/${name}`, { force: true });
}

async function waitUntilEmpty(namespace: string, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pids = await namespacePids(namespace);
    if (pids.length === 0 || Date.now() >= deadline) return pids;
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if (!isCode(err, 'ESRCH')) throw err; // already gone
    }
  }
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}
