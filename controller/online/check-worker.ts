/**
 * The online checker's worker thread: runs the searches of closed windows (a retired key's linearizability, a
 * closed transaction window's Elle check) off the controller's event loop, so that a long search never delays the
 * collector, the leases or the clock sync. One task at a time, in the order sent; each answers with its verdict.
 */
import { parentPort } from 'node:worker_threads';
import { runChecker, type CheckerOptions, type CheckerVerdict } from '../../core/checker/registry';
import type { Op } from '../../core/history/operation';

export interface WindowTask {
  id: number;
  checker: string;
  ops: Op[];
  options: CheckerOptions;
}

export type WindowAnswer = { id: number; verdict: CheckerVerdict } | { id: number; error: string };

parentPort?.on('message', (task: WindowTask) => {
  runChecker(task.checker, task.ops, task.options).then(
    (out) => parentPort!.postMessage({ id: task.id, verdict: out.verdict } satisfies WindowAnswer),
    (err: unknown) => parentPort!.postMessage({ id: task.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) } satisfies WindowAnswer),
  );
});
