/**
 * `run-state.json`: what a new controller needs to take a run over after its controller died (`faultline resume`).
 * The running controller rewrites it atomically (temp file, fsync, rename) at every phase change and nemesis step:
 * who runs the run (pid, its process start time, the machine's boot id), the run's timeline origin, the durable
 * consumer, the lease, where the main phase's schedule stands (its start, end and next step, the nemesis's seeded
 * state, the fault in force and a step in progress), and which processes each node runs.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import type { NemesisSnapshot } from '../nemesis/nemesis-schedule';

export const RUN_STATE_FILE = 'run-state.json';

/** The phases of a run, as `RunProgress` names them. */
export type RunStatePhase = 'setting up' | 'running' | 'healing' | 'recovering' | 'final' | 'collecting' | 'checking' | 'done';

export interface ControllerIdentity {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22): tells a reused pid apart. */
  startTicks: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id: the monotonic clock (and so the run's timeline) is only shared within one boot. */
  bootId: string;
  startedAtMs: number;
}

export interface RunState {
  version: 1;
  runId: string;
  controller: ControllerIdentity;
  /** The controllers that ran the run before this one (the first, and every resumed one that died). */
  previousControllers: ControllerIdentity[];
  /** process.hrtime of the run's timeline zero, in nanoseconds: a resumed controller continues the same timeline. */
  timelineOriginMonoNanos: number;
  /** The run's durable JetStream consumer. */
  consumer: string;
  leaseMs: number;
  phase: RunStatePhase;
  /** The main phase's schedule on the run's timeline: step k (0, 1, ...) is due at `startNanos + (k + 1) * intervalMs`. */
  main?: { startNanos: number; endNanos: number; intervalMs: number; nextStep: number; faulted: boolean };
  nemesis?: NemesisSnapshot;
  /** A nemesis action begun and not finished (its invoke may be in the history without its completion). */
  nemesisInFlight?: { action: 'start' | 'stop' | 'heal'; step: number };
  /** The initial process ids each node's current workload phase runs, and that phase. */
  workload?: { phase: 'main' | 'final'; processes: Record<string, number[]>; epoch: number };
  updatedAtMs: number;
}

/** This process as a run's controller. */
export function currentController(): ControllerIdentity {
  return { pid: process.pid, startTicks: processStartTicks(process.pid) ?? 0, host: hostname(), bootId: bootId(), startedAtMs: Date.now() };
}

export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return ''; // not Linux: the resume then cannot prove it shares the clock and refuses
  }
}

/** Field 22 of /proc/PID/stat (after the parenthesised command, which may hold spaces), or undefined when gone. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** Whether the controller `c` still runs on this machine (same boot, same pid and process start time). */
export function controllerAlive(c: ControllerIdentity): boolean {
  if (c.bootId !== bootId() || c.host !== hostname()) return false;
  const ticks = processStartTicks(c.pid);
  return ticks !== undefined && ticks === c.startTicks;
}

/** Reads a run folder's run-state.json, or undefined when there is none. @throws SyntaxError when it is not JSON. */
export function readRunState(path: string): RunState | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as RunState;
}

/** Keeps run-state.json current: every change is written at once, atomically. */
export class RunStateWriter {
  #state: RunState;

  constructor(
    private readonly path: string,
    initial: Omit<RunState, 'version' | 'updatedAtMs'>,
  ) {
    this.#state = { version: 1, ...initial, updatedAtMs: Date.now() };
    this.#write();
  }

  get state(): Readonly<RunState> {
    return this.#state;
  }

  /** Sets the fields of `patch` and drops those named in `drop` (a nemesis step that finished), in one write. */
  update(patch: Partial<Omit<RunState, 'version' | 'updatedAtMs'>>, drop: ('nemesisInFlight' | 'main' | 'nemesis' | 'workload')[] = []): void {
    const next: RunState = { ...this.#state, ...patch, updatedAtMs: Date.now() };
    for (const k of drop) delete next[k];
    this.#state = next;
    this.#write();
  }

  #write(): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, `${JSON.stringify(this.#state, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
