import type { Command } from 'commander';
import { RunProgress } from '../../controller/progress/run-progress';
import { runTest, type RunOutcome } from '../../controller/run/run-test';
import { resolveRunOptions, type RunOptions } from '../../controller/run/run-options';
import { exitCodeFor, EXIT } from '../exit-codes';
import { cliLogger } from '../logger';
import { ProgressPrinter } from '../progress-printer';
import { runJson } from '../run-json';
import { summarizeVerdict } from '../verdict-summary';

const num = (v: string) => Number(v);

/** Adds the options shared by `run` and `demo`. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--db <name>', 'database: etcd', 'etcd')
    .option('--workload <name>', 'workload: register', 'register')
    .option('--time-limit <s>', 'seconds of workload under faults', num, 60)
    .option('--concurrency <n>', 'client processes over all nodes', num, 10)
    .option('--rate <hz>', 'operations per second over all nodes', num, 100)
    .option('--nemesis <kinds>', 'faults: none, or a mix of partition,kill,pause,clock,loss,rate,delay (rotated; delay needs netem)', 'partition')
    .option('--nemesis-interval <s>', 'seconds between fault and heal', num, 10)
    .option('--partition-shape <shape>', 'random-halves | halves | isolate | minority-third | majorities-ring | bridge', 'random-halves')
    .option('--partition-target <node>', 'node to cut off with --partition-shape isolate (default: random)')
    .option('--clock-strategy <s>', 'clock faults: faketime (DB under libfaketime; not etcd) | system (node clock; dedicated VMs only)', 'faketime')
    .option('--nodes <spec>', '"lab", or NAME=HOST:PORT,... of running agents', 'lab')
    .option('--lab-prefix <name>', 'which lab, with --nodes lab', 'fl')
    .option('--nats <url>', 'NATS server (default: the lab\'s)')
    .option('--read-consistency <c>', 'linearizable | serializable', 'linearizable')
    .option('--seed <n>', 'random seed (default: random, recorded in plan.json)', num)
    .option('--store <dir>', 'where run folders go', 'store')
    .option('--recovery-time <s>', 'seconds of workload after the final heal', num, 5)
    .option('--op-timeout <ms>', 'client operation timeout; a timed-out op is recorded as info', num, 1500)
    .option('--keys <n>', 'independent keys in use at a time', num, 5)
    .option('--key-period <s>', 'seconds before the workload moves on to fresh keys (bounds each key\'s history)', num, 5)
    .option('--check-time-limit <s>', 'give up checking after this long (verdict unknown)', num, 300)
    .option('--json', 'print one JSON object on stdout at the end (verdict, checks, counts, folder); progress and logs go to stderr');
}

/** Runs a test with SIGINT/SIGTERM turned into an orderly stop, prints the verdict, returns the exit code. */
export async function runAndReport(opts: RunOptions & { json?: boolean }): Promise<{ code: number; outcome: RunOutcome }> {
  const config = resolveRunOptions(opts);
  const log = cliLogger();
  const stop = new AbortController();
  const onSignal = (sig: string) => () => {
    if (!stop.signal.aborted) process.stderr.write(`faultline: ${sig}: stopping the run and undoing all faults...\n`);
    stop.abort(new Error(sig));
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  // Live progress on stderr (a status line on a terminal, plain lines otherwise). The run is announced only once
  // its nodes answered and had what it needs, so a lab that is down fails before any "running" line.
  const progress = new RunProgress(config.timeLimitMs);
  const printer = new ProgressPrinter(process.stderr, progress, { tty: process.stderr.isTTY === true, columns: process.stderr.columns || 120 });
  progress.once('phase', () =>
    printer.note(`faultline: running ${config.testName} for ${config.timeLimitMs / 1000}s, nemesis ${config.nemesis.join(',') || 'none'}, seed ${config.seed}`),
  );
  printer.start();
  try {
    const outcome = await runTest(config, log, stop.signal, progress);
    printer.stop();
    const summary = summarizeVerdict(outcome.verdict, outcome.storeDir);
    if (opts.json) {
      process.stderr.write(summary);
      process.stdout.write(`${JSON.stringify(runJson(outcome))}\n`);
    } else {
      process.stdout.write(summary);
    }
    return { code: outcome.interrupted ? EXIT.unknown : exitCodeFor(outcome.verdict.valid), outcome };
  } finally {
    printer.stop();
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

export function registerRunCommand(program: Command): void {
  addRunOptions(program.command('run').description('run one test: workload + nemesis against a real cluster, then check the history')).action(
    async (opts: RunOptions & { json?: boolean }) => {
      process.exitCode = (await runAndReport(opts)).code;
    },
  );
}
