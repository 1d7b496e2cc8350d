import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, StringCodec } from 'nats';
import { labAccess } from '../../controller/lab/lab-access';
import { natsConnectOptions } from '../../controller/rpc/credentials';
import type { OnlineAlert } from '../../controller/online/online-check';
import { labSkipReason, REPO_ROOT } from '../support/netns';
import { runCli, tempDir } from '../support/processes';

/**
 * Online checking on a real 5-node lab ("flo"): Redis + Sentinel, set workload, the primary isolated for 15 s
 * (plans/redis-set.yaml, shortened to 30 s). The old primary acknowledges adds that the promoted replica never
 * had; once the final reads show them gone, online checking publishes the loss on `faultline.<run>.alerts`. A
 * subscriber here receives it within 10 s of the read that revealed it, before the run has ended, and the final
 * verdict (from the complete history) reports the same anomaly, the same number of lost elements.
 */
const PREFIX = 'flo';

test('Redis set, primary isolated: the lost adds are published on faultline.<run>.alerts within 10 s, and the final verdict agrees', { timeout: 300_000 }, async (t) => {
  const skip = await labSkipReason();
  if (skip) return t.skip(skip);
  t.after(async () => {
    await runCli(['lab', 'down', '--prefix', PREFIX], { timeoutMs: 120_000 });
  });
  const up = await runCli(['lab', 'up', '--nodes', '5', '--prefix', PREFIX], { timeoutMs: 120_000 });
  assert.equal(up.code, 0, up.stderr);
  const status = JSON.parse((await runCli(['lab', 'status', '--json', '--prefix', PREFIX])).stdout) as { nats: { url: string } };
  const nc = await connect({ servers: status.nats.url.split(','), timeout: 5000, ...natsConnectOptions(labAccess(PREFIX).nats) });
  t.after(() => nc.close());
  const received: { atMs: number; subject: string; alert: OnlineAlert }[] = [];
  const sc = StringCodec();
  const sub = nc.subscribe('faultline.*.alerts');
  void (async () => {
    for await (const m of sub) received.push({ atMs: Date.now(), subject: m.subject, alert: JSON.parse(sc.decode(m.data)) as OnlineAlert });
  })();
  await nc.flush();

  const store = tempDir(t, 'flo-online-');
  const res = await runCli(['run', join(REPO_ROOT, 'plans', 'redis-set.yaml'), '--time-limit', '30', '--seed', '21', '--store', store, '--lab-prefix', PREFIX], { timeoutMs: 240_000 });
  const exitedAtMs = Date.now();
  assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
  const dir = join(store, 'redis-set', readdirSync(join(store, 'redis-set'))[0]!);
  const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
    checks: Record<string, { valid: unknown; anomalies: Record<string, number>; lostCount?: number }>;
    online: { agrees: boolean; alerts: number; checkers: Record<string, { anomalies: Record<string, number> }>; lagMs: { maxMs: number | null } };
  };
  const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as { runId: string };
  const sf = results.checks['set-full']!;
  assert.equal(sf.valid, false, 'the final check finds the loss');
  assert.ok((sf.anomalies['lost'] ?? 0) > 0);

  // The alerts of this run, on exactly faultline.<run>.alerts.
  const mine = received.filter((r) => r.subject === `faultline.${plan.runId}.alerts`);
  const lost = mine.filter((r) => r.alert.checker === 'set-full' && r.alert.anomaly === 'lost');
  assert.ok(lost.length > 0, `a lost-element alert was published: ${JSON.stringify(received.map((r) => [r.subject, r.alert.anomaly]))}`);
  for (const r of lost) {
    const a = r.alert;
    assert.ok(Array.isArray(a.operations) && a.operations.length >= 2 && typeof a.time === 'string', JSON.stringify(a).slice(0, 400));
    const afterMs = r.atMs - a.revealedAtUnixMs;
    t.diagnostic(`alert on ${a.key}: ${a.count} lost, received ${afterMs} ms after the read that revealed it (a ${a.revealedBy.f} by process ${a.revealedBy.process} on ${a.revealedBy.node})`);
    assert.ok(afterMs >= 0 && afterMs <= 10_000, `received ${afterMs} ms after the op that revealed it`);
    assert.ok(r.atMs < exitedAtMs, 'received while the run was still going');
    assert.equal(a.revealedBy.f, 'read');
  }
  // Online and final agree: the same anomaly, and as many elements lost.
  const onlineLost = lost.reduce((s, r) => s + r.alert.count, 0);
  assert.equal(onlineLost, sf.lostCount, 'online checking found as many lost elements as the final check');
  assert.equal(results.online.agrees, true);
  assert.equal(results.online.checkers['set-full']!.anomalies['lost'], sf.lostCount);
  assert.ok(existsSync(join(dir, 'online.jsonl')));
  assert.equal(readFileSync(join(dir, 'online.jsonl'), 'utf8').trim().split('\n').length, mine.length, 'online.jsonl holds every alert published');
  assert.match(res.stdout, /online: \d+ alert\(s\).*agrees with the final check/);
});
