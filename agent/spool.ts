import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An append-only on-disk spool of encoded events for one run, with the watermark up to which the controller has
 * written every event to its own disk (the end-to-end acknowledgement). An event is written here before it is
 * published and stays until that acknowledgement, so an agent that dies, or a NATS server that loses what it had
 * acknowledged, costs nothing: the agent resends (JetStream drops a duplicate by its message id, the controller by
 * its sequence number).
 * Layout: `<dir>/<runId>.spool` holds records `[u32 length][bytes]` in sequence order; `<dir>/<runId>.base` holds
 * the sequence number before the first record when the spool was last rewritten (0 when absent); `<dir>/<runId>.acked`
 * holds the highest sequence number up to which everything is on the controller's disk. `rewrite()` drops written
 * records so a long soak run does not fill the disk; sequence numbers carry on from where they were.
 */
export class RunSpool {
  readonly spoolPath: string;
  readonly ackedPath: string;
  readonly basePath: string;
  #fd: number | undefined;

  constructor(
    dir: string,
    readonly runId: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.spoolPath = join(dir, `${runId}.spool`);
    this.ackedPath = join(dir, `${runId}.acked`);
    this.basePath = join(dir, `${runId}.base`);
  }

  /** Run ids that have a spool in `dir`. */
  static runsIn(dir: string): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.spool'))
      .map((f) => f.slice(0, -'.spool'.length));
  }

  /** Appends one record with a single write on a file kept open (a record is on disk, in the page cache, on return). */
  append(record: Uint8Array): void {
    const buf = Buffer.allocUnsafe(4 + record.length);
    buf.writeUInt32BE(record.length, 0);
    buf.set(record, 4);
    this.#fd ??= openSync(this.spoolPath, 'a');
    writeSync(this.#fd, buf);
  }

  /**
   * All records in order. A torn last record (crash or full disk mid-write) is cut off the file, so that the next
   * append starts at a record boundary.
   */
  readAll(): Uint8Array[] {
    if (!existsSync(this.spoolPath)) return [];
    const buf = readFileSync(this.spoolPath);
    const out: Uint8Array[] = [];
    let at = 0;
    while (at + 4 <= buf.length) {
      const len = buf.readUInt32BE(at);
      if (at + 4 + len > buf.length) break;
      out.push(buf.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    if (at < buf.length) truncateSync(this.spoolPath, at);
    return out;
  }

  readAcked(): number {
    return readNumber(this.ackedPath);
  }

  /**
   * Sequence number before the first record as of the last rewrite. Only meaningful for an empty spool: records
   * carry their own sequence numbers, which win (a crash between the two steps of `rewrite()` leaves this ahead).
   */
  readBase(): number {
    return readNumber(this.basePath);
  }

  /** Atomically records the end-to-end acknowledged watermark. */
  writeAcked(seq: number): void {
    writeNumber(this.ackedPath, seq);
  }

  /**
   * Replaces the spool with `records` (the ones not yet acknowledged; the first has sequence number `base + 1`).
   * The base moves first and the file is then swapped by a rename, so a crash leaves either the old spool or the
   * new one, never a mix.
   */
  rewrite(records: readonly Uint8Array[], base: number): void {
    this.close();
    const tmp = `${this.spoolPath}.tmp`;
    const parts: Buffer[] = [];
    for (const r of records) {
      const header = Buffer.allocUnsafe(4);
      header.writeUInt32BE(r.length, 0);
      parts.push(header, Buffer.from(r.buffer, r.byteOffset, r.length));
    }
    writeFileSync(tmp, Buffer.concat(parts));
    writeNumber(this.basePath, base);
    renameSync(tmp, this.spoolPath);
  }

  /** Drops every record: all of them, up to `acked`, are acknowledged. */
  compact(acked: number): void {
    this.rewrite([], acked);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function readNumber(path: string): number {
  if (!existsSync(path)) return 0;
  const n = Number.parseInt(readFileSync(path, 'utf8'), 10);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

function writeNumber(path: string, n: number): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${n}\n`);
  renameSync(tmp, path);
}
