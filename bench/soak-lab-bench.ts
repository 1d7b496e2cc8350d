/**
 * `npm run bench:soak-lab`: the soak of issue 12's acceptance 2 on the 5-node lab: Redis + Sentinel under rotating
 * faults (partition, kill, pause) for 10 minutes at 1,000 ops/s asked, with online checking. Prints the controller's
 * RSS at minute 2 and at the end (the band: within ±20 %), the online checker's median and max lag (under 5 s),
 * sequence gaps (0), ops, the rate reached and the verdict, and the machine's load. Exits 1 when a band does not
 * hold. Options: --duration S (600), --rate HZ (1000), --concurrency N (40), --nemesis KINDS (partition,kill,pause),
 * --nemesis-interval S (20), --reference S (120), --workload W (counter), --lab-prefix P (flo; brought up and down
 * again when it is not up), --seed N (1), --store DIR (a temporary folder).
 * (`npm run bench:soak` is another benchmark: the cost of a long history at the end of a run, without a lab.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { soakLab, soakLabLines, type SoakLabOptions } from './soak-lab';

const CLI = resolve(__dirname, '../cli/main.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function main(): Promise<void> {
  const durationS = Number(arg('duration', '600'));
  const o: SoakLabOptions = {
    prefix: arg('lab-prefix', 'flo'),
    durationS,
    rateHz: Number(arg('rate', '1000')),
    concurrency: Number(arg('concurrency', '40')),
    nemesis: arg('nemesis', 'partition,kill,pause'),
    nemesisIntervalS: Number(arg('nemesis-interval', '20')),
    referenceS: Number(arg('reference', String(Math.min(120, durationS / 2)))),
    summaryIntervalS: Number(arg('summary-interval', '10')),
    store: resolve(arg('store', mkdtempSync(join(tmpdir(), 'flo-soak-')))),
    workload: arg('workload', 'counter'),
    seed: Number(arg('seed', '1')),
  };
  const status = cli(['lab', 'status', '--json', '--prefix', o.prefix]);
  const wasUp = status.code === 0 && (JSON.parse(status.stdout) as { nodes: unknown[] }).nodes.length > 0;
  if (!wasUp) {
    const up = cli(['lab', 'up', '--nodes', '5', '--prefix', o.prefix]);
    if (up.code !== 0) throw new Error(`Cannot bring the lab "${o.prefix}" up: ${up.stderr.trim()}`);
  }
  try {
    const f = await soakLab(o);
    for (const line of soakLabLines(o, f)) console.log(line);
    const holds = f.gaps === 0 && f.rssChangePct !== undefined && Math.abs(f.rssChangePct) <= 20 && f.lagMaxMs !== null && f.lagMaxMs < 5000 && (f.behindMaxMs ?? 0) < 5000;
    console.log(holds ? 'soak-lab: RSS within ±20 %, checker lag under 5 s, no gaps' : 'soak-lab: a band does not hold (RSS ±20 %, lag < 5 s, 0 gaps)');
    process.exitCode = holds ? 0 : 1;
  } finally {
    if (!wasUp) cli(['lab', 'down', '--prefix', o.prefix]);
  }
}

main().catch((err: unknown) => {
  console.error(`soak-lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 255;
});
