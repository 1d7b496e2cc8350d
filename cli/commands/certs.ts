import type { Command } from 'commander';
import { join } from 'node:path';
import {
  caFiles,
  certPair,
  CONTROLLER_CERT_NAME,
  describeCertificate,
  initCa,
  issueCertificate,
} from '../../controller/certs/cert-authority';
import { faultlineHome } from '../../controller/lab/lab-state';
import { UsageError } from '../../core/errors';

const defaultDir = () => join(faultlineHome(), 'certs');

/** `faultline certs init|issue`: a CA and the certificates of the agents and the controller (openssl, 0600 files). */
export function registerCertsCommand(program: Command): void {
  const certs = program.command('certs').description('make the CA and the agent and controller certificates for mutual TLS');
  certs
    .command('init')
    .description('make a CA (ca.crt, ca.key) in DIR')
    .option('--dir <dir>', 'where the certificates live (default $FAULTLINE_HOME/certs, i.e. /var/lib/faultline/certs)')
    .option('--force', 'replace an existing CA (every certificate it issued stops being trusted)')
    .action(async (o: { dir?: string; force?: boolean }) => {
      const dir = o.dir ?? defaultDir();
      const ca = await initCa(dir, { force: o.force === true });
      process.stdout.write(`made a CA: ${ca.certFile} and ${ca.keyFile} (keep ca.key on the controller only)\n`);
    });
  certs
    .command('issue')
    .description('issue a certificate signed by the CA in DIR: --node NAME --address ADDR for an agent, or --controller')
    .option('--dir <dir>', 'where the CA is and the certificate goes (default $FAULTLINE_HOME/certs)')
    .option('--node <name>', 'the agent\'s node name (its CN and DNS subjectAltName)')
    .option('--address <addr...>', 'the addresses the controller dials the agent on (IP or DNS; repeatable)')
    .option('--controller', 'the controller\'s client certificate (controller.crt, controller.key)')
    .option('--days <n>', 'validity in days', (v) => Number(v), 825)
    .action(async (o: { dir?: string; node?: string; address?: string[]; controller?: boolean; days: number }) => {
      const dir = o.dir ?? defaultDir();
      if (!Number.isInteger(o.days) || o.days < 1) throw new UsageError('Cannot issue a certificate: --days must be a whole number >= 1');
      if ((o.node !== undefined) === (o.controller === true)) throw new UsageError('Cannot issue a certificate: give either --node NAME --address ADDR or --controller');
      const pair = o.controller
        ? await issueCertificate(dir, { name: CONTROLLER_CERT_NAME, usage: 'controller', out: certPair(dir, 'controller'), validity: { days: o.days } })
        : await (async () => {
            if (!o.address || o.address.length === 0) throw new UsageError('Cannot issue an agent certificate: --address is required (the address the controller dials)');
            return issueCertificate(dir, { name: o.node!, addresses: o.address, usage: 'agent', validity: { days: o.days } });
          })();
      const d = await describeCertificate(pair.certFile);
      process.stdout.write(`issued ${pair.certFile} and ${pair.keyFile}: ${d.subject}, ${d.altNames}, valid until ${d.notAfter.toISOString()}\n`);
      if (!o.controller) process.stdout.write(`copy ${caFiles(dir).certFile}, ${pair.certFile} and ${pair.keyFile} to node ${o.node!} (mode 0600)\n`);
    });
}
