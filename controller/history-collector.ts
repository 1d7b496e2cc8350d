import type { JetStreamManager, JsMsg, NatsConnection } from 'nats';
import { closeSync, createReadStream, fstatSync, fsync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { SequenceGap } from '../core/history/completeness';
import { BATCH_HEADER, decodeMessage, eventToJsonLine, rawToEvent, writtenAckSubject, type EventRecord, type RawEvent } from '../events/contract';
import { CONTROLLER_NODE } from './controller-events';
import { EVENT_STREAM, ensureEventStream, ensureRunConsumer } from './event-stream';
import { SequenceTracker } from './sequence-tracker';

export type { SequenceGap } from '../core/history/completeness';

export interface CollectorOptions {
  /** How often the raw file is fsynced and the agents are told what is on disk. */
  syncIntervalMs?: number;
  /** Messages pulled per fetch. */
  fetchBatch?: number;
  /**
   * Called with every new event as it is written (each (node, seq) once, in arrival order), and first with each event
   * the raw file already held (a resumed run): online checking.
   */
  onEvent?: (ev: EventRecord) => void;
}

/** Repeat every agent's written watermark this often even when it did not move (an agent that restarted needs it). */
const REPEAT_ACKS_MS = 1000;
const CHECK_CONSUMER_MS = 1000;
/** Pauses between two messages at least this long are stalls (logged at info; from WARN_STALL_MS at warn). */
const STALL_MS = 500;
const WARN_STALL_MS = 2000;

/**
 * Consumes one run's events from JetStream as they arrive and appends them, decoded, to a raw events file (one
 * JSON object per line, arrival order). Memory stays bounded however long the run: events go to disk, and only
 * out-of-order sequence numbers are held. Redeliveries and resends are dropped by (node, seq).
 *
 * Acknowledged means on disk: every `syncIntervalMs` the file is fsynced, and only then are the JetStream messages
 * acked and each agent told, on `faultline.acks.<run>.<node>`, the sequence number up to which all its events are on
 * disk; the agents keep their spools until then. A stream or consumer that vanished (a NATS server restarted
 * without its data) is created again, and the agents' resends fill it.
 */
export class HistoryCollector {
  readonly tracker = new SequenceTracker();
  #fd: number;
  #unacked: JsMsg[] = [];
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();
  #syncLoop: Promise<void> = Promise.resolve();
  #stopFetch: (() => void) | undefined;
  #durable: { jsm: JetStreamManager; name: string } | undefined;
  #announced = new Map<string, number>();
  #announcedAtMs = 0;
  readonly #syncIntervalMs: number;
  readonly #fetchBatch: number;
  readonly #onEvent: ((ev: EventRecord) => void) | undefined;
  received = 0;
  duplicates = 0;
  /** What is on disk so far: client events by type and by node, and the controller's nemesis invokes by `f`. */
  readonly counts = { invoke: 0, ok: 0, fail: 0, info: 0, byNode: {} as Record<string, number>, nemesis: {} as Record<string, number> };
  #receivedAtCheck = -1;
  #lastTakeMs = 0;
  /**
   * The longest time, of at least 500 ms, between two messages (a NATS failover, or the agents idle: the workload's
   * rate tells which).
   */
  longestStallMs = 0;
  /** How many times the stream or the run's consumer had to be made again. */
  recreated = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly runId: string,
    private readonly rawPath: string,
    private readonly log: Logger,
    opts: CollectorOptions = {},
  ) {
    this.#fd = openSync(rawPath, 'a');
    this.#syncIntervalMs = opts.syncIntervalMs ?? 200;
    this.#fetchBatch = opts.fetchBatch ?? 500;
    this.#onEvent = opts.onEvent;
  }

  /**
   * Starts consuming. Events already in the raw file (a controller resuming a run) are counted first, so that a
   * redelivery or resend of one of them is a duplicate, not a second line.
   */
  async start(): Promise<void> {
    await this.#prime();
    // A request made while the client is reconnecting can time out even though the server is back: try again.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await this.#ensure();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        this.log.warn({ err }, 'cannot set up the run\'s consumer yet, retrying');
        await sleep(500);
      }
    }
    this.#loop = this.#pull();
    this.#syncLoop = this.#syncEvery();
  }

  /**
   * Waits until every publisher's events up to its last sequence number have arrived, or the timeout passes.
   * Returns the gaps that remain (empty when the history is complete).
   */
  async waitFor(expected: Record<string, number>, timeoutMs: number): Promise<SequenceGap[]> {
    const deadline = Date.now() + timeoutMs;
    const complete = () => Object.entries(expected).every(([node, last]) => this.tracker.contiguous(node) >= last);
    while (!complete() && Date.now() < deadline) await sleep(50);
    const gaps: SequenceGap[] = [];
    for (const [node, last] of Object.entries(expected)) {
      for (const g of this.tracker.gaps(node, last)) gaps.push({ node, ...g });
    }
    return gaps;
  }

  /** Stops consuming, syncs what was written and tells the agents so, then closes the file. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopFetch?.();
    await this.#loop;
    await this.#syncLoop;
    await this.#sync(true).catch((err: unknown) => this.log.warn({ err }, 'final sync of the raw events failed'));
    closeSync(this.#fd);
  }

  /**
   * Deletes the run's durable consumer once its history is safely on disk, so consumers do not pile up on the
   * server over many runs (the events themselves stay in the stream until its age or size limit).
   */
  async deleteConsumer(): Promise<void> {
    if (this.#durable) await this.#durable.jsm.consumers.delete(EVENT_STREAM, this.#durable.name);
    this.#durable = undefined;
  }

  #feedRaw(raw: RawEvent): void {
    let ev: EventRecord;
    try {
      ev = rawToEvent(raw);
    } catch (err) {
      // Not an event (a hand-edited file?): online checking will wait for it and give up; the final check says why.
      this.log.warn({ err, node: raw.node, seq: raw.seq }, 'a raw event that online checking cannot read');
      return;
    }
    this.#onEvent?.(ev);
  }

  async #prime(): Promise<void> {
    const size = fstatSync(this.#fd).size;
    if (size === 0) return;
    let good = 0;
    let at = 0;
    for await (const line of createInterface({ input: createReadStream(this.rawPath, { end: size - 1 }), crlfDelay: Infinity })) {
      at += Buffer.byteLength(line) + 1;
      if (at > size) break; // the last line has no newline: torn by a crash mid-write
      try {
        const ev = JSON.parse(line) as RawEvent;
        if (this.tracker.add(ev.node, Number(ev.seq))) {
          this.#count(ev.node, ev.type, ev.f);
          // A resumed run's online checking starts from the events already on disk.
          if (this.#onEvent) this.#feedRaw(ev);
        }
        this.received++;
        good = at;
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
        this.log.warn({ offset: at }, 'unreadable line in the raw events file; skipping');
        good = at;
      }
    }
    // Cut a torn tail so the next line starts on its own; its event is resent (it was never acknowledged).
    if (good < size) ftruncateSync(this.#fd, good);
  }

  async #ensure(): Promise<void> {
    const jsm = await ensureEventStream(this.nc, this.log);
    const name = await ensureRunConsumer(jsm, this.runId);
    this.#durable = { jsm, name };
  }

  /** Pulls messages until stopped; on any failure (NATS away, consumer gone) waits, re-creates what is missing, goes on. */
  async #pull(): Promise<void> {
    let failing = false;
    while (!this.#stopped) {
      try {
        const consumer = await this.nc.jetstream().consumers.get(EVENT_STREAM, this.#durable!.name);
        const messages = await consumer.consume({ max_messages: this.#fetchBatch, expires: 2000 });
        this.#stopFetch = () => messages.stop();
        if (this.#stopped) messages.stop();
        for await (const m of messages) {
          this.#take(m);
          failing = false;
        }
      } catch (err) {
        if (this.#stopped) break;
        if (!failing) this.log.warn({ err }, 'cannot pull events, retrying');
        failing = true;
        await sleep(500);
        await this.#recreateIfMissing();
      }
    }
  }

  /**
   * Makes the stream and the run's consumer again when they are gone, and restarts the pull when the consumer holds
   * messages but none arrived since the last check (a pull left on a server that died, or on a consumer leader that
   * lost its place in an election, is not failed by the client, it just never delivers).
   */
  async #recreateIfMissing(): Promise<void> {
    const receivedBefore = this.#receivedAtCheck;
    this.#receivedAtCheck = this.received + this.duplicates;
    try {
      const jsm = await this.nc.jetstreamManager({ timeout: 5000 });
      const info = await jsm.consumers.info(EVENT_STREAM, this.#durable!.name).then(
        (i) => i,
        (err: unknown) => {
          if (/not found/i.test(String((err as Error).message))) return undefined;
          throw err;
        },
      );
      if (info) {
        if (info.num_pending > 0 && this.#receivedAtCheck === receivedBefore) {
          this.log.warn({ pending: info.num_pending }, 'no events arrived while the consumer holds some; pulling anew');
          this.#stopFetch?.();
        }
        return;
      }
      await this.#ensure();
      this.recreated++;
      this.log.warn({ runId: this.runId }, 'the event stream or the run\'s consumer was gone; made it again');
      // A pull on the vanished consumer does not fail, it just never delivers: start a new one.
      this.#stopFetch?.();
    } catch (err) {
      this.log.debug({ err }, 'cannot check the run\'s consumer yet');
    }
  }

  #take(m: JsMsg): void {
    const now = Date.now();
    if (this.#lastTakeMs > 0 && now - this.#lastTakeMs >= STALL_MS) {
      const stallMs = now - this.#lastTakeMs;
      this.longestStallMs = Math.max(this.longestStallMs, stallMs);
      if (stallMs >= WARN_STALL_MS) this.log.warn({ stallMs }, 'events flow again after a stall');
      else this.log.info({ stallMs }, 'events flow again after a stall');
    }
    this.#lastTakeMs = now;
    let events: EventRecord[];
    try {
      events = decodeMessage(m.data, m.headers?.has(BATCH_HEADER) === true);
    } catch (err) {
      this.log.error({ err, subject: m.subject }, 'undecodable event; skipping');
      m.term();
      return;
    }
    let lines = '';
    for (const ev of events) {
      if (this.tracker.add(ev.node, ev.seq)) {
        lines += `${eventToJsonLine(ev)}\n`;
        this.received++;
        this.#count(ev.node, ev.type, ev.f);
        this.#onEvent?.(ev);
      } else {
        this.duplicates++;
      }
    }
    if (lines.length > 0) writeSync(this.#fd, lines);
    this.#unacked.push(m);
  }

  /** Syncs every `syncIntervalMs`; about every second also checks that the run's consumer still exists. */
  #count(node: string, type: string, f: string): void {
    const c = this.counts;
    c.byNode[node] = (c.byNode[node] ?? 0) + 1;
    if (node === CONTROLLER_NODE) {
      if (type === 'invoke') c.nemesis[f] = (c.nemesis[f] ?? 0) + 1;
    } else if (type === 'invoke' || type === 'ok' || type === 'fail' || type === 'info') {
      c[type]++;
    }
  }

  async #syncEvery(): Promise<void> {
    let lastCheck = Date.now();
    while (!this.#stopped) {
      await sleep(this.#syncIntervalMs);
      if (this.#stopped) break;
      await this.#sync(false).catch((err: unknown) => this.log.warn({ err }, 'cannot sync the raw events, retrying'));
      if (Date.now() - lastCheck >= CHECK_CONSUMER_MS) {
        lastCheck = Date.now();
        await this.#recreateIfMissing();
      }
    }
  }

  /**
   * Fsyncs the file, then acks the messages written before the fsync began and tells each agent its watermark as of
   * then. Everything written before `fsync` starts is covered by it: `#take` writes synchronously.
   */
  async #sync(final: boolean): Promise<void> {
    const messages = this.#unacked;
    this.#unacked = [];
    const marks = this.tracker.nodes().map((node) => [node, this.tracker.contiguous(node)] as const);
    await new Promise<void>((resolve, reject) => fsync(this.#fd, (err) => (err ? reject(err) : resolve())));
    for (const m of messages) m.ack();
    const repeat = final || Date.now() - this.#announcedAtMs >= REPEAT_ACKS_MS;
    if (repeat) this.#announcedAtMs = Date.now();
    if (this.nc.isClosed()) return;
    for (const [node, seq] of marks) {
      if (node === CONTROLLER_NODE || seq === 0) continue;
      if (!repeat && this.#announced.get(node) === seq) continue;
      this.#announced.set(node, seq);
      this.nc.publish(writtenAckSubject(this.runId, node), String(seq));
    }
  }
}

/** Events as written in the raw file (the codec's JSON form). */
export type { RawEvent } from '../events/contract';
