import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistory } from '../../core/checker';
import { simulateHistory } from '../../core/checker/simulated-history';
import type { Op } from '../../core/history/operation';
import { buildHistory, buildHistoryFile, readHistoryOps } from '../history-builder';
import type { RawEvent } from '../history-collector';
import { checkHistoryFile, surveyHistory } from './stream-check';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fl-stream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A simulated linearizable register history over rotating keys, in our history.jsonl shape. */
function rotatingHistory(seed: number, periods: number): Op[] {
  const out: Op[] = [];
  for (let p = 0; p < periods; p++) {
    const ops = simulateHistory({ seed: seed * 1000 + p, ops: 200, concurrency: 5, keys: 3, workload: 'register', timeoutRate: 0.05 });
    const offset = p * 10_000_000;
    for (const o of ops) out.push({ ...o, index: out.length, process: (o.process as number) + p * 1000, key: `p${p}-${o.key ?? ''}`, time: (o.time ?? 0) + offset, uncertainty: 100 });
  }
  return out;
}

function writeHistory(path: string, ops: readonly Op[]): void {
  writeFileSync(path, ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
}

test('buildHistoryFile() with chunks spilled to disk writes exactly what the in-memory sort writes', async (t) => {
  const dir = tempDir(t);
  // Raw events in a shuffled arrival order, with ties in time broken by node and sequence.
  const raw: RawEvent[] = [];
  const seqs: Record<string, number> = {};
  for (let i = 0; i < 500; i++) {
    const node = `n${(i * 7) % 3}`;
    seqs[node] = (seqs[node] ?? 0) + 1;
    raw.push({ runId: 'r', node, seq: seqs[node]!, process: i % 11, type: i % 2 ? 'ok' : 'invoke', f: 'read', key: `k${i % 4}`, valueJson: String(i), error: '', timeNanos: Math.floor(i / 3) * 10, uncertaintyNanos: 5, agentMonoNanos: 0 });
  }
  for (let i = raw.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [raw[i], raw[j]] = [raw[j]!, raw[i]!];
  }
  writeFileSync(join(dir, 'raw.jsonl'), raw.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const inMemory = await buildHistory(join(dir, 'raw.jsonl'), join(dir, 'a.jsonl'), { chunkEvents: 1_000_000 });
  const spilled = await buildHistory(join(dir, 'raw.jsonl'), join(dir, 'b.jsonl'), { chunkEvents: 7 });
  assert.equal(spilled.length, 500);
  assert.deepEqual(spilled, inMemory);
  spilled.forEach((op, i) => assert.equal(op.index, i));
  for (let i = 1; i < spilled.length; i++) assert.ok(spilled[i - 1]!.time! <= spilled[i]!.time!, 'not in timeline order');
  assert.equal(await buildHistoryFile(join(dir, 'raw.jsonl'), join(dir, 'c.jsonl'), { chunkEvents: 50 }), 500);
});

test('checkHistoryFile() agrees with the in-memory engine, batch size notwithstanding, and finds an injected anomaly', async (t) => {
  const dir = tempDir(t);
  for (const seed of [1, 2, 3]) {
    const ops = rotatingHistory(seed, 12);
    const path = join(dir, `h${seed}.jsonl`);
    writeHistory(path, ops);
    const survey = await surveyHistory(path);
    assert.equal(survey.malformed, undefined);
    assert.equal(survey.stats.events, ops.length);
    const whole = await checkHistory(ops, { model: 'etcd-register' });
    for (const batchEvents of [1, 150, 1_000_000]) {
      const streamed = await checkHistoryFile(path, survey, { model: 'etcd-register', timeLimitMs: 60_000, batchEvents });
      assert.equal(streamed.valid, true);
      assert.equal(streamed.valid, whole.valid);
      assert.equal(streamed.keyCount, whole.keyCount);
      assert.equal(streamed.opCount, whole.opCount);
      assert.deepEqual(streamed.perKey.map((k) => k.key), whole.perKey.map((k) => k.key));
    }
    // A read of a value nobody wrote, in the middle of the run: invalid, on that key, with evidence.
    const victim = ops.find((o) => o.type === 'ok' && o.f === 'read' && o.key?.startsWith('p6-'))!;
    const bad = ops.map((o) => (o === victim ? { ...o, value: 987654 } : o));
    writeHistory(path, bad);
    const r = await checkHistoryFile(path, await surveyHistory(path), { model: 'etcd-register', timeLimitMs: 60_000, batchEvents: 150 });
    assert.equal(r.valid, false);
    assert.deepEqual(r.invalidKeys, [victim.key]);
    assert.equal(r.evidence?.key, victim.key);
    assert.deepEqual([r.evidence?.failingOp?.process, r.evidence?.failingOp?.f], [victim.process, 'read'], 'the evidence names the corrupted read');
    assert.ok(r.perKey.some((k) => k.reason === 'not searched: another key is invalid'), 'keys after the invalid one are not searched');
  }
});

test('surveyHistory() reports a completion without invocation instead of judging the history', async (t) => {
  const dir = tempDir(t);
  const ops = rotatingHistory(9, 2);
  const orphan: Op = { index: ops.length, type: 'ok', process: 424242, f: 'read', key: 'p1-k0', value: 1, time: 99_000_000, uncertainty: 0 };
  writeHistory(join(dir, 'h.jsonl'), [...ops, orphan]);
  const survey = await surveyHistory(join(dir, 'h.jsonl'));
  assert.match(survey.malformed ?? '', /no matching invocation/);
  let n = 0;
  for await (const _ of readHistoryOps(join(dir, 'h.jsonl'))) n++;
  assert.equal(n, ops.length + 1);
});
