#!/usr/bin/env node
/**
 * The `faultline` command: parses options and hands off to the controller (run, lab, demo), the agent daemon, or
 * the checkers. The only place that prints errors and sets the exit code.
 */
import { Command } from 'commander';
import { registerAgentCommand } from './commands/agent';
import { registerCheckCommand } from './commands/check';
import { registerDemoCommand } from './commands/demo';
import { registerFaultCommand } from './commands/fault';
import { registerLabCommand } from './commands/lab';
import { registerMatrixCommand } from './commands/matrix';
import { registerRunCommand } from './commands/run';
import { reportError } from './errors';

async function main(): Promise<void> {
  const program = new Command();
  program
    .name('faultline')
    .description('Jepsen-style chaos testing: real faults on real clusters, sound verdicts on their histories')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerDemoCommand(program);
  registerRunCommand(program);
  registerMatrixCommand(program);
  registerCheckCommand(program);
  registerLabCommand(program);
  registerAgentCommand(program);
  registerFaultCommand(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  process.exitCode = reportError(err);
});
