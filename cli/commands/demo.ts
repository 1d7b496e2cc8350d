import type { Command } from 'commander';
import { labDown, labUp } from '../../controller/lab/lab';
import type { RunOptions } from '../../controller/run/run-options';
import { cliLogger } from '../logger';
import { addRunOptions, runAndReport } from './run';

/** `faultline demo`: lab up, the etcd register test with partitions, verdict, lab down (also on failure). */
export function registerDemoCommand(program: Command): void {
  addRunOptions(program.command('demo').description('bring up a 5-node lab, run etcd under partitions, print the verdict, take the lab down')).action(
    async (opts: RunOptions) => {
      const log = cliLogger();
      const prefix = opts.labPrefix ?? 'fl';
      process.stderr.write(`faultline: bringing up a 5-node lab ("${prefix}")...\n`);
      await labUp({ nodes: 5, prefix }, log);
      try {
        process.exitCode = (await runAndReport({ ...opts, nodes: 'lab' })).code;
      } finally {
        process.stderr.write('faultline: taking the lab down...\n');
        await labDown(prefix, log);
      }
    },
  );
}
