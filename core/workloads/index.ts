/**
 * The workload registry: every workload by name. Adding a workload is its own file here plus one line below.
 */
import { bankWorkload } from './bank';
import { counterWorkload } from './counter';
import { listAppendWorkload } from './list-append';
import { lockWorkload } from './lock';
import { registerWorkload } from './register';
import { rwRegisterWorkload } from './rw-register';
import { setWorkload } from './set';
import type { Workload } from './workload';

export type { Completion, CheckerUse, GeneratorContext, Invocation, OpGenerator, Workload, WorkloadPhase } from './workload';

const ALL: readonly Workload[] = [registerWorkload, setWorkload, counterWorkload, bankWorkload, listAppendWorkload, rwRegisterWorkload, lockWorkload];

export const WORKLOADS: ReadonlyMap<string, Workload> = new Map(ALL.map((w) => [w.name, w]));
export const WORKLOAD_NAMES: readonly string[] = ALL.map((w) => w.name);

/** The workload named `name`, or undefined. */
export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.get(name);
}
