/**
 * Online checking for a run, set up the same way by `run` and `resume`: the workload's checkers, the run's key
 * period and timeline, alerts on NATS, anomalies counted on the progress line. Started before it is returned.
 */
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { Workload } from '../../core/workloads/workload';
import { OnlineCheck } from '../online/online-check';
import type { RunProgress } from '../progress/run-progress';
import type { Timeline } from '../timeline';
import type { RunConfig } from './run-options';

export interface RunOnlineContext {
  config: RunConfig;
  workload: Workload;
  runId: string;
  /** The client nodes whose events the watermark waits for. */
  nodes: readonly string[];
  timeline: Timeline;
  runDir: string;
  nc: NatsConnection;
  log: Logger;
  progress: RunProgress | undefined;
  /** A resumed run: lag counts from this time on (see OnlineCheckOptions.lagFromNanos). */
  lagFromNanos?: number;
}

export function startOnlineCheck(ctx: RunOnlineContext): OnlineCheck {
  const { config, progress } = ctx;
  const online = new OnlineCheck({
    runId: ctx.runId,
    nodes: ctx.nodes,
    uses: ctx.workload.checkers({ keyCount: config.keyCount, keyPeriodNanos: config.keyPeriodMs * 1e6 }),
    keyPeriodNanos: config.keyPeriodMs * 1e6,
    windowTimeLimitMs: Math.min(config.checkTimeLimitMs, 30_000),
    now: () => ctx.timeline.now(),
    runDir: ctx.runDir,
    nc: ctx.nc,
    log: ctx.log.child({ component: 'online' }),
    onAnomalies: (n) => progress?.setAnomalies(n),
    ...(ctx.lagFromNanos !== undefined ? { lagFromNanos: ctx.lagFromNanos } : {}),
  });
  if (online.active) progress?.setAnomalies(0);
  online.start();
  return online;
}
