/**
 * The lab network: one network namespace per node on a Linux bridge, each with its own address, loopback up, no
 * default route, and no uplink, NAT or forwarding to the outside. The host end of the bridge (10.250.X.1) is where
 * the controller and NATS listen. Everything carries the lab's prefix, so a lab is found and removed by name, also
 * after a crash. Needs root.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { ipBatch } from './lab-command';
import { ensureHostChain, hostFirewallState, removeHostChain } from './host-firewall';
import {
  DEFAULT_LAB_PREFIX,
  checkLabOptions,
  hostAddressOf,
  labNames,
  namespaceName,
  nodeAddressOf,
  subnetCandidates,
  subnetCidr,
  vethName,
  type LabNames,
} from './lab-layout';
import {
  bridgeSubnet,
  labNamespaceIndices,
  labVethIndices,
  readHostState,
  readNodeState,
  subnetUser,
  type HostState,
} from './lab-kernel-state';
import { stopNamespaceProcesses } from './netns-processes';

/** One lab node: `n1`, its namespace `fl-n1`, its address `10.250.X.11`. */
export interface LabNode {
  name: string;
  namespace: string;
  address: string;
}

/** A lab as it exists on the host. */
export interface LabNetwork {
  prefix: string;
  bridge: string;
  /** The bridge's address on the host: where the controller and NATS listen. */
  hostAddress: string;
  cidr: string;
  nodes: LabNode[];
  /** Set by describeLabNetwork when the lab is incomplete or misconfigured, one sentence each. */
  problems?: string[];
}

/** How long processes left in a namespace get between SIGTERM and SIGKILL when the lab goes down. */
const DEFAULT_GRACE_MS = 3000;

/**
 * Creates what is missing of a lab with `nodes` nodes (bridge with its host address, one namespace per node with
 * a veth, loopback up, an address, no default route, no IPv6 addresses) and our host firewall chain accepting the
 * lab's traffic; leaves what exists. Returns the layout as read back from the kernel.
 * @throws RangeError for bad options, a subnet in use, or a lab that already has more nodes than asked;
 *   LabToolMissingError / LabCommandError when `ip` is missing or fails (e.g. not root).
 */
export async function createLabNetwork(opts: { nodes: number; prefix?: string; subnet?: number }): Promise<LabNetwork> {
  checkLabOptions(opts);
  const names = labNames(opts.prefix ?? DEFAULT_LAB_PREFIX);
  return withLabLock(names.prefix, async () => {
    const host = await readHostState();
    const existing = labNamespaceIndices(names, host);
    const extra = existing.filter((i) => i > opts.nodes);
    if (extra.length > 0) {
      throw new RangeError(
        `Cannot create lab network "${names.prefix}" with ${opts.nodes} nodes: it already has node(s) ${extra.map((i) => `n${i}`).join(', ')} (take it down first)`,
      );
    }
    const bridgeExists = host.links.has(names.bridge);
    let subnet = bridgeSubnet(names, host);
    if (subnet !== undefined && opts.subnet !== undefined && subnet !== opts.subnet) {
      throw new RangeError(
        `Cannot create lab network "${names.prefix}" on ${subnetCidr(opts.subnet)}: it already uses ${subnetCidr(subnet)} (take it down first)`,
      );
    }
    const lines: string[] = [];
    if (!bridgeExists) lines.push(`link add ${names.bridge} type bridge`, `link set ${names.bridge} addrgenmode none`);
    if (subnet === undefined) {
      subnet = chooseSubnet(names, host, opts.subnet);
      lines.push(`addr add ${hostAddressOf(subnet)}/24 dev ${names.bridge}`);
    }
    if (!host.links.get(names.bridge)?.up) lines.push(`link set ${names.bridge} up`);
    for (let i = 1; i <= opts.nodes; i++) {
      const ns = namespaceName(names.prefix, i);
      const veth = vethName(names.prefix, i);
      if (!host.namespaces.includes(ns)) lines.push(`netns add ${ns}`);
      const link = host.links.get(veth);
      if (link === undefined) lines.push(`link add ${veth} type veth peer name eth0 netns ${ns}`, `link set ${veth} addrgenmode none`);
      if (link?.master !== names.bridge) lines.push(`link set ${veth} master ${names.bridge}`);
      if (!link?.up) lines.push(`link set ${veth} up`);
    }
    await ipBatch(lines);
    const netSubnet = subnet;
    await Promise.all(
      Array.from({ length: opts.nodes }, (_, k) => configureNode(namespaceName(names.prefix, k + 1), nodeAddressOf(netSubnet, k + 1))),
    );
    await ensureHostChain(names, hostAddressOf(subnet));
    const lab = await describeLabNetwork(names.prefix);
    if (lab === undefined || lab.nodes.length !== opts.nodes || (lab.problems ?? []).length > 0) {
      const detail = lab === undefined ? 'nothing was created' : (lab.problems ?? []).join('; ') || `${lab.nodes.length} nodes found`;
      throw new Error(`Cannot create lab network "${names.prefix}": ${detail}`);
    }
    return lab;
  });
}

/** Brings one node's namespace to its wanted state: lo up, eth0 with exactly `address`, eth0 up, no default route. */
async function configureNode(namespace: string, address: string): Promise<void> {
  const state = await readNodeState(namespace);
  const lines: string[] = [];
  if (!state.loUp) lines.push('link set lo up');
  const addresses = state.eth0 ?? [];
  if (addresses.length !== 1 || addresses[0] !== address) {
    if (addresses.length > 0) lines.push('addr flush dev eth0');
    lines.push(`addr add ${address}/24 dev eth0`);
  }
  if (!state.eth0Up) lines.push('link set eth0 addrgenmode none', 'link set eth0 up');
  if (state.hasDefaultRoute) lines.push('route del default'); // the lab must never reach beyond the bridge
  await ipBatch(lines, namespace);
}

function chooseSubnet(names: LabNames, host: HostState, wanted: number | undefined): number {
  if (wanted !== undefined) {
    const user = subnetUser(wanted, host, names.bridge);
    if (user !== undefined) {
      throw new RangeError(`Cannot create lab network "${names.prefix}": ${subnetCidr(wanted)} is already in use (${user})`);
    }
    return wanted;
  }
  const free = subnetCandidates(names.prefix).find((x) => subnetUser(x, host, names.bridge) === undefined);
  if (free === undefined) throw new RangeError(`Cannot create lab network "${names.prefix}": every 10.250.X.0/24 is in use`);
  return free;
}

/**
 * Removes everything of the lab with this prefix, found by name: stops the processes left in its namespaces
 * (SIGTERM, then SIGKILL after `graceMs`), deletes the veths, namespaces, bridge and our host chain. Idempotent.
 * @throws Error naming what is left when something could not be removed (e.g. a process that would not die:
 *   its namespace is kept, so it stays findable).
 */
export async function destroyLabNetwork(prefix: string = DEFAULT_LAB_PREFIX, opts: { graceMs?: number } = {}): Promise<void> {
  const names = labNames(prefix);
  return withLabLock(names.prefix, async () => {
    const host = await readHostState();
    const namespaces = labNamespaceIndices(names, host).map((i) => namespaceName(names.prefix, i));
    const survivors = await Promise.all(
      namespaces.map(async (ns) => ({ ns, pids: await stopNamespaceProcesses(ns, { graceMs: opts.graceMs ?? DEFAULT_GRACE_MS }) })),
    );
    const stuck = survivors.filter((s) => s.pids.length > 0);
    const lines = [
      ...labVethIndices(names, host).map((i) => `link del ${vethName(names.prefix, i)}`),
      ...namespaces.filter((ns) => !stuck.some((s) => s.ns === ns)).map((ns) => `netns del ${ns}`),
      ...(host.links.has(names.bridge) ? [`link del ${names.bridge}`] : []),
    ];
    await ipBatch(lines);
    await removeHostChain(names);
    const left = await describeLabNetwork(names.prefix);
    if (stuck.length > 0 || left !== undefined) {
      const pids = stuck.map((s) => `${s.ns}: pid ${s.pids.join(', ')}`);
      const what = left === undefined ? [] : [left.bridge, ...left.nodes.map((n) => n.namespace)];
      throw new Error(`Cannot destroy lab network "${names.prefix}": still present: ${[...pids, ...what].join('; ')}`);
    }
  });
}

/**
 * Describes the lab with this prefix as the kernel has it, or undefined when nothing of it exists. Anything
 * incomplete or misconfigured is listed in `problems`.
 */
export async function describeLabNetwork(prefix: string = DEFAULT_LAB_PREFIX): Promise<LabNetwork | undefined> {
  const names = labNames(prefix);
  const host = await readHostState();
  const indices = labNamespaceIndices(names, host);
  const veths = labVethIndices(names, host);
  const bridgeExists = host.links.has(names.bridge);
  const firewall = await hostFirewallState(names);
  if (!bridgeExists && indices.length === 0 && veths.length === 0 && firewall.chainExists !== true) return undefined;
  const problems: string[] = [...firewall.problems];
  const subnet = bridgeSubnet(names, host);
  if (!bridgeExists) problems.push(`bridge ${names.bridge} is missing`);
  else if (subnet === undefined) problems.push(`bridge ${names.bridge} has no 10.250.X.1 address`);
  else if (!host.links.get(names.bridge)?.up) problems.push(`bridge ${names.bridge} is down`);
  const nodes: LabNode[] = [];
  for (const i of indices) {
    const namespace = namespaceName(names.prefix, i);
    const state = await readNodeState(namespace);
    const address = state.eth0?.[0] ?? '';
    nodes.push({ name: `n${i}`, namespace, address });
    if (subnet !== undefined && address !== nodeAddressOf(subnet, i)) {
      problems.push(`node n${i} has address "${address}", expected ${nodeAddressOf(subnet, i)}`);
    }
    if (!state.loUp || !state.eth0Up) problems.push(`node n${i} has an interface down`);
    if (state.hasDefaultRoute) problems.push(`node n${i} has a default route`);
    if (host.links.get(vethName(names.prefix, i))?.master !== names.bridge) {
      problems.push(`node n${i} is not attached to bridge ${names.bridge}`);
    }
  }
  const orphans = veths.filter((i) => !indices.includes(i));
  if (orphans.length > 0) problems.push(`veth(s) without a namespace: ${orphans.map((i) => vethName(names.prefix, i)).join(', ')}`);
  if (indices.length > 0 && indices[indices.length - 1] !== indices.length) problems.push('node numbers have gaps');
  if (firewall.chainExists === false && bridgeExists) problems.push(`host chain ${names.hostChain} is missing`);
  return {
    prefix: names.prefix,
    bridge: names.bridge,
    hostAddress: subnet === undefined ? '' : hostAddressOf(subnet),
    cidr: subnet === undefined ? '' : subnetCidr(subnet),
    nodes,
    ...(problems.length > 0 ? { problems } : {}),
  };
}

/** The `[file, args]` that run `cmd args…` inside a node's namespace (`ip netns exec`, which execs `cmd` in place). */
export function netnsSpawnArgs(namespace: string, cmd: string, args: string[]): [string, string[]] {
  if (!/^[a-z][a-z0-9]*-n\d+$/.test(namespace)) {
    throw new RangeError(`Cannot run in namespace "${namespace}": not a lab namespace name`);
  }
  if (cmd === '') throw new RangeError('Cannot run in a namespace: empty command');
  return ['ip', ['netns', 'exec', namespace, cmd, ...args]];
}

/** Spawns `cmd args…` inside a node's namespace; the child's pid is the command's own (ip netns exec execs it). */
export function netnsSpawn(namespace: string, cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const [file, argv] = netnsSpawnArgs(namespace, cmd, args);
  return spawn(file, argv, options);
}

// Two creates (or a create and a destroy) of the same lab must not interleave their reads and writes.
const locks = new Map<string, Promise<unknown>>();

function withLabLock<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(prefix) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.then(
    () => undefined,
    () => undefined,
  );
  locks.set(prefix, tail);
  void tail.then(() => {
    if (locks.get(prefix) === tail) locks.delete(prefix);
  });
  return next;
}
