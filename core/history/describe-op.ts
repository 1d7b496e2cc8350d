/**
 * One wording for an operation wherever a verdict names one (`faultline run`'s summary, `faultline check`'s
 * output, the invariant checkers' offenders): `cas [1,2] by process 3 on n2 (event 40, line 41), info`.
 * Values are always JSON; the event index is always given, the file line when the history came from a file.
 */

/** `event 40, line 41`, or `event 40` when the line is unknown. */
export function whereInHistory(index: number, line?: number): string {
  return line !== undefined ? `event ${index}, line ${line}` : `event ${index}`;
}

export interface DescribableOp {
  index: number;
  process: number | string;
  f: string;
  type: string;
  /** The completion's value for ok ops, else the invocation's. */
  value: unknown;
  /** The invocation's value, when it differs from `value`. */
  invokeValue?: unknown;
  line?: number;
  node?: string;
}

/** `read 5 by process 3 on n2 (event 12, line 13), ok`: an ok op with what it returned, others with what they asked. */
export function describeOperation(o: DescribableOp): string {
  const v = o.type === 'ok' || o.invokeValue === undefined ? o.value : o.invokeValue;
  return `${o.f} ${JSON.stringify(v ?? null)} by process ${o.process}${o.node ? ` on ${o.node}` : ''} (${whereInHistory(o.index, o.line)}), ${o.type}`;
}
