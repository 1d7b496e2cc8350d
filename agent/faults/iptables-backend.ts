/**
 * Which iptables backend this host's `iptables` drives (nf_tables or legacy), whether the other backend holds rules
 * too (then the host's firewall may not be where ours are), and the FORWARD chain's policy (a DROP there, as Docker
 * sets, silently cuts bridged traffic). Reported by Hello and `agent doctor`.
 */
import { CommandFailedError, MissingToolError, parseFilterTable, runTool } from './iptables';

export interface IptablesBackend {
  backend: 'nft' | 'legacy' | 'unknown';
  version: string;
  /** Rules found in the backend we do not use (`iptables-legacy-save` / `iptables-nft-save`). */
  otherBackendRules: number;
  forwardPolicy: string;
}

/** Parses `iptables -V` ("iptables v1.8.9 (nf_tables)"). Pure. */
export function parseBackend(versionLine: string): IptablesBackend['backend'] {
  if (/nf_tables/.test(versionLine)) return 'nft';
  if (/legacy/.test(versionLine)) return 'legacy';
  return 'unknown';
}

async function countRules(cmd: string, namespace?: string): Promise<number> {
  try {
    return parseFilterTable(await runTool(cmd, ['-t', 'filter'], { namespace, timeoutMs: 5000 })).rules.length;
  } catch (err) {
    if (err instanceof MissingToolError || err instanceof CommandFailedError) return 0; // that backend is absent here
    throw err;
  }
}

/** @throws MissingToolError when iptables is not installed. */
export async function iptablesBackend(opts: { namespace?: string } = {}): Promise<IptablesBackend> {
  const version = (await runTool('iptables', ['-V'], { namespace: opts.namespace, timeoutMs: 5000 })).trim();
  const backend = parseBackend(version);
  const other = backend === 'nft' ? 'iptables-legacy-save' : backend === 'legacy' ? 'iptables-nft-save' : undefined;
  const table = parseFilterTable(await runTool('iptables-save', ['-t', 'filter'], { namespace: opts.namespace, timeoutMs: 5000 }));
  return {
    backend,
    version,
    otherBackendRules: other === undefined ? 0 : await countRules(other, opts.namespace),
    forwardPolicy: table.chains.get('FORWARD') ?? '-',
  };
}
