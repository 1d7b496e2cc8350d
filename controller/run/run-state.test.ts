import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../../core/generator/random';
import { Timeline } from '../timeline';
import { nextStepAfter, runMainPhase } from './main-phase';
import { controllerAlive, currentController, readRunState, RunStateWriter } from './run-state';
import pino from 'pino';

test('RunStateWriter rewrites run-state.json whole, leaves no temp file, and drops the fields named', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'run-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'run-state.json');
  const w = new RunStateWriter(path, { runId: 'r1', controller: currentController(), previousControllers: [], timelineOriginMonoNanos: 5, consumer: 'run-r1', leaseMs: 10_000, phase: 'setting up' });
  w.update({ phase: 'running', nemesisInFlight: { action: 'start', step: 0 } });
  assert.deepEqual(readRunState(path)?.nemesisInFlight, { action: 'start', step: 0 });
  w.update({ main: { startNanos: 1, endNanos: 2, intervalMs: 3, nextStep: 1, faulted: true } }, ['nemesisInFlight']);
  const back = readRunState(path)!;
  assert.equal(back.phase, 'running');
  assert.equal(back.nemesisInFlight, undefined);
  assert.equal(back.main?.nextStep, 1);
  assert.deepEqual(readdirSync(dir), ['run-state.json']);
  assert.equal(readRunState(join(dir, 'none.json')), undefined);
});

test('controllerAlive() knows this process, and tells a reused pid, a dead pid and another boot apart', () => {
  const me = currentController();
  assert.equal(controllerAlive(me), true);
  assert.equal(controllerAlive({ ...me, startTicks: me.startTicks + 1 }), false, 'same pid, another process');
  assert.equal(controllerAlive({ ...me, pid: 2 ** 22 + 1 }), false, 'no such process');
  assert.equal(controllerAlive({ ...me, bootId: 'another-boot' }), false);
});

test('Random.fromState(r.state) continues exactly where r stands', () => {
  const r = new Random(42);
  for (let i = 0; i < 5; i++) r.next();
  const copy = Random.fromState(r.state);
  for (let i = 0; i < 10; i++) assert.equal(copy.next(), r.next());
});

test('nextStepAfter() names the first step due after a moment, skipping the ones that passed', () => {
  const s = { startNanos: 1e9, intervalMs: 5000 };
  assert.equal(nextStepAfter(s, 0), 0);
  assert.equal(nextStepAfter(s, 1e9 + 4.9e9), 0); // step 0 is due at 6 s
  assert.equal(nextStepAfter(s, 1e9 + 5e9), 1);
  assert.equal(nextStepAfter(s, 1e9 + 23e9), 4);
});

test('runMainPhase() ends at once for a schedule past its end, and otherwise takes each due step in order', async () => {
  const log = pino({ level: 'silent' });
  const timeline = new Timeline('t');
  const steps: number[] = [];
  const now = timeline.now();
  await runMainPhase({ startNanos: now - 60e9, endNanos: now - 1e9, intervalMs: 5000, nextStep: 12, faulted: false }, timeline, undefined, log, new AbortController().signal, undefined, {
    afterStep: (s) => steps.push(s.nextStep),
  });
  assert.equal(steps.length, 0, 'past the end: no step');
  const start = timeline.now();
  await runMainPhase({ startNanos: start, endNanos: start + 350e6, intervalMs: 100, nextStep: 1, faulted: true }, timeline, undefined, log, new AbortController().signal, undefined, {
    afterStep: (s) => steps.push(s.nextStep),
  });
  assert.deepEqual(steps, [2, 3], 'steps 1 (due at 200 ms) and 2 (300 ms); step 3 would be past the end');
  assert.ok(timeline.now() - start >= 350e6 - 1e6, 'it sleeps through the last stretch to the end');
});
