import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
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
  /** Use this NATS server instead of starting one (must be reachable from the namespaces). */
  natsUrl?: string;
}

/** What `lab status --json` prints (a contract: extend, never rename). */
export interface LabStatus {
  nodes: { name: string; namespace: string; address: string; agent: { address: string; pid: number | null } }[];
  nats: { url: string | null };
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
