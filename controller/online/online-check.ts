/**
 * Online checking: the run's checkers consume the history while the run runs. The collector hands over every new
 * event; per publisher they are put back in sequence order, paired (invocation with completion) and given to the
 * incremental checkers (set-full, counter, bank: core/checker/online/) and to the windows (a rotating key's
 * linearizability, a key epoch's transactions), which are searched on a worker thread once closed.
 *
 * What is provable mid-run is decided by a watermark: every event timed before the slowest publisher's latest
 * event, minus a slack larger than any timestamp uncertainty, has arrived (each agent stamps and numbers its events
 * in one step, so its times grow with its sequence numbers). A rotating key (`e<epoch>k<i>`) is closed once the
 * watermark has passed its epoch's end and no invocation on it is open: the generators pick keys by the time of the
 * invocation, so nothing can be added to it any more.
 *
 * Each anomaly found is logged, counted in the live progress, written to online.jsonl and published as one JSON
 * message on `faultline.<run>.alerts`. The final verdict still comes from the complete history.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { BankOnline } from '../../core/checker/online/bank-online';
import { CounterOnline } from '../../core/checker/online/counter-online';
import { alertOp, type AlertOp, type OnlineChecker, type OnlineFinding, type OnlineStep } from '../../core/checker/online/online-checker';
import { SetFullOnline } from '../../core/checker/online/set-full-online';
import type { CheckerUse } from '../../core/workloads';
import type { CheckerVerdict } from '../../core/checker/registry';
import type { Op, PairedOp } from '../../core/history/operation';
import { OpPairer } from '../../core/history/pair';
import { alertsSubject, type EventRecord, type RawEvent } from '../../events/contract';
import { eventToOp } from '../history-builder';
import type { WindowAnswer, WindowTask } from './check-worker';
import { LagStats, type LagSummary } from './lag-stats';

/** One JSON message on `faultline.<run>.alerts` (and one line of online.jsonl). Extend, never rename. */
export interface OnlineAlert {
  checker: string;
  anomaly: string;
  /** The ops that show it (for many findings of one step: those of the first few). */
  operations: AlertOp[];
  /** When it was found (ISO 8601). */
  time: string;
  runId: string;
  key?: string;
  /** How many findings of this anomaly (elements lost, reads out of bounds, ...) this message stands for. */
  count: number;
  detail: unknown[];
  /** The op whose arrival revealed it, and when it completed (Unix ms; for an info op, when it was invoked). */
  revealedBy: AlertOp;
  revealedAtUnixMs: number;
  foundAtUnixMs: number;
}

/** What online checking did, for results.json (`online`) and the summaries. */
export interface OnlineSummary {
  /** Per checker: how it runs online and the anomalies it found (name -> findings). */
  checkers: Record<string, { mode: 'incremental' | 'windows'; anomalies: Record<string, number> }>;
  /** Checkers of the workload that only the final check runs. */
  finalOnly: string[];
  alerts: number;
  /**
   * From an op's completion to the checker having judged it (ms): read-judging checkers count reads, windows every
   * op. `behindMs` is how far the watermark is behind now (ops completed since wait at least that long: a node whose
   * events stopped coming holds it back), `maxBehindMs` the most it ever was.
   */
  lagMs: LagSummary & { behindMs?: number | null; maxBehindMs?: number };
  windows: { checked: number; open: number; invalid: number; unknown: number; leftToFinal: number };
  /** Set when online checking stopped early (a malformed history): the final check says why. */
  stopped?: string;
}

export interface OnlineCheckOptions {
  runId: string;
  /** The client nodes whose events the watermark waits for. */
  nodes: readonly string[];
  uses: readonly CheckerUse[];
  keyPeriodNanos: number;
  /** Budget of one window's search (ms). */
  windowTimeLimitMs: number;
  /** The run's timeline: `now()` in ns. */
  now: () => number;
  runDir: string;
  nc?: NatsConnection;
  log: Logger;
  onAnomalies?: (total: number) => void;
  /** How often the watermark is advanced (ms). */
  tickMs?: number;
  /**
   * A retired key's window waits this long past its epoch for invocations still open (an agent completes every op
   * within its op timeout); then it is checked with them as `info`, which only widens what is allowed.
   */
  openGraceNanos?: number;
  /**
   * A resumed run replays the events already on disk before the live ones: lag counts only operations completed from
   * this time (ns, the run's timeline) on, and how far behind the watermark is counts once it has passed it, so the
   * figures describe the resumed run and not the time no controller ran.
   */
  lagFromNanos?: number;
}

/** Added to twice the largest uncertainty seen: an agent holds its times monotone, this is room for what it cannot hold. */
const BASE_SLACK_NANOS = 0.5e9;
const ROTATING_KEY = /^e(\d+)k\d+$/;
const ALERT_OPS = 12;
const MAX_HELD_EVENTS = 200_000;
/** Progress markers kept per node while its events are not in yet (two a second: a few minutes' worth). */
const MAX_MARKERS = 512;
const ALERT_DETAILS = 20;
const REPEAT_ALERT_MS = 10_000;

interface Window {
  checker: string;
  /** Raw ops of the window (invocations and completions), in arrival order. */
  ops: Op[];
  open: number;
  epoch: number | undefined;
  completions: number[];
  options: Record<string, unknown>;
}

interface Incremental {
  use: CheckerUse;
  perKey: boolean;
  make: (key: string | undefined) => OnlineChecker;
  byKey: Map<string, OnlineChecker>;
}

const TXN_CHECKERS = new Set(['list-append', 'rw-register']);

export class OnlineCheck {
  readonly #opts: OnlineCheckOptions;
  readonly #originUnixMs: number;
  readonly #next = new Map<string, number>();
  readonly #held = new Map<string, Map<number, EventRecord>>();
  readonly #lastTime = new Map<string, number>();
  /** Nodes whose workload stopped: their last sequence number then, and the time they were stopped at. */
  readonly #quiet = new Map<string, { lastSeq: number; atNanos: number }>();
  /** Per node, its progress markers not yet covered by the events in (oldest first; sequence numbers and times grow). */
  readonly #markers = new Map<string, { lastSeq: number; atNanos: number; uncertaintyNanos: number }[]>();
  /** Per node, the latest time before which its markers prove every event of it has arrived. */
  readonly #markedTime = new Map<string, number>();
  readonly #pairer = new OpPairer();
  readonly #open = new Map<number, { paired: PairedOp; keys: string[] }>();
  readonly #completedAt = new WeakMap<PairedOp, number>();
  readonly #incremental: Incremental[] = [];
  readonly #windowUses: CheckerUse[] = [];
  readonly #windows = new Map<string, Window>();
  /** Windows already checked (a key's name: a few per key period). */
  readonly #closed = new Set<string>();
  readonly #summary: OnlineSummary;
  readonly #lag = new LagStats();
  /** Per (checker, anomaly, key): when it was last published, and the findings since. */
  readonly #groups = new Map<string, { lastAtMs: number; held: OnlineFinding[]; heldCount: number; latest: OnlineFinding }>();
  #index = 0;
  #behindMs: number | null = null;
  #maxBehindMs = 0;
  #maxUncertainty = 0;
  #timer: NodeJS.Timeout | undefined;
  #worker: Worker | undefined;
  #tasks = new Map<number, { window: Window; key: string; resolve: () => void }>();
  #taskId = 0;
  #inFlight = new Set<Promise<void>>();
  #finished = false;
  #anomalyTotal = 0;

  constructor(opts: OnlineCheckOptions) {
    this.#opts = opts;
    this.#originUnixMs = Date.now() - opts.now() / 1e6;
    this.#summary = { checkers: {}, finalOnly: [], alerts: 0, lagMs: this.#lag.summary(), windows: { checked: 0, open: 0, invalid: 0, unknown: 0, leftToFinal: 0 } };
    for (const use of opts.uses) {
      const o = (use.options ?? {}) as Record<string, unknown>;
      const add = (perKey: boolean, make: (key: string | undefined) => OnlineChecker) => {
        this.#incremental.push({ use, perKey, make, byKey: new Map() });
        this.#summary.checkers[use.name] = { mode: 'incremental', anomalies: {} };
      };
      if (use.name === 'set-full' && o['linearizableSet'] === undefined) add(true, (k) => new SetFullOnline(k));
      else if (use.name === 'counter') add(true, (k) => new CounterOnline(k, typeof o['init'] === 'number' ? o['init'] : 0));
      else if (use.name === 'bank' && typeof o['total'] === 'number') {
        const total = o['total'];
        add(false, () => new BankOnline({ total, ...(Array.isArray(o['accounts']) ? { accounts: o['accounts'] as string[] } : {}) }));
      } else if (use.name === 'linearizable' || TXN_CHECKERS.has(use.name)) {
        this.#windowUses.push(use);
        this.#summary.checkers[use.name] = { mode: 'windows', anomalies: {} };
      } else this.#summary.finalOnly.push(use.name);
    }
  }

  /** True when some checker of the workload runs online. */
  get active(): boolean {
    return this.#incremental.length > 0 || this.#windowUses.length > 0;
  }

  start(): void {
    if (!this.active) return;
    this.#timer = setInterval(() => this.advance(), this.#opts.tickMs ?? 250);
    this.#timer.unref();
  }

  /** Takes one new event from the collector (each (node, seq) once, in any order). */
  take(ev: EventRecord): void {
    if (this.#finished || !this.active || this.#summary.stopped !== undefined) return;
    const next = this.#next.get(ev.node) ?? 1;
    if (ev.seq < next) return;
    if (ev.seq > next) {
      let held = this.#held.get(ev.node);
      if (!held) this.#held.set(ev.node, (held = new Map()));
      held.set(ev.seq, ev);
      // Events that cannot be put in order (one that never comes) would be held without bound: online checking
      // gives up, the final check reads the file.
      if (held.size > MAX_HELD_EVENTS) this.#stop(`more than ${MAX_HELD_EVENTS} events of ${ev.node} wait for event ${next}`);
      return;
    }
    this.#release(ev);
    let n = next + 1;
    const held = this.#held.get(ev.node);
    while (held?.has(n)) {
      const e = held.get(n)!;
      held.delete(n);
      this.#release(e);
      n++;
    }
    this.#next.set(ev.node, n);
  }

  #release(ev: EventRecord): void {
    const time = Number(ev.timeNanos);
    this.#lastTime.set(ev.node, Math.max(this.#lastTime.get(ev.node) ?? -Infinity, time));
    if (ev.process < 0) return; // the nemesis: no checker reads it
    this.#maxUncertainty = Math.max(this.#maxUncertainty, Number(ev.uncertaintyNanos));
    const op = { ...eventToOp(ev as unknown as RawEvent), index: this.#index++ } as Op;
    let paired: PairedOp | undefined;
    try {
      paired = this.#pairer.add(op);
    } catch (err) {
      this.#stop(`history malformed: ${(err as Error).message}`);
      return;
    }
    if (paired) {
      const keys = this.#windowKeys(op);
      this.#open.set(paired.process, { paired, keys });
      for (const c of this.#incremental) this.#checkerFor(c, paired.key).invoked(paired);
      for (const k of keys) this.#addToWindow(k, op, true);
      return;
    }
    const entry = this.#open.get(op.process as number);
    if (!entry) return; // an info that is no client op
    this.#open.delete(op.process as number);
    this.#completedAt.set(entry.paired, time);
    for (const c of this.#incremental) this.#checkerFor(c, entry.paired.key).completed(entry.paired);
    for (const k of entry.keys) this.#addToWindow(k, op, false, time);
    // Checkers that judge on arrival (bank) answer at once.
    if (this.#incremental.some((c) => c.use.name === 'bank')) this.advance(true);
  }

  /** Online checking gives up (it can no longer judge soundly); what it found so far stands, the rest is the final check's. */
  #stop(reason: string): void {
    if (this.#summary.stopped !== undefined) return;
    this.#summary.stopped = reason;
    this.#held.clear();
    this.#windows.clear();
    this.#opts.log.warn({ reason }, 'online checking stopped');
  }

  #checkerFor(c: Incremental, key: string | undefined): OnlineChecker {
    const k = c.perKey ? (key ?? '') : '';
    let chk = c.byKey.get(k);
    if (!chk) c.byKey.set(k, (chk = c.make(c.perKey && key !== undefined ? key : undefined)));
    return chk;
  }

  /** The windows an invocation belongs to: its key (linearizable), its transaction's key epoch (Elle). */
  #windowKeys(op: Op): string[] {
    const out: string[] = [];
    for (const use of [...this.#windowUses]) {
      if (use.name === 'linearizable') out.push(`linearizable:${op.key ?? ''}`);
      else {
        const epochs = new Set<string>();
        if (Array.isArray(op.value)) for (const m of op.value as unknown[]) if (Array.isArray(m)) epochs.add(String(ROTATING_KEY.exec(String(m[1]))?.[1] ?? 'fixed'));
        // A transaction over keys of several epochs (or fixed keys) would leave the epochs' windows incomplete (a
        // read of its write would look like one of nothing): windows are then off for this checker.
        if (epochs.size === 1 && !epochs.has('fixed')) out.push(`${use.name}:${[...epochs][0]!}`);
        else this.#txnWindowsOff(use.name);
      }
    }
    return out;
  }

  /** Stops windows for `checker` (its transactions do not keep to one key epoch): the final check judges it all. */
  #txnWindowsOff(checker: string): void {
    const i = this.#windowUses.findIndex((u) => u.name === checker);
    if (i < 0) return;
    this.#windowUses.splice(i, 1);
    for (const id of [...this.#windows.keys()]) if (id.startsWith(`${checker}:`)) this.#windows.delete(id);
    for (const entry of this.#open.values()) entry.keys = entry.keys.filter((k) => !k.startsWith(`${checker}:`));
    this.#summary.finalOnly.push(checker);
    this.#opts.log.warn({ checker }, 'a transaction spans key epochs: its checker runs at the end only');
  }

  #addToWindow(id: string, op: Op, invoke: boolean, time?: number): void {
    // A completion that comes after its window was checked (it was open then, and checked as info): a later answer
    // only narrows what was allowed, so the window's verdict stands; the final check reads it.
    if (this.#closed.has(id)) return;
    let w = this.#windows.get(id);
    if (!w) {
      const name = id.slice(0, id.indexOf(':'));
      const rest = id.slice(id.indexOf(':') + 1);
      const epochText = name === 'linearizable' ? ROTATING_KEY.exec(rest)?.[1] : /^\d+$/.test(rest) ? rest : undefined;
      const use = this.#windowUses.find((u) => u.name === name)!;
      w = { checker: name, ops: [], open: 0, epoch: epochText === undefined ? undefined : Number(epochText), completions: [], options: { ...(name === 'linearizable' ? { model: 'etcd-register' } : {}), ...(use.options ?? {}) } };
      this.#windows.set(id, w);
    }
    w.ops.push(op);
    if (invoke) w.open++;
    else {
      w.open--;
      w.completions.push(time!);
    }
  }

  /**
   * Advances the watermark: judges what it makes final, closes and sends windows, publishes what was found. Runs on
   * the timer `start()` sets; tests call it directly.
   */
  advance(arrivalOnly = false): void {
    const watermark = this.#watermark();
    if (!arrivalOnly && Number.isFinite(watermark) && !this.#finished && watermark >= (this.#opts.lagFromNanos ?? -Infinity)) {
      // How far behind now the judging is: an op that completed just after the watermark waits at least this long.
      this.#behindMs = Math.max(0, (this.#opts.now() - watermark) / 1e6);
      this.#maxBehindMs = Math.max(this.#maxBehindMs, this.#behindMs);
    }
    for (const c of this.#incremental) {
      if (arrivalOnly && c.use.name !== 'bank') continue;
      for (const chk of c.byKey.values()) this.#report(chk.advance(watermark));
    }
    if (arrivalOnly) return;
    this.#flushHeld(false);
    for (const [id, w] of this.#windows) {
      if (w.epoch === undefined) continue;
      const end = (w.epoch + 1) * this.#opts.keyPeriodNanos;
      if (watermark > end && (w.open === 0 || watermark > end + (this.#opts.openGraceNanos ?? 10e9))) {
        this.#windows.delete(id);
        this.#closed.add(id);
        this.#send(id, w);
      }
    }
  }

  /**
   * The workload on `node` has stopped (between phases): once its events up to `lastSeq` are in, it publishes
   * nothing more until a new phase, whose events are stamped after `atNanos`, so it holds the watermark back no
   * further than that.
   */
  quiet(node: string, lastSeq: number, atNanos: number): void {
    this.#quiet.set(node, { lastSeq, atNanos });
  }

  /**
   * A progress marker of `node` (its agent's AgentMessage.progress): every event it stamped so far is numbered up to
   * `lastSeq`, every later one is stamped at `atNanos` or later. Once events 1..lastSeq of it are in, it holds the
   * watermark back no further than `atNanos`, whether or not it publishes anything meanwhile. Markers are never
   * events: nothing of them reaches a checker, the raw file or the history.
   */
  progress(node: string, lastSeq: number, atNanos: number, uncertaintyNanos: number): void {
    if (this.#finished || !this.active || !Number.isFinite(atNanos)) return;
    let q = this.#markers.get(node);
    if (!q) this.#markers.set(node, (q = []));
    const last = q.at(-1);
    // A restarted agent starts a new mapping; a marker that says less than the last one adds nothing.
    if (last && lastSeq <= last.lastSeq && atNanos <= last.atNanos) return;
    q.push({ lastSeq, atNanos, uncertaintyNanos });
    // While its events wait in a stalled pipeline the markers pile up: dropping the oldest only keeps the watermark
    // lower for a while (never higher than proven).
    if (q.length > MAX_MARKERS) q.shift();
  }

  /** The latest time `node`'s markers prove every earlier event of it in (markers whose events are all in). */
  #marked(node: string): number {
    let t = this.#markedTime.get(node) ?? -Infinity;
    const q = this.#markers.get(node);
    if (!q) return t;
    const next = this.#next.get(node) ?? 1;
    while (q.length > 0 && q[0]!.lastSeq < next) {
      const m = q.shift()!;
      if (m.atNanos > t) t = m.atNanos;
      this.#maxUncertainty = Math.max(this.#maxUncertainty, m.uncertaintyNanos);
    }
    this.#markedTime.set(node, t);
    return t;
  }

  /** Every event timed before this has arrived (-Infinity until every node was heard from). */
  #watermark(): number {
    let min = Infinity;
    for (const n of this.#opts.nodes) {
      let t = Math.max(this.#lastTime.get(n) ?? -Infinity, this.#marked(n));
      const q = this.#quiet.get(n);
      if (q) {
        const next = this.#next.get(n) ?? 1;
        if (next > q.lastSeq + 1) this.#quiet.delete(n); // it published again: a new phase
        else if (next === q.lastSeq + 1) t = Math.max(t, q.atNanos);
      }
      min = Math.min(min, t);
    }
    return min - BASE_SLACK_NANOS - 2 * this.#maxUncertainty;
  }

  #report(step: OnlineStep, windowCompletions?: number[]): void {
    const now = this.#opts.now();
    const from = this.#opts.lagFromNanos ?? -Infinity;
    if (windowCompletions) for (const t of windowCompletions) if (t >= from) this.#lag.add((now - t) / 1e6);
    for (const p of step.judged) {
      const t = this.#completedAt.get(p);
      if (t !== undefined && t >= from) this.#lag.add((now - t) / 1e6);
    }
    if (step.findings.length === 0) return;
    const groups = new Map<string, OnlineFinding[]>();
    for (const f of step.findings) {
      const g = `${f.checker}\u0000${f.anomaly}\u0000${f.key ?? ''}`;
      groups.set(g, [...(groups.get(g) ?? []), f]);
    }
    for (const [g, fs] of groups) {
      const first = fs[0]!;
      const counts = this.#summary.checkers[first.checker]!.anomalies;
      counts[first.anomaly] = (counts[first.anomaly] ?? 0) + fs.length;
      this.#anomalyTotal += fs.length;
      let st = this.#groups.get(g);
      if (!st) this.#groups.set(g, (st = { lastAtMs: -Infinity, held: [], heldCount: 0, latest: first }));
      for (const f of fs) {
        if (st.held.length < ALERT_DETAILS) st.held.push(f);
        if ((f.revealedBy.end ?? f.revealedBy.start) >= (st.latest.revealedBy.end ?? st.latest.revealedBy.start)) st.latest = f;
      }
      st.heldCount += fs.length;
    }
    this.#opts.onAnomalies?.(this.#anomalyTotal);
    this.#flushHeld(false);
  }

  /**
   * Publishes what each (checker, anomaly, key) holds: at once the first time, then at most every REPEAT_ALERT_MS
   * (a counter that lost increments puts every later read out of bounds: one message per key per 10 s, not per read).
   */
  #flushHeld(force: boolean): void {
    const nowMs = Date.now();
    for (const st of this.#groups.values()) {
      if (st.heldCount === 0 || (!force && nowMs - st.lastAtMs < REPEAT_ALERT_MS)) continue;
      this.#alert(st.held.includes(st.latest) ? st.held : [...st.held.slice(0, ALERT_DETAILS - 1), st.latest], st.heldCount, st.latest);
      st.held = [];
      st.heldCount = 0;
      st.lastAtMs = nowMs;
    }
  }

  #alert(fs: OnlineFinding[], count: number, latest: OnlineFinding): void {
    const first = fs[0]!;
    const revealed = latest.revealedBy;
    const foundAtUnixMs = Date.now();
    const alert: OnlineAlert = {
      checker: first.checker,
      anomaly: first.anomaly,
      operations: fs.flatMap((f) => f.operations).slice(0, ALERT_OPS),
      time: new Date(foundAtUnixMs).toISOString(),
      runId: this.#opts.runId,
      ...(first.key !== undefined ? { key: first.key } : {}),
      count,
      detail: fs.slice(0, ALERT_DETAILS).map((f) => f.detail ?? null),
      revealedBy: revealed,
      revealedAtUnixMs: Math.round(this.#originUnixMs + (revealed.end ?? revealed.start) / 1e6),
      foundAtUnixMs,
    };
    this.#summary.alerts++;
    this.#opts.log.error({ checker: alert.checker, anomaly: alert.anomaly, key: alert.key, count: alert.count, detail: alert.detail.slice(0, 5) }, 'online check found an anomaly');
    const line = JSON.stringify(alert);
    try {
      appendFileSync(join(this.#opts.runDir, 'online.jsonl'), `${line}\n`);
    } catch (err) {
      this.#opts.log.warn({ err }, 'cannot append to online.jsonl');
    }
    if (this.#opts.nc && !this.#opts.nc.isClosed()) this.#opts.nc.publish(alertsSubject(this.#opts.runId), line);
  }

  /** Sends a closed window to the worker; its answer is reported when it comes. */
  #send(id: string, w: Window): void {
    this.#summary.windows.checked++;
    const key = id.slice(id.indexOf(':') + 1);
    // The final check's order: the timeline, ties by node and sequence.
    const ops = [...w.ops].sort((a, b) => a.time! - b.time! || (a.node! < b.node! ? -1 : a.node! > b.node! ? 1 : a.seq! - b.seq!)).map((o, i) => ({ ...o, index: i }));
    const task: WindowTask = { id: ++this.#taskId, checker: w.checker, ops, options: { ...w.options, timeLimitMs: this.#opts.windowTimeLimitMs } };
    if (!this.#worker) {
      this.#worker = new Worker(join(__dirname, 'check-worker.js'));
      this.#worker.unref();
      this.#worker.on('message', (a: WindowAnswer) => this.#answer(a));
      this.#worker.on('error', (err) => {
        this.#opts.log.warn({ err }, 'the online checker\'s worker failed; windows are left to the final check');
        for (const t of this.#tasks.values()) t.resolve();
        this.#tasks.clear();
        this.#worker = undefined;
      });
    }
    const done = new Promise<void>((resolve) => this.#tasks.set(task.id, { window: w, key, resolve }));
    this.#inFlight.add(done);
    void done.then(() => this.#inFlight.delete(done));
    this.#worker.postMessage(task);
  }

  #answer(a: WindowAnswer): void {
    const t = this.#tasks.get(a.id);
    if (!t) return;
    this.#tasks.delete(a.id);
    if ('error' in a) {
      this.#summary.windows.unknown++;
      this.#opts.log.warn({ checker: t.window.checker, key: t.key, error: a.error }, 'online window check failed; left to the final check');
    } else {
      const v = a.verdict;
      if (v.valid === 'unknown') this.#summary.windows.unknown++;
      if (v.valid === false) this.#summary.windows.invalid++;
      this.#report({ findings: this.#windowFindings(t.window, t.key, v), judged: [] }, t.window.completions);
    }
    t.resolve();
  }

  /** A window's invalid verdict as findings: one per anomaly name, with the ops the evidence names. */
  #windowFindings(w: Window, key: string, v: CheckerVerdict): OnlineFinding[] {
    if (v.valid !== false) return [];
    const last = w.ops.reduce((a, o) => ((o.time ?? 0) > (a.time ?? 0) ? o : a), w.ops[0]!);
    const lastOp = alertOp({ index: last.index, process: last.process as number, f: last.f, key: last.key, invokeValue: last.value, value: last.value, type: last.type === 'invoke' ? 'info' : last.type, start: last.time! - (last.uncertainty ?? 0), end: last.time! + (last.uncertainty ?? 0), completionIndex: last.index });
    const out: OnlineFinding[] = [];
    for (const [anomaly, n] of Object.entries(v.anomalies)) {
      if (n <= 0) continue;
      let operations: AlertOp[] = [];
      let detail: unknown = null;
      if (w.checker === 'linearizable') {
        const ev = v['evidence'] as { subHistory?: AlertOp[]; failingOp?: AlertOp } | undefined;
        operations = (ev?.subHistory ?? (ev?.failingOp ? [ev.failingOp] : [])).slice(0, ALERT_OPS);
        detail = { key, failingOp: ev?.failingOp ?? null };
      } else {
        const examples = (v['examples'] as Record<string, unknown[]> | undefined)?.[anomaly] ?? [];
        detail = { window: key, examples: examples.slice(0, 3) };
      }
      out.push({ checker: w.checker, anomaly, operations: [...operations, lastOp], revealedBy: lastOp, ...(w.checker === 'linearizable' ? { key } : {}), detail });
    }
    return out;
  }

  /**
   * The history is complete: judges everything the incremental checkers hold (what only the end proves, such as
   * an element lost from the final reads), waits for the windows already sent, and says what was done. Windows that
   * only the end closes are left to the final check, which reads the same ops.
   */
  async finish(): Promise<OnlineSummary> {
    if (this.#finished) return this.summary();
    clearInterval(this.#timer);
    if (this.active && this.#summary.stopped === undefined) {
      this.advance();
      for (const c of this.#incremental) for (const chk of c.byKey.values()) this.#report(chk.finish());
      this.#summary.windows.leftToFinal = this.#windows.size;
    }
    this.#finished = true;
    await Promise.race([Promise.all([...this.#inFlight]), new Promise((r) => setTimeout(r, this.#opts.windowTimeLimitMs + 5000).unref())]);
    this.#flushHeld(true);
    await this.stop();
    return this.summary();
  }

  /** Settles once every window sent so far has been answered (tests; a run just goes on). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /** Stops the timer and the worker (a run that failed or was interrupted). Idempotent. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#finished = true;
    const w = this.#worker;
    this.#worker = undefined;
    for (const t of this.#tasks.values()) t.resolve();
    this.#tasks.clear();
    await w?.terminate();
  }

  /** What online checking found so far (live: summaries and progress read it). */
  summary(): OnlineSummary {
    return {
      ...this.#summary,
      checkers: Object.fromEntries(Object.entries(this.#summary.checkers).map(([k, c]) => [k, { mode: c.mode, anomalies: { ...c.anomalies } }])),
      lagMs: { ...this.#lag.summary(), behindMs: this.#behindMs === null ? null : Math.round(this.#behindMs), maxBehindMs: Math.round(this.#maxBehindMs) },
      windows: { ...this.#summary.windows, open: this.#windows.size },
    };
  }

  /** Anomalies found so far, by `checker:anomaly`. */
  anomalyCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, c] of Object.entries(this.#summary.checkers)) for (const [a, n] of Object.entries(c.anomalies)) out[`${name}:${a}`] = n;
    return out;
  }
}

/**
 * Online against final: every anomaly online checking found must be one the final check reports for the same
 * checker (it may report more: those that only the complete history shows, or in windows left to it).
 */
export function compareOnline(online: OnlineSummary, finalChecks: Record<string, { valid: unknown; anomalies: Record<string, number> }>): { agrees: boolean; disagreements: string[] } {
  const disagreements: string[] = [];
  for (const [name, c] of Object.entries(online.checkers)) {
    for (const [anomaly, n] of Object.entries(c.anomalies)) {
      if (n <= 0) continue;
      const f = finalChecks[name];
      if (!f || f.valid !== false || !((f.anomalies[anomaly] ?? 0) > 0)) disagreements.push(`${name}: online found ${anomaly} ×${n}, the final check did not`);
    }
  }
  return { agrees: disagreements.length === 0, disagreements };
}
