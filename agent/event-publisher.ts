import type { JetStreamClient, NatsConnection } from 'nats';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { encodeEvent, eventMessageId, eventSubject, type EventRecord } from '../events/contract';
import type { ClockMapper } from './clock';
import { RunSpool } from './spool';

export { eventSubject } from '../events/contract';

export interface EventInput {
  runId: string;
  process: number;
  type: 'invoke' | 'ok' | 'fail' | 'info';
  f: string;
  key?: string;
  value: unknown;
  error?: string;
}

interface Pending {
  seq: number;
  data: Uint8Array;
}

interface RunState {
  spool: RunSpool;
  lastSeq: number;
  acked: Set<number>;
  watermark: number;
  /** Sequence number up to which the spool file was last emptied. */
  compactedAt: number;
}

/** Empty the spool once this many events since the last compaction are all acknowledged. */
const COMPACT_EVERY = 10_000;

/**
 * Publishes events to JetStream with a per-run, gapless sequence number. Each event is spooled to disk first and
 * kept until JetStream acknowledges it; publishing is retried until then, and a restarted agent resends whatever
 * its spool holds beyond the acknowledged watermark. Message ids make the resends idempotent.
 */
export class EventPublisher {
  #runs = new Map<string, RunState>();
  #queue: { runId: string; p: Pending }[] = [];
  #inFlight = 0;
  #wake: (() => void) | undefined;
  #closed = false;
  #loop: Promise<void>;
  #js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly node: string,
    private readonly spoolDir: string,
    private readonly clock: ClockMapper,
    private readonly log: Logger,
    private readonly maxInFlight = 256,
  ) {
    this.#js = nc.jetstream({ timeout: 5000 });
    this.#recover();
    this.#loop = this.#pump();
  }

  /** Timestamps, sequences, spools and queues one event. Returns the event as recorded. */
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
    this.#queue.push({ runId: input.runId, p: { seq: ev.seq, data } });
    this.#wake?.();
    return ev;
  }

  stats(runId: string): { lastSeq: number; unacked: number } {
    const run = this.#runs.get(runId);
    if (!run) return { lastSeq: 0, unacked: 0 };
    return { lastSeq: run.lastSeq, unacked: run.lastSeq - run.watermark };
  }

  /** Resolves when every event of `runId` is acknowledged (and empties its spool), or rejects after `timeoutMs`. */
  async flush(runId: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.stats(runId).unacked > 0) {
      if (Date.now() > deadline) {
        throw new Error(`Cannot flush events of run "${runId}": ${this.stats(runId).unacked} still unacknowledged after ${timeoutMs} ms`);
      }
      await sleep(20);
    }
    const run = this.#runs.get(runId);
    if (run && run.lastSeq > run.compactedAt) {
      run.spool.writeAcked(run.watermark);
      run.spool.compact(run.watermark);
      run.compactedAt = run.watermark;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#loop;
  }

  #run(runId: string): RunState {
    let run = this.#runs.get(runId);
    if (!run) {
      const spool = new RunSpool(this.spoolDir, runId);
      run = { spool, lastSeq: 0, acked: new Set(), watermark: 0, compactedAt: spool.readBase() };
      this.#runs.set(runId, run);
    }
    return run;
  }

  /** Re-queues spooled events that were never acknowledged (the agent crashed or NATS was down). */
  #recover(): void {
    for (const runId of RunSpool.runsIn(this.spoolDir)) {
      const run = this.#run(runId);
      const records = run.spool.readAll();
      let base = run.spool.readBase();
      run.watermark = run.spool.readAcked();
      if (records.length === 0 && run.watermark > base) {
        // A crash between emptying the spool and moving its base: finish the compaction.
        run.spool.compact(run.watermark);
        base = run.watermark;
      }
      run.compactedAt = base;
      run.lastSeq = Math.max(base + records.length, run.watermark);
      for (let seq = Math.max(run.watermark, base) + 1; seq <= base + records.length; seq++) {
        this.#queue.push({ runId, p: { seq, data: records[seq - base - 1]! } });
      }
      if (run.lastSeq > run.watermark) {
        this.log.warn({ runId, resend: run.lastSeq - run.watermark }, 'resending spooled events');
      }
    }
  }

  /** Sends queued events with up to `maxInFlight` unacknowledged at once, until closed. */
  async #pump(): Promise<void> {
    const sends = new Set<Promise<void>>();
    while (!this.#closed) {
      if (this.#queue.length === 0 || this.#inFlight >= this.maxInFlight) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, 50).unref();
        });
        this.#wake = undefined;
        continue;
      }
      const item = this.#queue.shift()!;
      this.#inFlight++;
      const send = this.#send(item.runId, item.p).finally(() => {
        this.#inFlight--;
        sends.delete(send);
      });
      sends.add(send);
    }
    // Whatever is still queued stays in the spool and is resent by the next agent process.
    await Promise.allSettled([...sends]);
  }

  #failing = false;

  async #send(runId: string, p: Pending): Promise<void> {
    try {
      await this.#js.publish(eventSubject(runId, this.node), p.data, { msgID: eventMessageId(runId, this.node, p.seq) });
      this.#failing = false;
      this.#ack(runId, p.seq);
    } catch (err) {
      // Not acknowledged: it stays spooled and goes back on the queue. A closing publisher gives up here; the
      // spool keeps the event for the next start.
      if (!this.#failing) this.log.warn({ err, runId, seq: p.seq }, 'event publish failed, retrying');
      this.#failing = true;
      if (!this.#closed) {
        await sleep(200);
        this.#queue.unshift({ runId, p });
        this.#wake?.();
      }
    }
  }

  #ack(runId: string, seq: number): void {
    const run = this.#runs.get(runId);
    if (!run) return;
    run.acked.add(seq);
    const before = run.watermark;
    while (run.acked.delete(run.watermark + 1)) run.watermark++;
    if (run.watermark !== before && (run.watermark === run.lastSeq || run.watermark % 256 === 0)) {
      run.spool.writeAcked(run.watermark);
    }
    // Everything acknowledged and the spool grown large: drop what JetStream now holds (long soak runs).
    if (run.watermark === run.lastSeq && run.lastSeq - run.compactedAt >= COMPACT_EVERY) {
      run.spool.compact(run.watermark);
      run.compactedAt = run.watermark;
    }
  }
}
