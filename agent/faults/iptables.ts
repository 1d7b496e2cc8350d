/**
 * The agent's window onto iptables and tc: finding the tools, reading the filter table, and applying a rule
 * change atomically with one `iptables-restore --noflush`. Commands run through `execFile`, never a shell; rule
 * text is built only from values the callers have validated (addresses, probabilities, our own chain names).
 */
import { execFile, type ExecFileException } from 'node:child_process';

/** A command-line tool faultline needs is not installed on this host. */
export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
  constructor(
    readonly tool: string,
    readonly debianPackage: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot run "${tool}": it is not installed (apt-get install -y ${debianPackage})`, options);
  }
}

/** A tool ran and failed; `stderr` holds its own explanation. */
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
  constructor(
    readonly command: string,
    readonly exitCode: number | string | null,
    readonly stderr: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot run "${command}": ${stderr.trim().split('\n')[0] || `exit code ${String(exitCode)}`}`, options);
  }
}

/** Which Debian package provides each tool we run, for the "not installed" message. */
const PACKAGE_OF: Record<string, string> = {
  iptables: 'iptables',
  'iptables-save': 'iptables',
  'iptables-restore': 'iptables',
  ip: 'iproute2',
  tc: 'iproute2',
  unshare: 'util-linux',
};

export interface RunOptions {
  /** Run inside this named network namespace (`ip netns exec`) instead of the caller's own. */
  namespace?: string | undefined;
  /** Written to the command's stdin. */
  input?: string;
  timeoutMs?: number;
}

/**
 * Runs one command and resolves with its stdout.
 * @throws MissingToolError when the binary is absent, CommandFailedError when it exits non-zero.
 */
export function runTool(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const [file, argv] =
    opts.namespace === undefined ? [cmd, [...args]] : ['ip', ['netns', 'exec', checkNamespace(opts.namespace), cmd, ...args]];
  const shown = [cmd, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      argv,
      { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err: ExecFileException | null, stdout: string, stderr: string) => {
        if (err === null) return resolve(stdout);
        if (err.code === 'ENOENT') return reject(new MissingToolError(file, PACKAGE_OF[file] ?? file, { cause: err }));
        // `ip netns exec` reports a missing inner command on stderr with exit code 255.
        if (opts.namespace !== undefined && /No such file or directory/.test(stderr) && stderr.includes(`"${cmd}"`)) {
          return reject(new MissingToolError(cmd, PACKAGE_OF[cmd] ?? cmd, { cause: err }));
        }
        const detail = err.killed ? `timed out after ${opts.timeoutMs ?? 10_000} ms` : stderr;
        reject(new CommandFailedError(shown, err.code ?? err.signal ?? null, detail, { cause: err }));
      },
    );
    // A tool that exits without reading its stdin (most of them) makes the write fail with EPIPE: harmless, the
    // exit code and stderr above tell what happened.
    child.stdin?.on('error', () => undefined);
    // A command that exits without reading stdin makes this write fail with EPIPE; its exit status tells us more.
    child.stdin?.on('error', () => undefined);
    if (opts.input === undefined) child.stdin?.end();
    else child.stdin?.end(opts.input);
  });
}

function checkNamespace(name: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw new RangeError(`Cannot use network namespace "${name}": not a valid namespace name`);
  }
  return name;
}

// iptables-restore reads the whole table, changes it and writes it back: two changes racing in one namespace
// could lose one of them. Serialise them per namespace within this process.
const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call for the same namespace has settled. */
export function serialised<T>(namespace: string | undefined, fn: () => Promise<T>): Promise<T> {
  const key = namespace ?? '';
  const prev = queues.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return next;
}

/** One `-A CHAIN ...` line of `iptables-save`, split into the chain and the rest of the rule. */
export interface SavedRule {
  chain: string;
  /** The rule after `-A CHAIN `, exactly as iptables-save printed it. */
  spec: string;
  tokens: string[];
}

/** The filter table as iptables-save prints it: chains (with policies for built-ins) and rules in order. */
export interface FilterTable {
  chains: Map<string, string>;
  rules: SavedRule[];
}

/** Parses the `*filter` section of `iptables-save` output. Pure. */
export function parseFilterTable(saveText: string): FilterTable {
  const chains = new Map<string, string>();
  const rules: SavedRule[] = [];
  let inFilter = false;
  for (const raw of saveText.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      inFilter = line === '*filter';
      continue;
    }
    if (!inFilter || line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (name !== undefined) chains.set(name, policy ?? '-');
    } else if (line.startsWith('-A ')) {
      const tokens = line.split(/\s+/).slice(1);
      const chain = tokens.shift();
      if (chain !== undefined) rules.push({ chain, spec: tokens.join(' '), tokens });
    }
  }
  return { chains, rules };
}

/** The value following `flag` in a rule, e.g. `valueOf(tokens, '-s')`. */
export function valueOf(tokens: readonly string[], flag: string): string | undefined {
  const i = tokens.indexOf(flag);
  return i >= 0 ? tokens[i + 1] : undefined;
}

/** Reads the filter table of the current (or the named) network namespace. */
export async function readFilterTable(namespace?: string): Promise<FilterTable> {
  return parseFilterTable(await runTool('iptables-save', ['-t', 'filter'], { namespace }));
}

/** Applies `lines` (rule commands without the `*filter`/`COMMIT` frame) in one atomic iptables-restore. */
export async function restoreFilter(lines: readonly string[], namespace?: string): Promise<void> {
  if (lines.length === 0) return;
  const input = ['*filter', ...lines, 'COMMIT', ''].join('\n');
  await runTool('iptables-restore', ['--noflush'], { namespace, input });
}

/**
 * The restore lines that delete `chains` and every rule in any chain that jumps to them. Chains missing from
 * `table` are skipped, so the result is empty when there is nothing of ours to remove.
 */
export function removalLines(table: FilterTable, chains: readonly string[]): string[] {
  const ours = new Set(chains.filter((c) => table.chains.has(c)));
  const lines: string[] = [];
  for (const rule of table.rules) {
    const target = valueOf(rule.tokens, '-j') ?? valueOf(rule.tokens, '-g');
    if (target !== undefined && ours.has(target) && !ours.has(rule.chain)) lines.push(`-D ${rule.chain} ${rule.spec}`);
  }
  for (const c of ours) lines.push(`-F ${c}`);
  for (const c of ours) lines.push(`-X ${c}`);
  return lines;
}

/** Whether `iptables-save` and `iptables-restore` can be run here, with a reason a person can act on when not. */
export async function iptablesAvailable(opts: { namespace?: string } = {}): Promise<{ ok: boolean; reason?: string }> {
  try {
    await runTool('iptables-restore', ['--version'], { namespace: opts.namespace, timeoutMs: 5000 });
    await runTool('iptables-save', ['-t', 'filter'], { namespace: opts.namespace, timeoutMs: 5000 });
    return { ok: true };
  } catch (err) {
    if (err instanceof MissingToolError) return { ok: false, reason: err.message };
    if (err instanceof CommandFailedError) {
      const hint = /denied|not permitted|must be root/i.test(err.stderr) ? ' (faultline must run as root)' : '';
      return { ok: false, reason: `${err.message}${hint}` };
    }
    throw err;
  }
}

/** Qdisc probes that succeeded: a qdisc the kernel has stays available, so it is probed once per process. */
const qdiscsFound = new Set<string>();

/**
 * Whether a tc qdisc works on this kernel. Probes by adding it to the loopback device of a throwaway network
 * namespace (`unshare -n`), which disappears with the probe, so nothing on the host is touched. Only a success is
 * remembered: a module loaded later is found by the next probe.
 */
async function qdiscAvailable(args: readonly string[], what: string, missing: string): Promise<{ ok: boolean; reason?: string }> {
  const probe = args.join(' ');
  if (qdiscsFound.has(probe)) return { ok: true };
  try {
    await runTool('unshare', ['-n', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', ...args], { timeoutMs: 5000 });
    qdiscsFound.add(probe);
    return { ok: true };
  } catch (err) {
    if (err instanceof MissingToolError) return { ok: false, reason: err.message };
    if (err instanceof CommandFailedError) {
      if (/No such file or directory/.test(err.stderr) && /tc/.test(err.stderr)) {
        return { ok: false, reason: 'Cannot run "tc": it is not installed (apt-get install -y iproute2)' };
      }
      if (/unknown/i.test(err.stderr)) return { ok: false, reason: missing };
      return { ok: false, reason: `Cannot use ${what}: ${err.stderr.trim().split('\n')[0] ?? err.message}` };
    }
    throw err;
  }
}

/** Whether `tc netem` (delay, jitter, duplicate, reorder, corrupt) works on this kernel. */
export function netemAvailable(): Promise<{ ok: boolean; reason?: string }> {
  return qdiscAvailable(
    ['netem', 'delay', '1ms'],
    'tc netem',
    'Cannot use tc netem: this kernel has no netem qdisc (sch_netem); delay, jitter, duplicate, reorder and ' +
      'corrupt faults are unavailable; rate limits (htb) and packet loss (iptables) still work',
  );
}

/** Whether htb (the rate limits of `faultline fault rate`, and the classes netem hangs under) works here. */
export function htbAvailable(): Promise<{ ok: boolean; reason?: string }> {
  return qdiscAvailable(['htb', 'default', '1'], 'tc htb', 'Cannot use tc htb: this kernel has no htb qdisc (sch_htb); traffic shaping is unavailable');
}

/**
 * Validates one IPv4 host address (optionally written `/32`) and returns it without the suffix. Refuses networks,
 * loopback, 0.x, multicast and reserved addresses: a grudge names nodes, never networks.
 * @throws RangeError naming the value.
 */
export function checkHostAddress(value: string, what = 'drop packets from'): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/32)?$/.exec(value);
  const octets = m?.slice(1, 5).map(Number);
  if (octets === undefined || octets.some((o, i) => o > 255 || String(o) !== m?.[i + 1])) {
    throw new RangeError(`Cannot ${what} "${value}": not an IPv4 host address`);
  }
  const [a = 0] = octets;
  if (a === 0 || a === 127 || a >= 224) {
    throw new RangeError(`Cannot ${what} "${value}": not a unicast node address`);
  }
  return octets.join('.');
}

/**
 * Makes `chain` hold exactly `ruleSpecs` (each the text after `-A CHAIN`) and be jumped to from the top of INPUT;
 * with no rules, removes the chain and its jump instead. One read, one atomic restore, serialised per namespace.
 */
export function replaceInputChain(chain: string, ruleSpecs: readonly string[], namespace?: string): Promise<void> {
  return serialised(namespace, async () => {
    const table = await readFilterTable(namespace);
    if (ruleSpecs.length === 0) return restoreFilter(removalLines(table, [chain]), namespace);
    const hooked = table.rules.some((r) => r.chain === 'INPUT' && r.spec === `-j ${chain}`);
    const lines = [
      `:${chain} - [0:0]`, // declaring a chain in --noflush mode creates it, or empties it if it exists
      ...(hooked ? [] : [`-I INPUT 1 -j ${chain}`]),
      ...ruleSpecs.map((spec) => `-A ${chain} ${spec}`),
    ];
    return restoreFilter(lines, namespace);
  });
}

/** Checks a chain prefix given by a caller, so that our chain names stay valid and recognisably ours. */
export function checkChainPrefix(prefix: string): string {
  if (!/^[A-Z][A-Z0-9_-]{0,19}$/.test(prefix)) {
    throw new RangeError(`Cannot use chain prefix "${prefix}": use 1-20 capitals, digits, "_" or "-", starting with a capital`);
  }
  return prefix;
}
