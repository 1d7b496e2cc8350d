/**
 * Partitions on the agent's side: this node drops every packet from the addresses in its grudge. Rules live in
 * our own chain (`FAULTLINE-IN`, jumped to from the top of INPUT), so healing removes that chain and its jump and
 * touches nothing else in the host's firewall. The agent runs inside its node's network namespace (the lab) or in
 * the host namespace (a VM); either way these functions act on the namespace they run in, unless `namespace`
 * names another one (the lab controller and tests use that).
 */
import {
  checkChainPrefix,
  checkHostAddress,
  readFilterTable,
  removalLines,
  replaceInputChain,
  restoreFilter,
  serialised,
  valueOf,
  MissingToolError,
} from './iptables';

/** Node name -> address, as the controller hands a grudge to an agent. */
export interface PeerAddresses {
  [node: string]: string;
}

/** The prefix of every chain faultline's agent creates. */
export const DEFAULT_CHAIN_PREFIX = 'FAULTLINE';

export interface NetworkTarget {
  /** Prefix of our chains (default `FAULTLINE`): `<prefix>-IN` for drops, `<prefix>-LOSS` for loss. */
  chainPrefix?: string;
  /** Act in this named network namespace instead of the caller's own. */
  namespace?: string;
}

/** The chains faultline may create in a namespace; heal removes exactly these. */
export function faultChains(chainPrefix = DEFAULT_CHAIN_PREFIX): { drop: string; loss: string; all: string[] } {
  const p = checkChainPrefix(chainPrefix);
  return { drop: `${p}-IN`, loss: `${p}-LOSS`, all: [`${p}-IN`, `${p}-LOSS`, `${p}-OUT`] };
}

/**
 * Makes this node drop every packet from `fromAddresses`, replacing the previous drop set (an empty list removes
 * it). Loss rules (`applyLoss`) are left as they are. Addresses in `neverDrop` (the controller's, NATS's) are
 * refused rather than dropped.
 * @throws RangeError for an address that is not a unicast IPv4 host or is in `neverDrop`;
 *   MissingToolError when iptables is not installed.
 */
export async function applyDrop(opts: NetworkTarget & { fromAddresses: string[]; neverDrop?: string[] }): Promise<void> {
  const chains = faultChains(opts.chainPrefix);
  const addresses = checkAddresses(opts.fromAddresses, opts.neverDrop ?? []);
  await replaceInputChain(
    chains.drop,
    addresses.map((a) => `-s ${a}/32 -j DROP`),
    opts.namespace,
  );
}

/** Validates and de-duplicates addresses, keeping their order. Shared with loss.ts. */
export function checkAddresses(fromAddresses: readonly string[], neverDrop: readonly string[], what = 'drop packets from'): string[] {
  const protectedSet = new Set(neverDrop.map((a) => checkHostAddress(a)));
  const out: string[] = [];
  for (const raw of fromAddresses) {
    const a = checkHostAddress(raw, what);
    if (protectedSet.has(a)) {
      throw new RangeError(`Cannot ${what} "${a}": it is a protected address (controller or NATS)`);
    }
    if (!out.includes(a)) out.push(a);
  }
  return out;
}

/**
 * Removes our chains and the rules that jump to them, and nothing else. Idempotent; also a no-op where iptables
 * is not installed, since then no rule of ours can exist.
 */
export async function healNetwork(opts: NetworkTarget = {}): Promise<void> {
  const chains = faultChains(opts.chainPrefix);
  await serialised(opts.namespace, async () => {
    let table;
    try {
      table = await readFilterTable(opts.namespace);
    } catch (err) {
      if (err instanceof MissingToolError) return; // no iptables, so nothing of ours to remove
      throw err;
    }
    await restoreFilter(removalLines(table, chains.all), opts.namespace);
  });
}

/** What our chains currently do in this namespace, read back from iptables (not from memory). */
export async function networkFaultState(
  opts: NetworkTarget = {},
): Promise<{ dropFrom: string[]; loss: { from: string; probability: number }[] }> {
  const chains = faultChains(opts.chainPrefix);
  const table = await readFilterTable(opts.namespace);
  const dropFrom: string[] = [];
  const loss: { from: string; probability: number }[] = [];
  for (const rule of table.rules) {
    const source = valueOf(rule.tokens, '-s')?.replace(/\/32$/, '');
    if (source === undefined || valueOf(rule.tokens, '-j') !== 'DROP') continue;
    if (rule.chain === chains.drop) dropFrom.push(source);
    if (rule.chain === chains.loss) {
      const p = Number(valueOf(rule.tokens, '--probability') ?? '1');
      loss.push({ from: source, probability: Math.round(p * 1e6) / 1e6 });
    }
  }
  return { dropFrom, loss };
}
