import type { Command } from 'commander';
import { runTest, type RunOutcome } from '../../controller/run/run-test';
import { resolveRunOptions, type RunOptions } from '../../controller/run/run-options';
import { exitCodeFor, EXIT } from '../exit-codes';
import { insecureWarning } from '../insecure-warning';
import { cliLogger } from '../logger';
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
    .option('--nodes-file <file>', 'a fleet in YAML: nodes (name, address, agentPort), tls cert paths, nats url and credentials')
    .option('--certs <dir>', 'with a --nodes list: folder with ca.crt, controller.crt, controller.key (faultline certs)')
    .option('--insecure', 'with a --nodes list: plaintext gRPC to agents started with --insecure')
    .option('--lab-prefix <name>', 'which lab, with --nodes lab', 'fl')
    .option('--nats <url>', 'NATS server (default: the lab\'s)')
    .option('--read-consistency <c>', 'linearizable | serializable', 'linearizable')
    .option('--seed <n>', 'random seed (default: random, recorded in plan.json)', num)
    .option('--store <dir>', 'where run folders go', 'store')
    .option('--recovery-time <s>', 'seconds of workload after the final heal', num, 5)
    .option('--op-timeout <ms>', 'client operation timeout; a timed-out op is recorded as info', num, 1500)
    .option('--keys <n>', 'independent keys in use at a time', num, 5)
    .option('--key-period <s>', 'seconds before the workload moves on to fresh keys (bounds each key\'s history)', num, 5)
    .option('--check-time-limit <s>', 'give up checking after this long (verdict unknown)', num, 300);
}

/** Runs a test with SIGINT/SIGTERM turned into an orderly stop, prints the verdict, returns the exit code. */
export async function runAndReport(opts: RunOptions): Promise<{ code: number; outcome: RunOutcome }> {
  const config = resolveRunOptions(opts);
  if (!config.nodes.lab && config.nodes.access.security.kind === 'insecure') insecureWarning('faultline run');
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
  try {
    process.stderr.write(
      `faultline: running ${config.testName} for ${config.timeLimitMs / 1000}s, nemesis ${config.nemesis.join(',') || 'none'}, seed ${config.seed}\n`,
    );
    const outcome = await runTest(config, log, stop.signal);
    process.stdout.write(summarizeVerdict(outcome.verdict, outcome.storeDir));
    return { code: outcome.interrupted ? EXIT.unknown : exitCodeFor(outcome.verdict.valid), outcome };
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

export function registerRunCommand(program: Command): void {
  addRunOptions(program.command('run').description('run one test: workload + nemesis against a real cluster, then check the history')).action(
    async (opts: RunOptions) => {
      process.exitCode = (await runAndReport(opts)).code;
    },
  );
}
