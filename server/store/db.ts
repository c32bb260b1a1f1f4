/**
 * The embedded store: one SQLite file under the data dir (node:sqlite, synchronous and transactional,
 * no external service). Modules bring their own numbered migrations; each runs once, in order.
 */
import { DatabaseSync } from "node:sqlite";

/** A schema change, applied once. Ids are global across modules and never reused. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** The database handle modules use. */
export type Database = DatabaseSync;

/** Opens (creating if needed) `<dataDir>/alien3.db`, or an in-memory database for ":memory:". */
export function openDatabase(dataDir: string | ":memory:", migrations: readonly Migration[]): Database {
  const path = dataDir === ":memory:" ? ":memory:" : `${dataDir}/alien3.db`;
  const db = new DatabaseSync(path);
  db.exec(
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
  );
  migrate(db, migrations);
  return db;
}

/** Applies the migrations not yet applied, each in its own transaction. */
export function migrate(db: Database, migrations: readonly Migration[]): void {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  const applied = new Set(
    (db.prepare("SELECT id FROM schema_migrations").all() as Array<{ id: number }>).map((row) => row.id),
  );
  const ids = new Set<number>();
  for (const migration of [...migrations].sort((a, b) => a.id - b.id)) {
    if (ids.has(migration.id)) throw new Error(`Cannot migrate: migration id ${migration.id} is used twice`);
    ids.add(migration.id);
    if (applied.has(migration.id)) continue;
    transaction(db, () => {
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)").run(
        migration.id,
        migration.name,
        Date.now(),
      );
    });
  }
}

/** Runs `work` in a transaction, rolling back if it throws. */
export function transaction<T>(db: Database, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
