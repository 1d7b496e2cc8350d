import type { Command } from 'commander';
import { RunProgress } from '../../controller/progress/run-progress';
import { CHECKER_NAMES } from '../../core/checker/registry';
import { DATABASES, supportedPairs } from '../../core/databases';
import { WORKLOADS } from '../../core/workloads';
import { readPlanFile, readReplay } from '../../controller/run/plan-file';
import { runTest, type RunOutcome } from '../../controller/run/run-test';
import { DBS, ISOLATION_LEVELS, NEMESIS_TARGETS, PARTITION_SHAPES, resolveRunOptions, type RunConfig, type RunOptions } from '../../controller/run/run-options';
import { exitCodeFor, EXIT } from '../exit-codes';
import { insecureWarning } from '../insecure-warning';
import { cliLogger } from '../logger';
import { ProgressPrinter } from '../progress-printer';
import { runJson } from '../run-json';
import { summarizeVerdict } from '../verdict-summary';

const num = (v: string) => Number(v);

/** Adds the options shared by `run` and `demo`. */
export function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--db <name>', `database: ${DBS.join(' | ')}`, 'etcd')
    .option('--workload <name>', `workload: ${[...WORKLOADS.keys()].join(' | ')} (pairs with a client: ${supportedPairs().join(', ')})`, 'register')
    .option('--db-opt <key=value>', 'a database option (repeatable; see "Databases" below)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--isolation <level>', `transaction isolation: ${ISOLATION_LEVELS.join(' | ')} (SQL databases; the same as --db-opt isolation=...)`)
    .option('--time-limit <s>', 'seconds of workload under faults', num, 60)
    .option('--concurrency <n>', 'client processes over all nodes', num, 10)
    .option('--rate <hz>', 'operations per second over all nodes', num, 100)
    .option('--nemesis <kinds>', 'faults: none, or a mix of partition,kill,pause,clock,loss,rate,delay (rotated; delay needs netem)', 'partition')
    .option('--nemesis-interval <s>', 'seconds between fault and heal', num, 10)
    .option('--partition-shape <shape>', PARTITION_SHAPES.join(' | '), 'random-halves')
    .option('--partition-target <node>', 'with isolate/bridge/one-way/minority-third: a node name, or "primary" (the primary when the fault starts); default random')
    .option('--nemesis-target <t>', `whom kill, pause and clock faults hit: ${NEMESIS_TARGETS.join(' | ')} (default: a rotation of one/minority/majority/all/primaries; clock faults choose among the nodes that run a DB server)`)
    .option('--clock-strategy <s>', 'clock faults: faketime (DB under libfaketime; not etcd) | system (node clock; dedicated VMs only)', 'faketime')
    .option('--nodes <spec>', '"lab", or NAME=HOST:PORT,... of running agents', 'lab')
    .option('--nodes-file <file>', 'a fleet in YAML: nodes (name, address, agentPort), tls cert paths, nats url and credentials')
    .option('--certs <dir>', 'with a --nodes list: folder with ca.crt, controller.crt, controller.key (faultline certs)')
    .option('--insecure', 'with a --nodes list: plaintext gRPC to agents started with --insecure')
    .option('--lab-prefix <name>', 'which lab, with --nodes lab', 'fl')
    .option('--nats <url>', 'NATS server, or a cluster as nats://a:4222,nats://b:4222,nats://c:4222 (default: the lab\'s)')
    .option('--read-consistency <c>', 'linearizable | serializable', 'linearizable')
    .option('--seed <n>', 'random seed (default: random, recorded in plan.json)', num)
    .option('--store <dir>', 'where run folders go', 'store')
    .option('--recovery-time <s>', 'seconds of workload after the final heal', num, 5)
    .option('--op-timeout <ms>', 'client operation timeout; a timed-out op is recorded as info', num, 1500)
    .option('--keys <n>', 'independent keys in use at a time', num, 5)
    .option('--key-period <s>', 'seconds before the workload moves on to fresh keys (bounds each key\'s history)', num, 5)
    .option('--check-time-limit <s>', 'give up checking after this long (verdict unknown)', num, 300)
    .option('--summary-interval <s>', 'every this many seconds, log a summary of the run so far and append it to summaries.jsonl', num, 60)
    .option('--json', 'print one JSON object on stdout at the end (verdict, checks, counts, folder); progress and logs go to stderr');
}

/** `run --help`'s tail: what the registries hold. */
function registryHelp(): string {
  const lines = ['', 'Databases (--db) and their options (--db-opt KEY=VALUE, default in brackets):'];
  for (const d of DATABASES.values()) {
    if (d.workloads.length === 0) continue;
    lines.push(`  ${d.name}: ${d.description}; workloads: ${d.workloads.join(', ')}`);
    for (const [k, o] of Object.entries(d.options)) lines.push(`      ${k} [${o.default}]: ${o.description}`);
  }
  lines.push('', 'Workloads (--workload) and the checkers that judge them:');
  for (const w of WORKLOADS.values()) lines.push(`  ${w.name}: ${w.description}`);
  lines.push('', `Checkers: ${CHECKER_NAMES.join(', ')}`, '', 'PLAN.yaml takes the same names as the flags (time-limit: 40, db-opt: {wait: 1}); flags given here override it.');
  return lines.join('\n');
}

/** The options as the command line gave them, over a plan file's and a replayed run's (flags win). */
export function mergeOptions(cmd: Command, opts: RunOptions, layers: Partial<RunOptions>[]): RunOptions {
  const merged: Record<string, unknown> = { ...opts };
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (cmd.getOptionValueSource(k) !== 'cli') merged[k] = v;
  }
  return merged as unknown as RunOptions;
}

/** A mix that the time limit cannot show whole is warned about before anything starts. */
function warnAboutFaultBudget(config: RunConfig): void {
  if (config.nemesis.length === 0) return;
  const faults = Math.ceil(Math.floor(config.timeLimitMs / config.nemesisIntervalMs) / 2);
  if (faults < config.nemesis.length) {
    process.stderr.write(
      `faultline: warning: --time-limit ${config.timeLimitMs / 1000}s with --nemesis-interval ${config.nemesisIntervalMs / 1000}s leaves room for ${faults} fault(s), fewer than the ${config.nemesis.length} kinds of --nemesis ${config.nemesis.join(',')}\n`,
    );
  }
}

/** Runs a test with SIGINT/SIGTERM turned into an orderly stop, prints the verdict, returns the exit code. */
export async function runAndReport(opts: RunOptions & { json?: boolean }): Promise<{ code: number; outcome: RunOutcome }> {
  const config = resolveRunOptions(opts);
  if (!config.nodes.lab && config.nodes.access.security.kind === 'insecure') insecureWarning('faultline run');
  warnAboutFaultBudget(config);
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
  const cmd = addRunOptions(program.command('run [plan]').description('run one test: workload + nemesis against a real cluster, then check the history (PLAN.yaml: options in a file)'))
    .option('--replay <run-dir>', "rerun a stored run's plan.json with its seed (flags given here override it)")
    .addHelpText('after', registryHelp());
  cmd.action(async (plan: string | undefined, opts: RunOptions & { replay?: string }, self: Command) => {
    const layers: Partial<RunOptions>[] = [];
    if (opts.replay !== undefined) layers.push(readReplay(opts.replay));
    if (plan !== undefined) layers.push(readPlanFile(plan));
    const { replay: _replay, ...given } = opts;
    process.exitCode = (await runAndReport(mergeOptions(self, given, layers))).code;
  });
}
