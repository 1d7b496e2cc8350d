/**
 * `faultline agent install|uninstall`: the agent as a systemd service. Install validates the agent config, writes
 * it (0600) and a unit (`KillMode=control-group` so the DB members it started stop with it, `Restart=on-failure`),
 * checks the unit with `systemd-analyze verify` where that exists, and enables and starts the service where
 * systemd runs. Uninstall stops the service, heals every fault the agent's journal lists (and whatever of ours is
 * left in iptables and tc), stops DB members it left behind, and removes the unit and the config.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { filePathsOf, readAgentFile, resolveAgentOptions, type AgentConfig } from './config';
import { reapOrphans } from './db/registry';
import { FaultJournal } from './fault-journal';
import { FaultManager } from './fault-manager';

export const UNIT_NAME = 'faultline-agent.service';

export interface InstallPaths {
  unitFile: string;
  configFile: string;
}

export function defaultInstallPaths(root = '/'): InstallPaths {
  return { unitFile: join(root, 'etc/systemd/system', UNIT_NAME), configFile: join(root, 'etc/faultline/agent.yaml') };
}

/** The unit text. `cliMain` is this installation's dist/cli/main.js. Pure. */
export function unitText(nodeBinary: string, cliMain: string, configFile: string, opts: { allowSystemClock?: boolean } = {}): string {
  for (const p of [nodeBinary, cliMain, configFile]) {
    if (!/^\/[A-Za-z0-9._/+-]+$/.test(p)) throw new RangeError(`Cannot write a unit for path "${p}": use an absolute path without spaces or quotes`);
  }
  return [
    '[Unit]',
    'Description=faultline agent (chaos testing node daemon: DB member, faults, events)',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${nodeBinary} ${cliMain} agent --config ${configFile}`,
    // The config names the system clock strategy: the node's real clock may be shifted (dedicated VMs only).
    ...(opts.allowSystemClock ? ['Environment=FAULTLINE_ALLOW_SYSTEM_CLOCK=1'] : []),
    // The DB members the agent starts live in its control group: stopping the service stops them too.
    'KillMode=control-group',
    'Restart=on-failure',
    'RestartSec=2s',
    'TimeoutStopSec=30s',
    'User=root',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string; missing: boolean }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      res({ ok: !err, out: `${stdout}${stderr}`.trim(), missing: (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' }),
    );
  });
}

/** Whether systemd is PID 1 here (its runtime directory exists). */
export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}

export interface InstallReport {
  lines: string[];
  verified: boolean | undefined;
}

/**
 * Installs the agent from `sourceConfig`. @throws RangeError when the config is invalid or the unit does not verify.
 */
export async function installAgent(sourceConfig: string, paths: InstallPaths, opts: { cliMain: string; enable: boolean }): Promise<InstallReport> {
  const config = resolveAgentOptions({ config: sourceConfig }); // validates, reads the password file and certificates' paths
  // The config moves to /etc/faultline: a path relative to where it was written would point elsewhere there.
  const relative = filePathsOf(readAgentFile(sourceConfig)).find((p) => !isAbsolute(p));
  if (relative !== undefined) throw new RangeError(`Cannot install the agent: "${relative}" in ${sourceConfig} is relative; use absolute paths in an installed config`);
  const lines: string[] = [];
  mkdirSync(dirname(paths.configFile), { recursive: true, mode: 0o700 });
  if (resolve(sourceConfig) !== resolve(paths.configFile)) copyFileSync(sourceConfig, paths.configFile);
  chmodSync(paths.configFile, 0o600);
  lines.push(`wrote ${paths.configFile} (node ${config.node}, listening on ${config.listenHost}:${config.listenPort}${config.tls ? ', mTLS' : ', INSECURE plaintext'})`);
  mkdirSync(dirname(paths.unitFile), { recursive: true });
  const allowSystemClock = readAgentFile(sourceConfig).allow?.clockStrategies?.includes('system') === true;
  writeFileSync(paths.unitFile, unitText(process.execPath, resolve(opts.cliMain), resolve(paths.configFile), { allowSystemClock }), { mode: 0o644 });
  lines.push(`wrote ${paths.unitFile}`);
  const verify = await run('systemd-analyze', ['verify', paths.unitFile]);
  let verified: boolean | undefined;
  if (verify.missing) {
    lines.push('systemd-analyze is not installed (apt-get install -y systemd): the unit was not verified');
  } else if (!verify.ok || /\S/.test(verify.out)) {
    throw new RangeError(`Cannot install the agent: systemd-analyze verify rejects ${paths.unitFile}: ${verify.out.split('\n')[0] ?? ''}`);
  } else {
    verified = true;
    lines.push('systemd-analyze verify accepts the unit');
  }
  if (!opts.enable) {
    lines.push('not enabled (--no-enable)');
  } else if (!systemdRunning()) {
    lines.push(`systemd is not running on this machine: the unit is written but not enabled; on a systemd host: systemctl enable --now ${UNIT_NAME}`);
  } else {
    for (const args of [['daemon-reload'], ['enable', '--now', UNIT_NAME]]) {
      const r = await run('systemctl', args);
      if (!r.ok) throw new RangeError(`Cannot enable the agent: systemctl ${args.join(' ')}: ${r.out.split('\n')[0] ?? ''}`);
    }
    lines.push(`enabled and started ${UNIT_NAME}`);
  }
  return { lines, verified };
}

/** Heals what the agent of `config` left applied, using its own journal; returns what it did. */
export async function healLeftovers(config: AgentConfig, log: Logger): Promise<string[]> {
  const journal = new FaultJournal(join(config.dataDir, 'faults.json'));
  const had = journal.read();
  const faults = new FaultManager(journal, () => undefined, log, config.maxFaultDurationMs, join(config.dataDir, 'faketime'));
  await faults.healAll('agent uninstall');
  const lines = [had.length > 0 ? `healed ${had.map((e) => `${e.kind} ${e.id}`).join(', ')}` : 'no fault was left applied'];
  for (const orphan of reapOrphans(config.dataDir)) lines.push(`stopped ${orphan.db} (pid ${orphan.pid}) left by the agent`);
  return lines;
}

/** Stops and disables the service, heals, removes the unit and the config. */
export async function uninstallAgent(paths: InstallPaths, log: Logger): Promise<string[]> {
  const lines: string[] = [];
  if (systemdRunning() && existsSync(paths.unitFile)) {
    const r = await run('systemctl', ['disable', '--now', UNIT_NAME]);
    lines.push(r.ok ? `stopped and disabled ${UNIT_NAME}` : `systemctl disable --now ${UNIT_NAME} failed: ${r.out.split('\n')[0] ?? ''}`);
  } else if (!systemdRunning()) {
    lines.push('systemd is not running on this machine: no service to stop');
  }
  if (existsSync(paths.configFile)) {
    lines.push(...(await healLeftovers(resolveAgentOptions({ config: paths.configFile }), log)));
  } else {
    lines.push(`no config at ${paths.configFile}: nothing to heal`);
  }
  for (const f of [paths.unitFile, paths.configFile]) {
    if (existsSync(f)) {
      rmSync(f);
      lines.push(`removed ${f}`);
    }
  }
  if (systemdRunning()) await run('systemctl', ['daemon-reload']);
  return lines;
}
