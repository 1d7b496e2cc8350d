import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The kinds of fault an agent applies; at most one entry of each kind is active at a time. */
export type FaultKind = 'partition' | 'loss' | 'shape' | 'pause' | 'kill' | 'clock';

/** One fault the agent has applied (or is about to apply) and must undo. */
export interface JournalEntry {
  id: string;
  kind: FaultKind;
  /** What an undo needs (addresses, the paused pid and its command marker, the clock's timestamp file, ...). */
  detail: unknown;
  appliedAtMs: number;
  /** Wall-clock deadline after which the agent heals it on its own. */
  expiresAtMs: number;
}

/**
 * The agent's on-disk record of the faults it applied. An entry is written *before* the fault is applied, so a
 * crash at any point leaves a record; an agent that starts heals whatever its journal lists.
 */
export class FaultJournal {
  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  read(): JournalEntry[] {
    if (!existsSync(this.path)) return [];
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.path, 'utf8'));
      return Array.isArray(parsed) ? (parsed as JournalEntry[]) : [];
    } catch {
      // A torn write can only come from a crash while recording a fault: treat everything as possibly applied.
      return [{ id: 'unknown', kind: 'partition', detail: 'journal unreadable', appliedAtMs: 0, expiresAtMs: 0 }];
    }
  }

  /** Records `entry`, replacing any entry with its id or of its kind (a new fault of a kind replaces the old). */
  add(entry: JournalEntry): void {
    this.#write([...this.read().filter((e) => e.id !== entry.id && e.kind !== entry.kind), entry]);
  }

  remove(predicate: (e: JournalEntry) => boolean): void {
    this.#write(this.read().filter((e) => !predicate(e)));
  }

  clear(): void {
    this.#write([]);
  }

  #write(entries: JournalEntry[]): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(entries, null, 1));
    renameSync(tmp, this.path); // atomic: a crash leaves the old or the new journal, never half of one
  }
}
