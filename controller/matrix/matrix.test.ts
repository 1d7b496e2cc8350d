import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../core/errors';
import type { RunOptions } from '../run/run-options';
import { matrixCells, parseVary, resolveCells } from './matrix-plan';
import { matrixExitCode, matrixMarkdown, type MatrixResult } from './matrix-table';

const base: RunOptions = {
  db: 'postgres', workload: 'list-append', timeLimit: 30, concurrency: 10, rate: 100, nemesis: 'none',
  nemesisInterval: 10, nodes: 'lab', readConsistency: 'linearizable', store: 'store', recoveryTime: 5,
  opTimeout: 1500, keys: 5, keyPeriod: 5, checkTimeLimit: 300, seed: 7,
};

test('matrix cells: the cartesian product, by flag name, db-opt.KEY or a bare db option; nemesis + joins kinds', () => {
  const cells = matrixCells(base, [parseVary('isolation=read-committed,serializable'), parseVary('db-opt.replicas=0,1'), parseVary('time-limit=15')]);
  assert.equal(cells.length, 4);
  assert.deepEqual(cells.map((c) => c.params), [
    { isolation: 'read-committed', 'db-opt.replicas': '0', 'time-limit': '15' },
    { isolation: 'read-committed', 'db-opt.replicas': '1', 'time-limit': '15' },
    { isolation: 'serializable', 'db-opt.replicas': '0', 'time-limit': '15' },
    { isolation: 'serializable', 'db-opt.replicas': '1', 'time-limit': '15' },
  ]);
  const configs = resolveCells(cells);
  assert.deepEqual(configs.map((c) => [c.dbOptions['isolation'], c.dbOptions['replicas'], c.timeLimitMs, c.seed]), [
    ['read-committed', '0', 15_000, 7], ['read-committed', '1', 15_000, 7], ['serializable', '0', 15_000, 7], ['serializable', '1', 15_000, 7],
  ]);
  const bare = resolveCells(matrixCells(base, [parseVary('read-from=primary,any')]));
  assert.deepEqual(bare.map((c) => c.dbOptions['read-from']), ['primary', 'any']);
  const nem = resolveCells(matrixCells({ ...base, db: 'postgres', workload: 'bank' }, [parseVary('nemesis=none,partition+kill')]));
  assert.deepEqual(nem.map((c) => c.nemesis), [[], ['partition', 'kill']]);
});

test('matrix: bad --vary and bad cells are one-line usage errors naming the cell', () => {
  const oneLine = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n');
  assert.throws(() => parseVary('isolation'), oneLine(/--vary must be NAME=V1,V2/));
  assert.throws(() => parseVary('isolation=a,a'), oneLine(/names a value twice/));
  assert.throws(() => matrixCells(base, [parseVary('colour=red')]), oneLine(/--vary colour: no run option or postgres option has that name/));
  assert.throws(() => matrixCells(base, [parseVary('time-limit=soon')]), oneLine(/"soon" is not a number/));
  assert.throws(() => matrixCells(base, [parseVary('keys=1'), parseVary('keys=2')]), oneLine(/varied twice/));
  assert.throws(() => resolveCells(matrixCells(base, [parseVary('isolation=serializable,read-uncommitted')])), oneLine(/Cannot run the matrix: --isolation read-uncommitted: postgres does not offer it .* \(in the cell isolation=read-uncommitted\)/));
});

test('matrix table and exit code: invalid wins, then unknown or cut short, else 0', () => {
  const m: MatrixResult = {
    startedAt: 'now', vary: [{ name: 'isolation', values: ['repeatable-read', 'serializable'] }], testCount: 2, complete: true,
    rows: [
      { params: { isolation: 'repeatable-read' }, runs: [
        { dir: '/s/a', valid: true, anomalies: {}, seed: 1 },
        { dir: '/s/b', valid: false, anomalies: { 'G2-item': 3, 'G2-item-realtime': 1 }, seed: 2 },
      ] },
      { params: { isolation: 'serializable' }, runs: [{ dir: '/s/c', valid: true, anomalies: {}, seed: 1 }, { dir: '/s/d', valid: true, anomalies: {}, seed: 2 }] },
    ],
  };
  const md = matrixMarkdown(m).split('\n');
  assert.equal(md[0], '| isolation | verdicts | anomalies | run |');
  assert.equal(md[2], '| repeatable-read | valid INVALID | G2-item ×3 (1/2 runs), G2-item-realtime ×1 (1/2 runs) | /s/b |');
  assert.equal(md[3], '| serializable | valid valid | — | /s/c |');
  assert.equal(matrixExitCode(m), 1);
  m.rows[0]!.runs[1]!.valid = 'unknown';
  assert.equal(matrixExitCode(m), 2);
  m.rows[0]!.runs[1]!.valid = true;
  assert.equal(matrixExitCode(m), 0);
  assert.equal(matrixExitCode({ ...m, complete: false }), 2);
});
