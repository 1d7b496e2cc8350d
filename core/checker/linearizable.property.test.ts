import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../history/operation';
import { pairOps } from '../history/pair';
import { checkHistory } from './index';
import { checkLinearizable } from './linearizable';
import { simulateHistory, type SimulationOptions } from './simulated-history';

const SEEDS = Array.from({ length: 25 }, (_, i) => i + 1);
const base = (seed: number, workload: 'register' | 'kv'): SimulationOptions => ({ seed, ops: 160, concurrency: 5, keys: 3, workload, timeoutRate: 0.08, uncertaintyNs: 200 });
const model = (w: 'register' | 'kv'): 'etcd-register' | 'kv' => (w === 'register' ? 'etcd-register' : 'kv');

test('simulated linearizable register and kv histories (concurrency, timeouts, failed cas) are always valid', async () => {
  for (const workload of ['register', 'kv'] as const) {
    for (const seed of SEEDS) {
      const h = simulateHistory(base(seed, workload));
      const r = await checkHistory(h, { model: model(workload) });
      assert.equal(r.valid, true, `${workload} seed ${seed}: ${JSON.stringify(r.evidence?.failingOp)}`);
      assert.ok(r.keyCount >= 2);
    }
  }
});

test('soundness under clocks: moving every timestamp inside its uncertainty never turns valid into invalid', async () => {
  for (const seed of SEEDS) {
    for (const workload of ['register', 'kv'] as const) {
      // Large uncertainty relative to op durations (~1-6 µs): windows overlap heavily.
      const h = simulateHistory({ ...base(seed, workload), uncertaintyNs: 2500, jitter: true });
      const r = await checkHistory(h, { model: model(workload) });
      assert.equal(r.valid, true, `${workload} seed ${seed}`);
    }
  }
});

type Injection = 'stale read' | 'lost acknowledged write' | 'read of never-written value' | 'wrong cas';

/** Mutates one completion so that the history has exactly one anomaly; returns the invocation index of that op. */
function inject(h: Op[], kind: Injection): number | undefined {
  const paired = pairOps(h);
  const ok = (f: string) => paired.filter((p) => p.type === 'ok' && p.f === f);
  const completion = (idx: number): Op => h[idx]!;
  switch (kind) {
    case 'read of never-written value': {
      const r = ok('read')[5];
      if (!r) return undefined;
      completion(r.completionIndex).value = 987654321;
      return r.index;
    }
    case 'wrong cas': {
      const c = ok('cas')[2];
      if (!c) return undefined;
      const v = [987654321, (c.invokeValue as unknown[])[1]];
      h[c.index]!.value = v;
      completion(c.completionIndex).value = v;
      return c.index;
    }
    case 'lost acknowledged write': {
      // A read entirely after an acknowledged write (same key) returns "absent".
      for (const w of ok('write')) {
        const r = ok('read').find((x) => x.key === w.key && x.start > w.end);
        if (r) {
          completion(r.completionIndex).value = null;
          return r.index;
        }
      }
      return undefined;
    }
    case 'stale read': {
      // w0 then w1 strictly in sequence, then a read strictly after w1 returns w0's (unique) value.
      for (const w0 of ok('write')) {
        const w1 = ok('write').find((x) => x.key === w0.key && x.start > w0.end);
        if (!w1) continue;
        const r = ok('read').find((x) => x.key === w0.key && x.start > w1.end);
        if (r) {
          completion(r.completionIndex).value = w0.invokeValue;
          return r.index;
        }
      }
      return undefined;
    }
  }
}

test('one injected anomaly makes a simulated history invalid, and the evidence names the offending op', async () => {
  const kinds: Injection[] = ['stale read', 'lost acknowledged write', 'read of never-written value', 'wrong cas'];
  for (const kind of kinds) {
    let checked = 0;
    for (const seed of SEEDS) {
      const h = simulateHistory({ ...base(seed, 'register'), keys: 2 });
      const at = inject(h, kind);
      if (at === undefined) continue;
      // Minimisation gets a generous budget: its default is a fraction of the search time, which a loaded machine
      // can cut short (then the sub-history is not minimal, and this test is about what minimisation finds).
      const r = checkLinearizable(h, { model: 'etcd-register', evidenceTimeLimitMs: 30_000 });
      assert.equal(r.valid, false, `${kind}, seed ${seed}`);
      const ev = r.evidence!;
      assert.equal(ev.key, h[at]!.key);
      assert.ok(ev.failingOp, `${kind}, seed ${seed}: no failing op`);
      assert.ok(ev.subHistory.some((o) => o.index === at), `${kind}, seed ${seed}: failing sub-history omits op ${at}`);
      // A wrong cas can instead block an op that consumed its value (also in the sub-history); a read cannot.
      if (kind === 'read of never-written value') assert.equal(ev.failingOp.index, at, `${kind}, seed ${seed}`);
      assert.ok(ev.subHistory.length <= 25, `${kind}, seed ${seed}: sub-history of ${ev.subHistory.length} ops`);
      checked++;
    }
    assert.ok(checked >= 10, `${kind}: only ${checked} histories had a place to inject`);
  }
});
