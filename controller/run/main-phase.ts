/**
 * The main phase's nemesis schedule on the run's timeline: fault and heal alternate, step k due at
 * `start + (k + 1) * interval`, until the end. Because the steps are fixed points of the timeline (not sleeps after
 * each other), a controller that takes a run over (`faultline resume`) continues the same schedule to the same end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { NemesisSchedule } from '../nemesis/nemesis-schedule';
import { describeFault, type RunProgress } from '../progress/run-progress';
import type { Timeline } from '../timeline';

export interface MainPhaseSchedule {
  /** Timeline nanoseconds: when the main phase began and when it ends. */
  startNanos: number;
  endNanos: number;
  intervalMs: number;
  /** The next step to take (0 at the start). */
  nextStep: number;
  /** Whether a fault is in force (the next step heals it) or not (the next step starts one). */
  faulted: boolean;
}

export interface MainPhaseHooks {
  /** Called before a step's nemesis action begins. */
  beforeStep?(step: number, action: 'start' | 'stop'): void;
  /** Called after each step, with the schedule as it then stands. */
  afterStep?(schedule: MainPhaseSchedule): void;
  /**
   * Called every `watchEveryMs` while waiting for the next step, never during a nemesis action (so that what it
   * records cannot interleave with a fault's events): the run's watchdog.
   */
  watch?(): Promise<void>;
  watchEveryMs?: number;
}

/** The first step due after `nowNanos` (a resumed run skips the steps it missed while no controller ran). */
export function nextStepAfter(s: Pick<MainPhaseSchedule, 'startNanos' | 'intervalMs'>, nowNanos: number): number {
  return Math.max(0, Math.floor((nowNanos - s.startNanos) / (s.intervalMs * 1e6)));
}

/**
 * Alternates fault and heal at each due step until the end or an abort. A remainder shorter than an interval is
 * slept through without a new fault, so timer jitter can never add a fault at the very end.
 */
export async function runMainPhase(
  schedule: MainPhaseSchedule,
  timeline: Timeline,
  nemesis: NemesisSchedule | undefined,
  log: Logger,
  signal: AbortSignal,
  progress?: RunProgress,
  hooks: MainPhaseHooks = {},
): Promise<void> {
  let step = schedule.nextStep;
  let faulted = schedule.faulted;
  const intervalNanos = schedule.intervalMs * 1e6;
  while (!signal.aborted) {
    const dueNanos = schedule.startNanos + (step + 1) * intervalNanos;
    const lastStretch = dueNanos > schedule.endNanos;
    const untilNanos = lastStretch ? schedule.endNanos : dueNanos;
    try {
      for (;;) {
        const waitMs = Math.max(0, (untilNanos - timeline.now()) / 1e6);
        const watching = hooks.watch !== undefined && waitMs > (hooks.watchEveryMs ?? 2000);
        await sleep(watching ? (hooks.watchEveryMs ?? 2000) : waitMs, undefined, { signal });
        if (!watching) break;
        await hooks.watch!();
      }
    } catch {
      break;
    }
    if (lastStretch) break;
    if (nemesis) {
      hooks.beforeStep?.(step, faulted ? 'stop' : 'start');
      if (faulted) {
        await nemesis.stop();
        progress?.setFaults([]);
      } else {
        const fault = await nemesis.start();
        log.info({ fault }, 'nemesis');
        progress?.setFaults(nemesis.active === undefined ? [] : [describeFault(nemesis.active, fault)]);
      }
      faulted = !faulted;
    }
    step++;
    hooks.afterStep?.({ ...schedule, nextStep: step, faulted });
  }
}
