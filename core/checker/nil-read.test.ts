import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../history/operation';
import { checkHistory } from './index';

/** A write of 39 acknowledged, then a later read that returns nil: how a lost Redis write shows up. */
function lostWrite(f: 'write' | 'cas' = 'write'): Op[] {
  const ev: Omit<Op, 'index'>[] = [
    { process: 0, type: 'invoke', f: 'write', value: 39 },
    { process: 0, type: 'ok', f: 'write', value: 39 },
    ...(f === 'cas' ? [{ process: 0, type: 'invoke', f: 'cas', value: [39, 40] } as const, { process: 0, type: 'ok', f: 'cas', value: [39, 40] } as const] : []),
    { process: 1, type: 'invoke', f: 'read', value: null },
    { process: 1, type: 'ok', f: 'read', value: null },
  ];
  return ev.map((e, index) => ({ ...e, index }));
}

for (const model of ['register', 'cas-register'] as const) {
  test(`${model}: an ok read of nil after an acknowledged write is not linearizable, and --knossos-nil says it is`, async () => {
    const strict = await checkHistory(lostWrite(model === 'cas-register' ? 'cas' : 'write'), { model });
    assert.equal(strict.valid, false);
    assert.equal(strict.evidence?.failingOp?.f, 'read');
    assert.deepEqual(strict.nilReading, { knossosNil: true, valid: true });
    const knossos = await checkHistory(lostWrite(model === 'cas-register' ? 'cas' : 'write'), { model, knossosNil: true });
    assert.equal(knossos.valid, true);
    assert.deepEqual(knossos.nilReading, { knossosNil: false, valid: false });
  });
}

test('register: a nil read before any write is the initial value under both readings, so no difference is reported', async () => {
  const h: Op[] = [
    { index: 0, process: 1, type: 'invoke', f: 'read', value: null },
    { index: 1, process: 1, type: 'ok', f: 'read', value: null },
    { index: 2, process: 0, type: 'invoke', f: 'write', value: 1 },
    { index: 3, process: 0, type: 'ok', f: 'write', value: 1 },
  ];
  const r = await checkHistory(h, { model: 'register' });
  assert.equal(r.valid, true);
  assert.equal(r.nilReading, undefined);
});

test('register: a read whose outcome is unknown constrains nothing, nil or not', async () => {
  const h: Op[] = [
    { index: 0, process: 0, type: 'invoke', f: 'write', value: 39 },
    { index: 1, process: 0, type: 'ok', f: 'write', value: 39 },
    { index: 2, process: 1, type: 'invoke', f: 'read', value: null },
    { index: 3, process: 1, type: 'info', f: 'read', value: null },
  ];
  assert.equal((await checkHistory(h, { model: 'register' })).valid, true);
});

test('register: a nil read concurrent with the first write may precede it', async () => {
  const h: Op[] = [
    { index: 0, process: 0, type: 'invoke', f: 'write', value: 39 },
    { index: 1, process: 1, type: 'invoke', f: 'read', value: null },
    { index: 2, process: 0, type: 'ok', f: 'write', value: 39 },
    { index: 3, process: 1, type: 'ok', f: 'read', value: null },
  ];
  assert.equal((await checkHistory(h, { model: 'register' })).valid, true);
});
