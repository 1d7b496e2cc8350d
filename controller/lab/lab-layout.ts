/**
 * How a lab is named and numbered. Every object the lab creates carries the prefix, so a lab can be found and
 * removed by name after a crash, and two labs with different prefixes (a user's `fl`, a test's `flt…`) coexist.
 */

/** The prefix of the lab `faultline lab up` makes. */
export const DEFAULT_LAB_PREFIX = 'fl';
/** Node i has address 10.250.X.(NODE_HOST_OFFSET + i); the bridge (host side) has .1. */
export const NODE_HOST_OFFSET = 10;
/** Addresses .11 to .210 leave the top of the /24 unused. */
export const MAX_LAB_NODES = 200;

export interface LabNames {
  prefix: string;
  bridge: string;
  /** Our host iptables chain that accepts the lab's bridged traffic. */
  hostChain: string;
  /** Matches this lab's namespaces; group 1 is the node number. */
  namespacePattern: RegExp;
  /** Matches the host ends of this lab's veth pairs; group 1 is the node number. */
  vethPattern: RegExp;
}

/**
 * The names of a lab's objects. The prefix has no "-", so `fl-n1` cannot be mistaken for a node of lab `flt`.
 * @throws RangeError for a prefix that is not 1-8 lower-case letters or digits starting with a letter.
 */
export function labNames(prefix: string = DEFAULT_LAB_PREFIX): LabNames {
  if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) {
    throw new RangeError(`Cannot use lab prefix "${prefix}": use 1-8 lower-case letters or digits, starting with a letter`);
  }
  return {
    prefix,
    bridge: `${prefix}-br`,
    hostChain: `FAULTLINE-LAB-${prefix.toUpperCase()}`,
    namespacePattern: new RegExp(`^${prefix}-n(\\d+)$`),
    vethPattern: new RegExp(`^${prefix}-v(\\d+)$`),
  };
}

export function namespaceName(prefix: string, index: number): string {
  return `${prefix}-n${index}`;
}

export function vethName(prefix: string, index: number): string {
  return `${prefix}-v${index}`;
}

/** The /24 a subnet number stands for: 10.250.`subnet`.0/24. */
export function subnetCidr(subnet: number): string {
  return `10.250.${subnet}.0/24`;
}

export function hostAddressOf(subnet: number): string {
  return `10.250.${subnet}.1`;
}

export function nodeAddressOf(subnet: number, index: number): string {
  return `10.250.${subnet}.${NODE_HOST_OFFSET + index}`;
}

/** The subnet number in an address of 10.250.X.0/24, or undefined for any other address. */
export function subnetOfAddress(address: string): number | undefined {
  const m = /^10\.250\.(\d{1,3})\.\d{1,3}$/.exec(address);
  const x = m === null ? NaN : Number(m[1]);
  return Number.isInteger(x) && x >= 0 && x <= 255 ? x : undefined;
}

/**
 * The subnets to try for a prefix when none is given, best first: a number derived from the prefix (FNV-1a), so
 * a prefix keeps its subnet from one run to the next, then the following numbers. 0 and 255 are never used.
 */
export function subnetCandidates(prefix: string): number[] {
  let h = 0x811c9dc5;
  for (const ch of prefix) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const first = 1 + (h % 254);
  return Array.from({ length: 254 }, (_, i) => 1 + ((first - 1 + i) % 254));
}

/** Checks the `nodes` and `subnet` options of createLabNetwork. @throws RangeError */
export function checkLabOptions(opts: { nodes: number; subnet?: number | undefined }): void {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > MAX_LAB_NODES) {
    throw new RangeError(`Cannot create lab network: nodes must be an integer from 1 to ${MAX_LAB_NODES}, got ${String(opts.nodes)}`);
  }
  if (opts.subnet !== undefined && (!Number.isInteger(opts.subnet) || opts.subnet < 1 || opts.subnet > 254)) {
    throw new RangeError(`Cannot create lab network: subnet must be an integer from 1 to 254, got ${String(opts.subnet)}`);
  }
}
