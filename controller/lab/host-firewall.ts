/**
 * The lab's only change to the host firewall: one chain of ours (`FAULTLINE-LAB-<PREFIX>`) that accepts the lab's
 * traffic, jumped to from the top of FORWARD (bridged traffic crosses FORWARD when `br_netfilter` is loaded, and
 * a DROP policy there, as Docker sets, would silently cut the nodes off from each other) and of INPUT (nodes to
 * the bridge address, where the controller and NATS listen). Removal deletes that chain and its jumps only.
 */
import { readFile } from 'node:fs/promises';
import { LabToolMissingError, runLabCommand } from './lab-command';
import type { LabNames } from './lab-layout';

interface SavedRule {
  chain: string;
  spec: string;
  target: string | undefined;
}

interface FilterTable {
  policies: Map<string, string>;
  rules: SavedRule[];
}

function parseFilter(save: string): FilterTable {
  const policies = new Map<string, string>();
  const rules: SavedRule[] = [];
  let inFilter = false;
  for (const line of save.split('\n').map((l) => l.trim())) {
    if (line.startsWith('*')) inFilter = line === '*filter';
    else if (inFilter && line.startsWith(':')) {
      const [name = '', policy = '-'] = line.slice(1).split(/\s+/);
      policies.set(name, policy);
    } else if (inFilter && line.startsWith('-A ')) {
      const tokens = line.split(/\s+/);
      const j = tokens.indexOf('-j');
      rules.push({ chain: tokens[1] ?? '', spec: tokens.slice(2).join(' '), target: j >= 0 ? tokens[j + 1] : undefined });
    }
  }
  return { policies, rules };
}

async function readHostFilter(): Promise<FilterTable | undefined> {
  try {
    return parseFilter(await runLabCommand('iptables-save', ['-t', 'filter']));
  } catch (err) {
    if (err instanceof LabToolMissingError) return undefined; // no iptables: nothing filters, nothing of ours exists
    throw err;
  }
}

async function restore(lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await runLabCommand('iptables-restore', ['--noflush'], { input: ['*filter', ...lines, 'COMMIT', ''].join('\n') });
}

/** Whether bridged frames pass through iptables on this host (`br_netfilter` loaded and enabled). */
export async function bridgeNetfilterActive(): Promise<boolean> {
  try {
    return (await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8')).trim() === '1';
  } catch {
    return false; // no such file: br_netfilter is not loaded, bridged traffic skips iptables
  }
}

/**
 * Makes sure our accept chain exists and is jumped to from FORWARD (traffic between two ports of the lab bridge)
 * and INPUT (lab traffic to `hostAddress`). Idempotent. Does nothing where iptables is not installed.
 */
export async function ensureHostChain(names: LabNames, hostAddress: string): Promise<void> {
  const table = await readHostFilter();
  if (table === undefined) return;
  const chain = names.hostChain;
  const jumps = (builtin: string): boolean => table.rules.some((r) => r.chain === builtin && r.target === chain);
  const hasAccept = table.rules.some((r) => r.chain === chain && r.spec === '-j ACCEPT');
  const lines: string[] = [];
  if (!table.policies.has(chain) || !hasAccept) lines.push(`:${chain} - [0:0]`, `-A ${chain} -j ACCEPT`);
  if (!jumps('FORWARD')) lines.push(`-I FORWARD 1 -i ${names.bridge} -o ${names.bridge} -j ${chain}`);
  if (!jumps('INPUT')) lines.push(`-I INPUT 1 -i ${names.bridge} -d ${hostAddress}/32 -j ${chain}`);
  await restore(lines);
}

/** Removes our chain and every rule that jumps to it. Idempotent. */
export async function removeHostChain(names: LabNames): Promise<void> {
  const table = await readHostFilter();
  if (table === undefined || !table.policies.has(names.hostChain)) return;
  const chain = names.hostChain;
  const lines = table.rules.filter((r) => r.target === chain && r.chain !== chain).map((r) => `-D ${r.chain} ${r.spec}`);
  lines.push(`-F ${chain}`, `-X ${chain}`);
  await restore(lines);
}

/**
 * Whether our chain exists (undefined where iptables is not installed) and what is wrong with the host firewall
 * for this lab, one sentence each.
 */
export async function hostFirewallState(names: LabNames): Promise<{ chainExists: boolean | undefined; problems: string[] }> {
  const table = await readHostFilter();
  if (table === undefined) return { chainExists: undefined, problems: [] };
  const problems: string[] = [];
  const chainExists = table.policies.has(names.hostChain);
  const jumped = (builtin: string): boolean => table.rules.some((r) => r.chain === builtin && r.target === names.hostChain);
  const bridged = await bridgeNetfilterActive();
  if (!jumped('FORWARD') && bridged && table.policies.get('FORWARD') === 'DROP') {
    problems.push(
      `host FORWARD policy is DROP and br_netfilter is loaded, but chain ${names.hostChain} is not in FORWARD: lab nodes cannot reach each other (run lab up again)`,
    );
  }
  if (!jumped('INPUT') && table.policies.get('INPUT') === 'DROP') {
    problems.push(`host INPUT policy is DROP and chain ${names.hostChain} is not in INPUT: lab nodes cannot reach the host address`);
  }
  return { chainExists, problems };
}
