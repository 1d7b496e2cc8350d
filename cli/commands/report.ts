/**
 * `faultline report RUN_DIR`: rebuilds a run folder's report.html (and, with --trace or for big runs, the
 * Perfetto trace) from its stored history.jsonl, results.json and plan.json.
 */
import type { Command } from 'commander';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeRunReport } from '../../controller/report/write-report';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('rebuild RUN_DIR/report.html from the run\'s stored history.jsonl, results.json and plan.json')
    .argument('<run-dir>', 'a run folder, e.g. store/latest')
    .option('--trace', 'also write trace.json (Chrome trace events, opens in Perfetto); written anyway from 200,000 operations on')
    .action(async (dir: string, opts: { trace?: boolean }) => {
      const runDir = resolve(dir);
      if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new RangeError(`Cannot build a report: "${dir}" is not a folder`);
      if (!existsSync(join(runDir, 'history.jsonl'))) throw new RangeError(`Cannot build a report: no history.jsonl in "${dir}"`);
      const t0 = Date.now();
      const written = await writeRunReport(realpathSync(runDir), opts.trace ? { trace: true } : {});
      process.stdout.write(`report: ${written.path} (${written.ops} operations, ${(written.sizeBytes / 1e6).toFixed(1)} MB, ${Date.now() - t0} ms)\n`);
      if (written.tracePath) process.stdout.write(`trace: ${written.tracePath} (open in https://ui.perfetto.dev)\n`);
    });
}
