import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClockMapper } from './clock';

test('ClockMapper refuses to timestamp before the first sync', () => {
  assert.throws(() => new ClockMapper().map(1), /no clock sync/);
});

test('ClockMapper maps with offset, adds drift to the uncertainty, and never goes backwards', () => {
  const c = new ClockMapper();
  c.update({ timelineId: 'r1', offsetNanos: -1000, uncertaintyNanos: 50, syncedAtAgentMonoNanos: 10_000 });
  const a = c.map(10_000);
  assert.equal(a.timeNanos, 9000);
  assert.equal(a.uncertaintyNanos, 50);
  const b = c.map(1_000_010_000); // one second later: 200 ppm drift bound = 200 µs
  assert.equal(b.timeNanos, 1_000_009_000);
  assert.equal(b.uncertaintyNanos, 50 + 200_000);
  // A resync moves the offset back by 5 µs: time is held, and the uncertainty covers the difference.
  c.update({ timelineId: 'r1', offsetNanos: -6000, uncertaintyNanos: 40, syncedAtAgentMonoNanos: 1_000_010_000 });
  const d = c.map(1_000_010_001);
  assert.equal(d.timeNanos, b.timeNanos);
  assert.ok(d.timeNanos - d.uncertaintyNanos <= 1_000_010_001 - 6000);
});

test('ClockMapper starts afresh on a new timeline: a new run is not clamped to the last run\'s times', () => {
  const c = new ClockMapper();
  c.update({ timelineId: 'r1', offsetNanos: 0, uncertaintyNanos: 10, syncedAtAgentMonoNanos: 0 });
  c.map(1_000_000_000);
  c.update({ timelineId: 'r2', offsetNanos: -999_000_000, uncertaintyNanos: 10, syncedAtAgentMonoNanos: 1_000_000_000 });
  const t = c.map(1_000_000_000);
  assert.equal(t.timeNanos, 1_000_000);
  assert.equal(t.uncertaintyNanos, 10);
});
