import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunSpool } from './spool';

test('RunSpool keeps records and the acked watermark across reopen, and drops a torn last record', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = new RunSpool(dir, 'r1');
  s.append(new Uint8Array([1, 2]));
  s.append(new Uint8Array([3]));
  s.writeAcked(1);
  appendFileSync(s.spoolPath, Buffer.from([0, 0, 0, 9, 1])); // a crash mid-write
  const again = new RunSpool(dir, 'r1');
  assert.deepEqual(again.readAll().map((r) => [...r]), [[1, 2], [3]]);
  assert.equal(again.readAcked(), 1);
  // The torn bytes are cut off, so a record appended after recovery is read back intact.
  again.append(new Uint8Array([7, 7]));
  assert.deepEqual(new RunSpool(dir, 'r1').readAll().map((r) => [...r]), [[1, 2], [3], [7, 7]]);
  assert.deepEqual(RunSpool.runsIn(dir), ['r1']);
});

test('RunSpool.compact() empties the spool and sequence numbers carry on after it, also across a crash', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = new RunSpool(dir, 'r2');
  for (const b of [1, 2, 3]) s.append(new Uint8Array([b]));
  s.writeAcked(3);
  s.compact(3);
  s.append(new Uint8Array([4]));
  const again = new RunSpool(dir, 'r2');
  assert.equal(again.readBase(), 3);
  assert.deepEqual(again.readAll().map((r) => [...r]), [[4]]);
  assert.equal(again.readAcked(), 3);
});

test('RunSpool.rewrite() keeps the unacknowledged tail; a crash before the swap leaves the old spool whole', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = new RunSpool(dir, 'r3');
  for (const b of [1, 2, 3, 4]) s.append(new Uint8Array([b]));
  s.rewrite([new Uint8Array([3]), new Uint8Array([4])], 2);
  s.append(new Uint8Array([5]));
  const again = new RunSpool(dir, 'r3');
  assert.equal(again.readBase(), 2);
  assert.deepEqual(again.readAll().map((r) => [...r]), [[3], [4], [5]]);
  // The base file moves before the rename: a crash in between leaves the old records, whose own sequence
  // numbers (inside each event) say where they start.
  writeFileSync(`${again.spoolPath}.tmp`, Buffer.from([0, 0, 0, 1, 9]));
  writeFileSync(again.basePath, '4\n');
  assert.deepEqual(new RunSpool(dir, 'r3').readAll().map((r) => [...r]), [[3], [4], [5]]);
});
