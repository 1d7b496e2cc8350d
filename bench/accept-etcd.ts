/**
 * `npm run accept:etcd`: the long etcd acceptance runs of issue 9, repeatable by anyone with the lab. Runs
 * plans/etcd-set.yaml, plans/etcd-list-append.yaml and plans/etcd-register.yaml for 3 minutes each under
 * `--nemesis partition,kill` (and with `--pause`, once more each under `--nemesis pause`), one after the other on
 * the lab `--lab-prefix` (brought up first when it is down, and then taken down again), and prints each run's
 * verdict, every checker's verdict, op counts, the faults that ran, the wall time and the run folder. Exits 1 when
 * a run was not valid. Options: --lab-prefix P (default fla), --time-limit S (default 180), --seed N, --pause,
 * --store DIR (default store).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const WORKLOADS = ['set', 'list-append', 'register'] as const;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Results {
  valid: unknown;
  reason?: string;
  stats?: { ok: number; fail: number; info: number; invokes: number; faults?: Record<string, number> };
  checks: Record<string, { valid: unknown; summary: string[] }>;
}

function main(): void {
  const prefix = arg('lab-prefix', 'fla');
  const timeLimit = arg('time-limit', '180');
  const store = resolve(arg('store', 'store'));
  const seed = arg('seed', '');
  const nemeses = ['partition,kill', ...(process.argv.includes('--pause') ? ['pause'] : [])];
  const wasUp = cli(['lab', 'status', '--json', '--prefix', prefix]);
  const up = wasUp.code === 0 && (JSON.parse(wasUp.stdout) as { nodes: unknown[] }).nodes.length > 0;
  if (!up) {
    const r = cli(['lab', 'up', '--nodes', '5', '--prefix', prefix]);
    if (r.code !== 0) throw new Error(`Cannot bring the lab "${prefix}" up: ${r.stderr.trim()}`);
  }
  let failed = 0;
  try {
    for (const nemesis of nemeses) {
      for (const w of WORKLOADS) {
        const started = Date.now();
        const args = ['run', join(ROOT, 'plans', `etcd-${w}.yaml`), '--lab-prefix', prefix, '--time-limit', timeLimit, '--nemesis', nemesis, '--store', store, ...(seed ? ['--seed', seed] : [])];
        const r = cli(args);
        const seconds = ((Date.now() - started) / 1000).toFixed(0);
        const dir = /store: (\S+)/.exec(r.stdout)?.[1];
        const results = dir && existsSync(join(dir, 'results.json')) ? (JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results) : undefined;
        if (r.code !== 0) failed++;
        console.log(`etcd ${w} under ${nemesis}, ${timeLimit} s: exit ${r.code}, verdict ${String(results?.valid ?? 'none')}${results?.reason ? ` (${results.reason})` : ''}, ${seconds} s wall`);
        if (results?.stats) {
          const s = results.stats;
          console.log(`  ops: ${s.invokes} invoked, ok ${s.ok}, fail ${s.fail}, info ${s.info}; faults: ${Object.entries(s.faults ?? {}).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
        }
        for (const [name, c] of Object.entries(results?.checks ?? {})) console.log(`  check ${name}: ${String(c.valid)}: ${c.summary[0] ?? ''}`);
        if (dir) console.log(`  run folder: ${dir}${existsSync(dir) ? ` (${readdirSync(dir).join(', ')})` : ''}`);
        if (!results) console.log(`  ${(r.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}`);
      }
    }
  } finally {
    if (!up) cli(['lab', 'down', '--prefix', prefix]);
  }
  console.log(failed === 0 ? 'accept:etcd: every run valid' : `accept:etcd: ${failed} run(s) not valid`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main();
