/**
 * What node `i` of a run is told to run, by `run`, by `resume` and by the lease watchdog alike. A restart (`epoch` >
 * 0: a resumed run's, or a lapsed lease's) gets a seed of its own, so that a restarted generator does not replay the
 * same operations.
 */
import type { WorkloadStart } from '../rpc/agent-client';
import type { RunConfig } from './run-options';

export function workloadStartFor(config: RunConfig, runId: string, i: number, phase: 'main' | 'final', processes: number[], epoch = 0): WorkloadStart {
  return {
    runId,
    workload: config.workload,
    db: config.db,
    processes,
    concurrency: config.concurrency,
    rateHz: (config.rateHz * processes.length) / config.concurrency,
    seed: (config.seed + i * 7919 + (phase === 'final' ? 104_729 : 0) + epoch * 15_485_863) >>> 0,
    opTimeoutMs: config.opTimeoutMs,
    keyCount: config.keyCount,
    keyPeriodMs: config.keyPeriodMs,
    dbOptions: config.dbOptions,
    phase,
  };
}

/** The highest main-phase process id among a run's events so far (ids from `ceiling` on are the final phase's). */
export class MainProcessHighWater {
  max = -1;

  constructor(private readonly ceiling: number) {}

  /** Every event as it is written (the collector's hook), those already on disk included. */
  seen(ev: { process: number }): void {
    if (ev.process >= 0 && ev.process < this.ceiling && ev.process > this.max) this.max = ev.process;
  }

  /** Ids just handed out, before any event of theirs arrived. */
  raise(ids: readonly number[]): void {
    for (const p of ids) if (p < this.ceiling && p > this.max) this.max = p;
  }
}
