import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clockBoundViolation } from './clock-bounds';

test('clockBoundViolation() accepts drift within the bound and reports a clock that moved faster', () => {
  const prev = { offsetNanos: 1_000_000, uncertaintyNanos: 50_000, atAgentMonoNanos: 0 };
  // 5 s later: 200 ppm allows 1 ms, plus 100 µs of sample uncertainty.
  assert.equal(clockBoundViolation(prev, { offsetNanos: 2_000_000, uncertaintyNanos: 50_000, atAgentMonoNanos: 5e9 }), 0);
  assert.equal(clockBoundViolation(prev, { offsetNanos: 3_100_000, uncertaintyNanos: 50_000, atAgentMonoNanos: 5e9 }), 1_000_000);
});
