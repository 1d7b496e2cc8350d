/**
 * A small certificate authority for a faultline fleet, built on the openssl command line (Debian's `openssl`):
 * one CA, one certificate per agent (its node name and address in the subjectAltName), one for the controller.
 * Every value that reaches openssl is checked first (node names, addresses) and passed as an argument or in a
 * config file we write, never through a shell. Every file is written with mode 0600.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The name in the controller's certificate; agents accept only this caller by default. */
export const CONTROLLER_CERT_NAME = 'faultline-controller';

/** Paths of one certificate and its key. */
export interface CertPair {
  certFile: string;
  keyFile: string;
}

export interface CaFiles extends CertPair {
  dir: string;
}

/** Validity of an issued certificate: days from now, or an explicit window (tests make expired ones). */
export type Validity = { days: number } | { notBefore: Date; notAfter: Date };

export class CertificateError extends Error {
  override readonly name = 'CertificateError';
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
const DNS_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** @throws RangeError unless `name` is a node name (letters, digits, "-", "_"). */
export function checkCertName(name: string): string {
  if (!NAME_RE.test(name)) throw new RangeError(`Cannot issue a certificate for "${name}": names may use letters, digits, "-" and "_"`);
  return name;
}

/** @throws RangeError unless `address` is an IP address or a DNS name. */
export function checkCertAddress(address: string): string {
  if (isIP(address) === 0 && !DNS_RE.test(address)) {
    throw new RangeError(`Cannot issue a certificate for address "${address}": expected an IP address or a DNS name`);
  }
  return address;
}

function openssl(args: string[], cwd?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new CertificateError('Cannot make certificates: openssl is not installed (apt-get install -y openssl)'));
      }
      reject(new CertificateError(`Cannot run openssl ${args[0] ?? ''}: ${stderr.trim().split('\n').pop() ?? err.message}`));
    });
  });
}

function restrict(...files: string[]): void {
  for (const f of files) chmodSync(f, 0o600);
}

export function caFiles(dir: string): CaFiles {
  return { dir, certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
}

/** Where `issue` puts the certificate of `name` (a node, or `controller`). */
export function certPair(dir: string, name: string): CertPair {
  return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
}

/**
 * Makes a CA (EC P-256, 10 years) in `dir`. Refuses to overwrite one unless `force`.
 * @throws CertificateError when a CA exists already or openssl fails.
 */
export async function initCa(dir: string, opts: { force?: boolean; commonName?: string } = {}): Promise<CaFiles> {
  const ca = caFiles(dir);
  if (existsSync(ca.keyFile) && !opts.force) throw new CertificateError(`Cannot make a CA in ${dir}: ${ca.keyFile} exists already`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cn = opts.commonName ?? 'faultline CA';
  if (!/^[A-Za-z0-9 _.-]{1,64}$/.test(cn)) throw new RangeError(`Cannot make a CA named "${cn}"`);
  const conf = join(dir, '.ca.cnf');
  writeFileSync(
    conf,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = v3_ca',
      '[dn]',
      `CN = ${cn}`,
      '[v3_ca]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  try {
    await openssl(['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-sha256',
      '-days', '3650', '-config', conf, '-keyout', ca.keyFile, '-out', ca.certFile]);
  } finally {
    rmSync(conf, { force: true });
  }
  restrict(ca.keyFile, ca.certFile);
  return ca;
}

export interface IssueOptions {
  /** The certificate's common name and first DNS subjectAltName: the node name, or `faultline-controller`. */
  name: string;
  /** Extra subjectAltNames: IP addresses and DNS names. */
  addresses?: string[];
  /** Where to write it (default: `<dir>/<name>.crt` and `.key`). */
  out?: CertPair;
  validity?: Validity;
  usage: 'agent' | 'controller' | 'server';
}

function asn1Time(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/**
 * Issues a certificate signed by the CA in `dir`: EC P-256 key, SHA-256, the name as CN and DNS SAN plus the
 * given addresses. Agents get serverAuth and clientAuth, the controller clientAuth, a server (NATS) serverAuth.
 * @throws CertificateError when there is no CA in `dir` or openssl fails; RangeError for a bad name or address.
 */
export async function issueCertificate(dir: string, opts: IssueOptions): Promise<CertPair> {
  const ca = caFiles(dir);
  if (!existsSync(ca.keyFile) || !existsSync(ca.certFile)) {
    throw new CertificateError(`Cannot issue a certificate: no CA in ${dir}; run "faultline certs init --dir ${dir}" first`);
  }
  const name = checkCertName(opts.name);
  const alt = [`DNS:${name}`, ...(opts.addresses ?? []).map((a) => (isIP(checkCertAddress(a)) ? `IP:${a}` : `DNS:${a}`))];
  const eku = { agent: 'serverAuth, clientAuth', controller: 'clientAuth', server: 'serverAuth' }[opts.usage];
  const out = opts.out ?? certPair(dir, name);
  const work = mkdtempSync(join(tmpdir(), 'faultline-ca-'));
  try {
    const conf = join(work, 'ca.cnf');
    writeFileSync(join(work, 'index.txt'), '');
    writeFileSync(
      conf,
      [
        '[ca]',
        'default_ca = fl',
        '[fl]',
        `database = ${join(work, 'index.txt')}`,
        `new_certs_dir = ${work}`,
        'rand_serial = yes',
        'default_md = sha256',
        'policy = pol',
        'unique_subject = no',
        'copy_extensions = none',
        '[pol]',
        'commonName = supplied',
        '[req]',
        'distinguished_name = dn',
        'prompt = no',
        '[dn]',
        `CN = ${name}`,
        '[ext]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        `extendedKeyUsage = ${eku}`,
        `subjectAltName = ${alt.join(', ')}`,
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
    );
    const csr = join(work, 'req.csr');
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-config', conf,
      '-keyout', out.keyFile, '-out', csr]);
    restrict(out.keyFile);
    const validity = opts.validity ?? { days: 825 };
    const window = 'days' in validity
      ? ['-days', String(validity.days)]
      : ['-startdate', asn1Time(validity.notBefore), '-enddate', asn1Time(validity.notAfter)];
    await openssl(['ca', '-batch', '-notext', '-config', conf, '-cert', ca.certFile, '-keyfile', ca.keyFile,
      '-extensions', 'ext', '-extfile', conf, ...window, '-in', csr, '-out', out.certFile]);
    restrict(out.certFile);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

/** The subject and validity of a certificate file, for `certs` output and `agent doctor`. */
export async function describeCertificate(file: string): Promise<{ subject: string; notAfter: Date; altNames: string }> {
  const { X509Certificate } = await import('node:crypto');
  const cert = new X509Certificate(readFileSync(file));
  return { subject: cert.subject.replace(/\n/g, ', '), notAfter: new Date(cert.validTo), altNames: cert.subjectAltName ?? '' };
}
