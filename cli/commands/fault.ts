import type { Command } from 'commander';
import { PARTITION_SHAPES, type Grudge, type PartitionShape } from '../../core/nemesis/grudge';
import { UsageError } from '../../core/errors';
import {
  AgentClient,
  applyAdHocFault,
  faultStatus,
  healAndCheck,
  holdFault,
  resolveFaultNodes,
  type AdHocFault,
  type AppliedFault,
  type NodeFaultStatus,
} from '../../controller/nemesis/ad-hoc-fault';
import { formatOffsetMs, parseDurationMs, parsePositiveDurationMs, parseRateBitsPerSecond } from '../../controller/nemesis/durations';
import type { LinkShape } from '../../controller/rpc/agent-client';
import { NodePreconditionError } from '../../controller/errors';
import { labAccess } from '../../controller/lab/lab-access';
import { certsDirSecurity, INSECURE, type ControllerSecurity } from '../../controller/rpc/credentials';
import { insecureWarning } from '../insecure-warning';

/** How long the controller's heartbeats keep the agents' lease: once this process dies, they heal within it. */
const LEASE_MS = 10_000;

interface CommonOptions {
  nodes: string;
  labPrefix: string;
  certs?: string;
  insecure?: boolean;
  duration: string;
  json?: boolean;
  hold?: boolean;
}

function common(cmd: Command, withDuration = true): Command {
  cmd
    .option('--nodes <spec>', '"lab", or NAME=HOST:PORT,... of running agents', 'lab')
    .option('--lab-prefix <name>', 'which lab, with --nodes lab', 'fl')
    .option('--certs <dir>', 'with a --nodes list: folder with ca.crt, controller.crt, controller.key (faultline certs)')
    .option('--insecure', 'with a --nodes list: plaintext gRPC to agents started with --insecure')
    .option('--json', 'print what the agents report as JSON');
  if (withDuration) {
    cmd
      .option('--duration <time>', 'how long the fault lasts before the agents heal it on their own timers (e.g. 60s, 10m; a bare number is seconds; never past the agent\'s --max-fault-duration)', '60s')
      .option('--hold', 'stay in the foreground holding the fault under a lease: heal on Ctrl-C, at --duration, or within the lease if this process dies');
  }
  return cmd;
}

function securityFor(opts: CommonOptions): ControllerSecurity {
  if (opts.nodes === 'lab') return labAccess(opts.labPrefix).security;
  if (opts.insecure) {
    insecureWarning('faultline fault');
    return INSECURE;
  }
  if (opts.certs === undefined) throw new UsageError('Cannot reach the agents: a --nodes list needs --certs DIR (made with "faultline certs") or --insecure');
  return certsDirSecurity(opts.certs);
}

async function clientsFor(opts: CommonOptions): Promise<AgentClient[]> {
  const security = securityFor(opts);
  return (await resolveFaultNodes(opts.nodes, opts.labPrefix)).map((n) => new AgentClient(n, security));
}

function printApplied(applied: AppliedFault, json: boolean | undefined, extra: Record<string, unknown> = {}): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ id: applied.id, description: applied.description, nodes: applied.reports, ...extra })}\n`);
    return;
  }
  process.stdout.write(`${applied.description}\n`);
  for (const [node, r] of Object.entries(applied.reports).sort()) {
    const pid = r.dbPid ? ` ${r.db} pid ${r.dbPid} state ${r.dbProcessState || '?'}` : '';
    const clock = r.clockOffsetMs !== 0 ? ` clock ${formatOffsetMs(r.clockOffsetMs)}` : '';
    process.stdout.write(`  ${node}: ${r.message}${pid}${clock}\n`);
  }
}

/**
 * Applies the fault and returns once every node has it in force; the agents heal it on their own timers after
 * --duration (capped by their maximum fault duration), so nothing has to keep running. With --hold: stays in the
 * foreground under a lease and heals at once on Ctrl-C.
 */
async function runFault(fault: AdHocFault, opts: CommonOptions): Promise<void> {
  if (!opts.hold) return applyDetached(fault, opts);
  const durationMs = parsePositiveDurationMs(opts.duration, '--duration');
  const clients = await clientsFor(opts);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await Promise.all(clients.map((c) => c.hello()));
    const applied = await applyAdHocFault(clients, fault, durationMs);
    printApplied(applied, opts.json);
    if (!applied.lasting) return;
    if (!opts.json) {
      process.stdout.write(`holding for ${opts.duration}: the agents heal it then on their own (Ctrl-C or "faultline fault heal" heals now; if this process dies, within ${LEASE_MS / 1000}s)\n`);
    }
    const ended = await holdFault(clients, applied, durationMs, LEASE_MS, stop.signal, async () => {
      const { problems } = await healAndCheck(clients.filter((c) => applied.nodes.includes(c.node.name)));
      if (problems.length > 0) throw new NodePreconditionError(`Cannot verify the heal: ${problems.join('; ')}`);
    });
    if (!opts.json) process.stdout.write(`${ended === 'interrupted' ? 'interrupted: healed' : ended === 'expired' ? 'duration over: healed by the agents' : 'healed elsewhere'}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const c of clients) c.close();
  }
}

/** When each node will heal the fault on its own: the latest expiry the agents report for it. */
async function faultUntil(clients: AgentClient[], applied: AppliedFault): Promise<number | undefined> {
  const nodes = await faultStatus(clients.filter((c) => applied.nodes.includes(c.node.name)));
  const ends = nodes.flatMap((n) => n.faults.filter((f) => f.id === applied.id || f.id.startsWith(`${applied.id}-`)).map((f) => Date.parse(f.until)));
  return ends.length > 0 ? Math.max(...ends) : undefined;
}

async function applyDetached(fault: AdHocFault, opts: CommonOptions): Promise<void> {
  const durationMs = parsePositiveDurationMs(opts.duration, '--duration');
  const clients = await clientsFor(opts);
  try {
    await Promise.all(clients.map((c) => c.hello()));
    const applied = await applyAdHocFault(clients, fault, durationMs);
    if (!applied.lasting) return printApplied(applied, opts.json);
    const until = await faultUntil(clients, applied);
    const heldMs = until === undefined ? 0 : until - Date.now();
    const capped = until !== undefined && heldMs < durationMs - 2000;
    printApplied(applied, opts.json, { until: until === undefined ? null : new Date(until).toISOString(), requestedDurationMs: durationMs, capped });
    if (opts.json) return;
    if (until === undefined) {
      process.stdout.write('no node reports it in force any more (it ended or was healed already)\n');
      return;
    }
    const secs = Math.round(heldMs / 1000);
    process.stdout.write(
      `in force until ${new Date(until).toISOString()} (${secs}s): the agents heal it then on their own; "faultline fault heal" heals it now\n`,
    );
    if (capped) process.stdout.write(`note: the agents cap a fault at their --max-fault-duration: ${secs}s, not the ${opts.duration} asked for\n`);
  } finally {
    for (const c of clients) c.close();
  }
}

interface ShapeOptions {
  rate?: string;
  delay?: string;
  jitter?: string;
  percent?: string;
}

function parsePercent(text: string): number {
  const p = Number(text);
  if (text.trim() === '' || !Number.isFinite(p) || p <= 0 || p > 100) throw new UsageError(`Cannot read --percent "${text}": it must be above 0 and at most 100`);
  return p;
}

/**
 * A packet delay: the unit must be written (`100ms`), because a bare number is read as seconds everywhere else
 * in faultline and `--delay 100` would mean 100 s where tc users expect milliseconds.
 */
function packetDelayMs(text: string, what: string): number {
  if (/^\s*[+-]?\d+(?:\.\d+)?\s*$/.test(text)) throw new UsageError(`Cannot read ${what} "${text}": write the unit, e.g. ${text.trim()}ms or ${text.trim()}s`);
  return parsePositiveDurationMs(text, what);
}

/** Refuses before touching anything when a node lacks what the fault needs (netem, htb), naming the node. */
async function requireCapability(opts: CommonOptions, capability: 'netem' | 'htb', fault: string): Promise<void> {
  const clients = await clientsFor(opts);
  try {
    const hellos = await Promise.all(clients.map((c) => c.hello()));
    const missing = hellos.find((h) => !h.capabilities.find((c) => c.name === capability)?.available);
    if (missing) {
      const why = (missing.capabilities.find((c) => c.name === capability)?.detail || `tc ${capability} is missing there (an older agent?)`).replace(/^Cannot use tc \w+: /, '');
      const instead = capability === 'netem' ? ' (faultline fault rate, faultline fault loss)' : '';
      throw new NodePreconditionError(`Cannot apply ${fault} on node "${missing.node}": ${why}${instead}`);
    }
  } finally {
    for (const c of clients) c.close();
  }
}

function parseGrudge(text: string): Grudge {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`Cannot read --grudge: expected JSON such as '{"n1":["n2","n3"]}' (n1 drops packets from n2 and n3)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('Cannot read --grudge: expected an object of node -> [nodes]');
  for (const v of Object.values(parsed)) {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new UsageError('Cannot read --grudge: every value must be a list of node names');
  }
  return parsed as Grudge;
}

function printStatus(nodes: NodeFaultStatus[]): void {
  const now = Date.now();
  const ago = (iso: string) => `${Math.round((now - Date.parse(iso)) / 1000)}s ago`;
  const left = (iso: string) => `${Math.max(0, Math.round((Date.parse(iso) - now) / 1000))}s left`;
  for (const n of nodes) {
    if (!n.reachable) {
      process.stdout.write(`${n.name}\t${n.address}\tUNREACHABLE: ${n.error ?? ''}\n`);
      continue;
    }
    const db = n.db ? `${n.db} ${n.dbPid ? `pid ${n.dbPid} state ${n.dbProcessState}` : 'not running'}` : 'no db';
    const faults = n.faults.length === 0 ? 'no faults' : n.faults.map((f) => `${f.kind} since ${f.since} (${ago(f.since)}, ${left(f.until)})`).join('; ');
    process.stdout.write(`${n.name}\t${n.address}\t${db}\tclock ${formatOffsetMs(n.clockOffsetMs)}\t${faults}\n`);
  }
}

/** `faultline fault ...`: apply, list and heal faults by hand. */
export function registerFaultCommand(program: Command): void {
  const fault = program
    .command('fault')
    .description('apply, list and heal faults by hand (against the lab by default); a fault command returns once the fault is in force, the agents heal it after --duration on their own (--hold: stay in the foreground instead)');

  common(fault.command('partition').description('cut the network along a grudge'))
    .option('--shape <shape>', `${PARTITION_SHAPES.join(' | ')} | custom`, 'isolate')
    .option('--node <nodes>', 'the node(s) the shape is aimed at (isolate, minority-third, bridge, one-way)')
    .option('--grudge <json>', 'with --shape custom: {"n1":["n2"]} means n1 drops packets from n2')
    .action(async (opts: CommonOptions & { shape: string; node?: string; grudge?: string }) => {
      if (opts.shape !== 'custom' && !(PARTITION_SHAPES as readonly string[]).includes(opts.shape)) {
        throw new UsageError(`Cannot partition: --shape must be one of ${PARTITION_SHAPES.join(', ')}, custom (got "${opts.shape}")`);
      }
      if (opts.shape === 'custom' && opts.grudge === undefined) throw new UsageError('Cannot partition: --shape custom needs --grudge');
      const f: AdHocFault = {
        kind: 'partition',
        shape: opts.shape as PartitionShape | 'custom',
        ...(opts.node !== undefined ? { target: opts.node } : {}),
        ...(opts.grudge !== undefined ? { grudge: parseGrudge(opts.grudge) } : {}),
      };
      await runFault(f, opts);
    });

  common(fault.command('loss').description('lose a share of the packets on every link of the chosen node(s), both directions'))
    .requiredOption('--node <nodes>', 'n1[,n2...] | one | minority | majority | all | primaries')
    .option('--percent <p>', 'share of packets dropped, 0-100', (v) => Number(v), 30)
    .action(async (opts: CommonOptions & { node: string; percent: number }) => {
      if (!Number.isFinite(opts.percent) || opts.percent <= 0 || opts.percent > 100) throw new UsageError('Cannot apply loss: --percent must be above 0 and at most 100');
      await runFault({ kind: 'loss', target: opts.node, percent: opts.percent }, opts);
    });

  for (const action of ['kill', 'pause', 'resume', 'restart'] as const) {
    const what = {
      kill: 'kill -9 the DB process (the agents start it again when the fault ends)',
      pause: 'SIGSTOP the DB process (SIGCONT when the fault ends)',
      resume: 'SIGCONT a paused DB process',
      restart: 'kill -9 the DB process and start it again (a new pid)',
    }[action];
    common(fault.command(action).description(what), action === 'kill' || action === 'pause')
      .requiredOption('--node <nodes>', 'n1[,n2...] | one | minority | majority | all | primaries')
      .action(async (opts: CommonOptions & { node: string }) => {
        await runFault({ kind: 'process', action, target: opts.node }, { ...opts, duration: opts.duration ?? '60s' });
      });
  }

  common(fault.command('clock').description('shift the DB process\'s clock (faketime) or, on dedicated VMs only, the node\'s clock (system)'))
    .requiredOption('--node <nodes>', 'n1[,n2...] | one | minority | majority | all | primaries')
    .option('--bump <offset>', 'jump by this much, e.g. 60s, -5m, 250ms (adds to the current offset)')
    .option('--strobe <a,b>', 'flip between two offsets, e.g. 0,5s, every --period for --duration')
    .option('--period <time>', 'with --strobe: time between flips', '1s')
    .option('--reset', 'offset back to zero')
    .option('--clock-strategy <s>', 'faketime (the DB process under libfaketime) | system (the node\'s real clock: dedicated VMs only)', 'faketime')
    .action(async (opts: CommonOptions & { node: string; bump?: string; strobe?: string; period: string; reset?: boolean; clockStrategy: string }) => {
      const chosen = [opts.bump !== undefined, opts.strobe !== undefined, opts.reset === true].filter(Boolean).length;
      if (chosen !== 1) throw new UsageError('Cannot change the clock: give exactly one of --bump, --strobe, --reset');
      if (opts.clockStrategy !== 'faketime' && opts.clockStrategy !== 'system') {
        throw new UsageError(`Cannot change the clock: --clock-strategy must be faketime or system (got "${opts.clockStrategy}")`);
      }
      let change: Extract<AdHocFault, { kind: 'clock' }>['change'];
      if (opts.bump !== undefined) change = { action: 'bump', offsetMs: parseDurationMs(opts.bump, '--bump') };
      else if (opts.strobe !== undefined) {
        const [a, b, extra] = opts.strobe.split(',');
        if (a === undefined || b === undefined || extra !== undefined) throw new UsageError('Cannot strobe: --strobe takes two offsets, e.g. 0,5s');
        change = { action: 'strobe', aMs: parseDurationMs(a, '--strobe'), bMs: parseDurationMs(b, '--strobe'), periodMs: parsePositiveDurationMs(opts.period, '--period') };
      } else change = { action: 'reset' };
      await runFault({ kind: 'clock', target: opts.node, change, strategy: opts.clockStrategy }, opts);
    });

  // Traffic shaping: a rate limit works on every kernel with htb; the netem kinds need netem on every node.
  const shapes: { name: string; about: string; netem: boolean; options: (c: Command) => Command; spec: (o: ShapeOptions) => LinkShape }[] = [
    {
      name: 'rate',
      about: 'limit the bandwidth of every link of the chosen node(s), both directions (tc htb: works without netem)',
      netem: false,
      options: (c) => c.requiredOption('--rate <bandwidth>', 'e.g. 500kbit, 1mbit, 1gbit (bits per second; kbps/mbps are bytes per second, as in tc)'),
      spec: (o) => ({ rateBitsPerSecond: parseRateBitsPerSecond(o.rate!, '--rate') }),
    },
    {
      name: 'delay',
      about: 'delay the packets on every link of the chosen node(s), both directions (tc netem)',
      netem: true,
      options: (c) => c.requiredOption('--delay <time>', 'with its unit, e.g. 100ms or 1s').option('--jitter <time>', 'random variation around the delay, with its unit, e.g. 10ms'),
      spec: (o) => ({ delayMs: packetDelayMs(o.delay!, '--delay'), ...(o.jitter !== undefined ? { jitterMs: packetDelayMs(o.jitter, '--jitter') } : {}) }),
    },
    {
      name: 'duplicate',
      about: 'duplicate a share of the packets on every link of the chosen node(s) (tc netem)',
      netem: true,
      options: (c) => c.requiredOption('--percent <p>', 'share of packets sent twice, above 0 and at most 100'),
      spec: (o) => ({ duplicatePercent: parsePercent(o.percent!) }),
    },
    {
      name: 'reorder',
      about: 'reorder packets on every link of the chosen node(s): a share goes at once, the rest waits --delay (tc netem)',
      netem: true,
      options: (c) => c.requiredOption('--percent <p>', 'share of packets sent at once, above 0 and at most 100').option('--delay <time>', 'how long the others wait, with its unit', '10ms'),
      spec: (o) => ({ reorderPercent: parsePercent(o.percent!), delayMs: packetDelayMs(o.delay!, '--delay') }),
    },
    {
      name: 'corrupt',
      about: 'flip a bit in a share of the packets on every link of the chosen node(s) (tc netem)',
      netem: true,
      options: (c) => c.requiredOption('--percent <p>', 'share of packets corrupted, above 0 and at most 100'),
      spec: (o) => ({ corruptPercent: parsePercent(o.percent!) }),
    },
  ];
  for (const shape of shapes) {
    shape
      .options(common(fault.command(shape.name).description(shape.about)))
      .requiredOption('--node <nodes>', 'n1[,n2...] | one | minority | majority | all | primaries')
      .action(async (opts: CommonOptions & ShapeOptions & { node: string }) => {
        let spec: LinkShape;
        try {
          spec = shape.spec(opts);
        } catch (err) {
          if (err instanceof RangeError) throw new UsageError(err.message);
          throw err;
        }
        await requireCapability(opts, shape.netem ? 'netem' : 'htb', shape.name);
        await runFault({ kind: 'shape', target: opts.node, shape: spec }, opts);
      });
  }


  common(fault.command('heal').description('heal every fault on every node now, and check nothing is left'), false).action(async (opts: CommonOptions) => {
    const clients = await clientsFor(opts);
    try {
      const { problems } = await healAndCheck(clients);
      if (problems.length > 0) throw new NodePreconditionError(`Cannot verify the heal: ${problems.join('; ')}`);
      if (opts.json) process.stdout.write(`${JSON.stringify({ healed: true, nodes: await faultStatus(clients) })}\n`);
      else process.stdout.write(`healed: ${clients.map((c) => c.node.name).join(', ')} report no fault and a zero clock offset\n`);
    } finally {
      for (const c of clients) c.close();
    }
  });

  common(fault.command('status').description('what is active where, since when'), false).action(async (opts: CommonOptions) => {
    const clients = await clientsFor(opts);
    try {
      const nodes = await faultStatus(clients);
      if (opts.json) process.stdout.write(`${JSON.stringify({ nodes }, null, 2)}\n`);
      else printStatus(nodes);
    } finally {
      for (const c of clients) c.close();
    }
  });
}
