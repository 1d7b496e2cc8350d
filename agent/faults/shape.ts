/**
 * Traffic shaping on the links to chosen nodes: a bandwidth limit (htb, in every kernel) and netem's delay,
 * jitter, duplication, reordering and corruption (only where the kernel has sch_netem). This node's packets *to*
 * each chosen address are classified by a u32 filter into an htb class of their own, limited to the rate asked
 * for, with a netem qdisc under it for the netem parts; so each link gets the whole rate (as a slow link
 * between two machines would), not a share of it. All other traffic goes through a default class that does
 * not limit.
 *
 * What is ours: the root qdisc with handle `fa17:` on a device. We install it only where the device has the
 * kernel's default root qdisc (handle `0:`: noqueue, pfifo_fast, fq_codel, mq, ...) and heal by deleting it,
 * which gives the kernel's default back; a device with a qdisc someone configured is refused, never replaced.
 */
import type { LinkShape } from '../../core/nemesis/link-shape';
import { checkAddresses, type NetworkTarget } from './partition';
import { CommandFailedError, MissingToolError, htbAvailable, netemAvailable, runTool, serialised } from './iptables';

/** A shape this host cannot apply (netem asked for where the kernel has none). Nothing was changed. */
export class ShapeUnavailableError extends Error {
  override readonly name = 'ShapeUnavailableError';
}

/** The handle of the root qdisc faultline installs; a root qdisc with another handle is not ours. */
export const SHAPE_HANDLE = 'fa17:';
/** Class 1 is the default (unshaped) one; the shaped link to the i-th address gets class 0x10 + i. */
const DEFAULT_CLASS = 'fa17:1';
const shapedClass = (i: number): string => `fa17:${(0x10 + i).toString(16)}`;
/** The netem qdisc under the i-th shaped class (majors fa18: upwards; deleted with our root qdisc). */
const netemHandle = (i: number): string => `${(0xfa18 + i).toString(16)}:`;
/** Destinations one device can shape (keeps the netem handles inside 16 bits). */
const MAX_SHAPED_PER_DEVICE = 0xffff - 0xfa18;
/** htb needs a rate for every class: the unshaped ones get this (far above any lab or 10 GbE link). */
const UNLIMITED = '100gbit';

/** What to do to the packets on the shaped links (the controller's LinkShape). */
export type ShapeSpec = LinkShape;

/** True when `spec` asks for something only netem can do. */
export function needsNetem(spec: ShapeSpec): boolean {
  return [spec.delayMs, spec.jitterMs, spec.duplicatePercent, spec.reorderPercent, spec.corruptPercent].some((v) => (v ?? 0) > 0);
}

/** True when `spec` asks for nothing at all (an empty spec, or an empty target list, removes the shaping). */
export function isEmptyShape(spec: ShapeSpec): boolean {
  return !needsNetem(spec) && (spec.rateBitsPerSecond ?? 0) <= 0;
}

/**
 * Checks a spec's numbers and returns the netem arguments it needs (empty when none).
 * @throws RangeError naming the first bad value.
 */
export function netemArgs(spec: ShapeSpec): string[] {
  const num = (name: string, v: number | undefined, max: number): number => {
    if (v === undefined) return 0;
    if (!Number.isFinite(v) || v < 0 || v > max) throw new RangeError(`Cannot shape traffic: ${name} must be between 0 and ${max}, got ${String(v)}`);
    return v;
  };
  const delay = num('delay (ms)', spec.delayMs, 60_000);
  const jitter = num('jitter (ms)', spec.jitterMs, 60_000);
  const dup = num('duplicate (%)', spec.duplicatePercent, 100);
  const reorder = num('reorder (%)', spec.reorderPercent, 100);
  const corrupt = num('corrupt (%)', spec.corruptPercent, 100);
  num('rate (bit/s)', spec.rateBitsPerSecond, 1e12);
  if (jitter > 0 && delay === 0) throw new RangeError('Cannot shape traffic: jitter needs a delay');
  if (reorder > 0 && delay === 0) throw new RangeError('Cannot shape traffic: reordering needs a delay (the packets not reordered wait that long)');
  const args: string[] = [];
  if (delay > 0) args.push('delay', `${delay}ms`, ...(jitter > 0 ? [`${jitter}ms`] : []));
  if (reorder > 0) args.push('reorder', `${reorder}%`);
  if (dup > 0) args.push('duplicate', `${dup}%`);
  if (corrupt > 0) args.push('corrupt', `${corrupt}%`);
  return args;
}

/** The tc commands (one per line, for `tc -batch`) that shape traffic from this node to each of `addresses` on `dev`. */
export function shapeCommands(dev: string, addresses: readonly string[], spec: ShapeSpec): string[] {
  if (addresses.length > MAX_SHAPED_PER_DEVICE) throw new RangeError(`Cannot shape traffic: at most ${MAX_SHAPED_PER_DEVICE} destinations per device, got ${addresses.length}`);
  const rate = spec.rateBitsPerSecond !== undefined && spec.rateBitsPerSecond > 0 ? `${Math.max(8, Math.round(spec.rateBitsPerSecond))}bit` : UNLIMITED;
  const netem = netemArgs(spec);
  // An explicit quantum keeps htb from warning about the huge rate of the unlimited classes.
  const cmds = [
    `qdisc add dev ${dev} root handle ${SHAPE_HANDLE} htb default 1`,
    `class add dev ${dev} parent ${SHAPE_HANDLE} classid ${DEFAULT_CLASS} htb rate ${UNLIMITED} quantum 60000`,
  ];
  addresses.forEach((a, i) => {
    const cls = shapedClass(i);
    cmds.push(`class add dev ${dev} parent ${SHAPE_HANDLE} classid ${cls} htb rate ${rate} ceil ${rate}${rate === UNLIMITED ? ' quantum 60000' : ''}`);
    if (netem.length > 0) cmds.push(`qdisc add dev ${dev} parent ${cls} handle ${netemHandle(i)} netem ${netem.join(' ')}`);
    cmds.push(`filter add dev ${dev} parent ${SHAPE_HANDLE} protocol ip prio 1 u32 match ip dst ${a}/32 flowid ${cls}`);
  });
  return cmds;
}

interface QdiscInfo {
  dev?: string;
  kind: string;
  handle: string;
  root?: boolean;
}

/** Root qdiscs per device, as `tc -j qdisc show` reports them. */
async function rootQdiscs(namespace: string | undefined): Promise<Map<string, QdiscInfo>> {
  const out = await runTool('tc', ['-j', 'qdisc', 'show'], { namespace });
  const all = JSON.parse(out.trim() === '' ? '[]' : out) as QdiscInfo[];
  return new Map(all.filter((q) => q.root === true && q.dev !== undefined).map((q) => [q.dev!, q]));
}

/** The device this node sends to `address` through (`ip route get`). */
async function deviceTo(address: string, namespace: string | undefined): Promise<string> {
  const out = await runTool('ip', ['-j', 'route', 'get', address], { namespace });
  const dev = (JSON.parse(out) as { dev?: string }[])[0]?.dev;
  if (dev === undefined || !/^[A-Za-z0-9_.@-]{1,15}$/.test(dev)) throw new ShapeUnavailableError(`Cannot shape traffic to ${address}: no route to it`);
  return dev;
}

/** Removes our root qdisc from every device that has it; the kernel puts its default back. */
async function removeOurQdiscs(namespace: string | undefined): Promise<void> {
  for (const [dev, q] of await rootQdiscs(namespace)) {
    if (q.handle === SHAPE_HANDLE) await runTool('tc', ['qdisc', 'del', 'dev', dev, 'root'], { namespace });
  }
}

export type ShapeRequest = NetworkTarget & { toAddresses: string[]; spec: ShapeSpec; neverShape?: string[] };

/**
 * Everything that can be known wrong about a shaping request without touching the host: bad numbers, protected
 * addresses, htb or netem missing. Returns the addresses, checked and without duplicates.
 * @throws RangeError or ShapeUnavailableError, as applyShape.
 */
export async function validateShape(opts: ShapeRequest): Promise<string[]> {
  const addresses = checkAddresses(opts.toAddresses, opts.neverShape ?? [], 'shape traffic to');
  netemArgs(opts.spec);
  if (addresses.length === 0 || isEmptyShape(opts.spec)) return addresses; // removing the shaping needs nothing
  const htb = await htbAvailable();
  if (!htb.ok) throw new ShapeUnavailableError(htb.reason ?? 'Cannot use tc htb on this host');
  if (needsNetem(opts.spec)) {
    const netem = await netemAvailable();
    if (!netem.ok) throw new ShapeUnavailableError(netem.reason ?? 'Cannot use tc netem on this host');
  }
  return addresses;
}

/**
 * Shapes this node's traffic to `toAddresses` as `spec` says, replacing any shaping it applied before. An empty
 * address list or an empty spec removes the shaping. Addresses in `neverShape` (controller, NATS) are refused.
 * Everything, the checks included, runs in this namespace's tc queue, which the call joins at once (before any
 * await): a heal asked for after this call is applied after it. On any failure once inside (no route, a device
 * with a qdisc that is not ours, tc refusing), this node is left with no shaping of ours: nothing half-applied.
 * @throws RangeError for bad values or a protected address; ShapeUnavailableError for netem parts on a kernel
 *   without netem, or a device with a qdisc that is not ours; MissingToolError without `tc`; CommandFailedError
 *   when tc refuses.
 */
export function applyShape(opts: ShapeRequest): Promise<void> {
  const ns = opts.namespace;
  return serialised(`tc:${ns ?? ''}`, async () => {
    const addresses = await validateShape(opts);
    if (addresses.length === 0 || isEmptyShape(opts.spec)) {
      await removeOurQdiscs(ns);
      return;
    }
    try {
      const byDev = new Map<string, string[]>();
      for (const a of addresses) {
        const dev = await deviceTo(a, ns);
        byDev.set(dev, [...(byDev.get(dev) ?? []), a]);
      }
      const roots = await rootQdiscs(ns);
      for (const dev of byDev.keys()) {
        const q = roots.get(dev);
        if (q !== undefined && q.handle !== '0:' && q.handle !== SHAPE_HANDLE) {
          throw new ShapeUnavailableError(`Cannot shape traffic on ${dev}: it has a ${q.kind} root qdisc (handle ${q.handle}) that faultline did not create, and faultline never replaces one`);
        }
      }
      await removeOurQdiscs(ns);
      for (const [dev, addrs] of byDev) {
        await runTool('tc', ['-batch', '-'], { namespace: ns, input: `${shapeCommands(dev, addrs, opts.spec).join('\n')}\n` });
      }
    } catch (err) {
      await removeOurQdiscs(ns).catch(() => undefined);
      throw err;
    }
  });
}

/** Removes every shaping faultline applied in this namespace. Idempotent; a no-op without `tc`. */
export async function healShape(opts: NetworkTarget = {}): Promise<void> {
  await serialised(`tc:${opts.namespace ?? ''}`, async () => {
    try {
      await removeOurQdiscs(opts.namespace);
    } catch (err) {
      if (err instanceof MissingToolError) return; // no tc, so no qdisc of ours
      throw err;
    }
  });
}

/** Devices that carry our shaping now, read back from tc (not from memory). */
export async function shapedDevices(opts: NetworkTarget = {}): Promise<string[]> {
  try {
    return [...(await rootQdiscs(opts.namespace))].filter(([, q]) => q.handle === SHAPE_HANDLE).map(([dev]) => dev);
  } catch (err) {
    if (err instanceof MissingToolError || err instanceof CommandFailedError) return [];
    throw err;
  }
}

/** Addresses whose traffic our filters send into the shaped class now, read back from tc's u32 filters. */
export async function shapedAddresses(opts: NetworkTarget = {}): Promise<string[]> {
  const out: string[] = [];
  for (const dev of await shapedDevices(opts)) {
    const text = await runTool('tc', ['filter', 'show', 'dev', dev, 'parent', SHAPE_HANDLE], { namespace: opts.namespace });
    // u32 prints the destination match as hex value/mask at offset 16 of the IP header.
    for (const m of text.matchAll(/match ([0-9a-f]{8})\/ffffffff at 16/g)) {
      const hex = m[1]!;
      out.push([0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.'));
    }
  }
  return out;
}
