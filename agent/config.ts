import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { DB_NAMES, isDbName } from './db/registry';
import { parseCidr, type Cidr } from './target-networks';

/** Fault kinds an agent's allow-list can name. `rate` is an htb limit; `netem` any delay/duplicate/reorder/corrupt. */
export const AGENT_FAULT_KINDS = ['partition', 'loss', 'rate', 'netem', 'kill', 'pause', 'clock'] as const;
export type AgentFaultKind = (typeof AGENT_FAULT_KINDS)[number];
export const AGENT_CLOCK_STRATEGIES = ['faketime', 'system'] as const;

/** What a user passes to `faultline agent` (flags), merged over the config file's values. */
export interface AgentOptions {
  node?: string;
  listen?: string;
  nats?: string;
  dataDir?: string;
  /** YAML or JSON file with any of the fields below plus `allow`, `tls` and `nats` credentials. */
  config?: string;
  insecure?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  natsUser?: string;
  natsPasswordFile?: string;
  natsCa?: string;
  leaseMs?: number;
  maxFaultDurationMs?: number;
}

/** What the agent accepts from a controller: anything else is refused and logged with the caller's name. */
export interface AllowList {
  databases: string[];
  faults: AgentFaultKind[];
  clockStrategies: (typeof AGENT_CLOCK_STRATEGIES)[number][];
  /** Networks fault targets, probe hosts, cluster members and workload endpoints must lie in. */
  targets: Cidr[];
  /** The allow-list as written, for logs and `agent doctor`. */
  targetsText: string[];
}

export interface AgentTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Names (CN or DNS subjectAltName) a caller's certificate must carry. */
  controllerNames: string[];
}

/** Every field set: what the agent runs with. */
export interface AgentConfig {
  node: string;
  listenHost: string;
  listenPort: number;
  natsUrl: string;
  nats: { user?: string; password?: string; caFile?: string };
  dataDir: string;
  leaseMs: number;
  maxFaultDurationMs: number;
  shutdownGraceMs: number;
  /** undefined only with --insecure. */
  tls: AgentTls | undefined;
  allow: AllowList;
  /** The config file it came from, if any. */
  configFile: string | undefined;
}

const nameRe = /^[A-Za-z0-9_-]+$/;

/** The config file: the same settings as the flags, plus the allow-list. Unknown keys are errors. */
export const agentFileSchema = z
  .object({
    node: z.string().regex(nameRe, 'node names may use letters, digits, "-" and "_"').optional(),
    listen: z.string().optional(),
    dataDir: z.string().min(1).optional(),
    insecure: z.boolean().optional(),
    leaseMs: z.number().int().min(500).optional(),
    maxFaultDurationMs: z.number().int().min(1000).optional(),
    nats: z
      .object({
        url: z.string().optional(),
        user: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
        passwordFile: z.string().min(1).optional(),
        ca: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    tls: z
      .object({
        ca: z.string().min(1),
        cert: z.string().min(1),
        key: z.string().min(1),
        controllerNames: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)).min(1).optional(),
      })
      .strict()
      .optional(),
    allow: z
      .object({
        databases: z.array(z.string().refine(isDbName, { error: (iss) => `unknown database module (this agent knows ${DB_NAMES.join(', ')})` })).optional(),
        faults: z.array(z.enum(AGENT_FAULT_KINDS)).optional(),
        clockStrategies: z.array(z.enum(AGENT_CLOCK_STRATEGIES)).optional(),
        targets: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type AgentFile = z.infer<typeof agentFileSchema>;

/**
 * Reads and validates an agent config file (YAML, of which JSON is a subset).
 * @throws RangeError naming the file and the first problem.
 */
export function readAgentFile(path: string): AgentFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RangeError(`Cannot read agent config "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text) ?? {};
  } catch (err) {
    throw new RangeError(`Cannot parse agent config "${path}": ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = agentFileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RangeError(`Cannot use agent config "${path}": ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}

function readSecret(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new RangeError(`Cannot read ${what} "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The file paths a config file names (certificates, password, CA, data dir), for checks such as `agent install`'s. */
export function filePathsOf(file: AgentFile): string[] {
  return [file.dataDir, file.tls?.ca, file.tls?.cert, file.tls?.key, file.nats?.passwordFile, file.nats?.ca].filter((p): p is string => p !== undefined);
}

/** Paths in a config file are relative to the file itself. */
function relativeToFile(file: AgentFile, configPath: string): AgentFile {
  const at = (p: string | undefined) => (p === undefined ? undefined : resolvePath(dirname(configPath), p));
  return {
    ...file,
    ...(file.dataDir !== undefined ? { dataDir: at(file.dataDir)! } : {}),
    ...(file.tls ? { tls: { ...file.tls, ca: at(file.tls.ca)!, cert: at(file.tls.cert)!, key: at(file.tls.key)! } } : {}),
    ...(file.nats
      ? {
          nats: {
            ...file.nats,
            ...(file.nats.passwordFile !== undefined ? { passwordFile: at(file.nats.passwordFile)! } : {}),
            ...(file.nats.ca !== undefined ? { ca: at(file.nats.ca)! } : {}),
          },
        }
      : {}),
  };
}

/** @throws RangeError with a one-line message when an option is invalid. */
export function resolveAgentOptions(opts: AgentOptions): AgentConfig {
  const file = opts.config !== undefined ? relativeToFile(readAgentFile(opts.config), opts.config) : {};
  const fail = (msg: string): never => {
    throw new RangeError(`Cannot start agent: ${msg}`);
  };
  const node = opts.node ?? file.node ?? fail('--node (or "node" in the config file) is required');
  if (!nameRe.test(node)) fail('--node node names may use letters, digits, "-" and "_"');
  const listen = opts.listen ?? file.listen ?? fail('--listen (or "listen" in the config file) is required');
  if (!/^[^:\s]+:\d{1,5}$/.test(listen)) fail('--listen expected HOST:PORT, e.g. 10.250.87.11:7701');
  const natsUrl = opts.nats ?? file.nats?.url ?? fail('--nats (or "nats.url" in the config file) is required');
  if (!/^(nats|tls):\/\/\S+$/.test(natsUrl)) fail('--nats expected a nats:// URL');
  const dataDir = opts.dataDir ?? file.dataDir ?? fail('--data-dir (or "dataDir" in the config file) is required');
  const insecure = opts.insecure === true || file.insecure === true;
  const leaseMs = opts.leaseMs ?? file.leaseMs ?? 10_000;
  const maxFaultDurationMs = opts.maxFaultDurationMs ?? file.maxFaultDurationMs ?? 5 * 60_000;
  if (!Number.isInteger(leaseMs) || leaseMs < 500) fail('--lease must be a whole number of ms >= 500');
  if (!Number.isInteger(maxFaultDurationMs) || maxFaultDurationMs < 1000) fail('--max-fault-duration must be a whole number of ms >= 1000');

  const ca = opts.ca ?? file.tls?.ca;
  const cert = opts.cert ?? file.tls?.cert;
  const key = opts.key ?? file.tls?.key;
  let tls: AgentTls | undefined;
  if (ca !== undefined || cert !== undefined || key !== undefined) {
    if (ca === undefined || cert === undefined || key === undefined) fail('mTLS needs all of --ca, --cert and --key');
    tls = { caFile: ca!, certFile: cert!, keyFile: key!, controllerNames: file.tls?.controllerNames ?? ['faultline-controller'] };
  } else if (!insecure) {
    fail('no certificates given: pass --ca, --cert and --key (see "faultline certs"), or --insecure to serve plaintext gRPC on a trusted network');
  }

  const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
  const targetsText = file.allow?.targets ?? [defaultTargets(host)];
  const targets = targetsText.map((t) => {
    try {
      return parseCidr(t);
    } catch (err) {
      return fail(`allow.targets: ${(err as Error).message}`);
    }
  });
  const natsUser = opts.natsUser ?? file.nats?.user;
  const passwordFile = opts.natsPasswordFile ?? file.nats?.passwordFile;
  const natsCa = opts.natsCa ?? file.nats?.ca;
  return {
    node,
    listenHost: host,
    listenPort: port,
    natsUrl,
    nats: {
      ...(natsUser !== undefined ? { user: natsUser } : {}),
      ...(passwordFile !== undefined ? { password: readSecret(passwordFile, 'NATS password file') } : {}),
      ...(natsCa !== undefined ? { caFile: natsCa } : {}),
    },
    dataDir,
    leaseMs,
    maxFaultDurationMs,
    shutdownGraceMs: 15_000,
    tls: insecure ? undefined : tls,
    allow: {
      databases: file.allow?.databases ?? [...DB_NAMES],
      faults: file.allow?.faults ?? [...AGENT_FAULT_KINDS],
      clockStrategies: file.allow?.clockStrategies ?? [...AGENT_CLOCK_STRATEGIES],
      targets,
      targetsText,
    },
    configFile: opts.config,
  };
}

/** Without an allow-list, targets must be on the agent's own /24 (its cluster's subnet, in the lab and most fleets). */
function defaultTargets(listenHost: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.\d+$/.exec(listenHost);
  return m ? `${m[1]}.${m[2]}.${m[3]}.0/24` : '0.0.0.0/0';
}
