import { tmpdir } from 'node:os';
import { DB_NAMES, createDatabase } from './db/registry';
import { findLibfaketime } from './faults/clock-faketime';
import { htbAvailable, iptablesAvailable, netemAvailable } from './faults/iptables';

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
    { name: 'iptables', available: ipt.ok, detail: ipt.reason ?? '' },
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

