import type { Command } from 'commander';
import { labDown, labStatus, labUp } from '../../controller/lab/lab';
import { UsageError } from '../../core/errors';
import { cliLogger } from '../logger';

/** `faultline lab up|down|status`: the local cluster of network namespaces. */
export function registerLabCommand(program: Command): void {
  const lab = program.command('lab').description('the local cluster: one network namespace and agent per node, on a bridge, with NATS');
  lab
    .command('up')
    .description('create the lab (idempotent: restarts agents that are not running, changes nothing else)')
    .option('--nodes <n>', 'number of nodes', (v) => Number(v), 5)
    .option('--prefix <name>', 'name prefix for namespaces, bridge and chains', 'fl')
    .option('--nats <url>', 'use this NATS server, or cluster (nats://a:4222,nats://b:4222,nats://c:4222), instead of starting one')
    .option('--nats-cluster <n>', 'start a JetStream cluster of n NATS servers (3 or 5) instead of one; the event stream is replicated 3 times', (v) => Number(v))
    .action(async (opts: { nodes: number; prefix: string; nats?: string; natsCluster?: number }) => {
      if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 50) throw new UsageError('Cannot bring the lab up: --nodes must be a whole number from 1 to 50');
      checkPrefix(opts.prefix);
      if (opts.natsCluster !== undefined && opts.natsCluster !== 3 && opts.natsCluster !== 5) throw new UsageError('Cannot bring the lab up: --nats-cluster must be 3 or 5');
      if (opts.natsCluster !== undefined && opts.nats) throw new UsageError('Cannot bring the lab up: give --nats (an existing server or cluster) or --nats-cluster, not both');
      if (opts.nats && !/^nats:\/\/[^,\s]+(,nats:\/\/[^,\s]+)*$/.test(opts.nats)) throw new UsageError(`Cannot bring the lab up: --nats "${opts.nats}" is not a nats:// URL or a comma-separated list of them`);
      const state = await labUp({ nodes: opts.nodes, prefix: opts.prefix, ...(opts.nats ? { natsUrl: opts.nats } : {}), ...(opts.natsCluster ? { natsCluster: opts.natsCluster } : {}) }, cliLogger());
      const natsWhat = state.nats.cluster ? `a ${state.nats.cluster.length}-server NATS cluster at ${state.nats.url}` : `NATS at ${state.nats.url}`;
      process.stdout.write(`lab "${state.prefix}" up: ${state.agents.length} nodes, ${natsWhat}\n`);
    });
  lab
    .command('down')
    .description('stop agents, DB members and NATS, and remove every namespace, bridge and chain the lab made')
    .option('--prefix <name>', 'name prefix of the lab', 'fl')
    .action(async (opts: { prefix: string }) => {
      checkPrefix(opts.prefix);
      await labDown(opts.prefix, cliLogger());
      process.stdout.write(`lab "${opts.prefix}" down\n`);
    });
  lab
    .command('status')
    .description('show nodes, agents and NATS')
    .option('--prefix <name>', 'name prefix of the lab', 'fl')
    .option('--json', 'print JSON: { nodes: [{ name, namespace, address, agent: { address, pid } }], nats: { url, servers? } }')
    .action(async (opts: { prefix: string; json?: boolean }) => {
      checkPrefix(opts.prefix);
      const status = await labStatus(opts.prefix);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      if (status.nodes.length === 0) {
        process.stdout.write(`lab "${opts.prefix}" is down\n`);
        return;
      }
      for (const n of status.nodes) {
        process.stdout.write(`${n.name}\t${n.namespace}\t${n.address}\tagent ${n.agent.address} ${n.agent.pid === null ? 'NOT RUNNING' : `pid ${n.agent.pid}`}\n`);
      }
      if (status.nats.servers) {
        for (const m of status.nats.servers) process.stdout.write(`${m.name}\t${m.url}\t${m.pid === null ? 'NOT RUNNING' : `pid ${m.pid}`}\n`);
      }
      process.stdout.write(`nats\t${status.nats.url ?? 'NOT RUNNING'}\n`);
    });
}

function checkPrefix(prefix: string): void {
  if (!/^[a-z][a-z0-9]{0,5}$/.test(prefix)) throw new UsageError(`Cannot use lab prefix "${prefix}": use 1-6 lowercase letters or digits, starting with a letter`);
}
