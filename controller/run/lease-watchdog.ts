/**
 * A live run's watchdog for lapsed leases. An agent whose lease lapses heals its faults and stops its workload (the
 * controller might be dead). A controller that was only too starved to renew it in time (measured on a loaded
 * 2-core machine: every agent's lease lapsed at once, and their workloads stayed stopped until the final phase, 40 s
 * of main phase without a single operation) is alive again at the next check: it sees the agent's workload
 * `stoppedBy: 'lease'`, waits until every event of the stopped workload is in, and starts it again under process ids
 * nobody used (each original id plus a multiple of the concurrency above every id seen, so ids stay unique across
 * nodes and retirements). The restart is recorded as a controller event `workload-restart` (invoke, then ok with
 * the node, the new processes and the agent's faults then; or info when it could not be started).
 */
import type { Logger } from 'pino';
import type { ControllerEvents } from '../controller-events';
import type { HistoryCollector } from '../history-collector';
import type { AgentClient } from '../rpc/agent-client';
import type { MainProcessHighWater } from './workload-start';

export interface LeaseWatchdogOptions {
  clients: readonly AgentClient[];
  collector: HistoryCollector;
  events: ControllerEvents;
  concurrency: number;
  /** Per client (same order), the main phase's original process ids. */
  mainProcesses: readonly (readonly number[])[];
  /** The highest main-phase process id of the run's events, fed by the collector: new ids go above it. */
  ids: MainProcessHighWater;
  /**
   * Starts the main workload of client `i` under `processes`; `epoch` counts the run's restarts (1, 2, ...: a fresh
   * seed, so that a restarted generator does not replay the same operations).
   */
  start: (i: number, processes: number[], epoch: number) => Promise<void>;
  /** The epoch of the first restart (a resumed run continues its count); 1 by default. */
  firstEpoch?: number;
  /** Called after a restart with the node's processes now and the epoch (for run-state.json). */
  restarted?: (node: string, processes: number[], epoch: number) => void;
  log: Logger;
}

export interface WorkloadRestart {
  node: string;
  processes: number[];
  lastSeq: number;
}

export class LeaseWatchdog {
  readonly #o: LeaseWatchdogOptions;
  readonly restarts: WorkloadRestart[] = [];

  constructor(opts: LeaseWatchdogOptions) {
    this.#o = opts;
  }

  /** Asks every agent how its workload is; restarts those a lapsed lease stopped. Never throws. */
  async check(): Promise<void> {
    const { clients } = this.#o;
    const statuses = await Promise.all(clients.map((c) => c.status(3000).catch(() => undefined)));
    for (const [i, s] of statuses.entries()) {
      const w = s?.workload;
      if (!w || w.state !== 'stopped' || w.stoppedBy !== 'lease') continue;
      try {
        await this.#restart(i, Number(w.lastSeq), s.activeFaults);
      } catch (err) {
        this.#o.log.warn({ err, node: clients[i]!.node.name }, 'could not restart a workload its lapsed lease stopped');
      }
    }
  }

  async #restart(i: number, lastSeq: number, activeFaults: string[]): Promise<void> {
    const { clients, collector, events, concurrency, log } = this.#o;
    const node = clients[i]!.node.name;
    // Every event of the stopped workload first: the new ids must be above every id it used.
    const missing = await collector.waitFor({ [node]: lastSeq }, 10_000);
    if (missing.length > 0) {
      log.warn({ node, lastSeq, missing }, 'a lapsed lease stopped a workload; its events are not all in yet, restart deferred');
      return;
    }
    const shift = (Math.floor(Math.max(this.#o.ids.max, 0) / concurrency) + 1) * concurrency;
    const processes = this.#o.mainProcesses[i]!.map((p) => p + shift);
    log.warn({ node, lastSeq, processes }, 'the agent\'s lease lapsed (it healed its faults and stopped its workload); starting the workload again');
    await events.nemesis('invoke', 'workload-restart', { node });
    try {
      await this.#o.start(i, processes, this.#epoch());
    } catch (err) {
      await events.nemesis('info', 'workload-restart', { node }, `Cannot restart the workload: ${(err as Error).message}`);
      throw err;
    }
    this.#o.ids.raise(processes);
    this.restarts.push({ node, processes, lastSeq });
    await events.nemesis('ok', 'workload-restart', { node, processes, afterSeq: lastSeq, reason: 'the agent\'s lease lapsed: it healed its faults and stopped its workload', activeFaults });
    this.#o.restarted?.(node, processes, this.#epoch() - 1);
  }

  /** The epoch the next restart runs under. */
  #epoch(): number {
    return (this.#o.firstEpoch ?? 1) + this.restarts.length;
  }
}
