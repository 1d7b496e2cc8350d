/**
 * `faultline agent install|uninstall|doctor` on this machine (issue 13, acceptance 3): install writes a unit that
 * `systemd-analyze verify` accepts and a 0600 config, and says in one line that systemd is not running here;
 * uninstall heals what the agent's journal lists and removes both; doctor passes on a node that has everything its
 * config allows, and reports a capability removed on purpose (faketime, the etcd binary) with its fix, exit 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { caFiles, certPair, initCa, issueCertificate } from '../../controller/certs/cert-authority';
import { netnsSpawn } from '../../controller/lab/network';
import { startNatsServer } from '../../controller/nats-server';
import { agentNatsUser, passwordFile, writeNatsAuthConfig } from '../../controller/nats-auth';
import { labSkipReason, useLab, iptablesSave } from '../support/netns';
import { CLI, freePort, runCli, tempDir } from '../support/processes';

const execFileAsync = promisify(execFile);

/** A PATH of symlinks to every program on the current PATH except `without`. */
function pathWithout(root: string, without: string[]): string {
  const dir = join(root, `path-without-${without.join('-')}`);
  mkdirSync(dir, { recursive: true });
  for (const d of (process.env['PATH'] ?? '').split(':')) {
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      if (without.includes(name) || existsSync(join(dir, name))) continue;
      symlinkSync(join(d, name), join(dir, name));
    }
  }
  return dir;
}

async function nodeSetup(t: Parameters<typeof tempDir>[0]) {
  const root = tempDir(t, 'agent-install-');
  const pki = join(root, 'certs');
  await initCa(pki);
  await issueCertificate(pki, { name: 'n1', addresses: ['127.0.0.1'], usage: 'agent' });
  const natsCert = await issueCertificate(pki, { name: 'nats', addresses: ['127.0.0.1', 'localhost'], usage: 'server' }); // nats.js names a loopback server localhost
  const auth = join(root, 'nats-auth');
  const pw = passwordFile(auth, agentNatsUser('n1'));
  const port = await freePort();
  // NATS with users and TLS: the agent authenticates and checks the server's certificate against the CA.
  const nats = await startNatsServer({
    host: '127.0.0.1',
    port,
    dir: join(root, 'nats'),
    configFile: writeNatsAuthConfig(auth, [{ user: agentNatsUser('n1'), password: pw.password, node: 'n1' }], natsCert),
  });
  t.after(() => nats.stop());
  const config = (extra: Record<string, unknown> = {}) => {
    const file = join(root, `agent-${Object.keys(extra).join('-') || 'base'}.yaml`);
    writeFileSync(
      file,
      stringify({
        node: 'n1',
        listen: '127.0.0.1:7799',
        dataDir: join(root, 'data'),
        nats: { url: nats.url, user: agentNatsUser('n1'), passwordFile: pw.file, ca: caFiles(pki).certFile },
        tls: { ca: caFiles(pki).certFile, cert: certPair(pki, 'n1').certFile, key: certPair(pki, 'n1').keyFile },
        allow: { databases: ['etcd'], faults: ['partition', 'loss', 'kill', 'pause', 'clock'], clockStrategies: ['faketime'], targets: ['127.0.0.0/24'] },
        ...extra,
      }),
      { mode: 0o600 },
    );
    return file;
  };
  return { root, config, natsUrl: nats.url, passwordFile: pw.file };
}

test('agent doctor passes on a capable node and names a capability removed on purpose, with its fix', { timeout: 120_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const { root, config, natsUrl, passwordFile: pwFile } = await nodeSetup(t);
  const file = config();
  const all = await runCli(['agent', 'doctor', '--config', file, '--controller', '127.0.0.1:1'], { timeoutMs: 60_000 });
  assert.equal(all.code, 0, all.stdout + all.stderr);
  for (const name of ['iptables', 'iptables backend', 'FORWARD policy', 'tc', 'faketime', 'disk space', 'db etcd', 'certificates', 'nats', 'controller']) {
    assert.match(all.stdout, new RegExp(`^ok  {3}${name}: `, 'm'), `${name} checked:\n${all.stdout}`);
  }
  assert.match(all.stdout, /all \d+ checks passed/);
  assert.match(all.stdout, /^ok {4}nats: nats:\/\/127\.0\.0\.1:\d+ answers \(\d+ ms\) as agent-n1$/m);
  // Without the CA the server's certificate is not trusted; without the password the user is refused.
  const noCa = await runCli(['agent', 'doctor', '--config', config({ nats: { url: natsUrl, user: agentNatsUser('n1'), passwordFile: pwFile } })], { timeoutMs: 60_000 });
  assert.equal(noCa.code, 1);
  assert.match(noCa.stdout, /^FAIL {2}nats: cannot connect/m);

  const noFaketime = await runCli(['agent', 'doctor', '--config', file], { env: { PATH: pathWithout(root, ['faketime']) }, timeoutMs: 60_000 });
  assert.equal(noFaketime.code, 1, noFaketime.stdout + noFaketime.stderr);
  assert.match(noFaketime.stdout, /^FAIL {2}faketime: the faketime command is not on PATH\n {6}fix: apt-get install -y faketime$/m);
  assert.match(noFaketime.stdout, /1 of \d+ checks failed/);

  const noEtcd = await runCli(['agent', 'doctor', '--config', file], { env: { PATH: pathWithout(root, ['etcd']) }, timeoutMs: 60_000 });
  assert.equal(noEtcd.code, 1);
  assert.match(noEtcd.stdout, /^FAIL {2}db etcd: etcd is not installed on this node.*\n {6}fix: apt-get install -y etcd-server$/m);

  const json = await runCli(['agent', 'doctor', '--config', file, '--json'], { env: { FAULTLINE_ETCD_BIN: '/nonexistent/etcd' }, timeoutMs: 60_000 });
  const parsed = JSON.parse(json.stdout) as { ok: boolean; checks: { name: string; ok: boolean; fix?: string }[] };
  assert.equal(parsed.ok, false);
  assert.deepEqual(parsed.checks.filter((c) => !c.ok).map((c) => c.name), ['db etcd']);

  // A config that is not valid is bad input: one line, exit 254.
  const bad = await runCli(['agent', 'doctor', '--config', config({ allow: { faults: ['meteor'] } })]);
  assert.equal(bad.code, 254);
  assert.match(bad.stderr, /^faultline: Cannot use agent config ".*": allow\.faults\.0: /);
});

test('agent install writes a unit systemd-analyze accepts; uninstall heals the journal and removes both', { timeout: 120_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const { root, config } = await nodeSetup(t);
  const target = join(root, 'root');
  const res = await runCli(['agent', 'install', '--config', config(), '--root', target]);
  assert.equal(res.code, 0, res.stdout + res.stderr);
  const unit = join(target, 'etc/systemd/system/faultline-agent.service');
  const installed = join(target, 'etc/faultline/agent.yaml');
  assert.equal(statSync(installed).mode & 0o777, 0o600);
  const text = readFileSync(unit, 'utf8');
  assert.match(text, /^KillMode=control-group$/m);
  assert.match(text, /^Restart=on-failure$/m);
  assert.match(text, new RegExp(`^ExecStart=${process.execPath} \\S+/cli/main\\.js agent --config ${installed}$`, 'm'));
  assert.match(res.stdout, /^systemd-analyze verify accepts the unit$/m);
  const notRunning = res.stdout.split('\n').filter((l) => /systemd is not running/.test(l));
  assert.equal(notRunning.length, existsSync('/run/systemd/system') ? 0 : 1, res.stdout);
  const verify = await execFileAsync('systemd-analyze', ['verify', unit]);
  assert.equal(`${verify.stdout}${verify.stderr}`.trim(), '');

  // Uninstall, inside a namespace (where the agent's rules would be): a partition the journal lists is healed.
  const lab = await useLab(t, { prefix: 'flxu', nodes: 1 });
  const ns = lab.nodes[0]!.namespace;
  await execFileAsync('ip', ['netns', 'exec', ns, 'iptables', '-N', 'FAULTLINE-IN']);
  await execFileAsync('ip', ['netns', 'exec', ns, 'iptables', '-I', 'INPUT', '1', '-j', 'FAULTLINE-IN']);
  await execFileAsync('ip', ['netns', 'exec', ns, 'iptables', '-A', 'FAULTLINE-IN', '-s', '10.1.2.3/32', '-j', 'DROP']);
  mkdirSync(join(root, 'data'), { recursive: true });
  writeFileSync(join(root, 'data/faults.json'), JSON.stringify([{ id: 'p1', kind: 'partition', detail: { dropFrom: ['10.1.2.3'] }, appliedAtMs: Date.now(), expiresAtMs: Date.now() + 60_000 }]));
  const child = netnsSpawn(ns, process.execPath, [CLI, 'agent', 'uninstall', '--root', target], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  assert.equal(code, 0, out);
  assert.match(out, /healed partition p1/);
  assert.doesNotMatch(await iptablesSave(ns), /FAULTLINE-IN/);
  assert.equal(existsSync(unit), false);
  assert.equal(existsSync(installed), false);
});
