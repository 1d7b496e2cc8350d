/**
 * The bound faultline assumes on how fast two monotonic clocks can drift apart, in parts per million. Quartz is
 * well inside 100 ppm; NTP slewing a clock can exceed it, which is why the controller checks the bound at every
 * clock resync (see `clockBoundViolation`) instead of trusting it.
 */
export const MONOTONIC_DRIFT_PPM = 200;

/** Drift allowance, in nanoseconds, for `elapsedNanos` since a sync. */
export function driftAllowanceNanos(elapsedNanos: number): number {
  return Math.ceil((Math.abs(elapsedNanos) * MONOTONIC_DRIFT_PPM) / 1e6);
}

export interface ClockSample {
  offsetNanos: number;
  uncertaintyNanos: number;
  /** The agent's monotonic clock at the sample. */
  atAgentMonoNanos: number;
}

/**
 * Checks a new clock sample against the previous mapping: the previous mapping, widened by the drift allowance,
 * and the new sample must agree on the offset. When they do not, every timestamp stated since the previous sync may
 * be wrong by more than its stated uncertainty. Returns by how much the bound was exceeded (ns), or 0.
 */
export function clockBoundViolation(previous: ClockSample, next: ClockSample): number {
  const allowed = previous.uncertaintyNanos + next.uncertaintyNanos + driftAllowanceNanos(next.atAgentMonoNanos - previous.atAgentMonoNanos);
  return Math.max(0, Math.abs(next.offsetNanos - previous.offsetNanos) - allowed);
}
