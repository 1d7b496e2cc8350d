import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, buildProgram } from './main';

test('the top-level help lists every command with the description the command itself declares', () => {
  const full = buildProgram();
  assert.deepEqual(full.commands.map((c) => c.name()), COMMANDS.map((c) => c.name));
  for (const c of COMMANDS) assert.equal(c.description, full.commands.find((x) => x.name() === c.name)!.description(), c.name);
  // Naming one command loads that one in full and lists the others by name only.
  const one = buildProgram('check');
  assert.ok(one.commands.find((c) => c.name() === 'check')!.options.some((o) => o.long === '--knossos-nil'));
  assert.equal(one.commands.find((c) => c.name() === 'run')!.options.length, 0);
});
