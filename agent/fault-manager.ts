import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Database } from './db/database';
import { readOffsetFile, writeOffsetFile } from './faults/clock-faketime';
import { SystemClock, systemClockRefusal, type TimeSyncState } from './faults/clock-system';
import { runTool } from './faults/iptables';
import { applyLoss } from './faults/loss';
import { applyDrop, healNetwork } from './faults/partition';
import { applyShape, healShape, isEmptyShape, validateShape, type ShapeSpec } from './faults/shape';
import { processState, signalIfOurs } from './faults/process-state';
import { FaultJournal, type FaultKind, type JournalEntry } from './fault-journal';

export interface NetworkFault {
  dropFrom: string[];
  loss: { from: string; probability: number }[];
}

/** Which part of the network fault a request replaces: both sets, only the drop set, or only the loss rules. */
export type NetworkMode = 'all' | 'drop' | 'loss';
export type ProcessAction = 'kill' | 'pause' | 'resume' | 'restart' | 'start';
export type ClockStrategy = 'faketime' | 'system';
export type ClockRequest =
  | { action: 'bump'; strategy: ClockStrategy; offsetMs: number }
  | { action: 'strobe'; strategy: ClockStrategy; aMs: number; bMs: number; periodMs: number }
  | { action: 'reset'; strategy: ClockStrategy };

/** A fault this node cannot carry out as asked (nothing to pause, a DB libfaketime cannot reach, ...). */
export class FaultRefusedError extends Error {
  override readonly name = 'FaultRefusedError';
}

/** What `state()` reports: the journal plus what the node's processes and clock really look like. */
export interface FaultState {
  faults: JournalEntry[];
  clockOffsetMs: number;
  clockStrategy: ClockStrategy | '';
  db: string;
  dbPid: number;
  /** From /proc: `T` while stopped; empty when no DB process runs. */
  dbProcessState: string;
}

interface ClockDetail {
  strategy: ClockStrategy;
  offsetMs: number;
  file?: string;
  strobe?: { aMs: number; bMs: number; periodMs: number };
  timeSync?: TimeSyncState;
}
interface PauseDetail {
  db: string;
  pid: number;
  marker: string;
}

const MIN_STROBE_PERIOD_MS = 10;

/**
 * Applies and undoes this node's faults. Every fault is journaled before it is applied and carries a deadline
 * (the request's duration, capped by `--max-fault-duration`), after which that fault alone is healed. `healAll`
 * undoes everything — network chains, our traffic-shaping qdiscs, paused DB processes (also by the pid in the journal, for an agent that
 * restarted), clock offsets, and with `restartKilled` killed DB members — and is idempotent. It is called on heal
 * requests, when the controller's lease lapses, at shutdown, and at start for leftovers.
 */
export class FaultManager {
  #timers = new Map<FaultKind, NodeJS.Timeout>();
  #strobe: NodeJS.Timeout | undefined;
  readonly #systemClock: SystemClock;

  constructor(
    private readonly journal: FaultJournal,
    private readonly db: () => Database | undefined,
    private readonly log: Logger,
    private readonly maxFaultDurationMs: number,
    /** Where DB modules keep their libfaketime timestamp files (`<data-dir>/faketime`): all reset by healAll. */
    private readonly faketimeDir?: string,
    systemClock?: SystemClock,
  ) {
    this.#systemClock = systemClock ?? new SystemClock((cmd, args) => runTool(cmd, args));
  }

  active(): JournalEntry[] {
    return this.journal.read();
  }

  /**
   * Drops and loses packets as `fault` says, replacing the parts `mode` names. Addresses in `neverDrop` (the
   * controller's and NATS's) are refused: a fault must never cut the agent off from the controller that has to heal it.
   */
  async applyNetwork(id: string, fault: NetworkFault, durationMs: number, neverDrop: string[], mode: NetworkMode = 'all'): Promise<void> {
    const ms = this.#duration(durationMs);
    const now = Date.now();
    const drop = mode !== 'loss';
    const loss = mode !== 'drop';
    if (drop) this.#journal(id, 'partition', { dropFrom: fault.dropFrom }, now, ms, fault.dropFrom.length > 0);
    if (loss) this.#journal(`${id}${mode === 'all' ? '-loss' : ''}`, 'loss', { loss: fault.loss }, now, ms, fault.loss.length > 0);
    try {
      if (drop) await applyDrop({ fromAddresses: fault.dropFrom, neverDrop });
      if (loss) {
        await applyLoss({ neverDrop, fromAddresses: fault.loss.map((l) => l.from), probability: fault.loss[0]?.probability ?? 0 });
      }
    } catch (err) {
      await this.healAll('apply failed'); // never leave a half-applied fault behind
      throw err;
    }
    this.log.info({ id, mode, dropFrom: fault.dropFrom, loss: fault.loss, durationMs: ms }, 'network fault applied');
  }

  /**
   * Shapes this node's traffic to `toAddresses` (rate limit, netem parts), replacing the previous shaping; an
   * empty list or spec removes it. Protected addresses (controller, NATS) are refused like for drops. A request
   * refused for what it asks (bad numbers, no netem here) changes nothing; one that fails on the host leaves no
   * shaping and no journal entry. The journal entry is written before the shaping joins the tc queue, with no
   * await in between, so a heal can never run between them and miss it.
   */
  async applyShape(id: string, toAddresses: string[], spec: ShapeSpec, durationMs: number, neverShape: string[]): Promise<void> {
    const ms = this.#duration(durationMs);
    await validateShape({ toAddresses, spec, neverShape });
    if (toAddresses.length === 0 || isEmptyShape(spec)) {
      // Removal: forget the entry only once the shaping is gone, and only if no newer one replaced it meanwhile.
      const current = this.active().find((e) => e.kind === 'shape')?.id;
      await healShape();
      if (current !== undefined) this.#forget('shape', current);
      this.log.info({ id }, 'traffic shaping removed');
      return;
    }
    this.#journal(id, 'shape', { to: toAddresses, spec }, Date.now(), ms, true);
    try {
      await applyShape({ toAddresses, spec, neverShape });
    } catch (err) {
      this.#forget('shape', id); // applyShape left no shaping of ours behind
      throw err;
    }
    this.log.info({ id, to: toAddresses, spec, durationMs: ms }, 'traffic shaping applied');
  }

  /** kill -9, pause, resume, restart or start the DB member. Returns what happened, for the reply. */
  async processFault(action: ProcessAction, id: string, durationMs: number): Promise<string> {
    const db = this.#requireDb(action);
    const ms = this.#duration(durationMs);
    const now = Date.now();
    switch (action) {
      case 'kill': {
        this.#journal(id, 'kill', { db: db.name, pid: db.pid() ?? 0 }, now, ms, true);
        await db.kill();
        return `killed ${db.name}`;
      }
      case 'pause': {
        const pid = db.pid();
        if (pid === undefined) throw new FaultRefusedError(`Cannot pause ${db.name}: it is not running on this node`);
        const detail: PauseDetail = { db: db.name, pid, marker: db.commandMarker };
        this.#journal(id, 'pause', detail, now, ms, true);
        db.pause();
        return `paused ${db.name} (pid ${pid})`;
      }
      case 'resume':
        db.resume();
        this.#forget('pause');
        return `resumed ${db.name}`;
      case 'restart': {
        // Journaled as a kill until the new process runs: if we die in between, a heal knows the member is down.
        this.#journal(id, 'kill', { db: db.name, pid: db.pid() ?? 0 }, now, ms, true);
        this.#forget('pause');
        await db.kill();
        const pid = await db.start();
        this.#forget('kill');
        return `restarted ${db.name} (new pid ${pid})`;
      }
      case 'start': {
        const pid = await db.start();
        this.#forget('kill');
        return `started ${db.name} (pid ${pid})`;
      }
    }
  }

  /** Bumps, strobes or resets the DB process's clock (faketime) or the node's (system). Returns the offset now. */
  async clockFault(req: ClockRequest, id: string, durationMs: number): Promise<number> {
    if (req.action === 'reset') {
      await this.#healClock(this.active().find((e) => e.kind === 'clock'));
      this.#forget('clock');
      return this.clockOffsetMs();
    }
    const ms = this.#duration(durationMs);
    const now = Date.now();
    const current = this.active().find((e) => e.kind === 'clock');
    const currentDetail = current?.detail as ClockDetail | undefined;
    if (currentDetail && currentDetail.strategy !== req.strategy) {
      throw new FaultRefusedError(`Cannot apply a ${req.strategy} clock fault while a ${currentDetail.strategy} one is active; reset it first`);
    }
    if (req.action === 'strobe' && (!Number.isFinite(req.periodMs) || req.periodMs < MIN_STROBE_PERIOD_MS)) {
      throw new RangeError(`Cannot strobe the clock: the period must be at least ${MIN_STROBE_PERIOD_MS} ms`);
    }
    this.#stopStrobe();
    const base = currentDetail?.offsetMs ?? 0;
    const target = req.action === 'bump' ? base + req.offsetMs : req.aMs;
    const strobe = req.action === 'strobe' ? { aMs: req.aMs, bMs: req.bMs, periodMs: req.periodMs } : undefined;
    if (req.strategy === 'faketime') {
      const file = this.#faketimeFile();
      this.#journal(id, 'clock', { strategy: 'faketime', offsetMs: target, file, ...(strobe ? { strobe } : {}) }, now, ms, true);
      writeOffsetFile(file, target);
      if (strobe) this.#startStrobe(strobe, (offset) => writeOffsetFile(file, offset));
    } else {
      const refusal = systemClockRefusal();
      if (refusal) throw new FaultRefusedError(`Cannot shift the system clock: ${refusal}`);
      const timeSync = currentDetail?.timeSync ?? { timedatectlNtp: false, activeUnits: [] };
      // Journaled with the offset we are about to reach and what time sync we may stop, before touching anything.
      const detail: ClockDetail = { strategy: 'system', offsetMs: base, timeSync, ...(strobe ? { strobe } : {}) };
      this.#journal(id, 'clock', detail, now, ms, true);
      if (!current) detail.timeSync = await this.#systemClock.stopTimeSync();
      this.#journal(id, 'clock', detail, now, ms, true);
      await this.#systemShiftTo(detail, id, now, ms, target);
      if (strobe) {
        this.#startStrobe(strobe, (offset) => {
          this.#systemShiftTo(detail, id, now, ms, offset).catch((err: unknown) => this.log.error({ err }, 'system clock strobe step failed'));
        });
      }
    }
    this.log.info({ id, req, offsetMs: target, durationMs: ms }, 'clock fault applied');
    return target;
  }

  /** The clock offset in force now: read back from the timestamp file (faketime) or the journal (system). */
  clockOffsetMs(): number {
    const entry = this.active().find((e) => e.kind === 'clock');
    const detail = entry?.detail as ClockDetail | undefined;
    if (detail?.strategy === 'system') return detail.offsetMs;
    const reach = this.db()?.clockReach();
    const file = detail?.file ?? (reach?.faketime ? reach.timestampFile : undefined);
    return file === undefined ? 0 : readOffsetFile(file);
  }

  state(): FaultState {
    const faults = this.active();
    const db = this.db();
    const pid = db?.pid();
    const clock = faults.find((e) => e.kind === 'clock')?.detail as ClockDetail | undefined;
    return {
      faults,
      clockOffsetMs: this.clockOffsetMs(),
      clockStrategy: clock?.strategy ?? '',
      db: db?.name ?? '',
      dbPid: pid ?? 0,
      // 'none': this node runs no DB server by design, so a heal check expects none here.
      dbProcessState: db?.hostsServer?.() === false ? 'none' : (processState(pid) ?? ''),
    };
  }

  /**
   * Undoes every fault this agent applied. Safe to call at any time, any number of times. Every step runs even
   * when an earlier one fails; an entry whose undo failed stays in the journal for the next heal, and the first
   * error is thrown at the end. `restartKilled` starts a killed DB member again (not at agent start or shutdown).
   */
  async healAll(reason: string, opts: { restartKilled?: boolean } = {}): Promise<void> {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#stopStrobe();
    const had = this.journal.read();
    const errors: unknown[] = [];
    const attempt = async (what: string, fn: () => Promise<void> | void, entry?: JournalEntry): Promise<void> => {
      try {
        await fn();
        if (entry) this.journal.remove((e) => e.id === entry.id && e.kind === entry.kind);
      } catch (err) {
        errors.push(err);
        this.log.error({ err, step: what }, 'heal step failed');
      }
    };
    for (const entry of had) {
      if (entry.kind === 'partition' || entry.kind === 'loss') await attempt('network', () => healNetwork(), entry);
      else if (entry.kind === 'shape') await attempt('shape', () => healShape(), entry);
      else if (entry.kind === 'clock') await attempt('clock', () => this.#healClock(entry), entry);
      else if (entry.kind === 'pause') await attempt('pause', () => this.#healPause(entry), entry);
      else if (entry.kind === 'kill') await attempt('kill', () => (opts.restartKilled ? this.#healKill() : undefined), entry);
      else await attempt('unknown entry', () => healNetwork(), entry); // a torn journal: the unconditional steps below cover it
    }
    // Unconditional and idempotent: also undoes what a torn or missing journal cannot tell us about.
    await attempt('network', () => healNetwork());
    await attempt('shape', () => healShape());
    await attempt('resume', () => this.db()?.resume());
    await attempt('offset files', () => this.#resetOffsetFiles());
    if (had.length > 0) this.log.info({ reason, healed: had.map((e) => e.id) }, 'faults healed');
    if (errors.length > 0) throw errors[0];
  }

  #duration(requestedMs: number): number {
    return Math.min(requestedMs > 0 ? requestedMs : this.maxFaultDurationMs, this.maxFaultDurationMs);
  }

  #requireDb(action: string): Database {
    const db = this.db();
    if (!db || db.state() === 'not-set-up') throw new FaultRefusedError(`Cannot ${action} the DB: none is set up on this node`);
    return db;
  }

  #faketimeFile(): string {
    const db = this.db();
    if (!db || db.state() === 'not-set-up') {
      throw new FaultRefusedError('Cannot shift the clock: no DB is set up on this node (libfaketime shifts the DB process\'s clock)');
    }
    const reach = db.clockReach();
    if (!reach.faketime) throw new FaultRefusedError(`Cannot shift the clock: ${reach.reason}`);
    return reach.timestampFile;
  }

  /** Journals a fault (or forgets its kind when `active` is false) and arms its deadline. */
  #journal(id: string, kind: FaultKind, detail: unknown, now: number, ms: number, active: boolean): void {
    if (!active) return this.#forget(kind);
    this.journal.add({ id, kind, detail, appliedAtMs: now, expiresAtMs: now + ms });
    clearTimeout(this.#timers.get(kind));
    const timer = setTimeout(() => {
      this.log.warn({ id, kind, ms }, 'fault reached its maximum duration, healing it');
      this.#expire(kind, id);
    }, ms);
    timer.unref();
    this.#timers.set(kind, timer);
  }

  /** Heals an expired fault; when that fails, tries again every few seconds for as long as the fault is in force. */
  #expire(kind: FaultKind, id: string): void {
    this.#healKind(kind, `fault ${id} expired`).catch((err: unknown) => {
      this.log.error({ err, id, kind }, 'heal after expiry failed, retrying in 5 s');
      if (!this.active().some((e) => e.kind === kind && e.id === id)) return;
      const retry = setTimeout(() => this.#expire(kind, id), 5000);
      retry.unref();
      this.#timers.set(kind, retry);
    });
  }

  /**
   * Forgets the fault of `kind`; with `id`, only if that fault is still the one in force (a heal that awaited
   * something must not forget a newer fault of the same kind applied meanwhile).
   */
  #forget(kind: FaultKind, id?: string): void {
    if (id !== undefined && !this.active().some((e) => e.kind === kind && e.id === id)) return;
    clearTimeout(this.#timers.get(kind));
    this.#timers.delete(kind);
    this.journal.remove((e) => e.kind === kind);
  }

  /** Heals one kind of fault, leaving the others in force. */
  async #healKind(kind: FaultKind, reason: string): Promise<void> {
    const entry = this.active().find((e) => e.kind === kind);
    if (!entry) return;
    if (kind === 'partition') await applyDrop({ fromAddresses: [] });
    else if (kind === 'loss') await applyLoss({ fromAddresses: [], probability: 0 });
    else if (kind === 'shape') await healShape();
    else if (kind === 'clock') await this.#healClock(entry);
    else if (kind === 'pause') this.#healPause(entry);
    else await this.#healKill();
    this.#forget(kind, entry.id);
    this.log.info({ reason, healed: entry.id }, 'fault healed');
  }

  async #healClock(entry: JournalEntry | undefined): Promise<void> {
    this.#stopStrobe();
    const detail = entry?.detail as ClockDetail | undefined;
    if (detail?.strategy === 'system') {
      await this.#systemClock.restore(detail.offsetMs, detail.timeSync ?? { timedatectlNtp: false, activeUnits: [] });
      return;
    }
    if (detail?.file !== undefined && existsSync(detail.file)) writeOffsetFile(detail.file, 0);
    this.#resetOffsetFiles();
  }

  #healPause(entry: JournalEntry): void {
    this.db()?.resume();
    const detail = entry.detail as PauseDetail | null;
    // After an agent restart the DB object is new: the journaled pid is the only handle on the stopped process.
    if (detail && typeof detail.pid === 'number') signalIfOurs(detail.pid, 'SIGCONT', detail.marker);
  }

  async #healKill(): Promise<void> {
    const db = this.db();
    if (db && db.state() === 'stopped') await db.start();
  }

  /** Every timestamp file we own back to zero (files that do not exist are not created). */
  #resetOffsetFiles(): void {
    const dir = this.faketimeDir;
    if (dir === undefined || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.offset')) continue;
      const file = join(dir, name);
      if (readOffsetFileSafe(file) !== 0) writeOffsetFile(file, 0);
    }
  }

  async #systemShiftTo(detail: ClockDetail, id: string, now: number, ms: number, targetMs: number): Promise<void> {
    const delta = targetMs - detail.offsetMs;
    // Recorded first. A crash between the two leaves restore off by `delta`; the time sync it restarts corrects that.
    detail.offsetMs = targetMs;
    this.journal.add({ id, kind: 'clock', detail, appliedAtMs: now, expiresAtMs: now + ms });
    await this.#systemClock.shift(delta);
  }

  #startStrobe(strobe: { aMs: number; bMs: number; periodMs: number }, set: (offsetMs: number) => void): void {
    let atA = true;
    this.#strobe = setInterval(() => {
      atA = !atA;
      try {
        set(atA ? strobe.aMs : strobe.bMs);
      } catch (err) {
        this.log.error({ err }, 'clock strobe step failed');
      }
    }, strobe.periodMs);
    this.#strobe.unref();
  }

  #stopStrobe(): void {
    clearInterval(this.#strobe);
    this.#strobe = undefined;
  }
}

function readOffsetFileSafe(file: string): number | undefined {
  try {
    return readOffsetFile(file);
  } catch {
    return undefined; // unreadable: rewrite it as zero
  }
}
