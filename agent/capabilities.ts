import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
/** One thing this host can or cannot do, as Hello reports it. */
export interface Capability {
  name: string;
  available: boolean;
  /** Version, or why it is missing. */
  detail: string;
}
import { htbAvailable, iptablesAvailable, netemAvailable } from './faults/iptables';

const execFileAsync = promisify(execFile);

/** Where Debian's `faketime` package puts the preload library. */
export const LIBFAKETIME_PATHS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
];

/** What this host can do, reported in Hello so the controller can refuse a plan the nodes cannot carry out. */
export async function detectCapabilities(): Promise<Capability[]> {
  const [ipt, htb, netem, etcd] = await Promise.all([iptablesAvailable(), htbAvailable(), netemAvailable(), probe('etcd', ['--version'])]);
  const faketime = LIBFAKETIME_PATHS.find((p) => existsSync(p));
  return [
    { name: 'iptables', available: ipt.ok, detail: ipt.reason ?? '' },
    { name: 'htb', available: htb.ok, detail: htb.reason ?? 'rate limits' },
    { name: 'netem', available: netem.ok, detail: netem.reason ?? '' },
    {
      name: 'faketime',
      available: faketime !== undefined,
      detail: faketime ?? 'libfaketime not found: apt-get install -y faketime',
    },
    { name: 'etcd', available: etcd.ok, detail: etcd.detail },
  ];
}

async function probe(cmd: string, args: string[]): Promise<{ ok: boolean; detail: string }> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { timeout: 5000 });
    return { ok: true, detail: stdout.split('\n')[0] ?? '' };
  } catch {
    return { ok: false, detail: `${cmd} not found` };
  }
}
