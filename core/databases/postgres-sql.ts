/**
 * The SQL the PostgreSQL clients run, in one place: the agent's clients execute these strings and plan.json
 * records them (docs/sql.md explains the layout). `$n` are bind parameters.
 */
export const PG_SQL = {
  schema: [
    'CREATE TABLE IF NOT EXISTS lists (k text PRIMARY KEY, v text NOT NULL)',
    'CREATE TABLE IF NOT EXISTS registers (k text PRIMARY KEY, v bigint NOT NULL)',
    'CREATE TABLE IF NOT EXISTS accounts (k text PRIMARY KEY, balance bigint NOT NULL)',
  ],
  begin: 'BEGIN ISOLATION LEVEL <READ COMMITTED | REPEATABLE READ | SERIALIZABLE>',
  commit: 'COMMIT',
  append: "INSERT INTO lists (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = lists.v || ',' || excluded.v",
  readList: 'SELECT v FROM lists WHERE k = $1',
  write: 'INSERT INTO registers (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v',
  readRegister: 'SELECT v FROM registers WHERE k = $1',
  createAccounts: 'INSERT INTO accounts (k, balance) VALUES ($1, 10), ($2, 10), ... ON CONFLICT (k) DO NOTHING',
  readBalance: 'SELECT balance FROM accounts WHERE k = $1',
  setBalance: 'UPDATE accounts SET balance = $1 WHERE k = $2',
  readAccounts: 'SELECT k, balance FROM accounts',
} as const;

/** The statements each workload's client runs, as plan.json records them. */
export const PG_STATEMENTS: Readonly<Record<string, readonly string[]>> = {
  'list-append': [PG_SQL.begin, PG_SQL.append, PG_SQL.readList, PG_SQL.commit],
  'rw-register': [PG_SQL.begin, PG_SQL.write, PG_SQL.readRegister, PG_SQL.commit],
  bank: [PG_SQL.createAccounts, PG_SQL.begin, PG_SQL.readBalance, PG_SQL.setBalance, PG_SQL.readAccounts, PG_SQL.commit],
};
