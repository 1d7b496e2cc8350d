/**
 * What the controller and the CLI know of a database without running it: its name, the Debian packages it needs,
 * its typed options (`--db-opt KEY=VALUE`), the abilities its agent module declares (Jepsen's db protocols: kill,
 * pause, primary, clock) and the workloads it has a client for. The agent's module for it (agent/db/<name>/)
 * implements exactly this; a unit test keeps the two in step.
 */

/** Optional abilities a module declares instead of the controller assuming them. */
export type DbAbility = 'kill' | 'pause' | 'primary' | 'clock-faketime';

/** One `--db-opt` key: what it means, its default, and how a value is checked. */
export interface DbOptionSpec {
  description: string;
  /** Shown in help and recorded in plan.json when the user gives none. */
  default: string;
  /** Returns an error text when `value` is not acceptable, else undefined. */
  validate(value: string): string | undefined;
}

export interface DatabaseSpec {
  readonly name: string;
  readonly description: string;
  /** Debian packages that provide its binaries, for error messages and setup. */
  readonly packages: readonly string[];
  readonly options: Readonly<Record<string, DbOptionSpec>>;
  readonly abilities: readonly DbAbility[];
  /** Workloads this database has a client for. */
  readonly workloads: readonly string[];
  /** The statements its client of each workload runs (SQL databases), recorded in plan.json. */
  readonly statements?: Readonly<Record<string, readonly string[]>>;
  /** Why a clock fault through libfaketime cannot reach it (Go programs), when it cannot. */
  readonly faketimeRefusal?: string;
}

/** Option validators. */
export const opt = {
  int(min: number, max: number, description: string, dflt: number): DbOptionSpec {
    return {
      description,
      default: String(dflt),
      validate: (v) => (/^-?\d+$/.test(v) && Number(v) >= min && Number(v) <= max ? undefined : `must be a whole number from ${min} to ${max}`),
    };
  },
  oneOf(values: readonly string[], description: string, dflt: string): DbOptionSpec {
    return { description, default: dflt, validate: (v) => (values.includes(v) ? undefined : `must be one of ${values.join(', ')}`) };
  },
};

/**
 * Every option of `spec` resolved: the user's values checked, the rest defaulted.
 * @throws RangeError naming the unknown key (and the keys that exist) or the bad value.
 */
export function resolveDbOptions(spec: DatabaseSpec, given: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(given)) {
    const o = spec.options[k];
    if (!o) {
      const known = Object.keys(spec.options);
      throw new RangeError(`unknown --db-opt "${k}" for ${spec.name} (${known.length > 0 ? `it has ${known.join(', ')}` : 'it takes no options'})`);
    }
    const problem = o.validate(v);
    if (problem !== undefined) throw new RangeError(`--db-opt ${k}=${v} for ${spec.name}: ${problem}`);
    out[k] = v;
  }
  for (const [k, o] of Object.entries(spec.options)) if (!(k in out)) out[k] = o.default;
  return out;
}
