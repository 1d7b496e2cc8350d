import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { UsageError } from '../../core/errors';
import { clusterUrl, planNatsCluster, startNatsMember, waitForJetStream, writeMemberConfig, type NatsMember, type NatsUserPass } from '../nats-cluster';
import { canConnect, freePort, startNatsServer } from '../nats-server';
import { ensureLabCertificates, ensureLabNatsAuth, writeLabAgentConfig } from './lab-access';
import { isOurProcess, terminate } from './lab-process';
import { labDir, readLabState, writeLabState, type LabAgentState, type LabState } from './lab-state';
import { createLabNetwork, destroyLabNetwork, describeLabNetwork, netnsSpawnArgs } from './network';

export const AGENT_PORT = 7701;
const CLI_MAIN = resolve(__dirname, '../../cli/main.js');

export interface LabUpOptions {
  nodes: number;
  prefix?: string;
  /** Use this NATS server, or cluster (`nats://a,nats://b,nats://c`), instead of starting one (reachable from the namespaces). */
  natsUrl?: string;
  /** Start a JetStream cluster of this many nats-servers (3) instead of one; the event stream is then replicated 3 times. */
  natsCluster?: number;
}

/** What `lab status --json` prints (a contract: extend, never rename). */
export interface LabStatus {
  nodes: { name: string; namespace: string; address: string; agent: { address: string; pid: number | null } }[];
  /** `url`: one URL, or a cluster's URLs separated by commas; `servers`: a cluster's members (lab clusters only). */
  nats: { url: string | null; servers?: { name: string; url: string; pid: number | null }[] };
}

function agentMarks(name: string): string[] {
  return ['agent', '--node', name];
}

/**
 * Brings the lab up, idempotently: creates whatever part of the network is missing, starts NATS unless one is
 * running (or given), and starts every agent that is not running; a running lab is left as it is.
 */
export async function labUp(opts: LabUpOptions, log: Logger): Promise<LabState> {
  const prefix = opts.prefix ?? 'fl';
  const net = await createLabNetwork({ nodes: opts.nodes, prefix });
  const dir = labDir(prefix);
  mkdirSync(dir, { recursive: true });
  const previous = readLabState(prefix);
  // mTLS and NATS authentication by default: the lab's own CA, certificates and passwords, under its state folder.
  await ensureLabCertificates(prefix, net.nodes);
  const natsAuth = ensureLabNatsAuth(prefix, net.nodes.map((n) => n.name));

  let nats: LabState['nats'];
  if (opts.natsUrl) {
    nats = { url: opts.natsUrl, external: true };
  } else if ((opts.natsCluster ?? 0) > 1 || (opts.natsCluster === undefined && previous?.nats.cluster && !previous.nats.external)) {
    // `lab up` again without the flag keeps the lab's cluster (and restarts its stopped members).
    const size = opts.natsCluster ?? previous!.nats.cluster!.length;
    if (previous && !previous.nats.external && !previous.nats.cluster && isOurProcess(previous.nats.pid, ['nats-server'])) {
      throw new UsageError(`Cannot bring the lab up with --nats-cluster ${size}: lab "${prefix}" runs a single NATS server; "faultline lab down --prefix ${prefix}" first`);
    }
    nats = await labNatsCluster(size, net.hostAddress, join(dir, 'nats'), previous, { extraConfig: natsAuth.authorization, auth: natsAuth.controller }, log);
  } else if (previous && !previous.nats.external && isOurProcess(previous.nats.pid, ['nats-server'])) {
    nats = previous.nats;
  } else {
    const port = await freePort(net.hostAddress);
    const server = await startNatsServer({ host: net.hostAddress, port, dir: join(dir, 'nats'), detached: true, configFile: natsAuth.configFile });
    nats = { url: server.url, pid: server.pid, external: false };
    log.info({ url: server.url, pid: server.pid }, 'nats started');
  }

  const agents: LabAgentState[] = [];
  for (const node of net.nodes) {
    const agentAddress = `${node.address}:${AGENT_PORT}`;
    const old = previous?.agents.find((a) => a.name === node.name);
    if (old && isOurProcess(old.pid, agentMarks(node.name)) && old.agentAddress === agentAddress) {
      agents.push(old);
      continue;
    }
    const subnet = `${net.hostAddress.split('.').slice(0, 3).join('.')}.0/24`;
    const pid = await startAgent(node.name, node.namespace, node.address, nats.url, dir, (dataDir) =>
      writeLabAgentConfig(prefix, node.name, dataDir, subnet, !nats.external),
    );
    agents.push({ name: node.name, namespace: node.namespace, address: node.address, agentAddress, pid });
    log.info({ node: node.name, pid }, 'agent started');
  }
  const state: LabState = { prefix, nats, agents };
  writeLabState(state);
  for (const a of agents) await waitForPort(a.address, AGENT_PORT, 15_000, `agent ${a.name}`);
  return state;
}

async function startAgent(
  name: string,
  namespace: string,
  address: string,
  natsUrl: string,
  dir: string,
  writeConfig: (dataDir: string) => string,
): Promise<number> {
  const dataDir = join(dir, 'nodes', name);
  mkdirSync(dataDir, { recursive: true });
  const configFile = writeConfig(dataDir);
  const logFd = openSync(join(dataDir, 'agent.log'), 'a');
  const [cmd, args] = netnsSpawnArgs(namespace, process.execPath, [
    CLI_MAIN, 'agent', '--node', name, '--listen', `${address}:${AGENT_PORT}`,
    '--nats', natsUrl, '--data-dir', dataDir, '--config', configFile,
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', logFd, logFd], detached: true });
  closeSync(logFd);
  await new Promise<void>((res, rej) => {
    child.once('spawn', res);
    child.once('error', rej);
  });
  child.unref();
  return child.pid!;
}

/** Stops agents (they heal and stop their DB members), NATS, then removes the network. Also after a crash. */
export async function labDown(prefix: string | undefined, log: Logger): Promise<void> {
  const p = prefix ?? 'fl';
  const state = readLabState(p);
  if (state) {
    await Promise.all(state.agents.map((a) => terminate(a.pid, agentMarks(a.name), 20_000)));
    if (!state.nats.external && state.nats.pid !== undefined) await terminate(state.nats.pid, ['nats-server'], 5000);
    if (!state.nats.external) await Promise.all((state.nats.cluster ?? []).map((m) => terminate(m.pid!, ['nats-server', m.configPath], 5000)));
  }
  await destroyLabNetwork(p); // kills whatever is still running inside the namespaces
  rmSync(labDir(p), { recursive: true, force: true });
  log.info({ prefix: p }, 'lab down');
}

export async function labStatus(prefix?: string): Promise<LabStatus> {
  const p = prefix ?? 'fl';
  const net = await describeLabNetwork(p);
  const state = readLabState(p);
  const nodes = (net?.nodes ?? []).map((n) => {
    const a = state?.agents.find((x) => x.name === n.name);
    const alive = a !== undefined && isOurProcess(a.pid, agentMarks(n.name));
    return {
      name: n.name,
      namespace: n.namespace,
      address: n.address,
      agent: { address: `${n.address}:${AGENT_PORT}`, pid: alive ? a.pid : null },
    };
  });
  const cluster = state?.nats.cluster;
  if (state && cluster && !state.nats.external) {
    const servers = cluster.map((m) => ({ name: m.name, url: `nats://${m.host}:${m.port}`, pid: memberAlive(m) ? m.pid! : null }));
    // A cluster serves while a majority of its servers runs (JetStream needs a quorum).
    const serving = servers.filter((m) => m.pid !== null).length * 2 > servers.length;
    return { nodes, nats: { url: serving ? state.nats.url : null, servers } };
  }
  const natsAlive = state !== undefined && (state.nats.external || isOurProcess(state.nats.pid, ['nats-server']));
  return { nodes, nats: { url: natsAlive ? state.nats.url : null } };
}

async function waitForPort(host: string, port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(host, port))) {
    if (Date.now() > deadline) throw new Error(`Cannot bring the lab up: ${what} is not answering on ${host}:${port}`);
    await sleep(100);
  }
}

function memberAlive(m: NatsMember): boolean {
  return isOurProcess(m.pid, ['nats-server', m.configPath]);
}

/**
 * The lab's JetStream cluster: the previous one with any stopped member started again (same name, ports and data),
 * or a new one of `size` servers on the host's bridge address. Every member requires the lab's NATS users, as the
 * single server does: each agent may publish only its own subject.
 */
async function labNatsCluster(
  size: number,
  host: string,
  dir: string,
  previous: LabState | undefined,
  access: { extraConfig: string; auth: NatsUserPass },
  log: Logger,
): Promise<LabState['nats']> {
  const old = previous && !previous.nats.external ? previous.nats.cluster : undefined;
  const members = old && old.length === size ? old : await planNatsCluster({ host, size, dir, extraConfig: access.extraConfig });
  for (const m of members) {
    if (memberAlive(m)) continue;
    writeMemberConfig(m, members, access.extraConfig); // the users of today's lab (a member planned before had none)
    m.pid = await startNatsMember(m, true);
    log.info({ name: m.name, url: `nats://${m.host}:${m.port}`, pid: m.pid }, 'nats cluster member started');
  }
  const url = clusterUrl(members);
  await waitForJetStream(url, size, 30_000, access.auth);
  return { url, external: false, cluster: members };
}
