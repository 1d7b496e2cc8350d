import { tmpdir } from 'node:os';
import { DB_NAMES, createDatabase } from './db/registry';
import { findLibfaketime } from './faults/clock-faketime';
import { htbAvailable, iptablesAvailable, netemAvailable } from './faults/iptables';
import { iptablesBackend } from './faults/iptables-backend';

/** One thing this host can or cannot do, as Hello reports it. */
export interface Capability {
  name: string;
  available: boolean;
  /** Version, or why it is missing. */
  detail: string;
}



/** What this host can do, reported in Hello so the controller can refuse a plan the nodes cannot carry out. */
export async function detectCapabilities(): Promise<Capability[]> {
  const [ipt, htb, netem, dbs] = await Promise.all([
    iptablesAvailable(),
    htbAvailable(),
    netemAvailable(),
    // Every DB module answers for itself whether its binaries are here (nothing is created: no setup runs).
    Promise.all(DB_NAMES.map(async (name) => ({ name, problem: await createDatabase(name, tmpdir()).installProblem() }))),
  ]);
  const faketime = findLibfaketime();
  return [
    { name: 'iptables', available: ipt.ok, detail: ipt.reason ?? (await backendDetail()) },
    { name: 'htb', available: htb.ok, detail: htb.reason ?? 'rate limits' },
    { name: 'netem', available: netem.ok, detail: netem.reason ?? '' },
    {
      name: 'faketime',
      available: faketime !== undefined,
      detail: faketime ?? 'libfaketime not found: apt-get install -y faketime',
    },
    ...dbs.map((d) => ({ name: d.name, available: d.problem === undefined, detail: d.problem ?? 'installed' })),
  ];
}


/** Which backend our rules go to, whether the other one holds rules too, and the FORWARD policy. */
async function backendDetail(): Promise<string> {
  try {
    const b = await iptablesBackend();
    const other = b.otherBackendRules > 0 ? `; the other backend holds ${b.otherBackendRules} rule(s)` : '';
    return `${b.backend} backend${other}; FORWARD policy ${b.forwardPolicy}`;
  } catch (err) {
    return `backend unknown: ${(err as Error).message}`;
  }
}
