import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Records the pid of a managed server so that an agent restarted after a crash can find the orphan it left
 * and stop it (resuming it first if it was paused), instead of leaving a stray DB process behind.
 */
export function writePidFile(path: string, pid: number): void {
  writeFileSync(path, `${pid}\n`);
}

/** Kills the process named in the pid file if it is still alive and its command line contains `mustContain`. */
export function killStalePid(path: string, mustContain: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
  rmSync(path, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined; // already gone
  }
  if (!cmdline.includes(mustContain)) return undefined; // the pid was reused by something that is not ours
  try {
    process.kill(pid, 'SIGCONT');
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  return pid;
}
