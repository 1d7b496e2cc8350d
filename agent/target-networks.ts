/** IPv4 networks in CIDR notation: the agent's allow-list of addresses a request may name. Pure. */

export interface Cidr {
  base: number;
  bits: number;
}

function ipv4ToInt(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o, i) => o > 255 || String(o) !== m[i + 1])) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

/** @throws RangeError unless `text` is `A.B.C.D/N` (or a bare address, taken as /32). */
export function parseCidr(text: string): Cidr {
  const [addr = '', bitsText] = text.split('/');
  const base = ipv4ToInt(addr);
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32 || (bitsText !== undefined && !/^\d{1,2}$/.test(bitsText))) {
    throw new RangeError(`"${text}" is not an IPv4 network (expected e.g. 10.0.0.0/24)`);
  }
  return { base: bits === 0 ? 0 : base - (base % 2 ** (32 - bits)), bits };
}

/** True when `address` is an IPv4 address inside one of `networks`. */
export function inNetworks(address: string, networks: readonly Cidr[]): boolean {
  const a = ipv4ToInt(address);
  if (a === undefined) return false;
  return networks.some((n) => a - (n.bits === 0 ? a : a % 2 ** (32 - n.bits)) === n.base);
}
