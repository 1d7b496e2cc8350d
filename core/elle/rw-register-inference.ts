/**
 * Read-write register inference. Every write of a key is unique, so a read names its writer (wr edges,
 * aborted and intermediate reads, garbage and future reads). The version order of a register is mostly
 * unobservable; the only order every execution agrees on is that the initial `nil` comes first. So a
 * transaction that read `nil` anti-depends on every committed-or-unknown writer of that key (rw edges),
 * and no ww edge is ever guessed. Writes that follow a read of the same transaction are *not* assumed
 * to follow the version read: that holds in some databases and not in others; the user says which with
 * `--wfr-keys`, `--sequential-keys` or `--linearizable-keys` (`rw-register-versions.ts`).
 */
import { HistoryFormatError } from '../errors';
import { EdgeList, RW, WR } from './dependency-graph';
import { Findings, showValue } from './findings';
import { addVersionOrderEdges, type RwRegisterVersionOptions, type VersionOrderOutcome } from './rw-register-versions';
import { FAIL, OK, READ, WRITE, txnLabel, type Scalar, type TxnHistory } from './txn-history';

/** Most rw edges one key may add from its `nil` readers to its writers before we stop inferring them. */
export const MAX_NIL_RW_EDGES_PER_KEY = 2_000_000;

export interface RwRegisterIndex {
  /** Per key: value -> writer transaction × 2 + 1 when it is that writer's last write to the key. */
  writers: Map<Scalar, number>[];
  /** Keys whose nil-reader rw edges were skipped (too many): fewer edges, never a wrong one. */
  truncatedKeys: Scalar[];
  /** What the version-order assumptions added (nothing without any). */
  versions: VersionOrderOutcome;
}

/**
 * Runs the inference, records non-cycle anomalies in `findings` and wr/rw edges in `edges`.
 * @throws HistoryFormatError when one value is written to a key twice: the analysis needs unique writes.
 */
export function inferRwRegister(h: TxnHistory, findings: Findings, edges: EdgeList, versionOptions: RwRegisterVersionOptions = {}): RwRegisterIndex {
  const keyCount = h.keys.length;
  const writers: Map<Scalar, number>[] = [];
  for (let k = 0; k < keyCount; k++) writers.push(new Map());
  const label = (t: number): string => txnLabel(h, t);
  for (let t = 0; t < h.n; t++) {
    const hi = h.mopStart[t + 1]!;
    for (let i = h.mopStart[t]!; i < hi; i++) {
      if (h.mopF[i] !== WRITE) continue;
      const k = h.mopKey[i]!;
      const v = h.mopValue[i] as Scalar;
      const prev = writers[k]!.get(v);
      if (prev !== undefined && prev >> 1 !== t) {
        throw new HistoryFormatError(
          `value ${showValue(v)} is written to key ${showValue(h.keys[k])} more than once (also by ${label(prev >> 1)}); rw-register needs unique writes`,
          h.line[t],
        );
      }
      let final = 1;
      for (let j = i + 1; j < hi; j++) if (h.mopKey[j] === k && h.mopF[j] === WRITE) final = 0;
      writers[k]!.set(v, t * 2 + final);
    }
  }

  const nilReaders: number[][] = Array.from({ length: keyCount }, () => []);
  const versionReaders = new Map<string, number[]>(); // "k\u0000value" -> txns that read it first, then wrote k
  for (let t = 0; t < h.n; t++) {
    if (h.type[t] !== OK) continue;
    const lo = h.mopStart[t]!;
    const hi = h.mopStart[t + 1]!;
    for (let i = lo; i < hi; i++) {
      if (h.mopF[i] !== READ) continue;
      const k = h.mopKey[i]!;
      const v = h.mopValue[i] as Scalar | null;
      const key = h.keys[k]!;
      // Our own earlier write of k (a read must return the latest), else our own earlier read.
      let ownWrite: Scalar | undefined;
      let ownRead: Scalar | null | undefined;
      for (let j = lo; j < i; j++) {
        if (h.mopKey[j] !== k) continue;
        if (h.mopF[j] === WRITE) ownWrite = h.mopValue[j] as Scalar;
        else ownRead = h.mopValue[j] as Scalar | null;
      }
      if (ownWrite !== undefined) {
        if (v !== ownWrite) {
          findings.add('internal', () => ({
            txns: [t],
            key,
            explanation: `${label(t)} read key ${showValue(key)} = ${showValue(v)}, but it had itself written ${showValue(ownWrite)} to it earlier`,
          }));
        }
        continue;
      }
      if (ownRead !== undefined) {
        if (v !== ownRead) {
          findings.add('non-repeatable-read', () => ({
            txns: [t],
            key,
            explanation: `${label(t)} read key ${showValue(key)} = ${showValue(ownRead)} and later ${showValue(v)}, without writing it in between`,
          }));
        }
        continue;
      }
      // External read.
      let writesLater = false;
      for (let j = i + 1; j < hi; j++) if (h.mopKey[j] === k && h.mopF[j] === WRITE) writesLater = true;
      if (writesLater) {
        const id = `${k}\u0000${v === null ? '\u0001nil' : typeof v === 'number' ? `n${v}` : `s${v}`}`;
        const group = versionReaders.get(id) ?? [];
        group.push(t);
        versionReaders.set(id, group);
      }
      if (v === null) {
        nilReaders[k]!.push(t);
        continue;
      }
      const code = writers[k]!.get(v);
      if (code === undefined) {
        findings.add('garbage-read', () => ({
          txns: [t],
          key,
          explanation: `${label(t)} read key ${showValue(key)} = ${showValue(v)}, a value no transaction ever wrote to it`,
        }));
        continue;
      }
      const writer = code >> 1;
      if (writer === t) {
        findings.add('future-read', () => ({
          txns: [t],
          key,
          explanation: `${label(t)} read key ${showValue(key)} = ${showValue(v)} before writing that very value later in the same transaction`,
        }));
        continue;
      }
      if (h.type[writer] === FAIL) {
        findings.add('G1a', () => ({
          txns: [writer, t],
          key,
          explanation: `${label(t)} read key ${showValue(key)} = ${showValue(v)}, written by ${label(writer)}, which failed`,
        }));
        continue;
      }
      if ((code & 1) === 0) {
        findings.add('G1b', () => ({
          txns: [writer, t],
          key,
          explanation: `${label(t)} read key ${showValue(key)} = ${showValue(v)}, an intermediate value of ${label(writer)}, which wrote key ${showValue(key)} again before committing`,
        }));
      }
      edges.add(writer, t, WR);
    }
  }

  for (const [id, txns] of versionReaders) {
    if (txns.length < 2) continue;
    const k = Number(id.slice(0, id.indexOf('\u0000')));
    const key = h.keys[k]!;
    const t0 = txns[0]!;
    const read = readValue(h, t0, k);
    findings.add('lost-update', () => ({
      txns,
      key,
      explanation: `${txns.map(label).join(' and ')} all read key ${showValue(key)} = ${showValue(read)} and then wrote it: each write was made without seeing the others, so all but one update was lost`,
    }));
  }

  // nil is every register's first version: a nil reader anti-depends on each later writer of the key.
  const truncatedKeys: Scalar[] = [];
  for (let k = 0; k < keyCount; k++) {
    const readers = nilReaders[k]!;
    if (readers.length === 0) continue;
    const ws: number[] = [];
    for (const code of writers[k]!.values()) if ((code & 1) === 1 && h.type[code >> 1] !== FAIL) ws.push(code >> 1);
    if (readers.length * ws.length > MAX_NIL_RW_EDGES_PER_KEY) {
      truncatedKeys.push(h.keys[k]!);
      continue;
    }
    for (const r of readers) for (const w of ws) edges.add(r, w, RW);
  }
  const versions = addVersionOrderEdges(h, writers, versionOptions, edges);
  return { writers, truncatedKeys, versions };
}

/** The value transaction `t` first read from key `k`. */
function readValue(h: TxnHistory, t: number, k: number): unknown {
  for (let i = h.mopStart[t]!; i < h.mopStart[t + 1]!; i++) if (h.mopKey[i] === k && h.mopF[i] === READ) return h.mopValue[i];
  return undefined;
}
