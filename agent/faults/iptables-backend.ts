/**
 * Which iptables backend this host's `iptables` drives (nf_tables or legacy), whether the other backend holds rules
 * too (then the host's firewall may not be where ours are), and the FORWARD chain's policy (a DROP there, as Docker
 * sets, silently cuts bridged traffic). Reported by Hello and `agent doctor`.
 */
import { readFileSync } from 'node:fs';
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

/**
 * Rules in the filter table of the backend we do not use. Never creates a table: asking the legacy backend for a
 * named table would make the kernel instantiate an empty one (and iptables-nft would warn about it forever after),
 * so legacy is asked only when /proc lists a legacy filter table, and without naming one.
 */
async function countRules(cmd: string, namespace?: string): Promise<number> {
  try {
    if (cmd === 'iptables-legacy-save') {
      const names = namespace === undefined
        ? readFileSync('/proc/net/ip_tables_names', 'utf8')
        : await runTool('cat', ['/proc/net/ip_tables_names'], { namespace, timeoutMs: 5000 });
      if (!names.split('\n').includes('filter')) return 0;
    }
    return parseFilterTable(await runTool(cmd, [], { namespace, timeoutMs: 5000 })).rules.length;
  } catch (err) {
    // That backend is absent here (no binary, no legacy module: no /proc file), so it holds no rules.
    if (err instanceof MissingToolError || err instanceof CommandFailedError || (err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
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
