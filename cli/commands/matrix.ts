import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { matrixCells, parseVary, resolveCells, type Vary } from '../../controller/matrix/matrix-plan';
import { matrixExitCode, matrixMarkdown } from '../../controller/matrix/matrix-table';
import { runMatrix } from '../../controller/matrix/run-matrix';
import { readPlanFile } from '../../controller/run/plan-file';
import type { RunOptions } from '../../controller/run/run-options';
import { cliLogger } from '../logger';
import { addRunOptions, mergeOptions } from './run';

const word = (v: unknown): string => (v === true ? 'VALID' : v === false ? 'INVALID' : 'UNKNOWN');

/**
 * `faultline matrix [PLAN.yaml] [run options] --vary NAME=V1,V2,... [--vary ...] [--test-count N]`: the same test
 * over the cartesian product of the varied options, N runs per cell, and one table of verdicts and anomalies.
 */
export function registerMatrixCommand(program: Command): void {
  const cmd = addRunOptions(
    program
      .command('matrix [plan]')
      .description('run a test over every combination of the --vary options (N runs each) and tabulate verdicts and anomalies (store/matrix/<time>/matrix.json, matrix.md)'),
  )
    .option('--vary <name=v1,v2>', 'an option and its values: a run option by flag name (isolation, nemesis, time-limit, ...), db-opt.KEY, or a --db-opt key; repeatable (in nemesis values, + joins kinds)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--test-count <n>', 'runs per cell', (v: string) => Number(v), 1)
    .addHelpText(
      'after',
      '\nExit code: 1 when any run is invalid, else 2 when any is unknown (or the matrix was stopped early), else 0.\nCtrl-C stops after the current run (twice: stops the current run too) and still writes the table.',
    );
  cmd.action(async (plan: string | undefined, opts: RunOptions & { vary?: string[]; testCount: number }, self: Command) => {
    const { vary: varySpecs, testCount, ...given } = opts;
    if (!Number.isInteger(testCount) || testCount < 1) throw new UsageError('Cannot run the matrix: --test-count must be a whole number of at least 1');
    if (!varySpecs || varySpecs.length === 0) throw new UsageError('Cannot run the matrix: give at least one --vary NAME=V1,V2,...');
    const base = mergeOptions(self, given as RunOptions, plan !== undefined ? [readPlanFile(plan)] : []);
    // One seed for the whole matrix, so that the cells differ only in what is varied.
    base.seed ??= Math.floor(Math.random() * 2 ** 31);
    const varies: Vary[] = varySpecs.map(parseVary);
    const cells = matrixCells(base, varies);
    const configs = resolveCells(cells);

    const stopAfterRun = new AbortController();
    const abortRun = new AbortController();
    const onInt = () => {
      if (!stopAfterRun.signal.aborted) {
        process.stderr.write('faultline: SIGINT: stopping after the current run (Ctrl-C again stops it too); the table will be written\n');
        stopAfterRun.abort();
      } else if (!abortRun.signal.aborted) {
        process.stderr.write('faultline: SIGINT: stopping the current run and undoing all faults...\n');
        abortRun.abort(new Error('SIGINT'));
      }
    };
    const onTerm = () => {
      stopAfterRun.abort();
      abortRun.abort(new Error('SIGTERM'));
    };
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const total = cells.length * testCount;
    let done = 0;
    process.stderr.write(`faultline: matrix of ${cells.length} cell(s) × ${testCount} run(s), seed ${base.seed}\n`);
    try {
      const { result, dir } = await runMatrix(cells, configs, {
        testCount,
        storeRoot: base.store,
        vary: varies,
        log: cliLogger(),
        stopAfterRun: stopAfterRun.signal,
        abortRun: abortRun.signal,
        progress: {
          onRun(cell, i, run) {
            const where = Object.entries(cell.params).map(([k, v]) => `${k}=${v}`).join(' ');
            if (run === undefined) process.stderr.write(`faultline: run ${done + 1}/${total}: ${where} (#${i + 1})\n`);
            else {
              done++;
              const anomalies = Object.entries(run.anomalies).map(([a, n]) => `${a} ×${n}`).join(', ');
              process.stderr.write(`faultline:   ${word(run.valid)}${anomalies ? `: ${anomalies}` : ''}${run.reason ? ` (${run.reason})` : ''}${run.dir ? ` ${run.dir}` : ''}\n`);
            }
          },
        },
      });
      process.stdout.write(matrixMarkdown(result));
      process.stdout.write(`${result.complete ? '' : `stopped early: ${done} of ${total} runs done\n`}matrix: ${dir}/matrix.json, ${dir}/matrix.md\n`);
      process.exitCode = matrixExitCode(result);
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    }
  });
}
