import type { Command } from 'commander';
import pino from 'pino';
import { resolve } from 'node:path';
import { runAgent } from '../../agent/agent';
import { resolveAgentOptions, type AgentOptions } from '../../agent/config';
import { formatDoctor, runDoctor } from '../../agent/doctor';
import { defaultInstallPaths, installAgent, uninstallAgent, type InstallPaths } from '../../agent/install';
import { EXIT } from '../exit-codes';
import { insecureWarning } from '../insecure-warning';

/** The daemon's flags: AgentOptions, with the two durations under their flag names (milliseconds both). */
type DaemonFlags = Omit<AgentOptions, 'leaseMs' | 'maxFaultDurationMs'> & { lease?: number; maxFaultDuration?: number };

function agentOptions(opts: DaemonFlags): AgentOptions {
  const out: AgentOptions = {};
  for (const k of ['node', 'listen', 'nats', 'dataDir', 'config', 'ca', 'cert', 'key', 'natsUser', 'natsPasswordFile', 'natsCa'] as const) {
    if (opts[k] !== undefined) out[k] = opts[k];
  }
  if (opts.insecure === true) out.insecure = true;
  if (opts.lease !== undefined) out.leaseMs = opts.lease;
  if (opts.maxFaultDuration !== undefined) out.maxFaultDurationMs = opts.maxFaultDuration;
  return out;
}

function daemonOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'agent config (YAML or JSON): these settings plus the allow-list; flags override it')
    .option('--node <name>', 'this node\'s name, e.g. n1')
    .option('--listen <host:port>', 'address to serve gRPC on (bound to this address only)')
    .option('--nats <url>', "NATS server URL, e.g. nats://10.250.87.1:4222, or a cluster's URLs separated by commas")
    .option('--data-dir <dir>', 'where the agent keeps DB data, its fault journal and event spool')
    .option('--ca <file>', 'CA certificate callers must be signed by (mTLS)')
    .option('--cert <file>', 'this agent\'s certificate (faultline certs issue --node ...)')
    .option('--key <file>', 'this agent\'s key')
    .option('--nats-user <user>', 'NATS user (default: none)')
    .option('--nats-password-file <file>', 'file holding the NATS password')
    .option('--nats-ca <file>', 'CA of the NATS server\'s TLS certificate')
    .option('--insecure', 'serve plaintext gRPC without authentication (warns on every start)')
    .option('--lease <ms>', 'heal everything when the controller stops renewing for this long (default 10000)', (v) => Number(v))
    .option('--max-fault-duration <ms>', 'heal any fault after this long (default 300000)', (v) => Number(v));
}

/**
 * `faultline agent`: the node daemon (the only place that turns process signals into an abort), and
 * `agent install|uninstall|doctor`.
 */
export function registerAgentCommand(program: Command): void {
  const agent = daemonOptions(
    program.command('agent').description('run the node agent: serves gRPC commands from the controller (mTLS), publishes events to NATS'),
  )
    // `agent doctor --config F`: options after a subcommand's name are the subcommand's own.
    .enablePositionalOptions()
    .action(async (opts: DaemonFlags) => {
    const config = resolveAgentOptions(agentOptions(opts));
    if (!config.tls) insecureWarning('faultline agent');
    const log = pino({ name: 'agent', base: { node: config.node } });
    const stop = new AbortController();
    process.once('SIGTERM', () => stop.abort(new Error('Received SIGTERM')));
    process.once('SIGINT', () => stop.abort(new Error('Received SIGINT')));
    stop.signal.addEventListener('abort', () => {
      setTimeout(() => process.exit(255), config.shutdownGraceMs).unref();
    });
    await runAgent(config, log, stop.signal);
  });

  const paths = (o: { root?: string; unitFile?: string; configFile?: string }): InstallPaths => {
    const d = defaultInstallPaths(o.root ?? '/');
    return { unitFile: o.unitFile ?? d.unitFile, configFile: o.configFile ?? d.configFile };
  };
  agent
    .command('install')
    .description('install the agent as a systemd service: validate and write its config (0600) and a unit, verify the unit, enable it')
    .requiredOption('--config <file>', 'the agent config to install (see README: node, listen, nats, dataDir, tls, allow)')
    .option('--root <dir>', 'install below this folder instead of / (for images and tests)')
    .option('--unit-file <file>', `where the unit goes (default /etc/systemd/system/faultline-agent.service)`)
    .option('--config-file <file>', 'where the config goes (default /etc/faultline/agent.yaml)')
    .option('--no-enable', 'write the files but do not enable or start the service')
    .action(async (o: { config: string; root?: string; unitFile?: string; configFile?: string; enable: boolean }) => {
      const report = await installAgent(o.config, paths(o), { cliMain: resolve(__dirname, '../main.js'), enable: o.enable });
      process.stdout.write(`${report.lines.join('\n')}\n`);
    });
  agent
    .command('uninstall')
    .description('stop the service, heal every fault the agent applied, remove its unit and config')
    .option('--root <dir>', 'the folder the agent was installed below')
    .option('--unit-file <file>', 'the unit to remove')
    .option('--config-file <file>', 'the installed config')
    .action(async (o: { root?: string; unitFile?: string; configFile?: string }) => {
      const lines = await uninstallAgent(paths(o), pino({ name: 'agent-uninstall', level: 'warn' }));
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  daemonOptions(agent.command('doctor'))
    .description('check this node can do what its agent config allows; prints a fix for each failure; exit 0 only when all pass')
    .option('--controller <host[:port]>', 'also check the controller\'s machine answers from here (any TCP answer counts)')
    .option('--json', 'print the checks as JSON')
    .action(async (o: DaemonFlags & { controller?: string; json?: boolean }) => {
      const config = resolveAgentOptions(agentOptions(o));
      const checks = await runDoctor(config, o.controller !== undefined ? { controller: o.controller } : {});
      process.stdout.write(o.json ? `${JSON.stringify({ checks, ok: checks.every((c) => c.ok) })}\n` : formatDoctor(checks));
      process.exitCode = checks.every((c) => c.ok) ? EXIT.valid : EXIT.invalid;
    });
}
