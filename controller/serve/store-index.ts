/**
 * The runs of a store folder (`<store>/<test>/<start-time>/`), newest first, with what the run list shows and
 * filters on: verdict, database, workload, faults. Read-only: it never writes into the store.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface RunEntry {
  /** `<test>/<start-time>`, the run's path under the store. */
  id: string;
  test: string;
  stamp: string;
  /** ISO time the run started, from its folder name. */
  startedAt: string | null;
  verdict: 'valid' | 'invalid' | 'unknown' | 'unchecked';
  reason?: string;
  db: string;
  workload: string;
  /** Fault kinds the plan rotated through. */
  faults: string[];
  ops: number | null;
  hasReport: boolean;
}

export interface RunFilter {
  verdict?: string;
  db?: string;
  workload?: string;
}

/** `2026-12-01T084510Z` -> `2026-12-01T08:45:10Z`. */
function stampToIso(stamp: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  return m ? `${m[1]}T${m[2]}:${m[3]}:${m[4]}Z` : null;
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // Missing, or still being written by a run in progress: the run shows without it.
    return null;
  }
}

const cache = new Map<string, { mtimeMs: number; entry: RunEntry }>();

function readRun(store: string, test: string, stamp: string): RunEntry | undefined {
  const dir = join(store, test, stamp);
  const results = join(dir, 'results.json');
  const mtimeMs = existsSync(results) ? statSync(results).mtimeMs : 0;
  const key = `${dir}\0${existsSync(join(dir, 'report.html'))}`;
  const hit = cache.get(key);
  if (hit && hit.mtimeMs === mtimeMs) return hit.entry;
  const plan = readJson(join(dir, 'plan.json'));
  if (plan === null && !existsSync(join(dir, 'history.jsonl'))) return undefined;
  const r = mtimeMs ? readJson(results) : null;
  const valid = r?.['valid'];
  const stats = r?.['stats'] as { invokes?: unknown } | undefined;
  const entry: RunEntry = {
    id: `${test}/${stamp}`,
    test,
    stamp,
    startedAt: stampToIso(stamp),
    verdict: r === null ? 'unchecked' : valid === true ? 'valid' : valid === false ? 'invalid' : 'unknown',
    db: String(plan?.['db'] ?? ''),
    workload: String(plan?.['workload'] ?? ''),
    faults: Array.isArray(plan?.['nemesis']) ? (plan['nemesis'] as unknown[]).map(String) : [],
    ops: typeof stats?.invokes === 'number' ? stats.invokes : null,
    hasReport: existsSync(join(dir, 'report.html')),
  };
  if (typeof r?.['reason'] === 'string') entry.reason = r['reason'];
  cache.set(key, { mtimeMs, entry });
  return entry;
}

/** Every run folder of the store, newest first (ties by test name). Symlinks such as `latest` are skipped. */
export function listRuns(store: string, filter: RunFilter = {}): RunEntry[] {
  const runs: RunEntry[] = [];
  if (!existsSync(store)) return runs;
  for (const t of readdirSync(store, { withFileTypes: true })) {
    if (!t.isDirectory()) continue;
    for (const s of readdirSync(join(store, t.name), { withFileTypes: true })) {
      if (!s.isDirectory()) continue;
      const run = readRun(store, t.name, s.name);
      if (run) runs.push(run);
    }
  }
  runs.sort((a, b) => (a.stamp < b.stamp ? 1 : a.stamp > b.stamp ? -1 : a.test.localeCompare(b.test)));
  return runs.filter(
    (r) => (!filter.verdict || r.verdict === filter.verdict) && (!filter.db || r.db === filter.db) && (!filter.workload || r.workload === filter.workload),
  );
}
