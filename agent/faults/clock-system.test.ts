import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemClock, systemClockRefusal, type CommandRunner } from './clock-system';

/** A fake machine: records every command, keeps a clock in a variable. No real clock is ever read or set. */
function fakeMachine(opts: { ntp: boolean; active: string[] }): { run: CommandRunner; calls: string[]; clockS: () => number } {
  let clock = 1_700_000_000.5;
  const calls: string[] = [];
  const run: CommandRunner = async (cmd, args) => {
    calls.push([cmd, ...args].join(' '));
    if (cmd === 'timedatectl' && args[0] === 'show') return opts.ntp ? 'yes\n' : 'no\n';
    if (cmd === 'systemctl' && args[0] === 'is-active') {
      if (opts.active.includes(args[1]!)) return 'active\n';
      throw new Error('inactive');
    }
    if (cmd === 'date' && args[0] === '+%s.%N') return `${clock.toFixed(9)}\n`;
    if (cmd === 'date' && args[0] === '-s') {
      clock = Number(args[1]!.slice(1));
      return '';
    }
    return '';
  };
  return { run, calls, clockS: () => clock };
}

test('SystemClock stops only the time sync that was running, shifts, and restores both', async () => {
  const m = fakeMachine({ ntp: true, active: ['chrony'] });
  const clock = new SystemClock(m.run);
  const state = await clock.stopTimeSync();
  assert.deepEqual(state, { timedatectlNtp: true, activeUnits: ['chrony'] });
  assert.ok(m.calls.includes('timedatectl set-ntp false'));
  assert.ok(m.calls.includes('systemctl stop chrony'));
  assert.ok(!m.calls.some((c) => c.startsWith('systemctl stop ntp')));
  const before = m.clockS();
  await clock.shift(60_000);
  assert.ok(Math.abs(m.clockS() - before - 60) < 1e-6);
  await clock.restore(60_000, state);
  assert.ok(Math.abs(m.clockS() - before) < 1e-6);
  assert.deepEqual(m.calls.slice(-2), ['systemctl start chrony', 'timedatectl set-ntp true']);
});

test('SystemClock restore starts nothing that was not running', async () => {
  const m = fakeMachine({ ntp: false, active: [] });
  const clock = new SystemClock(m.run);
  const state = await clock.stopTimeSync();
  await clock.restore(-1500, state);
  assert.ok(!m.calls.some((c) => /start|set-ntp true/.test(c)));
});

test('systemClockRefusal() refuses unless the agent was explicitly allowed', () => {
  assert.match(systemClockRefusal({}) ?? '', /dedicated VMs/);
  assert.equal(systemClockRefusal({ FAULTLINE_ALLOW_SYSTEM_CLOCK: '1' }), undefined);
});
