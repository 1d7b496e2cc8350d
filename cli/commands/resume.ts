import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { finishRun } from '../../controller/run/run-finish';
import { exitCodeFor } from '../exit-codes';
import { cliLogger } from '../logger';
import { summarizeVerdict } from '../verdict-summary';

/** `faultline resume RUN_DIR --finish`: finish a run whose controller died. */
export function registerResumeCommand(program: Command): void {
  program
    .command('resume <run-dir>')
    .description("finish a run whose controller died: with --finish, drain what JetStream and the agents' spools hold, tear the cluster down, build the history and check it")
    .option('--finish', 'finish the run offline (required: reattaching to a live run to continue it is not built yet)')
    .option('--nats <url>', 'NATS server or cluster (nats://a,nats://b,nats://c) instead of the one in plan.json')
    .option('--drain-timeout <s>', 'seconds to wait for every event up to each agent\'s last sequence number', (v) => Number(v), 90)
    .action(async (runDir: string, opts: { finish?: boolean; nats?: string; drainTimeout: number }) => {
      if (!opts.finish) throw new UsageError(`Cannot resume "${runDir}": continuing a run under a new controller is not built yet; "faultline resume ${runDir} --finish" finishes it offline`);
      if (!Number.isFinite(opts.drainTimeout) || opts.drainTimeout <= 0) throw new UsageError('Cannot finish the run: --drain-timeout must be a positive number of seconds');
      const outcome = await finishRun(runDir, { ...(opts.nats ? { natsUrl: opts.nats } : {}), drainTimeoutMs: opts.drainTimeout * 1000 }, cliLogger());
      process.stderr.write(`faultline: finished ${runDir}: ${outcome.hadEvents} events were on disk, ${outcome.drainedEvents} drained from JetStream and the agents' spools\n`);
      process.stdout.write(summarizeVerdict(outcome.verdict, outcome.storeDir));
      process.exitCode = exitCodeFor(outcome.verdict.valid);
    });
}
