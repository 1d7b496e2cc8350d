/**
 * `faultline run --nodes-file nodes.yaml`: a fleet described in one file — each node's name, address and agent
 * port (and per-node settings), the controller's certificate paths and the NATS URL with its credentials. Paths
 * are relative to the file. Validated with zod; unknown keys are errors.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../../core/errors';
import type { FleetAccess } from '../rpc/credentials';

const nodeSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'node names may use letters, digits, "-" and "_"'),
    address: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, 'expected the node\'s IPv4 address'),
    agentPort: z.number().int().min(1).max(65535).optional(),
    /** Where the agent listens when it is not the node's own address (e.g. a management network). */
    agentHost: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/).optional(),
    /** Free-form notes kept in plan.json (rack, VM size, ...). */
    settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .strict();

export const nodesFileSchema = z
  .object({
    nodes: z.array(nodeSchema).min(1, 'at least one node'),
    nats: z
      .object({ url: z.string().regex(/^(nats|tls):\/\/\S+$/, 'expected a nats:// URL'), user: z.string().optional(), passwordFile: z.string().optional(), ca: z.string().optional() })
      .strict(),
    tls: z.object({ ca: z.string(), cert: z.string(), key: z.string() }).strict().optional(),
    insecure: z.boolean().optional(),
  })
  .strict();

export interface Fleet {
  nodes: { name: string; address: string; agent: string; settings?: Record<string, string | number | boolean> }[];
  natsUrl: string;
  access: FleetAccess;
}

/** @throws UsageError naming the file and the first problem. */
export function readNodesFile(path: string): Fleet {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`Cannot read --nodes-file "${path}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0]}`);
  }
  const parsed = nodesFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`Cannot use --nodes-file "${path}": ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const f = parsed.data;
  const names = new Set<string>();
  for (const n of f.nodes) {
    if (names.has(n.name)) throw new UsageError(`Cannot use --nodes-file "${path}": node "${n.name}" appears twice`);
    names.add(n.name);
  }
  if (!f.tls && !f.insecure) throw new UsageError(`Cannot use --nodes-file "${path}": give tls (ca, cert, key) or insecure: true`);
  const at = (p: string) => resolve(dirname(path), p);
  return {
    nodes: f.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      agent: `${n.agentHost ?? n.address}:${n.agentPort ?? 7701}`,
      ...(n.settings ? { settings: n.settings } : {}),
    })),
    natsUrl: f.nats.url,
    access: {
      security: f.tls && !f.insecure ? { kind: 'mtls', tls: { caFile: at(f.tls.ca), certFile: at(f.tls.cert), keyFile: at(f.tls.key) } } : { kind: 'insecure' },
      nats: {
        ...(f.nats.user !== undefined ? { user: f.nats.user } : {}),
        ...(f.nats.passwordFile !== undefined ? { passwordFile: at(f.nats.passwordFile) } : {}),
        ...(f.nats.ca !== undefined ? { caFile: at(f.nats.ca) } : {}),
      },
    },
  };
}
