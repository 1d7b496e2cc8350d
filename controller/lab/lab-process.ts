import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when `pid` is alive and its command line contains every string in `mustContain` (guards against pid reuse). */
export function isOurProcess(pid: number | undefined, mustContain: string[]): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 1) return false;
  let cmdline: string;
  let stat: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  if (/\) Z /.test(stat)) return false; // a zombie has exited already
  return mustContain.every((s) => cmdline.includes(s));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Only for pids we started. */
export async function terminate(pid: number, mustContain: string[], graceMs: number): Promise<void> {
  if (!isOurProcess(pid, mustContain)) return;
  signal(pid, 'SIGCONT');
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isOurProcess(pid, mustContain) && Date.now() < deadline) await sleep(50);
  if (isOurProcess(pid, mustContain)) {
    signal(pid, 'SIGKILL');
    while (isOurProcess(pid, mustContain)) await sleep(20);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
