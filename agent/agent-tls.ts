/**
 * The agent's side of mutual TLS: server credentials from the CA, the agent's own certificate and key, with client
 * certificates required and checked against the CA (TLS 1.3 only); and the caller's name from its certificate.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import tls = require('node:tls');
import type { AgentTls } from './config';

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new RangeError(`Cannot start agent: cannot read the ${what} "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * gRPC server credentials that require a client certificate signed by our CA. grpc-js takes no TLS version option,
 * so the process-wide minimum is raised to TLS 1.3 (the agent process serves nothing else over TLS).
 * @throws RangeError when a file cannot be read or the key does not match the certificate.
 */
export function agentServerCredentials(config: AgentTls): grpc.ServerCredentials {
  (tls as { DEFAULT_MIN_VERSION: string }).DEFAULT_MIN_VERSION = 'TLSv1.3';
  const ca = read(config.caFile, 'CA certificate');
  const cert = read(config.certFile, 'agent certificate');
  const key = read(config.keyFile, 'agent key');
  try {
    tls.createSecureContext({ ca, cert, key });
  } catch (err) {
    throw new RangeError(`Cannot start agent: the certificate "${config.certFile}" and key "${config.keyFile}" do not fit together: ${(err as Error).message}`);
  }
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], true);
}

/** The names a peer certificate carries: its CN and every DNS subjectAltName. */
export function certificateNames(cert: { subject?: Record<string, unknown>; subjectaltname?: string } | undefined): string[] {
  if (!cert) return [];
  const names: string[] = [];
  const cn = cert.subject?.['CN'];
  if (typeof cn === 'string') names.push(cn);
  else if (Array.isArray(cn)) names.push(...cn.filter((x): x is string => typeof x === 'string'));
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const m = /^\s*DNS:(.+)$/.exec(part);
    if (m && !names.includes(m[1]!)) names.push(m[1]!);
  }
  return names;
}

/** Who called: the certificate's first name, or `plaintext <peer>` without TLS. */
export function callerOf(call: { getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: object } | null; getPeer(): string }): { name: string; names: string[]; tls: boolean } {
  const auth = call.getAuthContext();
  const names = certificateNames(auth?.sslPeerCertificate as Parameters<typeof certificateNames>[0]);
  if (auth?.transportSecurityType === 'ssl') return { name: names[0] ?? '(certificate without a name)', names, tls: true };
  return { name: `plaintext ${call.getPeer()}`, names: [], tls: false };
}
