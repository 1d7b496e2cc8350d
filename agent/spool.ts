import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An append-only on-disk spool of encoded events for one run, with the watermark of what JetStream has
 * acknowledged. An event is written here before it is published, so an agent that dies before the ack
 * resends it after restart (JetStream drops the duplicate by its message id).
 * Layout: `<dir>/<runId>.spool` holds records `[u32 length][bytes]`; `<dir>/<runId>.acked` holds the highest
 * sequence number below which everything is acknowledged.
 */
export class RunSpool {
  readonly spoolPath: string;
  readonly ackedPath: string;

  constructor(
    dir: string,
    readonly runId: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.spoolPath = join(dir, `${runId}.spool`);
    this.ackedPath = join(dir, `${runId}.acked`);
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

  /** All records in order (record i has sequence number i + 1). A torn last record (crash mid-write) is dropped. */
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
    return out;
  }

  readAcked(): number {
    if (!existsSync(this.ackedPath)) return 0;
    const n = Number.parseInt(readFileSync(this.ackedPath, 'utf8'), 10);
    return Number.isInteger(n) && n >= 0 ? n : 0;
  }

  /** Atomically records the acknowledged watermark. */
  writeAcked(seq: number): void {
    const tmp = `${this.ackedPath}.tmp`;
    writeFileSync(tmp, `${seq}\n`);
    renameSync(tmp, this.ackedPath);
  }

  remove(): void {
    rmSync(this.spoolPath, { force: true });
    rmSync(this.ackedPath, { force: true });
  }
}
