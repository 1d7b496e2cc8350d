#!/usr/bin/env node
/**
 * The `faultline` command: parses options and hands off to the controller (run, lab, demo), the agent daemon, or
 * the checkers. The only place that prints errors and sets the exit code. Each command's module is loaded only
 * when that command runs (`check` never loads gRPC or NATS); the top-level help lists them from COMMANDS.
 */
import { Command } from 'commander';
import { reportError } from './errors';

/** A command's name and summary as the top-level help shows it, and how to load its full definition. */
export interface LazyCommand {
  name: string;
  /** Kept equal to the command's own description (cli/main.test.ts checks). */
  description: string;
  register(program: Command): void;
}

/* eslint-disable @typescript-eslint/no-require-imports -- loading a command's module only when it runs is the point */
export const COMMANDS: readonly LazyCommand[] = [
  {
    name: 'demo',
    description: 'bring up a 5-node lab, run etcd under partitions, print the verdict, take the lab down',
    register: (p) => (require('./commands/demo') as typeof import('./commands/demo')).registerDemoCommand(p),
  },
  {
    name: 'run',
    description: 'run one test: workload + nemesis against a real cluster, then check the history (PLAN.yaml: options in a file)',
    register: (p) => (require('./commands/run') as typeof import('./commands/run')).registerRunCommand(p),
  },
  {
    name: 'resume',
    description:
      "continue a run whose controller died: reattach to its agents (taking their leases back), its JetStream consumer and its schedule, and run it to its original end; with --finish, drain what JetStream and the agents' spools hold, tear the cluster down, build the history and check it instead",
    register: (p) => (require('./commands/resume') as typeof import('./commands/resume')).registerResumeCommand(p),
  },
  {
    name: 'matrix',
    description: 'run a test over every combination of the --vary options (N runs each) and tabulate verdicts and anomalies (store/matrix/<time>/matrix.json, matrix.md)',
    register: (p) => (require('./commands/matrix') as typeof import('./commands/matrix')).registerMatrixCommand(p),
  },
  {
    name: 'check',
    description: 'check stored histories (history.jsonl, Jepsen/Knossos EDN, history.txt, Porcupine etcd/kv; files or folders) for linearizability, for transactional anomalies with --model list-append|rw-register, or against invariants with --checker',
    register: (p) => (require('./commands/check') as typeof import('./commands/check')).registerCheckCommand(p),
  },
  {
    name: 'lab',
    description: 'the local cluster: one network namespace and agent per node, on a bridge, with NATS',
    register: (p) => (require('./commands/lab') as typeof import('./commands/lab')).registerLabCommand(p),
  },
  {
    name: 'agent',
    description: 'run the node agent: serves gRPC commands from the controller (mTLS), publishes events to NATS',
    register: (p) => (require('./commands/agent') as typeof import('./commands/agent')).registerAgentCommand(p),
  },
  {
    name: 'fault',
    description: 'apply, list and heal faults by hand (against the lab by default); a fault command returns once the fault is in force, the agents heal it after --duration on their own (--hold: stay in the foreground instead)',
    register: (p) => (require('./commands/fault') as typeof import('./commands/fault')).registerFaultCommand(p),
  },
  {
    name: 'report',
    description: 'rebuild RUN_DIR/report.html from the run\'s stored history.jsonl, results.json and plan.json',
    register: (p) => (require('./commands/report') as typeof import('./commands/report')).registerReportCommand(p),
  },
  {
    name: 'serve',
    description: 'browse the runs of a store: newest first, filter by verdict, database and workload, open reports and files, download a run as .tar.gz (read-only)',
    register: (p) => (require('./commands/serve') as typeof import('./commands/serve')).registerServeCommand(p),
  },
  {
    name: 'certs',
    description: 'make the CA and the agent and controller certificates for mutual TLS',
    register: (p) => (require('./commands/certs') as typeof import('./commands/certs')).registerCertsCommand(p),
  },
];
/* eslint-enable @typescript-eslint/no-require-imports */

/** The program with every command in full (for tests and tools), or only `wanted` in full and the rest as names. */
export function buildProgram(wanted?: string): Command {
  const program = new Command();
  program
    .name('faultline')
    .description('Jepsen-style chaos testing: real faults on real clusters, sound verdicts on their histories')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  for (const c of COMMANDS) {
    if (wanted === undefined || c.name === wanted) c.register(program);
    // Listed for the top-level help only; it never runs, since its name was not the one asked for.
    else program.command(c.name).description(c.description).allowUnknownOption().helpOption(false);
  }
  // Set after the commands exist, so only the top level and `agent` (which sets its own) parse positionally:
  // `agent doctor --config F` gives --config to doctor, not to the daemon.
  program.enablePositionalOptions();
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/** The command a command line names (`faultline help check` names check), if any. */
function wantedCommand(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  const first = args[0] === 'help' ? args[1] : args[0];
  return first !== undefined && COMMANDS.some((c) => c.name === first) ? first : undefined;
}

async function main(): Promise<void> {
  const wanted = wantedCommand(process.argv);
  // No command named (--help, --version, a typo): every command is a name only, nothing heavy is loaded.
  await buildProgram(wanted ?? '').parseAsync(process.argv);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.exitCode = reportError(err);
  });
}
