/**
 * A workload is what the clients do and how the result is judged (Jepsen's workload map): a seeded generator of
 * operations for each client process, an optional final phase run on every node after the faults are healed
 * (final reads), and the checkers that judge the history. Pure: the agents run the generators, the controller
 * runs the checkers; neither knows which workload it is driving.
 */
import type { Random } from '../generator/random';

export type CompletionType = 'ok' | 'fail' | 'info';

/** One operation to invoke. `value` is plain JSON; its shape depends on `f` (see each workload's doc). */
export interface Invocation {
  f: string;
  /** Independent key for keyed workloads; absent for single-object and transactional ones. */
  key?: string;
  value: unknown;
  /**
   * Wait this long before invoking it (lock: how long a held lock is kept before its release). Not part of the
   * history. A stop during the wait skips the op; the generator's `drain` then says what must still run.
   */
  delayMs?: number;
}

/**
 * What a client made of one invocation: `ok` happened (value: what the database returned), `fail` certainly did
 * not happen, `info` unknown (it may still take effect later). In doubt, `info`.
 */
export interface Completion {
  type: CompletionType;
  value: unknown;
  /** The client's reason, for people: the database's error, "timeout after 1500 ms", ... */
  error?: string;
}

/** The knobs every generator gets; a workload ignores those that mean nothing to it. */
export interface GeneratorContext {
  /** Independent keys in use at a time (for bank: the accounts; for lock: the locks). */
  keyCount: number;
  /** Keys rotate to fresh ones this often (controller timeline), bounding each key's history. */
  keyPeriodNanos: number;
}

/** A per-process stream of operations. */
export interface OpGenerator {
  /**
   * The next operation for `process` at time `nowNanos` on the controller's timeline, or undefined when this
   * process has nothing more to do in this phase.
   */
  next(process: number, nowNanos: number): Invocation | undefined;
  /** Feeds the completion of the last operation `next` returned, so the generator can adapt (e.g. cas values). */
  complete(op: Invocation, done: Completion): void;
  /**
   * The operation a process must still run when its phase is stopped, or undefined (lock: the release of a lock
   * it holds). It goes into the history like any other, so the history ends in a state it can explain: a lock
   * dropped silently at the end would look held while another node's last acquire took it.
   */
  drain?(process: number): Invocation | undefined;
}

/** A checker the workload's histories are judged by, with the options it needs (see core/checker/registry.ts). */
export interface CheckerUse {
  name: string;
  options?: Record<string, unknown>;
}

export type WorkloadPhase = 'main' | 'final';

export interface Workload {
  readonly name: string;
  /** One line for `--help` and docs/extending.md. */
  readonly description: string;
  /** Operation names its clients must implement (what a client for this workload is asked to invoke). */
  readonly fs: readonly string[];
  /** The checkers that judge it; a run composes all of them and its verdict is the worst. */
  checkers(ctx: GeneratorContext): CheckerUse[];
  /** The main phase: one generator per client process, seeded per process. */
  generator(ctx: GeneratorContext, rng: Random): OpGenerator;
  /**
   * The final phase, run on every node by one process once faults are healed and the cluster has recovered
   * (e.g. a read of every key, retried until it succeeds). Absent when the workload needs none.
   */
  finalGenerator?(ctx: GeneratorContext, rng: Random): OpGenerator;
}

/** Process ids are unique across nodes and never reused, so (process, counter) makes run-unique values. */
export function uniqueValue(process: number, counter: number): number {
  return (process + 1) * 1_000_000_000 + counter;
}

/** The key in use at `nowNanos` for slot `i`: keys rotate every period so each key's history stays small. */
export function rotatingKey(ctx: GeneratorContext, nowNanos: number, i: number): string {
  const epoch = Math.floor(Math.max(0, nowNanos) / ctx.keyPeriodNanos);
  return `e${epoch}k${i}`;
}

/** Fixed keys k0…k(n-1), for workloads whose final phase must read every key ever written. */
export function fixedKeys(ctx: GeneratorContext): string[] {
  return [...Array(ctx.keyCount).keys()].map((i) => `k${i}`);
}

/**
 * A final phase that reads each of `keys` once, retrying a read until it is `ok` (at most `attempts` times):
 * Jepsen's final reads, which make lost writes visible after the heal.
 */
export function finalReads(keys: readonly string[], attempts = 20): OpGenerator {
  let i = 0;
  let tries = 0;
  return {
    next: () => (i < keys.length ? { f: 'read', key: keys[i]!, value: null } : undefined),
    complete: (_op, done) => {
      tries++;
      if (done.type === 'ok' || tries >= attempts) {
        i++;
        tries = 0;
      }
    },
  };
}
