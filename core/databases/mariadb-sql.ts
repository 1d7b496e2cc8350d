/** The SQL the MariaDB clients run (agent/db/mariadb/), recorded in plan.json; `?` are bind parameters. */
export const MY_SQL = {
  schema: [
    'CREATE TABLE IF NOT EXISTS lists (k VARCHAR(64) PRIMARY KEY, v LONGTEXT NOT NULL) ENGINE=InnoDB',
    'CREATE TABLE IF NOT EXISTS registers (k VARCHAR(64) PRIMARY KEY, v BIGINT NOT NULL) ENGINE=InnoDB',
    'CREATE TABLE IF NOT EXISTS accounts (k VARCHAR(64) PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB',
  ],
  isolation: 'SET SESSION TRANSACTION ISOLATION LEVEL <READ UNCOMMITTED | READ COMMITTED | REPEATABLE READ | SERIALIZABLE>',
  begin: 'START TRANSACTION',
  commit: 'COMMIT',
  append: "INSERT INTO lists (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = CONCAT(v, ',', VALUES(v))",
  readList: 'SELECT v FROM lists WHERE k = ?',
  write: 'INSERT INTO registers (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)',
  readRegister: 'SELECT v FROM registers WHERE k = ?',
  createAccounts: 'INSERT IGNORE INTO accounts (k, balance) VALUES (?, 10), (?, 10), ...',
  readBalance: 'SELECT balance FROM accounts WHERE k = ?',
  setBalance: 'UPDATE accounts SET balance = ? WHERE k = ?',
  readAccounts: 'SELECT k, balance FROM accounts',
} as const;

export const MY_STATEMENTS: Readonly<Record<string, readonly string[]>> = {
  'list-append': [MY_SQL.isolation, MY_SQL.begin, MY_SQL.append, MY_SQL.readList, MY_SQL.commit],
  'rw-register': [MY_SQL.isolation, MY_SQL.begin, MY_SQL.write, MY_SQL.readRegister, MY_SQL.commit],
  bank: [MY_SQL.createAccounts, MY_SQL.isolation, MY_SQL.begin, MY_SQL.readBalance, MY_SQL.setBalance, MY_SQL.readAccounts, MY_SQL.commit],
};
