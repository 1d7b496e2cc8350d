/**
 * A client executes one workload's operations against one database (Jepsen's client protocol). One client is
 * opened per process, beside its database module in agent/db/<db>/. The generic loop (runner.ts) owns rate,
 * concurrency, retirement after `info`, events and deadlines; a client only invokes and maps outcomes.
 */
import type { Completion, Invocation, WorkloadPhase } from '../../core/workloads';

export interface ClientContext {
  /** This node's name and address, and every member of the cluster (in the order the controller gave them). */
  node: string;
  address: string;
  members: { node: string; address: string }[];
  /** The database's options, resolved (every key of its spec present). */
  options: Readonly<Record<string, string>>;
  /** The run's `--keys` (bank: how many accounts exist, for clients that must create them). */
  keyCount: number;
  /** A client must answer within this; the loop records a later answer as `info` anyway. */
  opTimeoutMs: number;
  /** The final phase may read differently (e.g. Redis reads each node's own copy, not the primary's). */
  phase: WorkloadPhase;
}

export interface Client {
  /**
   * Invokes `op`: `ok` with what the database returned, `fail` only when the operation certainly did not take
   * effect, `info` when it may have (timeouts, lost connections, anything unclear). Never throws for the
   * database's errors: an unexpected exception is recorded as `info` by the loop.
   */
  invoke(op: Invocation, signal: AbortSignal): Promise<Completion>;
  close(): Promise<void>;
}

export type ClientFactory = (ctx: ClientContext) => Client;

/** The text of an error for the history: short, one line. */
export function errorText(err: unknown): string {
  const s = err instanceof Error ? err.message : String(err);
  return s.replace(/\s+/g, ' ').slice(0, 200);
}
