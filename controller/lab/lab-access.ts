/**
 * The lab's credentials, kept under its state folder: a CA of its own (`tls/`), a certificate per agent (its node
 * name and address) and one for the controller; NATS passwords per agent and for the controller (`nats-auth/`);
 * and each agent's config file with its certificates, NATS credentials and an allow-list limited to the lab's
 * subnet. Everything is 0600. `labAccess` is how a run or `faultline fault` on the lab finds them.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { caFiles, certPair, CONTROLLER_CERT_NAME, initCa, issueCertificate } from '../certs/cert-authority';
import { agentNatsUser, CONTROLLER_NATS_USER, natsAuthorizationBlock, passwordFile, writeNatsAuthConfig, type NatsUser } from '../nats-auth';
import { certsDirSecurity, type FleetAccess } from '../rpc/credentials';
import { labDir } from './lab-state';

export function labTlsDir(prefix: string): string {
  return join(labDir(prefix), 'tls');
}

function labNatsAuthDir(prefix: string): string {
  return join(labDir(prefix), 'nats-auth');
}

/** Makes what is missing: the CA, the controller's certificate, and one certificate per node. */
export async function ensureLabCertificates(prefix: string, nodes: readonly { name: string; address: string }[]): Promise<void> {
  const dir = labTlsDir(prefix);
  if (!existsSync(caFiles(dir).keyFile)) await initCa(dir, { commonName: `faultline lab ${prefix} CA` });
  if (!existsSync(certPair(dir, 'controller').certFile)) {
    await issueCertificate(dir, { name: CONTROLLER_CERT_NAME, usage: 'controller', out: certPair(dir, 'controller') });
  }
  for (const n of nodes) {
    if (!existsSync(certPair(dir, n.name).certFile)) await issueCertificate(dir, { name: n.name, addresses: [n.address], usage: 'agent' });
  }
}

/**
 * The NATS users of the lab (passwords made on first use): the server config file that requires them (the single
 * server's), the same `authorization` block as text (for each member of a cluster's own file), and the controller's
 * user (what the lab itself connects as).
 */
export function ensureLabNatsAuth(prefix: string, nodes: readonly string[]): { configFile: string; authorization: string; controller: { user: string; pass: string } } {
  const dir = labNatsAuthDir(prefix);
  const controller = { user: CONTROLLER_NATS_USER, pass: passwordFile(dir, CONTROLLER_NATS_USER).password };
  const users: NatsUser[] = [
    { user: controller.user, password: controller.pass },
    ...nodes.map((n) => ({ user: agentNatsUser(n), password: passwordFile(dir, agentNatsUser(n)).password, node: n })),
  ];
  return { configFile: writeNatsAuthConfig(dir, users), authorization: natsAuthorizationBlock(users), controller };
}

/** Writes the agent's config file for one lab node; returns its path. */
export function writeLabAgentConfig(prefix: string, node: string, dataDir: string, subnet: string, natsAuth: boolean): string {
  const tls = labTlsDir(prefix);
  const pair = certPair(tls, node);
  const config = {
    tls: { ca: caFiles(tls).certFile, cert: pair.certFile, key: pair.keyFile },
    ...(natsAuth ? { nats: { user: agentNatsUser(node), passwordFile: passwordFile(labNatsAuthDir(prefix), agentNatsUser(node)).file } } : {}),
    allow: { targets: [subnet] },
  };
  const file = join(dataDir, 'agent.yaml');
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}

/** How the controller reaches the lab `prefix`: its controller certificate, and its NATS user unless NATS is external. */
export function labAccess(prefix: string, natsExternal = false): FleetAccess {
  const dir = labNatsAuthDir(prefix);
  const nats = !natsExternal && existsSync(join(dir, `${CONTROLLER_NATS_USER}.password`))
    ? { user: CONTROLLER_NATS_USER, passwordFile: passwordFile(dir, CONTROLLER_NATS_USER).file }
    : {};
  return { security: certsDirSecurity(labTlsDir(prefix)), nats };
}
