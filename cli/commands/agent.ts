import type { Command } from 'commander';
import pino from 'pino';
import { runAgent } from '../../agent/agent';
import { resolveAgentOptions } from '../../agent/config';

/** `faultline agent`: the node daemon. The only place that turns process signals into an abort. */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run the node agent: serves gRPC commands from the controller, publishes events to NATS')
    .requiredOption('--node <name>', 'this node\'s name, e.g. n1')
    .requiredOption('--listen <host:port>', 'address to serve gRPC on (bound to this address only)')
    .requiredOption('--nats <url>', 'NATS server URL, e.g. nats://10.250.87.1:4222, or a cluster\'s URLs separated by commas')
    .requiredOption('--data-dir <dir>', 'where the agent keeps DB data, its fault journal and event spool')
    .option('--insecure', 'serve plaintext gRPC (required until mTLS lands)')
    .option('--lease <ms>', 'heal everything when the controller stops renewing for this long', (v) => Number(v), 10_000)
    .option('--max-fault-duration <ms>', 'heal any fault after this long', (v) => Number(v), 300_000)
    .action(async (opts: { node: string; listen: string; nats: string; dataDir: string; insecure?: boolean; lease: number; maxFaultDuration: number }) => {
      const config = resolveAgentOptions({
        node: opts.node,
        listen: opts.listen,
        nats: opts.nats,
        dataDir: opts.dataDir,
        insecure: opts.insecure === true,
        leaseMs: opts.lease,
        maxFaultDurationMs: opts.maxFaultDuration,
      });
      const log = pino({ name: 'agent', base: { node: config.node } });
      const stop = new AbortController();
      process.once('SIGTERM', () => stop.abort(new Error('Received SIGTERM')));
      process.once('SIGINT', () => stop.abort(new Error('Received SIGINT')));
      stop.signal.addEventListener('abort', () => {
        setTimeout(() => process.exit(255), config.shutdownGraceMs).unref();
      });
      await runAgent(config, log, stop.signal);
    });
}
