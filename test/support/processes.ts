import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AfterHost } from './cleanup';
import { setTimeout as sleep } from 'node:timers/promises';
import { canConnect, freePort as freePortOn, startNatsServer, type NatsServerHandle } from '../../controller/nats-server';

/** Repository root (tests run from dist/test/...). */
export const ROOT = resolve(__dirname, '../../..');
export const CLI = join(ROOT, 'dist/cli/main.js');

export function tempDir(t: AfterHost, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return freePortOn(host);
}

/** A real nats-server with JetStream on loopback, stopped after the test. */
export async function startNats(t: AfterHost, host = '127.0.0.1'): Promise<NatsServerHandle> {
  const server = await startNatsServer({ host, port: await freePort(host), dir: tempDir(t, 'nats-') });
  t.after(() => server.stop());
  return server;
}

export interface SpawnedAgent {
  child: ChildProcess;
  address: string;
  dataDir: string;
  output: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** Our built agent (`node dist/cli/main.js agent`) on loopback; SIGTERM then SIGKILL after the test. */
export async function startAgent(
  t: AfterHost,
  opts: {
    node: string;
    natsUrl: string;
    host?: string;
    dataDir?: string;
    env?: NodeJS.ProcessEnv;
    extraArgs?: string[];
    /** mTLS files; without them the agent is started with --insecure. */
    tls?: { ca: string; cert: string; key: string };
    /** An agent config file (--config: allow-list, tls, nats credentials), instead of --insecure. */
    config?: string;
  },
): Promise<SpawnedAgent> {
  const host = opts.host ?? '127.0.0.1';
  const port = await freePort(host);
  // Removed by the agent's own after-hook once it has exited (hooks run in order; the agent needs its dir until then).
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `agent-${opts.node}-`));
  const child = spawn(
    process.execPath,
    [
      CLI, 'agent', '--node', opts.node, '--listen', `${host}:${port}`, '--nats', opts.natsUrl, '--data-dir', dataDir,
      ...(opts.tls ? ['--ca', opts.tls.ca, '--cert', opts.tls.cert, '--key', opts.tls.key] : opts.config ? ['--config', opts.config] : ['--insecure']),
      ...(opts.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(20_000, false)]);
      if (!done) child.kill('SIGKILL');
      await exited;
    }
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const deadline = Date.now() + 15_000;
  while (!(await canConnect(host, port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agent ${opts.node} did not start:\n${out}`);
    await sleep(50);
  }
  return { child, address: `${host}:${port}`, dataDir, output: () => out, exited };
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (c: ChildProcess) => void } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`faultline ${args.join(' ')} timed out:\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 300_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
    opts.onSpawn?.(child);
  });
}
