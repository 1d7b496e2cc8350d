import { headers, type JetStreamClient, type NatsConnection, type Subscription } from 'nats';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { BATCH_HEADER, batchMessageId, decodeEvent, encodeBatch, encodeEvent, eventSubject, writtenAckSubject, type EventRecord } from '../events/contract';
import type { ClockMapper } from './clock';
import { RunSpool } from './spool';

export { eventSubject, writtenAckSubject, BATCH_HEADER } from '../events/contract';

export interface EventInput {
  runId: string;
  process: number;
  type: 'invoke' | 'ok' | 'fail' | 'info';
  f: string;
  key?: string;
  value: unknown;
  error?: string;
}

export interface PublisherOptions {
  /** Batches (NATS messages) published and not yet acknowledged by JetStream, at most. */
  maxInFlight?: number;
  /** Events in one batch, at most. */
  maxBatchEvents?: number;
  /** Bytes of encoded events in one batch, at most (NATS' default max_payload is 1 MiB). */
  maxBatchBytes?: number;
  /**
   * JetStream holds events the controller has not written for this long: publish them again (doubling up to 30 s
   * while nothing moves). Covers a NATS server that lost what it acknowledged, and a consumer that was deleted.
   */
  resendAfterMs?: number;
}

interface Batch {
  runId: string;
  from: number;
  to: number;
  state: 'queued' | 'sending' | 'stored';
  storedAtMs: number;
  /**
   * The wire form while it is being sent (retries repeat the same message). Dropped once stored: a resend encodes the
   * batch again from the records, leaving out any the controller wrote meanwhile, under the same message id.
   */
  data?: Uint8Array;
}

interface RunState {
  runId: string;
  spool: RunSpool;
  lastSeq: number;
  /** Encoded events not yet on the controller's disk: `records[i]` has sequence number `recordsBase + i + 1`. */
  records: Uint8Array[];
  recordsBase: number;
  /** Everything up to here is in a batch (queued, in flight or stored). */
  batchedUpTo: number;
  /** Batches not yet written by the controller, in sequence order. */
  batches: Batch[];
  /** Highest n such that JetStream acknowledged 1..n (or the controller wrote them). */
  stored: number;
  /** Highest n such that the controller wrote 1..n to its disk. */
  written: number;
  lastProgressMs: number;
  resendAfterMs: number;
  /** Records dropped from the front of the spool file since its last rewrite. */
  droppedSinceRewrite: number;
}

/** Rewrite a spool once this many of its records are on the controller's disk. */
const REWRITE_EVERY = 20_000;
const MAX_RESEND_AFTER_MS = 30_000;

/**
 * Publishes events to JetStream with a per-run, gapless sequence number, several events per message. Each event is
 * spooled to disk before `publish()` returns and kept until the controller says it has the event on its own disk
 * (JetStream's ack alone is not enough: it comes before the server fsyncs). Events go out in batches of whatever
 * accumulated while earlier batches were in flight, up to `maxInFlight` batches at once; a failed batch is retried,
 * a stored one that the controller does not confirm is published again, and a restarted agent resends whatever its
 * spool holds beyond the confirmed watermark. Message ids make a repeated batch idempotent in JetStream; the
 * controller drops any other duplicate by (node, seq).
 */
export class EventPublisher {
  #runs = new Map<string, RunState>();
  /** Batches to publish, in order: retries first (unshifted), then new ones. */
  #queue: Batch[] = [];
  #inFlight = new Set<Promise<void>>();
  #closed = false;
  #failing = false;
  #flushScheduled = false;
  #js: JetStreamClient;
  #acks: Subscription;
  #ackLoop: Promise<void>;
  #stallTimer: NodeJS.Timeout;
  readonly #maxInFlight: number;
  readonly #maxBatchEvents: number;
  readonly #maxBatchBytes: number;
  readonly #resendAfterMs: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly node: string,
    private readonly spoolDir: string,
    private readonly clock: ClockMapper,
    private readonly log: Logger,
    opts: PublisherOptions = {},
  ) {
    this.#maxInFlight = opts.maxInFlight ?? 64;
    this.#maxBatchEvents = opts.maxBatchEvents ?? 1000;
    this.#maxBatchBytes = opts.maxBatchBytes ?? 512 * 1024;
    this.#resendAfterMs = opts.resendAfterMs ?? 5000;
    this.#js = nc.jetstream({ timeout: 3000 });
    const acks = nc.subscribe(writtenAckSubject('*', node));
    this.#acks = acks;
    this.#ackLoop = (async () => {
      for await (const m of acks) {
        const runId = m.subject.split('.')[2]!;
        const seq = Number.parseInt(new TextDecoder().decode(m.data), 10);
        if (Number.isSafeInteger(seq)) this.#written(runId, seq);
      }
    })();
    this.#stallTimer = setInterval(() => this.#resendStalled(), 500);
    this.#stallTimer.unref();
    this.#recover();
    this.#pump();
  }

  /** Timestamps, sequences and spools one event, and queues it for publishing. Returns the event as recorded. */
  publish(input: EventInput): EventRecord {
    const run = this.#run(input.runId);
    const t = this.clock.map();
    const ev: EventRecord = {
      runId: input.runId,
      node: this.node,
      seq: run.lastSeq + 1,
      process: input.process,
      type: input.type,
      f: input.f,
      key: input.key ?? '',
      valueJson: JSON.stringify(input.value ?? null),
      error: input.error ?? '',
      timeNanos: t.timeNanos,
      uncertaintyNanos: t.uncertaintyNanos,
      agentMonoNanos: t.agentMonoNanos,
    };
    const data = encodeEvent(ev);
    run.spool.append(data); // on disk before it leaves: nothing is lost if we crash now
    run.lastSeq = ev.seq;
    run.records.push(data);
    this.#scheduleFlush();
    return ev;
  }

  /**
   * `unacked`: events JetStream has not acknowledged; `unwritten`: events the controller has not confirmed on its
   * disk (still in the spool).
   */
  stats(runId: string): { lastSeq: number; unacked: number; unwritten: number } {
    const run = this.#runs.get(runId);
    if (!run) return { lastSeq: 0, unacked: 0, unwritten: 0 };
    return { lastSeq: run.lastSeq, unacked: run.lastSeq - Math.max(run.stored, run.written), unwritten: run.lastSeq - run.written };
  }

  /**
   * Resolves when JetStream has acknowledged every event of `runId`, or rejects after `timeoutMs`. The events stay
   * spooled until the controller confirms it wrote them.
   */
  async flush(runId: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.stats(runId).unacked > 0) {
      if (Date.now() > deadline) {
        throw new Error(`Cannot flush events of run "${runId}": ${this.stats(runId).unacked} still unacknowledged after ${timeoutMs} ms`);
      }
      await sleep(20);
    }
  }

  /** Stops publishing; whatever is not confirmed stays in the spool and is resent by the next agent process. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#stallTimer);
    this.#acks.unsubscribe();
    await this.#ackLoop.catch(() => undefined);
    await Promise.allSettled([...this.#inFlight]);
    for (const run of this.#runs.values()) run.spool.close();
  }

  #run(runId: string): RunState {
    let run = this.#runs.get(runId);
    if (!run) {
      const spool = new RunSpool(this.spoolDir, runId);
      const base = spool.readBase();
      run = {
        runId,
        spool,
        lastSeq: base,
        records: [],
        recordsBase: base,
        batchedUpTo: base,
        batches: [],
        stored: base,
        written: base,
        lastProgressMs: Date.now(),
        resendAfterMs: this.#resendAfterMs,
        droppedSinceRewrite: 0,
      };
      this.#runs.set(runId, run);
    }
    return run;
  }

  /** Re-queues spooled events the controller never confirmed (the agent crashed, or NATS or the controller was down). */
  #recover(): void {
    for (const runId of RunSpool.runsIn(this.spoolDir)) {
      const run = this.#run(runId);
      const records = run.spool.readAll();
      // Records carry their sequence numbers; the base file matters only for an empty spool.
      const base = records.length > 0 ? decodeEvent(records[0]!).seq - 1 : run.spool.readBase();
      const written = Math.max(run.spool.readAcked(), base);
      run.lastSeq = Math.max(base + records.length, written);
      run.written = run.stored = run.batchedUpTo = run.recordsBase = written;
      run.records = records.slice(written - base);
      if (run.records.length > 0) {
        this.log.warn({ runId, resend: run.records.length }, 'resending spooled events');
        this.#scheduleFlush();
      }
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#closed) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#pump();
    });
  }

  /** Starts publishing batches until `maxInFlight` are out or nothing is left to send. */
  #pump(): void {
    while (!this.#closed && this.#inFlight.size < this.#maxInFlight) {
      const batch = this.#queue.shift() ?? this.#nextBatch();
      if (!batch) return;
      const send = this.#send(batch).finally(() => {
        this.#inFlight.delete(send);
        this.#pump();
      });
      this.#inFlight.add(send);
    }
  }

  /** Cuts a new batch from the events of some run that are not in one yet. */
  #nextBatch(): Batch | undefined {
    for (const run of this.#runs.values()) {
      if (run.batchedUpTo >= run.lastSeq) continue;
      const from = run.batchedUpTo + 1;
      let to = from;
      let bytes = run.records[from - run.recordsBase - 1]!.length;
      while (to < run.lastSeq && to - from + 1 < this.#maxBatchEvents) {
        const next = run.records[to - run.recordsBase]!.length;
        if (bytes + next > this.#maxBatchBytes) break;
        bytes += next;
        to++;
      }
      run.batchedUpTo = to;
      const batch: Batch = { runId: run.runId, from, to, state: 'queued', storedAtMs: 0 };
      run.batches.push(batch);
      return batch;
    }
    return undefined;
  }

  /** The batch's wire form, from the spooled encodings. */
  #encode(run: RunState, batch: Batch): Uint8Array {
    // Events the controller already wrote are left out (a batch cut before an acknowledgement it straddles).
    const first = Math.max(batch.from, run.recordsBase + 1);
    return encodeBatch(run.records.slice(first - run.recordsBase - 1, batch.to - run.recordsBase));
  }

  async #send(batch: Batch): Promise<void> {
    const run = this.#runs.get(batch.runId);
    // Written by the controller meanwhile (a resend that became moot): nothing to do.
    if (!run || batch.to <= run.written) return;
    batch.state = 'sending';
    batch.data ??= this.#encode(run, batch);
    const h = headers();
    h.set(BATCH_HEADER, String(batch.to - batch.from + 1));
    try {
      await this.#js.publish(eventSubject(batch.runId, this.node), batch.data, {
        msgID: batchMessageId(batch.runId, this.node, batch.from, batch.to),
        headers: h,
      });
      this.#failing = false;
      batch.state = 'stored';
      batch.storedAtMs = Date.now();
      batch.data = undefined; // the records keep the events until the controller confirms them
      this.#advanceStored(run);
    } catch (err) {
      // Not acknowledged: it stays spooled and goes back on the queue. A closing publisher gives up here; the
      // spool keeps the events for the next start.
      if (!this.#failing) this.log.warn({ err, runId: batch.runId, from: batch.from, to: batch.to }, 'event publish failed, retrying');
      this.#failing = true;
      batch.state = 'queued';
      if (!this.#closed) {
        await sleep(200);
        this.#queue.unshift(batch);
      }
    }
  }

  #advanceStored(run: RunState): void {
    for (const b of run.batches) {
      if (b.from > run.stored + 1) break;
      if (b.state !== 'stored') break;
      run.stored = Math.max(run.stored, b.to);
    }
  }

  /** The controller has every event up to `seq` on disk: drop them from memory, and in time from the spool. */
  #written(runId: string, seq: number): void {
    const run = this.#runs.get(runId);
    if (!run || seq <= run.written) return;
    seq = Math.min(seq, run.lastSeq);
    const dropped = seq - run.recordsBase;
    run.records.splice(0, dropped);
    run.recordsBase = seq;
    run.written = seq;
    run.stored = Math.max(run.stored, seq);
    run.batchedUpTo = Math.max(run.batchedUpTo, seq);
    while (run.batches.length > 0 && run.batches[0]!.to <= seq) run.batches.shift();
    run.lastProgressMs = Date.now();
    run.resendAfterMs = this.#resendAfterMs;
    run.spool.writeAcked(seq);
    run.droppedSinceRewrite += dropped;
    if (run.records.length === 0 || run.droppedSinceRewrite >= REWRITE_EVERY) {
      if (run.droppedSinceRewrite > 0) run.spool.rewrite(run.records, run.recordsBase);
      run.droppedSinceRewrite = 0;
    }
  }

  /**
   * JetStream acknowledged batches that the controller has not confirmed for a while: publish them again. Nothing
   * moves when the controller is down as well; the wait doubles then, so a long outage costs little.
   */
  #resendStalled(): void {
    const now = Date.now();
    for (const run of this.#runs.values()) {
      const front = run.batches[0];
      if (!front || front.state !== 'stored') continue;
      if (now - Math.max(run.lastProgressMs, front.storedAtMs) < run.resendAfterMs) continue;
      const again = run.batches.filter((b) => b.state === 'stored');
      for (const b of again) b.state = 'queued';
      run.stored = run.written;
      this.#queue.unshift(...again);
      this.log.warn({ runId: run.runId, batches: again.length, from: again[0]!.from, to: again.at(-1)!.to, waitedMs: run.resendAfterMs }, 'controller has not confirmed stored events; publishing them again');
      run.lastProgressMs = now;
      run.resendAfterMs = Math.min(run.resendAfterMs * 2, MAX_RESEND_AFTER_MS);
    }
    this.#pump();
  }
}
