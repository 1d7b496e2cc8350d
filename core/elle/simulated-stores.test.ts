import assert from 'node:assert/strict';
import { test } from 'node:test';
import { impliedAnomalies } from './anomaly';
import { checkTxnHistory } from './check-txn-history';
import { simulateTxnHistory } from './sim-store';

test('simulated strictly serializable stores with info txns and clock uncertainty are always valid', () => {
  for (const model of ['list-append', 'rw-register'] as const) {
    for (let seed = 1; seed <= 30; seed++) {
      const ops = simulateTxnHistory({
        model,
        isolation: 'strict-serializable',
        txns: 300,
        seed,
        concurrency: 2 + (seed % 6),
        activeKeys: 1 + (seed % 5),
        infoRate: 0.1,
        failRate: 0.1,
        uncertaintyNanos: (seed % 4) * 400,
      });
      const r = checkTxnHistory(ops, { model, consistency: 'strict-serializable' }).result;
      assert.equal(r.valid, true, `${model} seed ${seed}: ${r.anomalyTypes.join(', ')}`);
      assert.deepEqual(r.anomalyTypes, []);
    }
  }
});

test('a simulated snapshot-isolation store shows write skew: G2-item against serializable, valid against SI', () => {
  for (const model of ['list-append', 'rw-register'] as const) {
    let skewSeen = 0;
    for (let seed = 1; seed <= 16; seed++) {
      const ops = simulateTxnHistory({ model, isolation: 'snapshot-isolation', txns: 1500, seed, infoRate: 0.05, uncertaintyNanos: 300 });
      const si = checkTxnHistory(ops, { model, consistency: 'snapshot-isolation' }).result;
      assert.equal(si.valid, true, `${model} seed ${seed} vs SI: ${si.anomalyTypes.join(', ')}`);
      const ser = checkTxnHistory(ops, { model, consistency: 'serializable' }).result;
      if (ser.valid === false) {
        assert.ok(ser.anomalyTypes.includes('G2-item'), ser.anomalyTypes.join(', '));
        skewSeen++;
      }
    }
    assert.ok(skewSeen > 0, `${model}: no write skew in any seed`);
  }
});

test('a simulated read-committed store shows G-single or G2-item against repeatable read', () => {
  for (const model of ['list-append', 'rw-register'] as const) {
    let cycles = 0;
    for (let seed = 1; seed <= 3; seed++) {
      const ops = simulateTxnHistory({ model, isolation: 'read-committed', txns: 1500, seed, maxWritesPerKey: model === 'rw-register' ? 4 : 16 });
      const rr = checkTxnHistory(ops, { model, consistency: 'repeatable-read' }).result;
      assert.equal(rr.valid, false);
      // Every anomaly found here is (or implies) G2; most seeds also show the cycle itself.
      assert.ok(impliedAnomalies(rr.anomalyTypes).has('G2'), rr.anomalyTypes.join(', '));
      if (rr.anomalyTypes.some((a) => a === 'G-single' || a === 'G2-item')) cycles++;
      const rc = checkTxnHistory(ops, { model, consistency: 'read-committed' }).result;
      assert.equal(rc.valid, true, `${model} seed ${seed} vs read committed: ${rc.anomalyTypes.join(', ')}`);
    }
    assert.ok(cycles >= 2, `${model}: G-single or G2-item cycles in only ${cycles} of 3 seeds`);
  }
});
