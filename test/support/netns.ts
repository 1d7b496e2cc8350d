/**
 * Helpers for tests on a real lab network: skip without root, a lab per test (removed in `t.after()`), a probe
 * process in each namespace (TCP echo, UDP counter, and a way to call agent code from inside the namespace), and
 * the list of anything faultline-made left on the host.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import {
  createLabNetwork,
  destroyLabNetwork,
  netnsSpawn,
  type LabNetwork,
  type LabNode,
} from '../../controller/lab/network';

const execFileAsync = promisify(execFile);

function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`Cannot find the repository root above ${from}`);
    dir = up;
  }
  return dir;
}

/** The repository root, whether the tests run from dist/ or from source with tsx. */
export const REPO_ROOT = findRoot(__dirname);
export const PROBE_PROGRAM = join(REPO_ROOT, 'test/fixtures/programs/netns-probe.js');
/** Every probe listens on this port (TCP and UDP), each in its own namespace. */
export const PROBE_PORT = 7390;
/** True when this file runs as TypeScript under tsx, so child processes need `--import tsx` to load our code. */
const FROM_SOURCE = __filename.endsWith('.ts');

async function works(cmd: string, args: string[]): Promise<boolean> {
  try {
    await execFileAsync(cmd, args, { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Why lab tests cannot run here (not root, no `ip`, no iptables), or undefined when they can. */
export async function labSkipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'lab tests need root (network namespaces, iptables)';
  if (!(await works('ip', ['-V']))) return 'lab tests need the ip command (apt-get install -y iproute2)';
  if (!(await works('iptables-save', ['-t', 'filter']))) return 'lab tests need iptables (apt-get install -y iptables)';
  return undefined;
}

/** A fresh lab for one test: leftovers of an earlier run with this prefix are removed first, all of it after. */
export async function useLab(t: TestContext, opts: { prefix: string; nodes: number; subnet?: number }): Promise<LabNetwork> {
  await destroyLabNetwork(opts.prefix, { graceMs: 500 });
  t.after(() => destroyLabNetwork(opts.prefix, { graceMs: 500 }));
  return createLabNetwork(opts);
}

export interface Probe {
  node: LabNode;
  pid: number;
  /** Resolves with the exit code or signal once the probe process has exited. */
  exited: Promise<number | NodeJS.Signals | null>;
  request<T>(cmd: Record<string, unknown>): Promise<T>;
  /** Connects to each target and checks an echo comes back within `timeoutMs`; one boolean per target. */
  connect(targets: { host: string; port?: number }[], timeoutMs: number): Promise<boolean[]>;
  /** Calls `fn(arg)` of a module of ours from inside the namespace, as an agent living there would. */
  call<T>(module: string, fn: string, arg: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts netns-probe inside `node`'s namespace. Stopped in `t.after()` unless `linger` (a test that checks that
 * the lab's teardown kills what is left running).
 */
export async function startProbe(
  t: TestContext,
  node: LabNode,
  opts: { linger?: boolean; ignoreSigterm?: boolean } = {},
): Promise<Probe> {
  const flags = [...(opts.linger ? ['--linger'] : []), ...(opts.ignoreSigterm ? ['--ignore-sigterm'] : [])];
  const child = netnsSpawn(
    node.namespace,
    process.execPath,
    [...(FROM_SOURCE ? ['--import', 'tsx'] : []), PROBE_PROGRAM, '--port', String(PROBE_PORT), ...flags],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, sig) => resolve(sig ?? code)));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  let nextId = 1;
  const ready = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg['ready'] === true) resolve(Number(msg['pid']));
      const done = waiting.get(Number(msg['id']));
      waiting.delete(Number(msg['id']));
      done?.(msg);
    });
    void exited.then((how) => reject(new Error(`netns-probe in ${node.namespace} exited (${String(how)}): ${stderr}`)));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  if (!opts.linger) t.after(stop);
  const pid = await ready;
  const request = <T>(cmd: Record<string, unknown>): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, (answer) => (answer['ok'] === false ? reject(new Error(String(answer['error']))) : resolve(answer as T)));
      child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  return {
    node,
    pid,
    exited,
    request,
    stop,
    connect: async (targets, timeoutMs) =>
      (
        await request<{ results: boolean[] }>({
          op: 'connect',
          targets: targets.map((x) => ({ host: x.host, port: x.port ?? PROBE_PORT })),
          timeoutMs,
        })
      ).results,
    call: async <T>(module: string, fn: string, arg: unknown) =>
      (await request<{ value: T }>({ op: 'call', module, fn, arg })).value,
  };
}

/** One probe per lab node, in node order. */
export function startProbes(t: TestContext, lab: LabNetwork): Promise<Probe[]> {
  return Promise.all(lab.nodes.map((n) => startProbe(t, n)));
}

/**
 * Which ordered pairs can open a TCP connection (and get an echo back): `result.get('n1>n2')` is true when n1
 * connected to n2. All pairs are tried at once, so this takes about `timeoutMs` when anything is cut.
 */
export async function connectivity(probes: readonly Probe[], timeoutMs: number): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  await Promise.all(
    probes.map(async (from) => {
      const peers = probes.filter((p) => p !== from);
      const results = await from.connect(peers.map((p) => ({ host: p.node.address })), timeoutMs);
      peers.forEach((p, i) => out.set(`${from.node.name}>${p.node.name}`, results[i] === true));
    }),
  );
  return out;
}

/** A TCP connection from this (host) process to a probe, with an echo round trip. */
export function hostConnect(address: string, timeoutMs: number, port = PROBE_PORT): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('ping\n'));
    socket.once('data', (d) => finish(d.toString() === 'ping\n'));
  });
}

/** A long-lived echo connection from the host to a probe, like the controller's session with an agent. */
export interface HostSession {
  /** Sends a line and resolves true if it is echoed back within `timeoutMs`. */
  echo(timeoutMs: number): Promise<boolean>;
  close(): void;
}

export function openHostSession(t: TestContext, address: string, port = PROBE_PORT): Promise<HostSession> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port });
    t.after(() => socket.destroy());
    let connected = false;
    // After connecting, a reset (the probe killed at teardown) must not crash the test: echo() reports it as false.
    socket.on('error', (err) => (connected ? undefined : reject(err)));
    let buffered = '';
    socket.on('data', (d) => (buffered += d.toString()));
    let n = 0;
    socket.once('connect', () => {
      connected = true;
      resolve({
        close: () => socket.destroy(),
        echo: (timeoutMs) =>
          new Promise((res) => {
            const token = `s${n++}\n`;
            buffered = '';
            socket.write(token);
            const started = Date.now();
            const poll = setInterval(() => {
              if (buffered.includes(token) || Date.now() - started > timeoutMs) {
                clearInterval(poll);
                res(buffered.includes(token));
              }
            }, 5);
          }),
      });
    });
  });
}

/** The filter table of a namespace (or the host with `undefined`), as iptables-save prints it. */
export async function iptablesSave(namespace?: string): Promise<string> {
  const [cmd, args] =
    namespace === undefined ? ['iptables-save', ['-t', 'filter']] : ['ip', ['netns', 'exec', namespace, 'iptables-save', '-t', 'filter']];
  return (await execFileAsync(cmd, args as string[], { timeout: 10_000 })).stdout;
}

/**
 * Traffic-shaping qdiscs of ours (handle fa17:, see agent/faults/shape.ts) in a namespace or on the host, as
 * `qdisc KIND HANDLE dev DEV root` without the live counters tc prints after it (so a baseline taken before the
 * suite still matches the same qdisc afterwards).
 */
async function ourQdiscs(namespace?: string): Promise<string[]> {
  const args = ['qdisc', 'show'];
  const out = await (namespace === undefined ? execFileAsync('tc', args) : execFileAsync('ip', ['netns', 'exec', namespace, 'tc', ...args])).then(
    (r) => r.stdout,
    () => '',
  );
  return out
    .split('\n')
    .filter((l) => / fa17: /.test(l))
    .map((l) => /^qdisc \S+ fa17: dev \S+ (?:root|parent \S+)/.exec(l.trim())?.[0] ?? l.trim());
}

/**
 * Everything faultline-made that is still on this host: lab namespaces, bridges and veths (prefix `fl…`),
 * FAULTLINE chains or rules in the host's filter table or in any named namespace, our qdiscs. Empty when clean.
 */
export async function faultlineLeftovers(): Promise<string[]> {
  const left: string[] = [];
  const namespaces = ((await execFileAsync('ip', ['netns', 'list'])).stdout.match(/^\S+/gm) ?? []).map(String);
  for (const ns of namespaces) {
    if (/^fl[a-z0-9]*-n\d+$/.test(ns)) left.push(`namespace ${ns}`);
    const save = await iptablesSave(ns).catch(() => '');
    for (const line of save.split('\n')) if (/FAULTLINE/.test(line)) left.push(`in namespace ${ns}: ${line}`);
    for (const q of await ourQdiscs(ns)) left.push(`in namespace ${ns}: ${q}`);
  }
  const links = JSON.parse((await execFileAsync('ip', ['-j', 'link', 'show'])).stdout || '[]') as { ifname: string }[];
  for (const l of links) if (/^fl[a-z0-9]*-(br|v\d+)$/.test(l.ifname)) left.push(`link ${l.ifname}`);
  for (const line of (await iptablesSave()).split('\n')) if (/FAULTLINE/.test(line)) left.push(`on the host: ${line}`);
  for (const q of await ourQdiscs()) left.push(`on the host: ${q}`);
  return left;
}
