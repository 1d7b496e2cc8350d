/**
 * The controller's credentials towards agents and NATS. Towards an agent: mutual TLS 1.3 with the controller's
 * certificate, the agent's certificate checked against our CA, against the address dialled and against the node's
 * name (both must be in its subjectAltName), so one agent's certificate cannot stand in for another. Plaintext only
 * when asked for with --insecure. Towards NATS: user and password (and the CA, where NATS serves TLS).
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { checkServerIdentity, createSecureContext, type PeerCertificate } from 'node:tls';

export interface ControllerTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export type ControllerSecurity = { kind: 'mtls'; tls: ControllerTls } | { kind: 'insecure' };

/** NATS connection credentials, as file paths (plan.json records them; it must never hold a secret). */
export interface NatsAccess {
  user?: string;
  passwordFile?: string;
  caFile?: string;
}

/** What the controller needs to reach a fleet: how to talk to agents and to NATS. */
export interface FleetAccess {
  security: ControllerSecurity;
  nats: NatsAccess;
}

export const INSECURE: ControllerSecurity = { kind: 'insecure' };

/** The layout `faultline certs` writes: `ca.crt`, `controller.crt`, `controller.key` in one folder. */
export function certsDirSecurity(dir: string): ControllerSecurity {
  return { kind: 'mtls', tls: { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'controller.crt'), keyFile: join(dir, 'controller.key') } };
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new RangeError(`Cannot read the controller's ${what} "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The names a certificate carries in its subjectAltName (DNS entries), plus its CN. */
function certNames(cert: PeerCertificate): string[] {
  const names = (cert.subjectaltname ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  const cn = cert.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  return names;
}

/**
 * Channel credentials for the agent of `nodeName`. The agent's certificate must be signed by our CA, be valid,
 * match the address dialled, and name the node.
 * @throws RangeError when a file cannot be read.
 */
export function channelCredentials(security: ControllerSecurity, nodeName: string, agentHost: string): grpc.ChannelCredentials {
  if (security.kind === 'insecure') return grpc.credentials.createInsecure();
  const { tls } = security;
  const context = createSecureContext({
    ca: read(tls.caFile, 'CA certificate'),
    cert: read(tls.certFile, 'certificate'),
    key: read(tls.keyFile, 'key'),
    minVersion: 'TLSv1.3',
  });
  return grpc.credentials.createFromSecureContext(context, {
    // grpc-js hands us the node name (see `agentChannelOptions`); the address dialled is checked here too.
    checkServerIdentity: (_host, cert) => {
      if (!certNames(cert).includes(nodeName)) {
        return new Error(`Cannot trust agent at ${agentHost}: its certificate names ${certNames(cert).join(', ') || 'nobody'}, not node "${nodeName}"`);
      }
      const ips = (cert.subjectaltname ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11));
      const addressOk = isIP(agentHost) !== 0 ? ips.includes(agentHost) : checkServerIdentity(agentHost, cert) === undefined;
      if (!addressOk) return new Error(`Cannot trust agent "${nodeName}": its certificate does not carry the address ${agentHost}`);
      return undefined;
    },
  });
}

/**
 * Channel options for an agent: under mTLS the TLS server name is the node's name (an IP address is not a valid SNI
 * name), which is also what the certificate check above is handed.
 */
export function agentChannelOptions(security: ControllerSecurity, nodeName: string): grpc.ChannelOptions {
  return security.kind === 'mtls' ? { 'grpc.ssl_target_name_override': nodeName, 'grpc.default_authority': nodeName } : {};
}

/**
 * Options for `nats.connect` from an access record (reads the password file).
 * @throws RangeError when the password file cannot be read.
 */
export function natsConnectOptions(access: NatsAccess): { user?: string; pass?: string; tls?: { caFile: string } } {
  const pass = access.passwordFile === undefined ? '' : read(access.passwordFile, 'NATS password file').toString('utf8').trim();
  return {
    ...(access.user !== undefined ? { user: access.user, pass } : {}),
    ...(access.caFile !== undefined ? { tls: { caFile: access.caFile } } : {}),
  };
}
