import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { RunProgress } from '../../controller/progress/run-progress';
import { finishRun } from '../../controller/run/run-finish';
import { readResumable, resumeRun, type Recovery } from '../../controller/run/run-resume';
import { exitCodeFor, EXIT } from '../exit-codes';
import { cliLogger } from '../logger';
import { ProgressPrinter } from '../progress-printer';
import { summarizeVerdict } from '../verdict-summary';

function describeRecovery(r: Recovery): string {
  const leases = Object.entries(r.leases).map(([n, l]) => `${n} ${l}`).join(', ');
  const healed = Object.entries(r.healedByAgents).map(([n, ids]) => `${n}: ${ids.join(' ')}`).join('; ');
  const restarted = Object.keys(r.workloadsRestarted);
  return [
    `controller pid ${r.previousController.pid} last recorded ${(r.downMs / 1000).toFixed(1)}s before`,
    `reattached ${r.reattached.join(',') || 'no agent'}${r.unreachable.length > 0 ? ` (unreachable: ${r.unreachable.join(',')})` : ''}`,
    `leases: ${leases || 'none'}`,
    ...(healed ? [`healed by the agents meanwhile: ${healed}`] : []),
    ...(restarted.length > 0 ? [`workloads restarted on ${restarted.join(',')}`] : []),
    ...(r.interruptedAction ? [`interrupted nemesis action ${r.interruptedAction.f ?? r.interruptedAction.action} completed as info and healed`] : []),
    `consumer ${r.consumer.consumer}${r.consumer.fromStreamSeq !== undefined ? ` from stream seq ${r.consumer.fromStreamSeq}` : ' made anew'}`,
    `${r.eventsOnDisk} events were on disk`,
  ].join('; ');
}

/** `faultline resume RUN_DIR [--finish]`: continue a run whose controller died, or finish it offline. */
export function registerResumeCommand(program: Command): void {
  program
    .command('resume <run-dir>')
    .description(
      "continue a run whose controller died: reattach to its agents (taking their leases back), its JetStream consumer and its schedule, and run it to its original end; with --finish, drain what JetStream and the agents' spools hold, tear the cluster down, build the history and check it instead",
    )
    .option('--finish', 'finish the run offline instead of continuing it')
    .option('--nats <url>', 'NATS server or cluster (nats://a,nats://b,nats://c) instead of the one in plan.json')
    .option('--drain-timeout <s>', 'with --finish: seconds to wait for every event up to each agent\'s last sequence number', (v) => Number(v), 90)
    .action(async (runDir: string, opts: { finish?: boolean; nats?: string; drainTimeout: number }) => {
      const log = cliLogger();
      if (opts.finish) {
        if (!Number.isFinite(opts.drainTimeout) || opts.drainTimeout <= 0) throw new UsageError('Cannot finish the run: --drain-timeout must be a positive number of seconds');
        const outcome = await finishRun(runDir, { ...(opts.nats ? { natsUrl: opts.nats } : {}), drainTimeoutMs: opts.drainTimeout * 1000 }, log);
        process.stderr.write(`faultline: finished ${runDir}: ${outcome.hadEvents} events were on disk, ${outcome.drainedEvents} drained from JetStream and the agents' spools\n`);
        process.stdout.write(summarizeVerdict(outcome.verdict, outcome.storeDir));
        process.exitCode = exitCodeFor(outcome.verdict.valid);
        return;
      }
      const { plan } = readResumable(runDir); // one line and 254 before anything starts: finished, alive, ...
      const stop = new AbortController();
      const onSignal = (sig: string) => () => {
        if (!stop.signal.aborted) process.stderr.write(`faultline: ${sig}: stopping the run and undoing all faults...\n`);
        stop.abort(new Error(sig));
      };
      const onInt = onSignal('SIGINT');
      const onTerm = onSignal('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      const progress = new RunProgress(plan.timeLimitMs);
      const printer = new ProgressPrinter(process.stderr, progress, { tty: process.stderr.isTTY === true, columns: process.stderr.columns || 120 });
      printer.start();
      try {
        const outcome = await resumeRun(runDir, opts.nats ? { natsUrl: opts.nats } : {}, log, stop.signal, progress);
        printer.stop();
        if (outcome.recovery) process.stderr.write(`faultline: resumed ${runDir}: ${describeRecovery(outcome.recovery)}\n`);
        else if (outcome.finished) process.stderr.write(`faultline: ${runDir} had reached its collection; finished it as --finish does\n`);
        process.stdout.write(summarizeVerdict(outcome.verdict, outcome.storeDir));
        process.exitCode = outcome.interrupted ? EXIT.unknown : exitCodeFor(outcome.verdict.valid);
      } finally {
        printer.stop();
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      }
    });
}
