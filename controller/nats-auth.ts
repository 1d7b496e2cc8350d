/**
 * NATS authentication and authorization for a run's event pipeline: the server config block with one user per
 * agent, each allowed to publish only to its own event subject (`faultline.events.<run>.<node>`) and to receive
 * only its own replies (`_INBOX_<node>.>`, the inbox prefix our agents use), and one controller user that may do
 * everything (create streams, consume). A client without credentials is refused by the server.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CONTROLLER_NATS_USER = 'controller';

export interface NatsUser {
  user: string;
  password: string;
  /** Undefined: every permission (the controller). */
  node?: string;
}

/** The NATS user name of an agent. */
export function agentNatsUser(node: string): string {
  return `agent-${node}`;
}

const quote = (s: string) => JSON.stringify(s); // NATS config accepts JSON strings

/** The `authorization { ... }` block of a nats-server config. Pure. */
export function natsAuthorizationBlock(users: readonly NatsUser[]): string {
  for (const u of users) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(u.user) || !/^[A-Za-z0-9]{16,128}$/.test(u.password) || (u.node !== undefined && !/^[A-Za-z0-9_-]{1,63}$/.test(u.node))) {
      throw new RangeError(`Cannot write NATS credentials for user "${u.user}": bad user name, node or password`);
    }
  }
  const lines = users.map((u) =>
    u.node === undefined
      ? `    { user: ${quote(u.user)}, password: ${quote(u.password)} }`
      : `    { user: ${quote(u.user)}, password: ${quote(u.password)}, permissions: { ` +
        `publish: { allow: [${quote(`faultline.events.*.${u.node}`)}] }, subscribe: { allow: [${quote(`_INBOX_${u.node}.>`)}] } } }`,
  );
  return ['authorization {', '  users = [', ...lines, '  ]', '}', ''].join('\n');
}

/** The `tls { ... }` block: the server's certificate (from `faultline certs`, usage server); clients verify it with the CA. */
export function natsTlsBlock(tls: { certFile: string; keyFile: string }): string {
  return ['tls {', `  cert_file: ${quote(tls.certFile)}`, `  key_file: ${quote(tls.keyFile)}`, '}', ''].join('\n');
}

/**
 * Writes a nats-server config file (mode 0600) holding the authorization block, and a TLS block when a server
 * certificate is given (clients must then connect with TLS). Returns its path.
 */
export function writeNatsAuthConfig(dir: string, users: readonly NatsUser[], tls?: { certFile: string; keyFile: string }): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'auth.conf');
  writeFileSync(file, natsAuthorizationBlock(users) + (tls ? natsTlsBlock(tls) : ''), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The password of `user` kept in `dir/<user>.password` (0600), made on first use. */
export function passwordFile(dir: string, user: string): { file: string; password: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${user}.password`);
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  return { file, password: readFileSync(file, 'utf8').trim() };
}
