/**
 * The `faketime` clock strategy: the DB process runs with Debian's libfaketime preloaded and reads its offset from
 * a timestamp file that we rewrite at run time (libfaketime re-reads it at most once a second). Only the DB
 * process is shifted: the agent, its events and the host clock are untouched. libfaketime wraps libc's clock
 * calls, so it reaches C programs and Node, but not Go programs (etcd, nats-server), which read the clock through
 * the vDSO; a DB module says which of the two it is.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where Debian's `faketime` package puts the preload library. */
export const LIBFAKETIME_PATHS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
];

/** Why libfaketime cannot reach a Go program, in the words `faultline fault clock` and the run print. */
export const GO_CLOCK_REFUSAL =
  'is a Go program: libfaketime cannot shift its clock; use --clock-strategy system on dedicated VMs';

/** The installed libfaketime, or undefined. */
export function findLibfaketime(): string | undefined {
  return LIBFAKETIME_PATHS.find((p) => existsSync(p));
}

/**
 * The environment a DB process needs to run under libfaketime with its offset read from `timestampFile`
 * (created with a zero offset if missing). `FAKETIME_DONT_FAKE_MONOTONIC=1`: moving the offset backwards must not
 * freeze the process's timers; `FAKETIME_CACHE_DURATION=1`: a new offset is seen within a second without the
 * 100x cost of no cache. The variables go straight into the spawned process's environment (as `env` would), not
 * through the forking `faketime` wrapper, so the pid we hold is the server's.
 * @throws Error when libfaketime is not installed.
 */
export function faketimeEnv(timestampFile: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const lib = findLibfaketime();
  if (lib === undefined) throw new Error('Cannot run under libfaketime: it is not installed (apt-get install -y faketime)');
  if (!existsSync(timestampFile)) writeOffsetFile(timestampFile, 0);
  const preload = base['LD_PRELOAD'] ? `${lib}:${base['LD_PRELOAD']}` : lib;
  return {
    ...base,
    LD_PRELOAD: preload,
    FAKETIME_TIMESTAMP_FILE: timestampFile,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
    FAKETIME_CACHE_DURATION: '1',
  };
}

/** libfaketime's relative offset syntax: a signed number of seconds, e.g. `+60.000`, `-0.250`. */
export function formatOffset(offsetMs: number): string {
  if (!Number.isFinite(offsetMs)) throw new RangeError(`Cannot set a clock offset of ${String(offsetMs)} ms`);
  const sign = offsetMs < 0 ? '-' : '+';
  return `${sign}${(Math.abs(offsetMs) / 1000).toFixed(3)}`;
}

/** Parses what `formatOffset` writes back into milliseconds. @throws RangeError on anything else. */
export function parseOffset(text: string): number {
  const m = /^([+-])(\d+(?:\.\d+)?)\s*$/.exec(text.trim());
  if (!m) throw new RangeError(`Cannot read a faketime offset from "${text.trim()}"`);
  const ms = Math.round(Number(m[2]) * 1000);
  return m[1] === '-' ? -ms : ms;
}

/** Writes the offset atomically (temp file, then rename): libfaketime must never read half a file. */
export function writeOffsetFile(path: string, offsetMs: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${formatOffset(offsetMs)}\n`);
  renameSync(tmp, path);
}

/** The offset in the file, 0 when there is no file. */
export function readOffsetFile(path: string): number {
  if (!existsSync(path)) return 0;
  return parseOffset(readFileSync(path, 'utf8'));
}

/**
 * The shared-memory files libfaketime makes for a process, named after its pid: `faketime_shm_<pid>` (shm_open)
 * and `sem.faketime_sem_<pid>` (a POSIX named semaphore, which glibc keeps in /dev/shm with a `sem.` prefix).
 */
export const FAKETIME_SHM_FILE = /^(?:sem\.)?faketime_[a-z]+_(\d+)$/;

/**
 * Removes the shared-memory files libfaketime may leave in /dev/shm for `pid` (see FAKETIME_SHM_FILE) once that
 * process is gone. Touches no other process's files. Returns what it removed.
 */
/**
 * Removes the libfaketime shm files of processes that ran as OS user `uid` and are gone. For a server that runs under
 * its own user and execs helpers under libfaketime (mariadbd's Galera state-transfer scripts, rsync, ...): their pids
 * are never known to the agent, and libfaketime leaves their files when they end without running its destructor.
 * Only faketime files of that user whose process no longer exists are touched.
 */
export function removeGoneFaketimeShmOf(uid: number, shmDir = '/dev/shm'): string[] {
  if (!Number.isInteger(uid) || uid <= 0 || !existsSync(shmDir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(shmDir)) {
    const m = FAKETIME_SHM_FILE.exec(name);
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    try {
      if (statSync(`${shmDir}/${name}`).uid !== uid) continue;
      rmSync(`${shmDir}/${name}`, { force: true });
      removed.push(name);
    } catch {
      // Removed by someone else meanwhile: nothing left to do.
    }
  }
  return removed;
}

export function removeFaketimeShm(pid: number, shmDir = '/dev/shm'): string[] {
  if (!Number.isInteger(pid) || pid <= 1 || !existsSync(shmDir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(shmDir)) {
    const m = FAKETIME_SHM_FILE.exec(name);
    if (m && Number(m[1]) === pid) {
      rmSync(`${shmDir}/${name}`, { force: true });
      removed.push(name);
    }
  }
  return removed;
}
