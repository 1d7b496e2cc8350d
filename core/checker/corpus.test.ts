import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readHistoryFile } from '../history/read-history';
import { checkHistory, renderEvidenceHtml, type ModelName } from './index';

/** `../shared/corpus` beside the repository (CI layout), or FAULTLINE_CORPUS. */
export function corpusDir(): string {
  const repoRoot = resolve(__dirname, __dirname.includes(`${join('dist', 'core')}`) ? '../../..' : '../..');
  return process.env.FAULTLINE_CORPUS ?? resolve(repoRoot, '../shared/corpus');
}

interface Verdict { file: string; model: ModelName; linearizable: boolean; init?: unknown }

test('checkHistory() agrees with every verdict in the shared corpus (Knossos and Porcupine histories)', { timeout: 120_000 }, async () => {
  const root = corpusDir();
  assert.ok(existsSync(root), `corpus not found at ${root} (set FAULTLINE_CORPUS)`);
  let files = 0;
  const disagreements: string[] = [];
  for (const sub of ['knossos', 'porcupine']) {
    const verdicts = JSON.parse(readFileSync(join(root, sub, 'verdicts.json'), 'utf8')) as Verdict[];
    for (const v of verdicts) {
      const { ops } = readHistoryFile(join(root, sub, v.file));
      // multi-register: Knossos's tests start at {x 0, y 0}; the others use our defaults (nil), which the
      // corpus README says give the same verdicts.
      const result = await checkHistory(ops, { model: v.model, timeLimitMs: 60_000, ...(v.model === 'multi-register' ? { init: v.init } : {}) });
      files++;
      if (result.valid !== v.linearizable) disagreements.push(`${sub}/${v.file}: expected ${v.linearizable}, got ${String(result.valid)}`);
      if (result.valid === false) {
        assert.ok(result.evidence, `${v.file}: invalid without evidence`);
        assert.ok(result.evidence.subHistory.length > 0, `${v.file}: empty failing sub-history`);
        assert.match(renderEvidenceHtml(result) ?? '', /<svg/);
      }
    }
  }
  assert.deepEqual(disagreements, []);
  assert.equal(files, 231);
});

test('the Knossos corpus gets the same verdicts under --knossos-nil, and no history reports a nil-reading difference', { timeout: 120_000 }, async () => {
  const root = corpusDir();
  const verdicts = JSON.parse(readFileSync(join(root, 'knossos', 'verdicts.json'), 'utf8')) as Verdict[];
  let withNilReads = 0;
  for (const v of verdicts.filter((x) => x.model === 'cas-register')) {
    const { ops } = readHistoryFile(join(root, 'knossos', v.file));
    if (!ops.some((o) => o.f === 'read' && o.type === 'ok' && o.value === null)) continue;
    withNilReads++;
    for (const knossosNil of [false, true]) {
      const r = await checkHistory(ops, { model: 'cas-register', knossosNil, timeLimitMs: 60_000 });
      assert.equal(r.valid, v.linearizable, `${v.file} (knossosNil ${String(knossosNil)})`);
      assert.equal(r.nilReading, undefined, `${v.file}: the two readings of nil differ`);
    }
  }
  assert.equal(withNilReads, 91);
});
