import { z } from 'zod';

/** What a user passes to `faultline agent`. */
export interface AgentOptions {
  node: string;
  listen: string;
  nats: string;
  dataDir: string;
  insecure?: boolean;
  leaseMs?: number;
  maxFaultDurationMs?: number;
}

/** Every field set: what the agent runs with. */
export interface AgentConfig {
  node: string;
  listenHost: string;
  listenPort: number;
  natsUrl: string;
  dataDir: string;
  leaseMs: number;
  maxFaultDurationMs: number;
  shutdownGraceMs: number;
}

const schema = z.object({
  node: z.string().regex(/^[A-Za-z0-9_-]+$/, 'node names may use letters, digits, "-" and "_"'),
  listen: z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected HOST:PORT, e.g. 10.250.87.11:7701'),
  nats: z.string().regex(/^nats:\/\/[^,\s]+(,nats:\/\/[^,\s]+)*$/, 'expected a nats:// URL, or a comma-separated list of them (a cluster)'),
  dataDir: z.string().min(1),
  insecure: z.boolean().optional(),
  leaseMs: z.number().int().min(500).optional(),
  maxFaultDurationMs: z.number().int().min(1000).optional(),
});

/** @throws RangeError with a one-line message when an option is invalid. */
export function resolveAgentOptions(opts: AgentOptions): AgentConfig {
  const parsed = schema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RangeError(`Cannot start agent: --${String(issue.path[0] ?? '')} ${issue.message}`);
  }
  if (!opts.insecure) {
    throw new RangeError('Cannot start agent: mTLS is not implemented yet; pass --insecure to serve plaintext gRPC on a trusted network');
  }
  const [host, port] = [opts.listen.slice(0, opts.listen.lastIndexOf(':')), Number(opts.listen.slice(opts.listen.lastIndexOf(':') + 1))];
  return {
    node: opts.node,
    listenHost: host,
    listenPort: port,
    natsUrl: opts.nats,
    dataDir: opts.dataDir,
    leaseMs: opts.leaseMs ?? 10_000,
    maxFaultDurationMs: opts.maxFaultDurationMs ?? 5 * 60_000,
    shutdownGraceMs: 15_000,
  };
}
