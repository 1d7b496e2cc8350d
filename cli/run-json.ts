import type { RunOutcome } from '../controller/run/run-test';

/** What `faultline run --json` prints on stdout: one object, at the end. */
export interface RunJson {
  verdict: 'valid' | 'invalid' | 'unknown';
  valid: true | false | 'unknown';
  reason?: string;
  interrupted: boolean;
  /** Per checker: its verdict, anomaly counts (when it has them) and summary lines. */
  checks: Record<string, { valid: unknown; anomalies?: Record<string, number>; summary?: string[]; invalidKeys?: string[]; unknownKeys?: number }>;
  counts: { invokes: number; ok: number; fail: number; info: number; open: number; events: number; nemesisEvents: number; gaps: number };
  folder: string;
  report: string;
}

export function runJson(outcome: RunOutcome): RunJson {
  const v = outcome.verdict;
  const checks: RunJson['checks'] = {};
  for (const [name, raw] of Object.entries((v.checks ?? {}) as Record<string, unknown>)) {
    if (!raw || typeof raw !== 'object') continue;
    const r = raw as Record<string, unknown>;
    const entry: RunJson['checks'][string] = { valid: r['valid'] };
    const an = r['anomalies'];
    if (an && typeof an === 'object' && !Array.isArray(an)) {
      entry.anomalies = Object.fromEntries(
        Object.entries(an as Record<string, unknown>).map(([k, x]) => [k, typeof x === 'number' ? x : Number((x as { count?: unknown } | null)?.count ?? 0)]),
      );
    }
    if (Array.isArray(r['summary'])) entry.summary = (r['summary'] as unknown[]).map(String);
    if (Array.isArray(r['invalidKeys'])) entry.invalidKeys = (r['invalidKeys'] as unknown[]).map(String);
    if (Array.isArray(r['unknownKeys'])) entry.unknownKeys = (r['unknownKeys'] as unknown[]).length;
    checks[name] = entry;
  }
  const s = v.stats;
  return {
    verdict: v.valid === true ? 'valid' : v.valid === false ? 'invalid' : 'unknown',
    valid: v.valid,
    ...(v.reason !== undefined ? { reason: v.reason } : {}),
    interrupted: outcome.interrupted,
    checks,
    counts: {
      invokes: s?.invokes ?? 0, ok: s?.ok ?? 0, fail: s?.fail ?? 0, info: s?.info ?? 0, open: s?.open ?? 0,
      events: s?.events ?? 0, nemesisEvents: s?.nemesisEvents ?? 0, gaps: v.gaps.length,
    },
    folder: outcome.storeDir,
    report: `${outcome.storeDir}/report.html`,
  };
}
