/**
 * TxnHistoryBuilder (one event at a time, as `check` streams a file) against the batch construction it replaced,
 * kept here as the reference: simulated histories, valid and mutated, give deep-equal transaction histories or
 * the same error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistoryFormatError } from '../errors';
import { Random } from '../generator/random';
import type { Op } from '../history/operation';
import { pairOps } from '../history/pair';
import { simulateTxnHistory } from './sim-store';
import { FAIL, INFO, OK, READ, WRITE, TxnHistoryBuilder, buildTxnHistory, type Scalar, type TxnHistory, type TxnModel } from './txn-history';

const isScalar = (v: unknown): v is Scalar => typeof v === 'number' || typeof v === 'string';

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

// The batch construction as it was: pair everything, then lay out every transaction's micro-ops.
function referenceBuildTxnHistory(history: readonly Op[], model: TxnModel): TxnHistory {
  const paired = pairOps(history).filter((p) => p.f === 'txn');
  const lineOf = (eventIndex: number): number => {
    const op = history[eventIndex];
    return op !== undefined && op.index === eventIndex ? op.line ?? eventIndex + 1 : eventIndex + 1;
  };
  const n = paired.length;
  const h: TxnHistory = {
    model,
    n,
    type: new Uint8Array(n),
    process: new Float64Array(n),
    start: new Float64Array(n),
    end: new Float64Array(n),
    invokeIndex: new Int32Array(n),
    line: new Int32Array(n),
    mopStart: new Int32Array(n + 1),
    mopF: new Uint8Array(0),
    mopKey: new Int32Array(0),
    mopValue: [],
    keys: [],
  };
  // Count micro-ops first so every array is allocated once, at its final size (fewer full GCs at scale).
  let mopCount = 0;
  for (const p of paired) {
    const v = p.type === 'ok' ? p.value : p.invokeValue;
    if (Array.isArray(v)) mopCount += v.length;
  }
  const mopF = new Uint8Array(mopCount);
  const mopKey = new Int32Array(mopCount);
  const values: unknown[] = new Array<unknown>(mopCount);
  h.mopValue = values;
  const keyIds = new Map<Scalar, number>();
  const writeF = model === 'list-append' ? 'append' : 'w';
  let m = 0;
  for (let t = 0; t < n; t++) {
    const p = paired[t]!;
    h.type[t] = p.type === 'ok' ? OK : p.type === 'fail' ? FAIL : INFO;
    h.process[t] = p.process;
    h.start[t] = p.start;
    h.end[t] = p.end;
    h.invokeIndex[t] = p.index;
    const line = lineOf(p.completionIndex >= 0 ? p.completionIndex : p.index);
    h.line[t] = line;
    h.mopStart[t] = m;
    const ok = p.type === 'ok';
    const value = ok ? p.value : p.invokeValue;
    if (!Array.isArray(value)) {
      throw new HistoryFormatError(`txn value must be a list of micro-ops [f, key, value], got ${show(value)}`, line);
    }
    for (const mop of value as unknown[]) {
      if (!Array.isArray(mop) || mop.length !== 3) {
        throw new HistoryFormatError(`micro-op must be [f, key, value], got ${show(mop)}`, line);
      }
      const [f, key, v] = mop as [unknown, unknown, unknown];
      if (!isScalar(key)) throw new HistoryFormatError(`micro-op key must be a number or string, got ${show(mop)}`, line);
      let code: number;
      if (f === writeF) {
        if (!isScalar(v)) throw new HistoryFormatError(`"${writeF}" value must be a number or string, got ${show(mop)}`, line);
        code = WRITE;
      } else if (f === 'r') {
        if (ok) checkReadValue(model, mop, v, line);
        code = READ;
      } else {
        throw new HistoryFormatError(
          `micro-op function must be "${writeF}" or "r" for the ${model} model, got ${show(mop)}`,
          line,
        );
      }
      let k = keyIds.get(key);
      if (k === undefined) {
        k = h.keys.length;
        keyIds.set(key, k);
        h.keys.push(key);
      }
      mopF[m] = code;
      mopKey[m] = k;
      values[m] = code === READ && !ok ? null : v;
      m++;
    }
  }
  h.mopStart[n] = m;
  h.mopF = mopF;
  h.mopKey = mopKey;
  return h;
}

function checkReadValue(model: TxnModel, mop: unknown, v: unknown, line: number): void {
  if (v === null) return;
  if (model === 'rw-register') {
    if (!isScalar(v)) throw new HistoryFormatError(`"r" value must be nil, a number or a string, got ${show(mop)}`, line);
    return;
  }
  if (!Array.isArray(v) || !v.every(isScalar)) {
    throw new HistoryFormatError(`"r" value must be nil or a list of numbers or strings, got ${show(mop)}`, line);
  }
}



function outcome(build: () => TxnHistory): TxnHistory | string {
  try {
    return build();
  } catch (err) {
    if (err instanceof HistoryFormatError) return err.message;
    throw err;
  }
}

function mutate(rng: Random, ops: Op[]): Op[] {
  const out = ops.map((o) => ({ ...o }));
  for (let k = rng.int(3); k > 0; k--) {
    const i = rng.int(out.length);
    const op = out[i]!;
    switch (rng.int(7)) {
      case 0: out.splice(i, 1); break; // a lost event
      case 1: op.value = rng.pick([5, null, [['append', 'x']], [['incr', 1, 1]], [['r', 1, 3]], [['append', 1, null]], [[ 'w', 1, 2 ]]]); break;
      case 2: op.type = rng.pick(['invoke', 'ok', 'fail', 'info'] as const); break;
      case 3: op.f = rng.pick(['read', 'txn', 'write']); break;
      case 4: op.process = rng.pick([0, 1, 2, 'nemesis'] as const); break;
      case 5: if (op.time !== undefined) op.time -= 1e9; break;
      default: out.splice(i, 0, { ...op }); // a repeated event
    }
  }
  return out.map((o, index) => ({ ...o, index }));
}

test('TxnHistoryBuilder builds what the batch construction built, errors included', () => {
  const rng = new Random(20261203);
  let valid = 0;
  for (let c = 0; c < 300; c++) {
    const model: TxnModel = rng.int(2) === 0 ? 'list-append' : 'rw-register';
    const ops = simulateTxnHistory({ model, isolation: rng.pick(['strict-serializable', 'read-committed', 'snapshot-isolation'] as const), txns: 1 + rng.int(60), seed: c, concurrency: 1 + rng.int(6), infoRate: 0.1, failRate: 0.1, uncertaintyNanos: rng.int(2) * 300 });
    const history = rng.int(3) === 0 ? ops : mutate(rng, ops);
    const want = outcome(() => referenceBuildTxnHistory(history, model));
    assert.deepStrictEqual(outcome(() => buildTxnHistory(history, model)), want, `case ${c}`);
    const streamed = outcome(() => {
      const b = new TxnHistoryBuilder(model);
      for (const op of history) b.add(op);
      return b.finish();
    });
    assert.deepStrictEqual(streamed, want, `case ${c} streamed`);
    if (typeof want !== 'string') valid++;
  }
  assert.ok(valid > 100 && valid < 300, `${valid} of 300 histories valid: the mutations are too weak or too strong`);
});
