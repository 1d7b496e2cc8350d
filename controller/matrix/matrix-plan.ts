/**
 * `faultline matrix --vary NAME=V1,V2,...`: the cells of a matrix of runs. NAME is any run option by its flag name
 * (`isolation`, `nemesis`, `time-limit`, ...), `db-opt.KEY`, or a bare KEY that is an option of the database.
 * Every cell is checked the way `faultline run` checks its options before anything runs.
 */
import { findDatabase } from '../../core/databases';
import { UsageError } from '../../core/errors';
import { PLAN_KEYS } from '../run/plan-file';
import { resolveRunOptions, type RunConfig, type RunOptions } from '../run/run-options';

/** One varied option: its name as the user wrote it and the values it takes. */
export interface Vary {
  name: string;
  values: string[];
}

export interface MatrixCell {
  /** The varied options of this cell, by the names the user gave them (the table's columns). */
  params: Record<string, string>;
  options: RunOptions;
}

/** Parses `NAME=V1,V2,...` (in a `nemesis` value, `+` joins kinds: `--vary nemesis=none,partition+kill`). @throws UsageError */
export function parseVary(spec: string): Vary {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)=(.+)$/.exec(spec.trim());
  if (!m) throw new UsageError(`Cannot run the matrix: --vary must be NAME=V1,V2,..., got "${spec}"`);
  const values = m[2]!.split(',').map((v) => v.trim()).filter(Boolean);
  if (values.length === 0) throw new UsageError(`Cannot run the matrix: --vary ${m[1]!} has no values`);
  if (new Set(values).size !== values.length) throw new UsageError(`Cannot run the matrix: --vary ${m[1]!} names a value twice`);
  return { name: m[1]!, values };
}

const NUMERIC_FIELDS = new Set<keyof RunOptions>(['timeLimit', 'concurrency', 'rate', 'nemesisInterval', 'seed', 'recoveryTime', 'opTimeout', 'keys', 'keyPeriod', 'checkTimeLimit']);

/** `options` with the varied option `name` set to `value`. @throws UsageError for a name that is no option */
function applyVary(options: RunOptions, name: string, value: string): RunOptions {
  const dbOptKey = name.startsWith('db-opt.') ? name.slice('db-opt.'.length) : undefined;
  const field = PLAN_KEYS[name];
  if (dbOptKey === undefined && field !== undefined && Object.hasOwn(PLAN_KEYS, name)) {
    if (field === 'dbOpt') throw new UsageError('Cannot run the matrix: vary a database option as db-opt.KEY=V1,V2');
    if (NUMERIC_FIELDS.has(field)) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`Cannot run the matrix: --vary ${name}: "${value}" is not a number`);
      return { ...options, [field]: n };
    }
    return { ...options, [field]: field === 'nemesis' ? value.replaceAll('+', ',') : value };
  }
  const key = dbOptKey ?? name;
  const spec = findDatabase(options.db);
  if (dbOptKey === undefined && !(spec && Object.hasOwn(spec.options, key))) {
    throw new UsageError(`Cannot run the matrix: --vary ${name}: no run option or ${options.db} option has that name (run options: ${Object.keys(PLAN_KEYS).filter((k) => k !== 'db-opt').join(', ')}; or db-opt.KEY)`);
  }
  const rest = (options.dbOpt ?? []).filter((o) => !o.startsWith(`${key}=`));
  return { ...options, dbOpt: [...rest, `${key}=${value}`] };
}

/** The cartesian product of the varied options over `base`, in the order given (the last varies fastest). */
export function matrixCells(base: RunOptions, varies: readonly Vary[]): MatrixCell[] {
  const names = varies.map((v) => v.name);
  if (new Set(names).size !== names.length) throw new UsageError('Cannot run the matrix: an option is varied twice');
  let cells: MatrixCell[] = [{ params: {}, options: base }];
  for (const v of varies) {
    cells = cells.flatMap((c) => v.values.map((value) => ({ params: { ...c.params, [v.name]: value }, options: applyVary(c.options, v.name, value) })));
  }
  return cells;
}

/** Every cell's options resolved, so a bad value stops the matrix before its first run. @throws UsageError */
export function resolveCells(cells: readonly MatrixCell[]): RunConfig[] {
  return cells.map((c) => {
    try {
      return resolveRunOptions(c.options);
    } catch (err) {
      if (err instanceof UsageError) {
        const where = Object.entries(c.params).map(([k, v]) => `${k}=${v}`).join(' ');
        throw new UsageError(`${err.message.replace(/^Cannot run: /, 'Cannot run the matrix: ')}${where ? ` (in the cell ${where})` : ''}`);
      }
      throw err;
    }
  });
}
