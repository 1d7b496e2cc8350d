/**
 * Our built agent inside a lab node's namespace, with certificates from a CA made for the test and a config file
 * of the test's choosing (allow-list, NATS credentials): how an agent runs on a VM, on one machine.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { caFiles, certPair, CONTROLLER_CERT_NAME, initCa, issueCertificate } from '../../controller/certs/cert-authority';
import type { LabNode } from '../../controller/lab/network';
import { netnsSpawn } from '../../controller/lab/network';
import { canConnect } from '../../controller/nats-server';
import type { ControllerSecurity } from '../../controller/rpc/credentials';
import type { AfterHost } from './cleanup';
import { CLI } from './processes';

export const AGENT_PORT = 7701;

/** A CA with a controller certificate and one agent certificate per node, in a temp folder removed after the test. */
export async function testPki(t: AfterHost, nodes: readonly LabNode[]): Promise<{ dir: string; controller: ControllerSecurity }> {
  const dir = mkdtempSync(join(tmpdir(), 'pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await initCa(dir);
  await issueCertificate(dir, { name: CONTROLLER_CERT_NAME, usage: 'controller', out: certPair(dir, 'controller') });
  for (const n of nodes) await issueCertificate(dir, { name: n.name, addresses: [n.address], usage: 'agent' });
  const c = certPair(dir, 'controller');
  return { dir, controller: { kind: 'mtls', tls: { caFile: caFiles(dir).certFile, certFile: c.certFile, keyFile: c.keyFile } } };
}

export interface NetnsAgent {
  child: ChildProcess;
  pid: number;
  address: string;
  dataDir: string;
  output: () => string;
}

/** Starts `faultline agent --config FILE` in `node`'s namespace; SIGTERM (then SIGKILL) after the test. */
export async function startNetnsAgent(
  t: AfterHost,
  node: LabNode,
  opts: { natsUrl: string; pkiDir: string; config?: Record<string, unknown>; env?: NodeJS.ProcessEnv },
): Promise<NetnsAgent> {
  const dataDir = mkdtempSync(join(tmpdir(), `agent-${node.name}-`));
  const pair = certPair(opts.pkiDir, node.name);
  const configFile = join(dataDir, 'agent.yaml');
  writeFileSync(configFile, stringify({ tls: { ca: caFiles(opts.pkiDir).certFile, cert: pair.certFile, key: pair.keyFile }, ...opts.config }), { mode: 0o600 });
  const child = netnsSpawn(
    node.namespace,
    process.execPath,
    [CLI, 'agent', '--node', node.name, '--listen', `${node.address}:${AGENT_PORT}`, '--nats', opts.natsUrl, '--data-dir', join(dataDir, 'data'), '--config', configFile],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await Promise.race([exited.then(() => true), sleep(20_000, false)]))) child.kill('SIGKILL');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 15_000;
  while (!(await canConnect(node.address, AGENT_PORT))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agent ${node.name} did not start:\n${out}`);
    await sleep(50);
  }
  return { child, pid: child.pid!, address: `${node.address}:${AGENT_PORT}`, dataDir, output: () => out };
}
