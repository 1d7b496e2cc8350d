import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An append-only on-disk spool of encoded events for one run, with the watermark of what JetStream has
 * acknowledged. An event is written here before it is published, so an agent that dies before the ack
 * resends it after restart (JetStream drops the duplicate by its message id).
 * Layout: `<dir>/<runId>.spool` holds records `[u32 length][bytes]`, the first one with sequence number
 * `base + 1`; `<dir>/<runId>.base` holds `base` (0 when absent); `<dir>/<runId>.acked` holds the highest sequence
 * number up to which everything is acknowledged. `compact()` drops acknowledged records so a long soak run does
 * not fill the disk; sequence numbers carry on from where they were.
 */
export class RunSpool {
  readonly spoolPath: string;
  readonly ackedPath: string;
  readonly basePath: string;

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

  append(record: Uint8Array): void {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(record.length);
    appendFileSync(this.spoolPath, Buffer.concat([header, record]));
  }

  /**
   * All records in order (record i has sequence number base + i + 1). A torn last record (crash or full disk
   * mid-write) is cut off the file, so that the next append starts at a record boundary.
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

  /** Sequence number of the record before the first one in the spool file. */
  readBase(): number {
    return readNumber(this.basePath);
  }

  /** Atomically records the acknowledged watermark. */
  writeAcked(seq: number): void {
    writeNumber(this.ackedPath, seq);
  }

  /**
   * Drops the records up to `acked`, which must be every record in the spool. The file is emptied before the base
   * moves: a crash in between leaves an empty spool, and `lastSeq` is then recovered from the acked watermark.
   */
  compact(acked: number): void {
    writeFileSync(this.spoolPath, Buffer.alloc(0));
    writeNumber(this.basePath, acked);
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
