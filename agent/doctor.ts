/**
 * `faultline agent doctor`: checks that this node can do what its agent config allows — iptables (and which
 * backend, and the FORWARD policy), tc, netem, libfaketime, a clock sync service, disk space, the database binaries
 * the allow-list names, the certificates, and that NATS and the controller can be reached — and gives a fix for
 * each failure. Checks for things the allow-list does not use are skipped, so a node is not failed for them.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'nats';
import type { AgentConfig } from './config';
import { createDatabase, isDbName } from './db/registry';
import { reachability } from './fault-verify';
import { findLibfaketime } from './faults/clock-faketime';
import { htbAvailable, iptablesAvailable, netemAvailable } from './faults/iptables';
import { iptablesBackend } from './faults/iptables-backend';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

const MIN_FREE_BYTES = 1 << 30;

function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000, encoding: 'utf8' }, (err, stdout, stderr) => resolve({ ok: !err, out: `${stdout}${stderr}`.trim() }));
  });
}

function hasProcess(names: string[]): string | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
        if (names.includes(comm)) return comm;
      } catch {
        // the process exited while we looked
      }
    }
  } catch {
    return undefined; // no /proc: cannot tell
  }
  return undefined;
}

async function iptablesChecks(): Promise<DoctorCheck[]> {
  const ipt = await iptablesAvailable();
  if (!ipt.ok) return [{ name: 'iptables', ok: false, detail: ipt.reason ?? 'not usable', fix: 'apt-get install -y iptables, and run the agent as root' }];
  const b = await iptablesBackend();
  const out: DoctorCheck[] = [{ name: 'iptables', ok: true, detail: b.version }];
  const other = b.backend === 'nft' ? 'legacy' : 'nft';
  out.push(
    b.backend === 'unknown'
      ? { name: 'iptables backend', ok: false, detail: `cannot tell the backend from "${b.version}"`, fix: 'install Debian\'s iptables (1.8+), which names its backend' }
      : b.otherBackendRules > 0
        ? {
            name: 'iptables backend',
            ok: false,
            detail: `faultline writes to the ${b.backend} backend, but the ${other} backend holds ${b.otherBackendRules} rule(s): the host's firewall lives in both`,
            fix: `move the host's rules to one backend (update-alternatives --set iptables /usr/sbin/iptables-${b.backend === 'nft' ? 'nft' : 'legacy'}), or point iptables at the one the host uses`,
          }
        : { name: 'iptables backend', ok: true, detail: `${b.backend}; the ${other} backend holds no rules` },
  );
  out.push(
    b.forwardPolicy === 'DROP'
      ? {
          name: 'FORWARD policy',
          ok: false,
          detail: 'the FORWARD chain drops by default (Docker sets this): bridged or routed cluster traffic is cut without any fault',
          fix: 'iptables -I FORWARD -s <cluster-network> -d <cluster-network> -j ACCEPT (or iptables -P FORWARD ACCEPT where nothing needs DROP)',
        }
      : { name: 'FORWARD policy', ok: true, detail: b.forwardPolicy },
  );
  return out;
}

function certificateChecks(config: AgentConfig): DoctorCheck[] {
  const tls = config.tls;
  if (!tls) return [{ name: 'certificates', ok: false, detail: 'the agent runs with --insecure: plaintext gRPC, no authentication', fix: 'faultline certs issue --node NAME --address ADDRESS, then give tls.ca, tls.cert and tls.key in the config' }];
  const out: DoctorCheck[] = [];
  const issue = (detail: string, fix: string) => out.push({ name: 'certificates', ok: false, detail, fix });
  for (const f of [tls.caFile, tls.certFile, tls.keyFile]) {
    if (!existsSync(f)) return [{ name: 'certificates', ok: false, detail: `${f} does not exist`, fix: 'copy ca.crt, <node>.crt and <node>.key made by "faultline certs" to this node' }];
    const mode = statSync(f).mode & 0o777;
    if ((mode & 0o077) !== 0) issue(`${f} is readable by others (mode ${mode.toString(8)})`, `chmod 600 ${f}`);
  }
  let ca: X509Certificate;
  let cert: X509Certificate;
  try {
    ca = new X509Certificate(readFileSync(tls.caFile));
    cert = new X509Certificate(readFileSync(tls.certFile));
  } catch (err) {
    return [{ name: 'certificates', ok: false, detail: `cannot parse: ${(err as Error).message}`, fix: 'reissue with faultline certs issue' }];
  }
  if (!cert.verify(ca.publicKey)) issue(`${tls.certFile} is not signed by ${tls.caFile}`, 'reissue it from this fleet\'s CA: faultline certs issue --node ...');
  const now = Date.now();
  if (new Date(cert.validTo).getTime() < now || new Date(cert.validFrom).getTime() > now) issue(`${tls.certFile} is not valid now (${cert.validFrom} .. ${cert.validTo})`, 'reissue it: faultline certs issue --node ...');
  if (!cert.checkPrivateKey(createPrivateKey(readFileSync(tls.keyFile)))) issue(`${tls.keyFile} is not the key of ${tls.certFile}`, 'copy the matching .key file');
  const alt = cert.subjectAltName ?? '';
  if (!alt.split(', ').includes(`DNS:${config.node}`)) issue(`${tls.certFile} does not name node "${config.node}" (${alt})`, `faultline certs issue --node ${config.node} --address ...`);
  if (config.listenHost !== '0.0.0.0' && !alt.includes(config.listenHost)) issue(`${tls.certFile} does not carry the listen address ${config.listenHost}`, `faultline certs issue --node ${config.node} --address ${config.listenHost}`);
  if (out.length === 0) out.push({ name: 'certificates', ok: true, detail: `${cert.subject.replace(/\n/g, ', ')}, valid until ${cert.validTo}` });
  return out;
}

async function natsCheck(config: AgentConfig): Promise<DoctorCheck> {
  try {
    const nc = await connect({
      servers: config.natsUrl,
      timeout: 3000,
      maxReconnectAttempts: 0,
      inboxPrefix: `_INBOX_${config.node}`,
      ...(config.nats.user !== undefined ? { user: config.nats.user, pass: config.nats.password ?? '' } : {}),
      ...(config.nats.caFile !== undefined ? { tls: { caFile: config.nats.caFile } } : {}),
    });
    const rtt = await nc.rtt();
    await nc.close();
    return { name: 'nats', ok: true, detail: `${config.natsUrl} answers (${rtt} ms)${config.nats.user ? ` as ${config.nats.user}` : ''}` };
  } catch (err) {
    return {
      name: 'nats',
      ok: false,
      detail: `cannot connect to ${config.natsUrl}: ${(err as Error).message}`,
      fix: 'check nats.url, nats.user and nats.passwordFile in the config, and that the NATS port is open from this node',
    };
  }
}

/** Runs every check that applies to `config`. Never throws: a check that cannot run is a failed check. */
export async function runDoctor(config: AgentConfig, opts: { controller?: string } = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const wants = (k: (typeof config.allow.faults)[number]) => config.allow.faults.includes(k);
  const guard = async (name: string, fn: () => Promise<DoctorCheck[]> | DoctorCheck[]): Promise<void> => {
    try {
      checks.push(...(await fn()));
    } catch (err) {
      checks.push({ name, ok: false, detail: `check failed: ${(err as Error).message}`, fix: 'run the doctor as root' });
    }
  };
  if (wants('partition') || wants('loss')) await guard('iptables', iptablesChecks);
  await guard('tc', async () => {
    const tc = await run('tc', ['-V']);
    return [tc.ok ? { name: 'tc', ok: true, detail: tc.out.split('\n')[0] ?? '' } : { name: 'tc', ok: false, detail: 'tc is not installed', fix: 'apt-get install -y iproute2' }];
  });
  if (wants('rate')) {
    await guard('htb', async () => {
      const h = await htbAvailable();
      return [{ name: 'htb', ok: h.ok, detail: h.reason ?? 'tc htb works', ...(h.ok ? {} : { fix: 'load sch_htb (modprobe sch_htb), or drop "rate" from allow.faults' }) }];
    });
  }
  if (wants('netem')) {
    await guard('netem', async () => {
      const n = await netemAvailable();
      return [{ name: 'netem', ok: n.ok, detail: n.reason ?? 'tc netem works', ...(n.ok ? {} : { fix: 'modprobe sch_netem (Debian: linux-image with sch_netem), or drop "netem" from allow.faults' }) }];
    });
  }
  if (wants('clock') && config.allow.clockStrategies.includes('faketime')) {
    const lib = findLibfaketime();
    const bin = await run('faketime', ['--version']);
    checks.push(
      lib !== undefined && bin.ok
        ? { name: 'faketime', ok: true, detail: lib }
        : { name: 'faketime', ok: false, detail: lib === undefined ? 'libfaketime is not installed' : 'the faketime command is not on PATH', fix: 'apt-get install -y faketime' },
    );
  }
  if (wants('clock') && config.allow.clockStrategies.includes('system')) {
    const sync = hasProcess(['chronyd', 'ntpd', 'systemd-timesyn', 'openntpd']);
    checks.push(
      sync !== undefined
        ? { name: 'clock sync', ok: true, detail: `${sync} is running (system clock faults stop it and start it again)` }
        : { name: 'clock sync', ok: false, detail: 'no clock sync service runs (chronyd, ntpd, systemd-timesyncd)', fix: 'apt-get install -y chrony: a system clock fault must be undone by a synced clock' },
    );
  }
  await guard('disk space', () => {
    let dir = config.dataDir;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    const fs = statfsSync(dir);
    const free = fs.bavail * fs.bsize;
    return [
      free >= MIN_FREE_BYTES
        ? { name: 'disk space', ok: true, detail: `${(free / 2 ** 30).toFixed(1)} GiB free under ${dir}` }
        : { name: 'disk space', ok: false, detail: `only ${(free / 2 ** 20).toFixed(0)} MiB free under ${dir}`, fix: `free at least 1 GiB under ${dir} (DB data and the event spool live there)` },
    ];
  });
  for (const db of config.allow.databases) {
    if (!isDbName(db)) continue;
    await guard(`db ${db}`, async () => {
      const problem = await createDatabase(db, config.dataDir).installProblem();
      return [problem === undefined ? { name: `db ${db}`, ok: true, detail: 'installed' } : { name: `db ${db}`, ok: false, detail: problem, fix: problem.match(/\(apt-get[^)]*\)/)?.[0]?.slice(1, -1) ?? `install ${db}, or drop it from allow.databases` }];
    });
  }
  checks.push(...certificateChecks(config));
  checks.push(await natsCheck(config));
  if (opts.controller !== undefined) {
    const m = /^(.+?)(?::(\d+))?$/.exec(opts.controller)!;
    const r = await reachability(m[1]!, Number(m[2] ?? 22), 2000);
    checks.push(
      r === 'reachable'
        ? { name: 'controller', ok: true, detail: `${opts.controller} answers` }
        : { name: 'controller', ok: false, detail: `no answer from ${opts.controller} (${r})`, fix: `open the path between this node and ${m[1]!} (firewall, routing), so the controller can reach the agent's port ${config.listenPort}` },
    );
  }
  return checks;
}

/** The doctor's report, one line per check and a fix under each failure. */
export function formatDoctor(checks: readonly DoctorCheck[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
    if (!c.ok && c.fix) lines.push(`      fix: ${c.fix}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(failed === 0 ? `all ${checks.length} checks passed` : `${failed} of ${checks.length} checks failed`);
  return `${lines.join('\n')}\n`;
}
