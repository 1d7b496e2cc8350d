import { seededUniform } from '../generator/random';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PARTITION_SHAPES, complete, delivers, describeGrudge, grudgeFor, type Grudge } from './grudge';

const five = ['n1', 'n2', 'n3', 'n4', 'n5'];

const seeded = seededUniform;

function nodes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `n${i + 1}`);
}

/** The nodes `node` exchanges packets with in both directions, itself included. */
function view(g: Grudge, all: string[], node: string): string[] {
  return all.filter((m) => m === node || (delivers(g, m, node) && delivers(g, node, m)));
}

function isSymmetric(g: Grudge, all: string[]): boolean {
  return all.every((a) => all.every((b) => delivers(g, a, b) === delivers(g, b, a)));
}

function assertWellFormed(g: Grudge, all: string[]): void {
  for (const [node, dropped] of Object.entries(g)) {
    assert.ok(all.includes(node), `unknown node ${node}`);
    assert.ok(!dropped.includes(node), `${node} drops itself`);
    for (const d of dropped) assert.ok(all.includes(d), `unknown peer ${d}`);
    assert.equal(new Set(dropped).size, dropped.length, `${node} lists a peer twice`);
  }
  assert.ok(Object.values(g).some((d) => d.length > 0), 'the grudge cuts nothing');
}

test('complete() makes components drop each other and nothing within', () => {
  assert.deepEqual(complete([['a', 'b'], ['c']]), { a: ['c'], b: ['c'], c: ['a', 'b'] });
  assert.deepEqual(complete([['a', 'b', 'c']]), { a: [], b: [], c: [] });
  assert.throws(() => complete([['a'], ['a', 'b']]), RangeError);
});

test('grudgeFor("halves") puts the smaller first half against the rest, in order', () => {
  const g = grudgeFor('halves', five, {});
  assert.deepEqual(g, complete([['n1', 'n2'], ['n3', 'n4', 'n5']]));
  assert.equal(describeGrudge(g), 'n1 n2 | n3 n4 n5');
});

test('grudgeFor("random-halves") is a symmetric 2/3 split, reproducible with a seeded rng', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const g = grudgeFor('random-halves', five, { rng: seeded(seed) });
    assertWellFormed(g, five);
    assert.ok(isSymmetric(g, five));
    const sizes = five.map((n) => view(g, five, n).length).sort();
    assert.deepEqual(sizes, [2, 2, 3, 3, 3]);
    assert.deepEqual(grudgeFor('random-halves', five, { rng: seeded(seed) }), g);
  }
});

test('grudgeFor("isolate") cuts the target off from everyone, and only it', () => {
  const g = grudgeFor('isolate', five, { target: ['n3'] });
  assert.deepEqual(g.n3, ['n1', 'n2', 'n4', 'n5']);
  for (const n of ['n1', 'n2', 'n4', 'n5']) assert.deepEqual(g[n], ['n3']);
  assert.equal(describeGrudge(g), 'n1 n2 n4 n5 | n3');
  const random = grudgeFor('isolate', five, { rng: seeded(7) });
  assert.equal(Object.values(random).filter((d) => d.length === 4).length, 1);
});

test('grudgeFor("minority-third") cuts off fewer than a third of the nodes', () => {
  for (const n of [4, 5, 6, 7, 9, 10]) {
    const all = nodes(n);
    const g = grudgeFor('minority-third', all, { rng: seeded(n) });
    assertWellFormed(g, all);
    assert.ok(isSymmetric(g, all));
    const smallest = Math.min(...all.map((m) => view(g, all, m).length));
    assert.equal(smallest, Math.floor((n - 1) / 3), `n=${n}`);
    assert.ok(smallest * 3 < n);
  }
  assert.throws(() => grudgeFor('minority-third', nodes(3), {}), /at least 4 nodes/);
  assert.throws(() => grudgeFor('minority-third', five, { target: ['n1', 'n2'] }), /not under a third/);
});

test('grudgeFor("majorities-ring"): every node sees a majority, no two see the same one', () => {
  for (let n = 3; n <= 11; n++) {
    const all = nodes(n);
    const g = grudgeFor('majorities-ring', all, { rng: seeded(n * 31) });
    assertWellFormed(g, all);
    assert.ok(isSymmetric(g, all), `n=${n} is not symmetric`);
    const views = all.map((m) => view(g, all, m).join(','));
    for (const v of views) assert.ok(v.split(',').length > n / 2, `n=${n}: view ${v} is not a majority`);
    assert.equal(new Set(views).size, n, `n=${n}: two nodes share a view`);
  }
});

test('grudgeFor("bridge") splits the others in two, both still reaching the bridge node', () => {
  const g = grudgeFor('bridge', five, { target: ['n3'], rng: seeded(3) });
  assertWellFormed(g, five);
  assert.ok(isSymmetric(g, five));
  assert.deepEqual(view(g, five, 'n3'), five);
  const others = five.filter((n) => n !== 'n3');
  const sizes = others.map((n) => view(g, five, n).length).sort();
  assert.deepEqual(sizes, [3, 3, 3, 3]); // two sides of 2, each also reaching the bridge
  assert.match(describeGrudge(g), /drops/);
});

test('grudgeFor("primaries") isolates each primary on its own', () => {
  const g = grudgeFor('primaries', five, { primaries: ['n2', 'n4'] });
  assert.deepEqual(g, complete([['n2'], ['n4'], ['n1', 'n3', 'n5']]));
  assert.throws(() => grudgeFor('primaries', five, {}), /named no primary/);
  assert.throws(() => grudgeFor('primaries', five, { primaries: ['n9'] }), /"n9" is not one of the nodes/);
});

test('grudgeFor("one-way") makes only the target deaf: it drops everyone, nobody drops it', () => {
  const g = grudgeFor('one-way', five, { target: ['n1'] });
  assert.deepEqual(g, { n1: ['n2', 'n3', 'n4', 'n5'], n2: [], n3: [], n4: [], n5: [] });
  assert.ok(!isSymmetric(g, five));
  assert.ok(delivers(g, 'n1', 'n2'));
  assert.ok(!delivers(g, 'n2', 'n1'));
  assert.equal(describeGrudge(g), 'n1 drops n2 n3 n4 n5');
});

test('every shape on 5 nodes cuts something and names only known nodes', () => {
  for (const shape of PARTITION_SHAPES) {
    for (let seed = 1; seed <= 5; seed++) {
      const g = grudgeFor(shape, five, { rng: seeded(seed), primaries: ['n1'] });
      assertWellFormed(g, five);
    }
  }
});

test('grudgeFor() refuses bad input instead of cutting nothing', () => {
  assert.throws(() => grudgeFor('halves', [], {}), /no nodes/);
  assert.throws(() => grudgeFor('halves', ['n1', 'n1'], {}), /listed twice/);
  assert.throws(() => grudgeFor('isolate', ['n1'], {}), /at least 2 nodes/);
  assert.throws(() => grudgeFor('isolate', five, { target: ['x'] }), /target "x"/);
  assert.throws(() => grudgeFor('isolate', five, { target: ['n1', 'n2'] }), /one target node/);
});

test('describeGrudge() says when nothing is cut', () => {
  assert.equal(describeGrudge({}), 'no partition');
  assert.equal(describeGrudge({ n1: [], n2: [] }), 'no partition');
});
