/**
 * List-append inference (Elle §4): every append is unique, so each list read reveals a prefix of its key's
 * version order. The longest read of a key is its known order; every other read must be a prefix of it.
 * From that order come ww, wr and rw edges, and the traceability checks: duplicate elements, incompatible
 * orders, garbage reads, aborted reads (G1a), intermediate reads (G1b), dirty updates, lost updates, plus
 * internal consistency and future reads within each transaction.
 *
 * Soundness: a key with any traceability anomaly contributes no edges (its order is not trustworthy); an
 * append nobody read is placed nowhere; reads of `info` transactions are unknown and never used.
 */
import { HistoryFormatError } from '../errors';
import { EdgeList, RW, WR, WW } from './dependency-graph';
import { Findings, showValue } from './findings';
import { FAIL, OK, READ, WRITE, txnLabel, type Scalar, type TxnHistory } from './txn-history';

/** What the inference learned, kept for explaining edges afterwards. */
export interface ListAppendIndex {
  /** Per key: element -> writer transaction × 2 + 1 when it is that writer's last append to the key. */
  writers: Map<Scalar, number>[];
  /** Per key: the longest read (the known version order), or undefined when nobody read it. */
  orders: (readonly Scalar[] | undefined)[];
  /** Per key: true when the key's order is untrustworthy and produced no edges. */
  excluded: Uint8Array;
}

/**
 * Runs the inference, records non-cycle anomalies in `findings` and ww/wr/rw edges in `edges`.
 * @throws HistoryFormatError when one value is appended to a key twice: the analysis needs unique appends.
 */
export function inferListAppend(h: TxnHistory, findings: Findings, edges: EdgeList): ListAppendIndex {
  const keyCount = h.keys.length;
  const writers: Map<Scalar, number>[] = [];
  for (let k = 0; k < keyCount; k++) writers.push(new Map());
  const readCount = new Int32Array(keyCount + 1);
  // Reads whose transaction read the key first and appended to it afterwards: candidates for lost updates.
  const readThenWrite = new Uint8Array(h.mopF.length);
  const label = (t: number): string => txnLabel(h, t);

  for (let t = 0; t < h.n; t++) {
    const lo = h.mopStart[t]!;
    const hi = h.mopStart[t + 1]!;
    const ok = h.type[t] === OK;
    for (let i = lo; i < hi; i++) {
      const k = h.mopKey[i]!;
      if (h.mopF[i] === WRITE) {
        const v = h.mopValue[i] as Scalar;
        const w = writers[k]!;
        const prev = w.get(v);
        if (prev !== undefined) {
          throw new HistoryFormatError(
            `value ${showValue(v)} is appended to key ${showValue(h.keys[k])} more than once (also by ${label(prev >> 1)}); list-append needs unique appends`,
            h.line[t],
          );
        }
        let final = 1;
        for (let j = i + 1; j < hi; j++) if (h.mopKey[j] === k && h.mopF[j] === WRITE) final = 0;
        w.set(v, t * 2 + final);
      } else if (ok) {
        readCount[k + 1]!++;
        let first = true;
        for (let j = lo; j < i; j++) if (h.mopKey[j] === k) first = false;
        if (first) for (let j = i + 1; j < hi; j++) if (h.mopKey[j] === k && h.mopF[j] === WRITE) readThenWrite[i] = 1;
      }
    }
    if (ok && hi - lo > 1) checkInternal(h, t, findings);
  }

  // Group the reads of ok transactions by key.
  for (let k = 0; k < keyCount; k++) readCount[k + 1]! += readCount[k]!;
  const readsOf = new Int32Array(readCount[keyCount]!);
  const fill = readCount.slice(0, keyCount);
  for (let t = 0; t < h.n; t++) {
    if (h.type[t] !== OK) continue;
    for (let i = h.mopStart[t]!; i < h.mopStart[t + 1]!; i++) if (h.mopF[i] === READ) readsOf[fill[h.mopKey[i]!]!++] = i;
  }
  const txnOfMop = (i: number): number => {
    let lo = 0;
    let hi = h.n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (h.mopStart[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  const orders: (readonly Scalar[] | undefined)[] = new Array<readonly Scalar[] | undefined>(keyCount);
  const excluded = new Uint8Array(keyCount);
  // Observed length of each read: the list without the reader's own trailing appends. Those show the
  // reader's uncommitted writes, not a committed version, so they say nothing about the version order.
  const observed = new Int32Array(readsOf.length);
  const readerOf = new Int32Array(readsOf.length);
  for (let r = 0; r < readsOf.length; r++) readerOf[r] = txnOfMop(readsOf[r]!);
  for (let k = 0; k < keyCount; k++) {
    const r0 = readCount[k]!;
    const r1 = readCount[k + 1]!;
    if (r0 === r1) continue;
    const w = writers[k]!;
    const key = h.keys[k]!;
    const listOf = (r: number): readonly Scalar[] => (h.mopValue[readsOf[r]!] as Scalar[] | null) ?? [];
    let longest = r0;
    for (let r = r0; r < r1; r++) {
      const list = listOf(r);
      const t = readerOf[r]!;
      let m = list.length;
      while (m > 0 && (w.get(list[m - 1]!) ?? -2) >> 1 === t) m--;
      observed[r] = m;
      if (m > observed[longest]!) longest = r;
    }
    const order = listOf(longest).slice(0, observed[longest]);
    orders[k] = order;
    let bad = false;

    // Traceability of the longest read: every element written once, by someone.
    const seen = new Set<Scalar>();
    let firstAborted = -1;
    let dirtyReported = false;
    for (let p = 0; p < order.length; p++) {
      const x = order[p]!;
      if (seen.has(x)) {
        bad = true;
        const t = readerOf[longest]!;
        findings.add('duplicate-elements', () => ({
          txns: [t],
          key,
          explanation: `${label(t)} read key ${showValue(key)} = ${showValue(listOf(longest))}, which holds ${showValue(x)} more than once, though ${showValue(x)} was appended only once`,
        }));
        continue;
      }
      seen.add(x);
      const code = w.get(x);
      if (code === undefined) {
        bad = true;
        const t = readerOf[longest]!;
        findings.add('garbage-read', () => ({
          txns: [t],
          key,
          explanation: `${label(t)} read key ${showValue(key)} = ${showValue(listOf(longest))}, but no transaction ever appended ${showValue(x)} to key ${showValue(key)}`,
        }));
        continue;
      }
      const writer = code >> 1;
      if (h.type[writer] === FAIL) {
        bad = true;
        if (firstAborted < 0) firstAborted = p;
      } else if (firstAborted >= 0 && !dirtyReported) {
        dirtyReported = true;
        const ab = order[firstAborted]!;
        const aborted = w.get(ab)! >> 1;
        findings.add('dirty-update', () => ({
          txns: [aborted, writer],
          key,
          explanation: `${label(writer)} appended ${showValue(x)} to key ${showValue(key)} after ${showValue(ab)}, which ${label(aborted)} appended before it failed (key ${showValue(key)} was read as ${showValue(order)})`,
        }));
      }
    }

    // Every other read must be a prefix of the longest one.
    const lostUpdate = new Map<number, number[]>();
    for (let r = r0; r < r1; r++) {
      const list = listOf(r);
      const m = observed[r]!;
      const t = readerOf[r]!;
      let prefix = true;
      if (r !== longest) {
        for (let p = 0; p < m; p++) {
          if (list[p] !== order[p]) {
            prefix = false;
            break;
          }
        }
      }
      if (!prefix) {
        bad = true;
        const lt = readerOf[longest]!;
        findings.add('incompatible-order', () => ({
          txns: [t, lt],
          key,
          explanation: `${label(t)} read key ${showValue(key)} = ${showValue(list)} and ${label(lt)} read ${showValue(listOf(longest))}: neither is a prefix of the other, so they cannot both be states of one list`,
        }));
        checkListTraceability(h, findings, w, list, t, key, label);
      }
      if (readThenWrite[readsOf[r]!] && prefix) {
        const group = lostUpdate.get(m) ?? [];
        group.push(t);
        lostUpdate.set(m, group);
      }
      if (m === 0 || !prefix) continue;
      // G1a: the read holds an element of a failed transaction.
      if (firstAborted >= 0 && m > firstAborted) {
        const ab = order[firstAborted]!;
        const aborted = w.get(ab)! >> 1;
        findings.add('G1a', () => ({
          txns: [aborted, t],
          key,
          explanation: `${label(t)} read key ${showValue(key)} = ${showValue(list)}, which includes ${showValue(ab)}, appended by ${label(aborted)}, which failed`,
        }));
      }
      // G1b: the last element observed is not its writer's final append to the key.
      const code = w.get(list[m - 1]!);
      if (code !== undefined && (code & 1) === 0 && h.type[code >> 1] !== FAIL) {
        const writer = code >> 1;
        const x = list[m - 1]!;
        findings.add('G1b', () => ({
          txns: [writer, t],
          key,
          explanation: `${label(t)} read key ${showValue(key)} = ${showValue(list)}, showing ${showValue(x)}, an intermediate state of ${label(writer)}, which appended more to key ${showValue(key)} afterwards`,
        }));
      }
    }
    for (const [len, txns] of lostUpdate) {
      if (txns.length < 2 || bad) continue;
      const version = order.slice(0, len);
      findings.add('lost-update', () => ({
        txns,
        key,
        explanation: `${txns.map(label).join(' and ')} all read key ${showValue(key)} = ${showValue(version)} and then appended to it: each one's append was made without seeing the others', so all but one update was lost`,
      }));
    }

    if (bad) {
      excluded[k] = 1;
      continue;
    }
    // ww: consecutive elements of the order written by different transactions.
    for (let p = 1; p < order.length; p++) edges.add(w.get(order[p - 1]!)! >> 1, w.get(order[p]!)! >> 1, WW);
    for (let r = r0; r < r1; r++) {
      const t = readerOf[r]!;
      const m = observed[r]!;
      // wr: the writer of the last element observed; rw: the writer of the next element, unseen.
      if (m > 0) edges.add(w.get(order[m - 1]!)! >> 1, t, WR);
      if (m < order.length) edges.add(t, w.get(order[m]!)! >> 1, RW);
    }
  }
  return { writers, orders, excluded };
}

/** Garbage and duplicate checks for a read that is not a prefix of the key's known order. */
function checkListTraceability(
  h: TxnHistory,
  findings: Findings,
  w: Map<Scalar, number>,
  list: readonly Scalar[],
  t: number,
  key: Scalar,
  label: (t: number) => string,
): void {
  const seen = new Set<Scalar>();
  for (const x of list) {
    if (seen.has(x)) {
      findings.add('duplicate-elements', () => ({
        txns: [t],
        key,
        explanation: `${label(t)} read key ${showValue(key)} = ${showValue(list)}, which holds ${showValue(x)} more than once`,
      }));
    }
    seen.add(x);
    const code = w.get(x);
    if (code === undefined) {
      findings.add('garbage-read', () => ({
        txns: [t],
        key,
        explanation: `${label(t)} read key ${showValue(key)} = ${showValue(list)}, but no transaction ever appended ${showValue(x)} to it`,
      }));
    } else if (h.type[code >> 1] === FAIL) {
      const aborted = code >> 1;
      findings.add('G1a', () => ({
        txns: [aborted, t],
        key,
        explanation: `${label(t)} read key ${showValue(key)} = ${showValue(list)}, which includes ${showValue(x)}, appended by ${label(aborted)}, which failed`,
      }));
    }
  }
}

/**
 * Internal consistency: a read must end with every element the transaction appended to the key so far;
 * repeatable reads: apart from those, it must equal the transaction's previous read of the key; future
 * reads: it must not show an element the transaction appends only later.
 */
function checkInternal(h: TxnHistory, t: number, findings: Findings): void {
  const lo = h.mopStart[t]!;
  const hi = h.mopStart[t + 1]!;
  // Per key touched: our appends so far, and the external part of our last read (if any).
  const known = new Map<number, { own: Scalar[]; external: readonly Scalar[] | null }>();
  for (let i = lo; i < hi; i++) {
    const k = h.mopKey[i]!;
    const v = h.mopValue[i];
    let st = known.get(k);
    if (!st) known.set(k, (st = { own: [], external: null }));
    if (h.mopF[i] === WRITE) {
      st.own.push(v as Scalar);
      continue;
    }
    const list = (v as Scalar[] | null) ?? [];
    const key = h.keys[k]!;
    for (let j = i + 1; j < hi; j++) {
      if (h.mopKey[j] !== k || h.mopF[j] !== WRITE) continue;
      const x = h.mopValue[j] as Scalar;
      if (list.includes(x)) {
        findings.add('future-read', () => ({
          txns: [t],
          key,
          explanation: `${txnLabel(h, t)} read key ${showValue(key)} = ${showValue(list)}, which already holds ${showValue(x)}, an element this same transaction appends only later`,
        }));
        break;
      }
    }
    const own = st.own;
    const endsWithOwn = list.length >= own.length && own.every((x, p) => list[list.length - own.length + p] === x);
    if (!endsWithOwn) {
      findings.add('internal', () => ({
        txns: [t],
        key,
        explanation: `${txnLabel(h, t)} read key ${showValue(key)} = ${showValue(list)}, but it had itself appended ${showValue(own)} to it earlier, so the list should end with those`,
      }));
      continue;
    }
    const external = list.slice(0, list.length - own.length);
    const before = st.external;
    if (before && (before.length !== external.length || before.some((x, p) => external[p] !== x))) {
      findings.add('non-repeatable-read', () => ({
        txns: [t],
        key,
        explanation: `${txnLabel(h, t)} read key ${showValue(key)} as ${showValue(before)} and later as ${showValue(external)} (not counting its own appends): another transaction's write became visible in between`,
      }));
    }
    st.external = external;
  }
}
