import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Op, PairedOp } from '../history/operation';
import { pairOps } from '../history/pair';
import { readHistoryFile } from '../history/read-history';
import { createModel, type ModelName } from '../models';
import { partitionByKey } from './partition';
import { simulateHistory } from './simulated-history';
import { splitHistory } from './split-history';
import { KNOWN, READ_ONLY } from './wgl';

/** `../shared/corpus` beside the repository, or FAULTLINE_CORPUS (as corpus.test.ts finds it). */
function corpusDir(): string {
  const repoRoot = resolve(__dirname, __dirname.includes(`${join('dist', 'core')}`) ? '../../..' : '../..');
  return process.env.FAULTLINE_CORPUS ?? resolve(repoRoot, '../shared/corpus');
}

/** What the slow way gives for a history: pairOps, partitionByKey, then each key's ops through a fresh model. */
function reference(history: Op[], independent: boolean, model: ModelName) {
  const paired = pairOps(history);
  const groups = partitionByKey(paired, independent);
  let nilRead = false;
  for (const p of paired) if (p.f === 'read' && p.type === 'ok' && (p.value === null || p.value === undefined)) nilRead = true;
  const keys = [...groups.keys()].sort().map((key) => {
    const m = createModel(model);
    const kept: PairedOp[] = [];
    const cols = { ops: [] as unknown[], start: [] as number[], end: [] as number[], flags: [] as number[] };
    for (const p of groups.get(key)!) {
      const s = m.prepare(p);
      if (s === null) continue;
      kept.push(p);
      cols.ops.push(s);
      cols.start.push(p.start);
      cols.end.push(s.known ? p.end : Infinity);
      cols.flags.push(s.known ? (m.isReadOnly(s) ? KNOWN | READ_ONLY : KNOWN) : 0);
    }
    return { key, kept, cols };
  });
  return { opCount: paired.length, keys, nilRead };
}

function assertSame(history: Op[], independent: boolean, model: ModelName, what: string): void {
  const fast = splitHistory(history, independent, () => createModel(model));
  assert.ok(fast, `${what}: the fast split declined`);
  const ref = reference(history, independent, model);
  assert.equal(fast.opCount, ref.opCount, what);
  assert.equal(fast.hasNilRead, ref.nilRead, what);
  assert.deepEqual(fast.keys.map((k) => k.key), ref.keys.map((k) => k.key), what);
  fast.keys.forEach((k, i) => {
    const r = ref.keys[i]!;
    assert.equal(k.size, r.kept.length, `${what}, key ${k.key}`);
    assert.deepEqual([...k.columns().ops], r.cols.ops, `${what}, key ${k.key}: ops`);
    assert.deepEqual(Array.from(k.columns().start), r.cols.start, `${what}, key ${k.key}: start`);
    assert.deepEqual(Array.from(k.columns().end), r.cols.end, `${what}, key ${k.key}: end`);
    assert.deepEqual(Array.from(k.columns().flags ?? []), r.cols.flags, `${what}, key ${k.key}: flags`);
    r.kept.forEach((p, j) => assert.deepEqual(k.pairedOf(j), p, `${what}, key ${k.key}, op ${j}`));
  });
}

/** Our keyed history as Jepsen writes an independent one: `[key value]` tuples, no op.key. */
function asTuples(history: Op[]): Op[] {
  return history.map((o) => {
    const { key, ...rest } = o;
    return { ...rest, value: [Number((key ?? 'k0').slice(1)), o.value] };
  });
}

test('the fast split gives exactly what pairOps + partitionByKey + prepare give, on simulated keyed histories', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const h = simulateHistory({ seed, ops: 400 + seed * 50, concurrency: 3 + (seed % 7), keys: 1 + (seed % 9), workload: seed % 3 === 0 ? 'kv' : 'register', timeoutRate: 0.1, uncertaintyNs: seed % 2 ? 50 : 0, jitter: seed % 4 === 1 });
    const model: ModelName = seed % 3 === 0 ? 'kv' : seed % 2 ? 'cas-register' : 'etcd-register';
    assertSame(h, false, model, `seed ${seed}, op.key`);
    assertSame(asTuples(h), true, model, `seed ${seed}, tuples`);
  }
});

test('the fast split keeps nemesis events, orphan infos, open invocations, nil completions and non-numeric keys as the slow way does', () => {
  const h: Op[] = [
    { index: 0, type: 'invoke', process: 0, f: 'write', value: ['a', 1], time: 10 },
    { index: 1, type: 'info', process: 'nemesis', f: 'start-partition', value: null, time: 11 },
    { index: 2, type: 'invoke', process: 1, f: 'read', value: [[1, 2], null], time: 12 },
    { index: 3, type: 'ok', process: 0, f: 'write', value: ['a', 1], time: 13, error: 'none' },
    { index: 4, type: 'info', process: 7, f: 'log', value: 'message', time: 14 },
    { index: 5, type: 'ok', process: 1, f: 'read', value: null, time: 15 },
    { index: 6, type: 'invoke', process: 2, f: 'cas', value: ['1', [1, 2]], time: 16, uncertainty: 3, node: 'n1' },
    { index: 7, type: 'invoke', process: 3, f: 'read', value: [1, null], time: 17 },
    { index: 8, type: 'ok', process: 3, f: 'read', value: [1, 5], time: 18 },
    { index: 9, type: 'info', process: 2, f: 'cas', value: ['1', [1, 2]], time: 19 },
    { index: 10, type: 'invoke', process: 4, f: 'write', value: ['a', 2], time: 20 },
    { index: 11, type: 'invoke', process: 5, f: 'cas', value: [1, [5, 6]] },
    { index: 12, type: 'fail', process: 5, f: 'cas', value: [1, [5, 6]] },
  ];
  for (const model of ['cas-register', 'etcd-register'] as const) assertSame(h, true, model, model);
});

test('the fast split declines what the slow way refuses, so the slow way names the error', () => {
  const cases: [string, Op[]][] = [
    ['a value that is not a tuple', [{ index: 0, type: 'invoke', process: 0, f: 'write', value: 3 }]],
    ['a completion without invocation', [{ index: 0, type: 'ok', process: 0, f: 'write', value: [1, 3] }]],
    ['a second invocation while one is open', [{ index: 0, type: 'invoke', process: 0, f: 'write', value: [1, 3] }, { index: 1, type: 'invoke', process: 0, f: 'write', value: [1, 4] }]],
    ['a completion under another key', [{ index: 0, type: 'invoke', process: 0, f: 'read', value: [1, null] }, { index: 1, type: 'ok', process: 0, f: 'read', value: [2, 4] }]],
    ['an op the model does not know', [{ index: 0, type: 'invoke', process: 0, f: 'append', value: [1, 3] }]],
  ];
  for (const [what, h] of cases) {
    assert.equal(splitHistory(h, true, () => createModel('cas-register')), undefined, what);
    assert.throws(() => {
      const groups = partitionByKey(pairOps(h), true);
      const m = createModel('cas-register');
      for (const ops of groups.values()) for (const p of ops) m.prepare(p);
    }, what);
  }
});

test('the fast split gives exactly what the slow way gives on every history of the shared corpus', { timeout: 120_000 }, () => {
  const root = corpusDir();
  assert.ok(existsSync(root), `corpus not found at ${root} (set FAULTLINE_CORPUS)`);
  let files = 0;
  for (const sub of ['knossos', 'porcupine']) {
    const verdicts = JSON.parse(readFileSync(join(root, sub, 'verdicts.json'), 'utf8')) as { file: string; model: ModelName }[];
    for (const v of verdicts) {
      assertSame(readHistoryFile(join(root, sub, v.file)).ops, false, v.model, `${sub}/${v.file}`);
      files++;
    }
  }
  assert.equal(files, 231);
});
