/**
 * Traffic shaping on a real lab: a 1 Mbit/s limit on the link n1 -> n2 (htb, present in every kernel) slows
 * that link and no other, two shaped links each get the whole rate, is read back from tc, and heals to the kernel's default qdisc. A device with a qdisc
 * someone else configured is refused and left alone. netem parts (delay, ...) work where the kernel has netem and
 * are refused, leaving nothing behind, where it has not (this CI kernel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { netemAvailable } from '../../agent/faults/iptables';
import { applyShape, healShape, shapedAddresses, shapedDevices } from '../../agent/faults/shape';
import { PROBE_PORT, labSkipReason, startProbes, useLab, type Probe } from '../support/netns';

const execFileAsync = promisify(execFile);
const BYTES = 128 * 1024;
const RATE = 1_000_000; // bit/s: BYTES take about 1.05 s

/** Milliseconds to push BYTES from `from` through `to`'s echo server and get them back. */
async function transfer(from: Probe, to: Probe, bytes = BYTES): Promise<number> {
  return (await from.request<{ elapsedMs: number }>({ op: 'bulk', host: to.node.address, port: PROBE_PORT, bytes, timeoutMs: 20_000 })).elapsedMs;
}

async function rootQdisc(ns: string): Promise<string> {
  const { stdout } = await execFileAsync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'show']);
  return stdout;
}

test('a 1 Mbit/s limit from n1 to n2 slows that link only, and heals back to the default qdisc', { timeout: 90_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'flts', nodes: 3 });
  const [p1, p2, p3] = (await startProbes(t, lab)) as [Probe, Probe, Probe];
  const ns = p1.node.namespace;
  const before = await rootQdisc(ns);

  const baseline = await transfer(p1, p2);
  await applyShape({ namespace: ns, toAddresses: [p2.node.address], spec: { rateBitsPerSecond: RATE } });
  assert.equal((await shapedDevices({ namespace: ns })).length, 1);
  assert.deepEqual(await shapedAddresses({ namespace: ns }), [p2.node.address]);
  const [shaped, other, unrelated] = [await transfer(p1, p2), await transfer(p1, p3), await transfer(p3, p2)];
  const expectedMs = (BYTES * 8 * 1000) / RATE;
  t.diagnostic(`128 KiB n1 -> n2: ${baseline} ms unshaped, ${shaped} ms at 1 Mbit/s (ideal ${expectedMs.toFixed(0)} ms); n1 -> n3 ${other} ms, n3 -> n2 ${unrelated} ms`);
  assert.ok(shaped >= expectedMs * 0.75, `the shaped link took ${shaped} ms, expected at least ${(expectedMs * 0.75).toFixed(0)}`);
  assert.ok(shaped <= expectedMs * 3, `the shaped link took ${shaped} ms, far more than the limit explains`);
  assert.ok(other < expectedMs / 4, `n1 -> n3 took ${other} ms although it is not shaped`);
  assert.ok(unrelated < expectedMs / 4, `n3 -> n2 took ${unrelated} ms although it is not shaped`);

  // Two shaped links each get the whole rate (a class per destination), not a share of one.
  await applyShape({ namespace: ns, toAddresses: [p2.node.address, p3.node.address], spec: { rateBitsPerSecond: RATE } });
  const [to2, to3] = await Promise.all([transfer(p1, p2), transfer(p1, p3)]);
  t.diagnostic(`both links shaped, concurrently: n1 -> n2 ${to2} ms, n1 -> n3 ${to3} ms`);
  for (const ms of [to2, to3]) {
    assert.ok(ms >= expectedMs * 0.75, `a shaped link took ${ms} ms, expected at least ${(expectedMs * 0.75).toFixed(0)}`);
    assert.ok(ms < expectedMs * 1.6, `a shaped link took ${ms} ms with another one busy: the links share one rate (one link alone: ${shaped} ms)`);
  }

  // Replacing the shaped set moves the limit; heal removes it, twice is fine.
  await applyShape({ namespace: ns, toAddresses: [p3.node.address], spec: { rateBitsPerSecond: RATE } });
  assert.ok((await transfer(p1, p2)) < expectedMs / 4, 'the limit stayed on n1 -> n2 after it was moved to n3');
  await healShape({ namespace: ns });
  await healShape({ namespace: ns });
  assert.deepEqual(await shapedDevices({ namespace: ns }), []);
  assert.equal(await rootQdisc(ns), before, 'heal did not restore the qdiscs as they were');
  assert.ok((await transfer(p1, p3)) < expectedMs / 4, 'n1 -> n3 still slow after heal');
});

test('shaping refuses a device with a qdisc faultline did not create, bad values and protected addresses, and leaves nothing', { timeout: 60_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'fltt', nodes: 2 });
  const [n1, n2] = lab.nodes as [(typeof lab.nodes)[number], (typeof lab.nodes)[number]];
  const ns = n1.namespace;
  const dev = (JSON.parse((await execFileAsync('ip', ['netns', 'exec', ns, 'ip', '-j', 'route', 'get', n2.address])).stdout) as { dev: string }[])[0]!.dev;
  await execFileAsync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'tbf', 'rate', '100mbit', 'burst', '32kbit', 'latency', '400ms']);
  const theirs = await rootQdisc(ns);
  await assert.rejects(applyShape({ namespace: ns, toAddresses: [n2.address], spec: { rateBitsPerSecond: RATE } }), /has a tbf root qdisc .* faultline did not create/);
  assert.equal(await rootQdisc(ns), theirs, 'a refused shape changed the qdiscs');
  await healShape({ namespace: ns });
  assert.equal(await rootQdisc(ns), theirs, 'heal removed a qdisc that is not ours');
  await execFileAsync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', dev, 'root']);

  await assert.rejects(applyShape({ namespace: ns, toAddresses: [n2.address], spec: { jitterMs: 5 } }), /jitter needs a delay/);
  await assert.rejects(applyShape({ namespace: ns, toAddresses: [n2.address], spec: { reorderPercent: 5 } }), /reordering needs a delay/);
  await assert.rejects(applyShape({ namespace: ns, toAddresses: [n2.address], spec: { duplicatePercent: 150 } }), /duplicate \(%\) must be between 0 and 100/);
  await assert.rejects(applyShape({ namespace: ns, toAddresses: [n2.address], neverShape: [n2.address], spec: { rateBitsPerSecond: RATE } }), /protected address/);
  assert.deepEqual(await shapedDevices({ namespace: ns }), []);
});

test('netem parts: a 100 ms delay where the kernel has netem; refused with nothing left where it has not', { timeout: 60_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  const lab = await useLab(t, { prefix: 'fltu', nodes: 2 });
  const [p1, p2] = (await startProbes(t, lab)) as [Probe, Probe];
  const ns = p1.node.namespace;
  const netem = await netemAvailable();
  if (!netem.ok) {
    t.diagnostic(`no netem here (${netem.reason ?? ''}): checking the refusal`);
    await assert.rejects(applyShape({ namespace: ns, toAddresses: [p2.node.address], spec: { delayMs: 100 } }), /netem/i);
    assert.deepEqual(await shapedDevices({ namespace: ns }), [], 'a refused netem fault left a qdisc behind');
    return;
  }
  await applyShape({ namespace: ns, toAddresses: [p2.node.address], spec: { delayMs: 100 } });
  t.after(() => healShape({ namespace: ns }));
  const ms = await transfer(p1, p2, 16);
  t.diagnostic(`a 16-byte round trip n1 -> n2 with 100 ms delay took ${ms} ms`);
  assert.ok(ms >= 100, `the delayed round trip took ${ms} ms`);
  await healShape({ namespace: ns });
  assert.ok((await transfer(p1, p2, 16)) < 100, 'the delay stayed after heal');
});
