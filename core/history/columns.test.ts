import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HistoryColumns, V_ARR, V_JS, V_NUM, V_STR } from './columns';
import { newOp } from './op-shape';
import type { Op } from './operation';

function op(index: number, fields: Partial<Op> & Pick<Op, 'type' | 'process' | 'f' | 'value'>): Op {
  const o = newOp(index, fields.type, fields.process, fields.f, fields.value, fields.line ?? index + 1);
  for (const k of ['key', 'time', 'uncertainty', 'seq', 'node', 'error'] as const) if (fields[k] !== undefined) (o as unknown as Record<string, unknown>)[k] = fields[k];
  return o;
}

const OPS: Op[] = [
  op(0, { type: 'invoke', process: 3, f: 'cas', value: [7, [null, 3]], time: 4294967296.5, uncertainty: 300 }),
  op(1, { type: 'info', process: 'nemesis', f: 'start', value: { nodes: ['n1', 'n2'] }, node: 'n1', seq: 1 }),
  op(2, { type: 'fail', process: 3, f: 'cas', value: [7, [null, 3]], time: 4294967300, error: 'precondition failed' }),
  op(3, { type: 'ok', process: -2, f: 'read', value: [true, false, -0, 'k1', [[], ['x']]], key: 'k1' }),
];

test('ops put in columns come back as the same ops, every field and value kind', () => {
  const c = HistoryColumns.fromOps(OPS);
  assert.equal(c.length, 4);
  assert.deepStrictEqual(c.toOps(), OPS);
  assert.equal(c.indices, undefined, 'every index is its position: no index column');
  // Values are on the tape, a map kept as it was.
  const at = c.value[0]!;
  assert.deepStrictEqual([c.tags[at], c.nums[at], c.tags[at + 1], c.nums[at + 1], c.tags[at + 2]], [V_ARR, 2, V_NUM, 7, V_ARR]);
  assert.equal(c.tags[c.value[1]!], V_JS);
  assert.equal(c.objects[c.nums[c.value[1]!]!], OPS[1]!.value, 'the map is the object read, not a copy');
  assert.equal(c.skip(at), c.value[1], "the first event's value ends where the second's begins");
  // One string, one id: the key and the read's string element share it.
  assert.equal(c.tags[c.value[3]! + 4], V_STR);
  assert.equal(c.nums[c.value[3]! + 4], c.key[3]);
});

test('an in-memory history whose indices are not positions keeps them', () => {
  const shifted = OPS.map((o) => ({ ...o, index: o.index + 10 }));
  const c = HistoryColumns.fromOps(shifted);
  assert.deepStrictEqual(c.toOps(), shifted);
  assert.equal(c.indexOf(2), 12);
});

test('reorder moves every field, the error and the index with its event; truncate drops events and their values', () => {
  const c = HistoryColumns.fromOps(OPS);
  c.reorder([2, 0, 3, 1]);
  const moved = c.toOps();
  assert.deepStrictEqual(
    moved.map((o) => ({ ...o, index: 0 })),
    [OPS[2], OPS[0], OPS[3], OPS[1]].map((o) => ({ ...o, index: 0 })),
  );
  assert.deepStrictEqual(moved.map((o) => o.index), [0, 1, 2, 3], 'an event read from a file is numbered by its position');
  const d = HistoryColumns.fromOps(OPS);
  const tape = d.value[2]!;
  d.truncate(2);
  assert.equal(d.length, 2);
  assert.equal(d.tapeLength, tape);
  assert.equal(d.errors.size, 0, "the dropped event's error is gone");
  assert.deepStrictEqual(d.toOps(), OPS.slice(0, 2));
  // The next event at a dropped event's place carries none of its optional fields.
  d.truncate(1);
  d.pushOp(OPS[0]!);
  assert.deepStrictEqual([d.nodeAt(1), d.seqAt(1), d.uncertaintyAt(1)], [-1, NaN, 300]);
  assert.deepStrictEqual(d.toOps(), [OPS[0], { ...OPS[0], index: 1 }]);
});

test('a history without uncertainty, seq or node holds no column for them', () => {
  const plain = OPS.map((o) => {
    const { uncertainty: _u, seq: _s, node: _n, ...rest } = o;
    return newOp(rest.index, rest.type, rest.process, rest.f, rest.value, rest.line!);
  });
  const c = HistoryColumns.fromOps(plain);
  assert.deepStrictEqual([c.uncertainty, c.seq, c.node], [undefined, undefined, undefined]);
  assert.deepStrictEqual(c.toOps(), plain);
});

test('columns grow past their first size, strings past their table', () => {
  const many: Op[] = [];
  for (let i = 0; i < 20_000; i++) many.push(op(i, { type: i % 2 === 0 ? 'invoke' : 'ok', process: i % 7, f: 'write', value: [`key-${i}`, i], key: `k${i}` }));
  const c = new HistoryColumns(16);
  for (const o of many) c.pushOp(o);
  assert.deepStrictEqual(c.toOps(), many);
  assert.equal(c.strings.strings.length, 40_001, 'write, 20,000 keys and 20,000 tuple keys, each once');
});
