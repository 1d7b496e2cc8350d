/**
 * Packet loss with the iptables `statistic` match (works where `tc netem` does not): this node drops each packet
 * from the chosen addresses with a fixed probability. Rules live in our own `FAULTLINE-LOSS` chain, separate from
 * the partition chain, so a partition and loss can be applied and replaced independently; `healNetwork` removes
 * both.
 */
import { checkAddresses, faultChains, type NetworkTarget } from './partition';
import { replaceInputChain } from './iptables';

/**
 * Makes this node drop each packet from `fromAddresses` with `probability` (0..1), replacing the previous loss
 * set. An empty list or a probability of 0 removes the loss rules.
 * @throws RangeError for a probability outside 0..1 or a bad address; MissingToolError without iptables.
 */
export async function applyLoss(
  opts: NetworkTarget & { fromAddresses: string[]; probability: number; neverDrop?: string[] },
): Promise<void> {
  const { probability } = opts;
  if (!Number.isFinite(probability) || probability < 0 || probability > 1) {
    throw new RangeError(`Cannot apply packet loss: probability ${String(probability)} is not between 0 and 1`);
  }
  const addresses = checkAddresses(opts.fromAddresses, opts.neverDrop ?? []);
  const p = formatProbability(probability);
  const specs = p === undefined ? [] : addresses.map((a) => `-s ${a}/32 -m statistic --mode random --probability ${p} -j DROP`);
  await replaceInputChain(faultChains(opts.chainPrefix).loss, specs, opts.namespace);
}

/** iptables keeps the probability as a 31-bit fraction; below one in a billion it rounds to zero: no rule. */
function formatProbability(p: number): string | undefined {
  const s = p.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return Number(s) === 0 ? undefined : s;
}
