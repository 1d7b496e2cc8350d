/**
 * The run's nemesis: one fault at a time, rotating through the kinds asked for (`--nemesis partition,kill,...`),
 * every kind once per round in a seeded random order, so long runs see each kind evenly. `start()` applies the
 * next fault, `stop()` heals it, and `healAndVerify()` is the final phase: heal everything everywhere and check
 * that it took (reachability, DB processes running and not stopped, clock offsets zero) before final reads.
 * Every action is a nemesis invoke and completion in the history, with the nodes hit and their clock offsets.
 */
import type { Logger } from 'pino';
import { Random } from '../../core/generator/random';
import { describeGrudge, grudgeFor, type PartitionShape } from '../../core/nemesis/grudge';
import type { ControllerEvents } from '../controller-events';
import type { AgentClient, LinkShape } from '../rpc/agent-client';
import {
  applyFault,
  healAll,
  stateReport,
  type ClockChange,
  type Fault,
  type ClockStrategy,
  type NodeReport,
} from './fault-actions';
import { verifyHeal, type HealCheck } from './heal-check';
import { findPrimaries, minorityCount, selectTargets, serverNodes, type TargetKind } from './node-targets';

export const NEMESIS_KINDS = ['partition', 'kill', 'pause', 'clock', 'loss', 'rate', 'delay'] as const;
export type NemesisKind = (typeof NEMESIS_KINDS)[number];

export interface NemesisScheduleOptions {
  kinds: NemesisKind[];
  db: string;
  seed: number;
  partitionShape: PartitionShape;
  /** A node to isolate, or `primary`: whichever node is primary when the fault starts. */
  partitionTarget: string | undefined;
  /**
   * Whom kill, pause and clock faults hit (`primary`: the primary when the fault starts); undefined: Jepsen's
   * rotation. Clock faults choose among the nodes that run a DB server: a client-only node has no clock to shift.
   */
  nemesisTarget?: 'one' | 'minority' | 'majority' | 'all' | 'primary' | undefined;
  clockStrategy: ClockStrategy;
  /** The agents heal any fault of ours on their own after this long (a dead controller cannot). */
  maxFaultDurationMs: number;
  lossProbability: number;
}

/** Where the schedule stands: enough for a resumed controller to continue it exactly (run-state.json). */
export interface NemesisSnapshot {
  rngState: number;
  round: NemesisKind[];
  /** Faults started so far (fault ids are `<kind>-<n>`). */
  n: number;
  /** The fault in force, and its id on the agents. */
  active?: { kind: NemesisKind; id: string };
}

/** Jepsen's db-nemesis targets; `primaries` only where the DB names one (etcd does). */
const PROCESS_TARGETS: TargetKind[] = ['one', 'minority', 'majority', 'all', 'primaries'];
const CLOCK_TARGETS: TargetKind[] = ['one', 'minority', 'all'];

export class NemesisSchedule {
  #rng: Random;
  #round: NemesisKind[] = [];
  #active: NemesisKind | undefined;
  #activeId = '';
  #n = 0;

  constructor(
    private readonly clients: AgentClient[],
    private readonly events: ControllerEvents,
    private readonly opts: NemesisScheduleOptions,
    private readonly log: Logger,
  ) {
    if (opts.kinds.length === 0) throw new RangeError('Cannot schedule a nemesis with no fault kinds');
    this.#rng = new Random(opts.seed ^ 0x5bd1e995);
  }

  get active(): NemesisKind | undefined {
    return this.#active;
  }

  snapshot(): NemesisSnapshot {
    return { rngState: this.#rng.state, round: [...this.#round], n: this.#n, ...(this.#active !== undefined ? { active: { kind: this.#active, id: this.#activeId } } : {}) };
  }

  /** Continues from a snapshot taken by another controller of the same run. */
  restore(s: NemesisSnapshot): void {
    this.#rng = Random.fromState(s.rngState);
    this.#round = [...s.round];
    this.#n = s.n;
    this.#active = s.active?.kind;
    this.#activeId = s.active?.id ?? '';
  }

  /**
   * Passes over the fault a dead controller was starting when it died (the snapshot predates it): its kind leaves
   * the round and its number is used, so the faults after it keep their kinds and no fault id is given twice.
   */
  skipInterrupted(): void {
    if (this.#round.length === 0) this.#round = this.#shuffled(this.opts.kinds);
    this.#round.shift();
    this.#n++;
  }

  /** The fault in force is gone (the agents healed it on their own): `stop()` then has nothing to undo. */
  forgetActive(): void {
    this.#active = undefined;
    this.#activeId = '';
  }

  /** Applies the next fault of the rotation. A fault that cannot be applied is healed and recorded as `info`. */
  async start(): Promise<unknown> {
    if (this.#round.length === 0) this.#round = this.#shuffled(this.opts.kinds);
    const kind = this.#round.shift()!;
    const id = `${kind}-${++this.#n}`;
    const f = `start-${kind}`;
    let value: Record<string, unknown> = {};
    try {
      value = await this.#plan(kind);
    } catch (err) {
      // Nothing was applied (no primary right now, ...): recorded, never silently skipped.
      await this.events.nemesis('invoke', f, null);
      await this.events.nemesis('info', f, null, (err as Error).message);
      this.log.warn({ kind, err }, 'nemesis could not aim a fault');
      return undefined;
    }
    await this.events.nemesis('invoke', f, value);
    this.#active = kind;
    this.#activeId = id;
    try {
      const reports = await this.#apply(kind, id, value);
      const done = { ...value, nodes: summarize(reports) };
      await this.events.nemesis('ok', f, done);
      this.log.info({ kind, value: done }, 'nemesis fault applied');
      return done;
    } catch (err) {
      await healAll(this.clients).catch(() => undefined); // never leave half of a fault behind
      this.#active = undefined;
      await this.events.nemesis('info', f, value, (err as Error).message);
      this.log.warn({ kind, err }, 'nemesis fault failed; healed');
      return undefined;
    }
  }

  /** Heals the active fault on every node (partitions, loss, pauses, offsets; killed members restart). */
  async stop(): Promise<void> {
    const kind = this.#active;
    if (kind === undefined) return;
    const f = `stop-${kind}`;
    await this.events.nemesis('invoke', f, null);
    try {
      const reports = await healAll(this.clients);
      this.#active = undefined;
      await this.events.nemesis('ok', f, kind === 'partition' ? 'fully connected' : { nodes: summarize(reports) });
    } catch (err) {
      await this.events.nemesis('info', f, null, (err as Error).message);
      this.log.warn({ kind, err }, 'nemesis heal failed');
    }
  }

  /**
   * The final phase: ends the active fault (`stop-<kind>`), heals everything on every node once more whatever it
   * was, and verifies the heal, retrying for `timeoutMs`. Recorded as `verify-heal`, whose value has each node's
   * clock offset; an unverified heal completes as `info` with the problems found.
   */
  async healAndVerify(timeoutMs: number, signal?: AbortSignal): Promise<HealCheck> {
    await this.stop();
    await this.events.nemesis('invoke', 'verify-heal', null);
    let healError = '';
    try {
      await healAll(this.clients);
      this.#active = undefined;
    } catch (err) {
      healError = `heal failed: ${(err as Error).message}; `;
    }
    let check = await verifyHeal(this.clients, { expectDb: true, timeoutMs, ...(signal ? { signal } : {}) });
    // A member that exited on its own (a Galera node that could not join while cut off, say) is not the heal's to
    // bring back, so it stays down; the final heal starts it again, as Jepsen's final heal starts every node, and
    // says so in the event.
    const restarted = check.healed || signal?.aborted ? {} : await this.#restartExited();
    if (Object.keys(restarted).length > 0) {
      const again = await verifyHeal(this.clients, { expectDb: true, timeoutMs, ...(signal ? { signal } : {}) });
      check = { ...again, attempts: check.attempts + again.attempts };
    }
    const value = { offsets: check.offsets, problems: check.problems, attempts: check.attempts, ...(Object.keys(restarted).length > 0 ? { restarted } : {}) };
    if (check.healed) await this.events.nemesis('ok', 'verify-heal', value);
    else await this.events.nemesis('info', 'verify-heal', value, `${healError}heal not verified: ${check.problems.join('; ')}`);
    return check;
  }

  /** Starts every DB member that is set up but not running; node -> what happened. */
  async #restartExited(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    await Promise.all(
      this.clients.map(async (c) => {
        const st = await c.status().catch(() => undefined);
        if (st === undefined) return;
        const s = stateReport(st.faults);
        if (s.db === '' || s.dbPid !== 0 || s.dbProcessState === 'none') return;
        try {
          await c.db('start', s.db, 60_000);
          out[c.node.name] = `${s.db} had exited on its own: started again`;
        } catch (err) {
          out[c.node.name] = `${s.db} had exited on its own; starting it failed: ${(err as Error).message}`;
        }
        this.log.warn({ node: c.node.name, result: out[c.node.name] }, 'final heal found a DB member not running');
      }),
    );
    return out;
  }

  #shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.#rng.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** One of the nodes that believe they are primary (seeded pick when several do), or an error: nothing to aim at. */
  #onePrimary(primaries: readonly string[]): string {
    if (primaries.length === 0) throw new RangeError('Cannot aim at the primary: no node says it is primary right now');
    return primaries[this.#rng.int(primaries.length)]!;
  }

  /** A seeded pick of one of `kinds`, then of its nodes among `pool` (default: every node). */
  #pickTargets(kinds: TargetKind[], primaries: string[] | undefined, pool?: readonly string[]): { target: TargetKind; nodes: string[] } {
    const names = pool ?? this.clients.map((c) => c.node.name);
    const usable = primaries === undefined ? kinds.filter((k) => k !== 'primaries') : kinds;
    const target = usable[this.#rng.int(usable.length)]!;
    return { target, nodes: selectTargets({ kind: target }, names, () => this.#rng.next(), primaries) };
  }

  /** Decides what the fault will be (shape, targets, offsets): the value of the invoke event. */
  async #plan(kind: NemesisKind): Promise<Record<string, unknown>> {
    const names = this.clients.map((c) => c.node.name);
    switch (kind) {
      case 'partition': {
        const byPrimary = this.opts.partitionTarget === 'primary';
        const primaries = this.opts.partitionShape === 'primaries' || byPrimary ? await findPrimaries(this.clients, this.opts.db) : undefined;
        // The primary is asked for when the fault starts, so the fault follows the cluster through failovers.
        const target = byPrimary ? [this.#onePrimary(primaries!)] : this.opts.partitionTarget !== undefined ? [this.opts.partitionTarget] : undefined;
        const grudge = grudgeFor(this.opts.partitionShape, names, {
          rng: () => this.#rng.next(),
          ...(target ? { target } : {}),
          ...(primaries ? { primaries } : {}),
        });
        return { shape: this.opts.partitionShape, grudge, description: describeGrudge(grudge), ...(byPrimary ? { primary: target![0], primaries } : {}) };
      }
      case 'kill':
      case 'pause': {
        const wanted = this.opts.nemesisTarget;
        if (wanted === 'primary') {
          const primaries = await findPrimaries(this.clients, this.opts.db);
          return { target: 'primary', nodes: [this.#onePrimary(primaries)], primaries };
        }
        if (wanted !== undefined) return this.#pickTargets([wanted], undefined);
        const primaries = await findPrimaries(this.clients, this.opts.db).catch(() => undefined);
        return this.#pickTargets(PROCESS_TARGETS, primaries && primaries.length > 0 ? primaries : undefined);
      }
      case 'loss': {
        const picked = this.#pickTargets(['one', 'minority'], undefined);
        return { ...picked, probability: this.opts.lossProbability };
      }
      case 'rate': {
        // Log-uniform from 100 kbit/s to 10 Mbit/s: from barely usable to merely slow.
        const picked = this.#pickTargets(['one', 'minority'], undefined);
        return { ...picked, shape: { rateBitsPerSecond: Math.round(1e5 * Math.pow(100, this.#rng.next())) } };
      }
      case 'delay': {
        // Log-uniform from 10 ms to 1 s, with 10 % jitter.
        const picked = this.#pickTargets(['one', 'minority'], undefined);
        const delayMs = Math.round(10 * Math.pow(100, this.#rng.next()));
        return { ...picked, shape: { delayMs, jitterMs: Math.max(1, Math.round(delayMs / 10)) } };
      }
      case 'clock': {
        // libfaketime shifts the DB server's clock, so the targets are chosen among the nodes that run one (on
        // postgres and mariadb the other nodes only run clients); the event records that pool as `servers`.
        const servers = await serverNodes(this.clients);
        const wanted = this.opts.nemesisTarget;
        let picked: Record<string, unknown>;
        if (wanted === 'primary') {
          const primaries = await findPrimaries(this.clients, this.opts.db);
          picked = { target: 'primary', nodes: [this.#onePrimary(primaries)], primaries };
        } else if (wanted !== undefined) {
          picked = this.#pickTargets([wanted], undefined, servers);
        } else {
          // The rotation keeps only the kinds that select a node of the pool (no minority of one server).
          const kinds = CLOCK_TARGETS.filter((k) => k !== 'minority' || minorityCount(servers.length) > 0);
          picked = this.#pickTargets(kinds, undefined, servers);
        }
        // Magnitudes log-uniform from 100 ms to 2 min, either sign: small skews and large jumps both happen.
        const magnitude = () => Math.round(100 * Math.pow(1200, this.#rng.next())) * (this.#rng.next() < 0.5 ? -1 : 1);
        const change: ClockChange =
          this.#rng.next() < 0.5
            ? { action: 'bump', offsetMs: magnitude() }
            : { action: 'strobe', aMs: 0, bMs: magnitude(), periodMs: 10 + this.#rng.int(991) };
        return { ...picked, servers, change, strategy: this.opts.clockStrategy };
      }
    }
  }

  async #apply(kind: NemesisKind, id: string, value: Record<string, unknown>): Promise<Record<string, NodeReport>> {
    const reports = await applyFault(this.clients, this.#fault(kind, value), id, this.opts.maxFaultDurationMs);
    if (kind === 'clock') {
      // Every node's offset, hit or not, goes on the event.
      for (const c of this.clients) reports[c.node.name] ??= { message: 'not targeted', clockOffsetMs: 0, db: '', dbPid: 0, dbProcessState: '', faults: [] };
    }
    return reports;
  }

  /** The planned fault (the invoke event's value) as the fault it applies. */
  #fault(kind: NemesisKind, value: Record<string, unknown>): Fault {
    const nodes = (value['nodes'] as string[] | undefined) ?? [];
    switch (kind) {
      case 'partition':
        return { kind: 'partition', grudge: value['grudge'] as Record<string, string[]> };
      case 'kill':
      case 'pause':
        return { kind: 'process', action: kind, nodes };
      case 'loss':
        return { kind: 'loss', nodes, probability: this.opts.lossProbability };
      case 'rate':
      case 'delay':
        return { kind: 'shape', nodes, shape: value['shape'] as LinkShape };
      case 'clock':
        return { kind: 'clock', nodes, change: value['change'] as ClockChange, strategy: this.opts.clockStrategy };
    }
  }
}

/** The per-node part of a nemesis event: message, clock offset, DB pid and /proc state, and how the fault was verified. */
function summarize(
  reports: Record<string, NodeReport>,
): Record<string, { message: string; clockOffsetMs: number; dbPid: number; dbProcessState: string; verified?: NodeReport['checks'] }> {
  return Object.fromEntries(
    Object.entries(reports).map(([n, r]) => [
      n,
      { message: r.message, clockOffsetMs: r.clockOffsetMs, dbPid: r.dbPid, dbProcessState: r.dbProcessState, ...(r.checks ? { verified: r.checks } : {}) },
    ]),
  );
}
