/**
 * Maps the agent's monotonic clock onto the controller's timeline. The controller measures the offset with
 * ping/pong exchanges over the session stream and sends the mapping; every event then carries the mapped time
 * and an uncertainty that covers the exchange's half round trip plus clock drift since the sync, so that a
 * checker never orders two events that might really have happened the other way round.
 */

import { driftAllowanceNanos } from '../core/time/clock-bounds';

/** Monotonic nanoseconds (CLOCK_MONOTONIC): never skewed by clock faults, which only touch DB processes. */
export function monoNanos(): number {
  return Number(process.hrtime.bigint());
}

export interface ClockMappingSample {
  /** Which controller timeline (run) this maps onto. */
  timelineId: string;
  offsetNanos: number;
  uncertaintyNanos: number;
  syncedAtAgentMonoNanos: number;
}

export interface MappedTime {
  timeNanos: number;
  uncertaintyNanos: number;
  agentMonoNanos: number;
}

export class ClockMapper {
  #mapping: ClockMappingSample | undefined;
  #lastTime = -Infinity;

  get synced(): boolean {
    return this.#mapping !== undefined;
  }

  /** The timeline (run id) times are mapped onto, once synced. */
  get timelineId(): string | undefined {
    return this.#mapping?.timelineId;
  }

  /** Takes a new sync. A mapping onto a different timeline (a new run) forgets the old one, clamp included. */
  update(sample: ClockMappingSample): void {
    if (this.#mapping?.timelineId !== sample.timelineId) this.#lastTime = -Infinity;
    this.#mapping = sample;
  }

  /**
   * Maps `mono` onto the controller timeline. Mapped times never go backwards: when a new sync moves the
   * offset back, the time is held at the previous value and the uncertainty grows by the same amount, so the
   * stated interval still contains the true time.
   * @throws Error before the first sync.
   */
  map(mono: number = monoNanos()): MappedTime {
    const m = this.#mapping;
    if (!m) throw new Error('Cannot timestamp an event: no clock sync with the controller yet');
    const raw = mono + m.offsetNanos;
    const drift = driftAllowanceNanos(mono - m.syncedAtAgentMonoNanos);
    let uncertainty = m.uncertaintyNanos + drift;
    let time = raw;
    if (time < this.#lastTime) {
      uncertainty += this.#lastTime - time;
      time = this.#lastTime;
    }
    this.#lastTime = time;
    return { timeNanos: time, uncertaintyNanos: uncertainty, agentMonoNanos: mono };
  }
}
