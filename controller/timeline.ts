/** The controller's reference timeline for one run: monotonic nanoseconds since the run began. */
export class Timeline {
  readonly originMonoNanos: number;

  constructor(originMonoNanos: number = Number(process.hrtime.bigint())) {
    this.originMonoNanos = originMonoNanos;
  }

  now(): number {
    return Number(process.hrtime.bigint()) - this.originMonoNanos;
  }
}
