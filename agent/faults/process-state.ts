/**
 * What /proc says about a DB process: its scheduler state (`T` while SIGSTOPped) and its command line, so that a
 * process fault is observed on the real process rather than assumed, and so that a restarted agent only signals a
 * pid from its journal when that pid still runs the program it recorded (pids get reused).
 */
import { readFileSync } from 'node:fs';

/** One-letter state from /proc/<pid>/stat (R running, S sleeping, D disk, T stopped, t traced, Z zombie, ...), or undefined when gone. */
export function processState(pid: number | undefined): string | undefined {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself contain ") ", so read the state after the last one.
    return /\)\s+(\S)/.exec(stat.slice(stat.lastIndexOf(')')))?.[1];
  } catch {
    return undefined;
  }
}

/** The process's command line with spaces between arguments, or undefined when it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return undefined;
  }
}

/**
 * Sends `signal` to `pid` only if it is alive and its command line contains `mustContain`. Returns whether it did.
 * A vanished process is not an error: there is nothing left to undo.
 */
export function signalIfOurs(pid: number, signal: NodeJS.Signals, mustContain: string): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  const cmd = commandLine(pid);
  if (cmd === undefined || !cmd.includes(mustContain)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
