/**
 * Runs last in the suite (files run in name order): after every other test, nothing faultline made may remain on
 * this host: no lab namespace, bridge or veth, and no FAULTLINE chain or rule in the host's firewall or in any
 * named network namespace.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultlineLeftovers, labSkipReason } from '../support/netns';

test('no faultline namespace, link, chain or rule is left after the suite', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  assert.deepEqual(await faultlineLeftovers(), []);
});

/** Processes started by a faultline agent as a DB member carry FAULTLINE_DB in their environment. */
function faultlineDbProcesses(): { pid: number; state: string; env: Map<string, string> }[] {
  const out: { pid: number; state: string; env: Map<string, string> }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8');
      if (!environ.includes('FAULTLINE_DB=')) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = /\)\s+(\S)/.exec(stat.slice(stat.lastIndexOf(')')))?.[1] ?? '?';
      const env = new Map(environ.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      out.push({ pid: Number(name), state, env });
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return out;
}

test('no paused DB process, clock offset or libfaketime shm file of ours is left after the suite', { timeout: 30_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const left: string[] = [];
  const procs = faultlineDbProcesses();
  for (const p of procs) {
    if (p.state === 'T' || p.state === 't') left.push(`paused ${p.env.get('FAULTLINE_DB') ?? 'DB'} process ${p.pid}`);
    const file = p.env.get('FAKETIME_TIMESTAMP_FILE');
    if (file !== undefined && existsSync(file) && !/^\+0(\.0+)?\s*$/.test(readFileSync(file, 'utf8'))) {
      left.push(`process ${p.pid} runs under a clock offset (${file}: ${readFileSync(file, 'utf8').trim()})`);
    }
  }
  // Offset files in any lab's agent data dirs (FAULTLINE_HOME or the default) must be gone or at zero.
  const home = join(process.env['FAULTLINE_HOME'] ?? '/var/lib/faultline', 'labs');
  if (existsSync(home)) {
    for (const lab of readdirSync(home)) {
      const nodes = join(home, lab, 'nodes');
      if (!existsSync(nodes)) continue;
      for (const node of readdirSync(nodes)) {
        const dir = join(nodes, node, 'faketime');
        if (!existsSync(dir)) continue;
        for (const f of readdirSync(dir)) {
          const text = readFileSync(join(dir, f), 'utf8');
          if (f.endsWith('.offset') && !/^\+0(\.0+)?\s*$/.test(text)) left.push(`offset file ${join(dir, f)}: ${text.trim()}`);
        }
      }
    }
  }
  // libfaketime shm files named after a pid that no longer runs are leftovers (we remove ours by pid).
  if (existsSync('/dev/shm')) {
    for (const f of readdirSync('/dev/shm')) {
      const m = /^faketime_[a-z]+_(\d+)$/.exec(f);
      if (m && !existsSync(`/proc/${m[1]}`)) left.push(`/dev/shm/${f} of a process that is gone`);
    }
  }
  assert.deepEqual(left, []);
});
