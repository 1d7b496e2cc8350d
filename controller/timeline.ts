/** The controller's reference timeline for one run: monotonic nanoseconds since the run began. */
export class Timeline {
  readonly originMonoNanos: number;

  /** @param id names the timeline (the run id): agents start a fresh mapping for a new one. */
  constructor(
    readonly id: string,
    originMonoNanos: number = Number(process.hrtime.bigint()),
  ) {
    this.originMonoNanos = originMonoNanos;
  }

  now(): number {
    return Number(process.hrtime.bigint()) - this.originMonoNanos;
  }
}
