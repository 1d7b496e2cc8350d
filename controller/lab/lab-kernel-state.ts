/**
 * Reads what exists of a lab, from the kernel rather than from any file of ours, so that a lab left by a crashed
 * process is found and described like any other.
 */
import { ipJson } from './lab-command';
import { type LabNames, subnetOfAddress } from './lab-layout';

interface IpLink {
  ifname: string;
  master?: string;
  flags?: string[];
}

interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
}

interface IpAddr {
  ifname: string;
  flags?: string[];
  addr_info?: IpAddrInfo[];
}

interface IpRoute {
  dst?: string;
  dev?: string;
}

/** The host-side objects of every lab, and what the host's addresses and routes occupy. */
export interface HostState {
  links: Map<string, { master: string | undefined; up: boolean }>;
  /** IPv4 addresses on host interfaces: interface -> addresses. */
  addresses: Map<string, string[]>;
  routes: { dst: string; dev: string | undefined }[];
  namespaces: string[];
}

export async function readHostState(): Promise<HostState> {
  const [links, addrs, routes, namespaces] = await Promise.all([
    ipJson<IpLink>(['link', 'show']),
    ipJson<IpAddr>(['-4', 'addr', 'show']),
    ipJson<IpRoute>(['-4', 'route', 'show']),
    ipJson<{ name: string }>(['netns', 'list']),
  ]);
  return {
    links: new Map(links.map((l) => [l.ifname, { master: l.master, up: (l.flags ?? []).includes('UP') }])),
    addresses: new Map(addrs.map((a) => [a.ifname, ipv4Of(a)])),
    routes: routes.filter((r) => r.dst !== undefined).map((r) => ({ dst: r.dst ?? '', dev: r.dev })),
    namespaces: namespaces.map((n) => n.name),
  };
}

function ipv4Of(a: IpAddr): string[] {
  return (a.addr_info ?? []).filter((i) => i.family === 'inet' && i.local !== undefined).map((i) => i.local ?? '');
}

/** This lab's node numbers that have a namespace, in order. */
export function labNamespaceIndices(names: LabNames, host: HostState): number[] {
  return indicesOf(names.namespacePattern, host.namespaces);
}

/** This lab's node numbers that have a host-side veth, in order. */
export function labVethIndices(names: LabNames, host: HostState): number[] {
  return indicesOf(names.vethPattern, [...host.links.keys()]);
}

function indicesOf(pattern: RegExp, candidates: readonly string[]): number[] {
  return candidates
    .map((c) => pattern.exec(c)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The subnet number of the lab's bridge, if the bridge exists and carries a 10.250.X.1 address. */
export function bridgeSubnet(names: LabNames, host: HostState): number | undefined {
  for (const a of host.addresses.get(names.bridge) ?? []) {
    const x = subnetOfAddress(a);
    if (x !== undefined && a.endsWith('.1')) return x;
  }
  return undefined;
}

/** Who already uses 10.250.`subnet`.0/24 on the host (an address or a route), other than `except`; or undefined. */
export function subnetUser(subnet: number, host: HostState, except: string): string | undefined {
  for (const [dev, addrs] of host.addresses) {
    if (dev !== except && addrs.some((a) => subnetOfAddress(a) === subnet)) return `an address on ${dev}`;
  }
  for (const r of host.routes) {
    if (r.dev !== except && overlaps(r.dst, subnet)) return `a route to ${r.dst} via ${r.dev ?? '?'}`;
  }
  return undefined;
}

/** Whether route destination `dst` (a.b.c.d/len or a host address) overlaps 10.250.`subnet`.0/24. */
function overlaps(dst: string, subnet: number): boolean {
  const [addr = '', lenText] = dst.split('/');
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p))) return false;
  const len = Math.min(lenText === undefined ? 32 : Number(lenText), 24);
  if (len === 0) return false; // a default route covers everything and is not a competing network
  const toInt = (p: number[]): number => p.reduce((acc, x) => acc * 256 + x, 0);
  const block = 2 ** (32 - len);
  return Math.floor(toInt(parts) / block) === Math.floor(toInt([10, 250, subnet, 0]) / block);
}

/** Inside one node's namespace: its eth0 addresses, whether lo and eth0 are up, and any default route. */
export interface NodeState {
  eth0: string[] | undefined;
  loUp: boolean;
  eth0Up: boolean;
  hasDefaultRoute: boolean;
}

export async function readNodeState(namespace: string): Promise<NodeState> {
  const [addrs, routes] = await Promise.all([
    ipJson<IpAddr>(['-n', namespace, 'addr', 'show']),
    ipJson<IpRoute>(['-n', namespace, 'route', 'show', 'default']),
  ]);
  const eth0 = addrs.find((a) => a.ifname === 'eth0');
  const lo = addrs.find((a) => a.ifname === 'lo');
  return {
    eth0: eth0 === undefined ? undefined : ipv4Of(eth0),
    loUp: (lo?.flags ?? []).includes('UP'),
    eth0Up: (eth0?.flags ?? []).includes('UP'),
    hasDefaultRoute: routes.length > 0,
  };
}
