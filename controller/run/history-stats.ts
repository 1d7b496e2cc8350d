/** What a run's history holds, counted in one pass over it (results.json `stats`; extend, never rename). */
export interface HistoryStats {
  events: number;
  invokes: number;
  ok: number;
  fail: number;
  info: number;
  /** Invocations with no completion at all (cut off). */
  open: number;
  nemesisEvents: number;
  /** Client events per node. */
  byNode: Record<string, number>;
  /** Faults applied, by kind (start-<kind> events completed ok). */
  faults?: Record<string, number>;
}
