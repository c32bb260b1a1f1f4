/**
 * The embedded store: one SQLite file under the data dir (node:sqlite, synchronous and transactional,
 * no external service). Modules bring their own numbered migrations; each runs once, in order.
 *
 * Opening checks the file (`PRAGMA quick_check`) when asked, and turns every failure into a
 * `StoreOpenError` that names the file and says what to do. A full disk is not an open failure: when the
 * WAL's shared-memory index cannot be allocated, the store opens with an exclusive lock (the index then
 * lives in heap memory) and serves reads until writes succeed again.
 */
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { isFullMessage, StoreOpenError } from "./errors.ts";

/** A schema change, applied once. Ids are global across modules and never reused. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** The database handle modules use. */
export type Database = DatabaseSync;

/** Prepared statements per database, by SQL text: preparing costs more than most of the writes it serves. */
const statements = new WeakMap<Database, Map<string, StatementSync>>();

/**
 * The statement for `sql` on `db`, prepared on first use and reused after. For statements run often (every
 * scheduler input, every event); a statement whose rows are being iterated must not be reused meanwhile.
 */
export function cached(db: Database, sql: string): StatementSync {
  let byText = statements.get(db);
  if (byText === undefined) statements.set(db, byText = new Map());
  let statement = byText.get(sql);
  if (statement === undefined) byText.set(sql, statement = db.prepare(sql));
  return statement;
}

/** The store file's name inside the data dir. */
export const DATABASE_FILE = "alien3.db";

/** `<dataDir>/alien3.db`, or ":memory:". */
export function databasePath(dataDir: string): string {
  return dataDir === ":memory:" ? ":memory:" : `${dataDir}/${DATABASE_FILE}`;
}

/** How to open the store. */
export interface OpenOptions {
  /** Run `PRAGMA quick_check` before anything else (default false; the server sets it). */
  check?: boolean;
}

/** An open store and how it was opened. */
export interface OpenedStore {
  db: Database;
  file: string;
  /**
   * True when the shared-memory index could not be allocated (a full disk) and the store holds an
   * exclusive lock until the process ends: other processes (keys CLI, backups) wait until a restart.
   */
  exclusive: boolean;
}

/** What an operator can do about a damaged store. */
function restoreHint(file: string): string {
  return `restore a backup (deno task store restore BACKUP_FILE --data-dir ${
    dirname(file)
  }) or move the file aside to start empty`;
}

/** Opens (creating if needed) `<dataDir>/alien3.db`, or an in-memory database for ":memory:". */
export function openDatabase(
  dataDir: string | ":memory:",
  migrations: readonly Migration[],
  options: OpenOptions = {},
): Database {
  return openStore(dataDir, migrations, options).db;
}

/** Opens the store, checks it if asked, applies migrations; throws `StoreOpenError` naming the file. */
export function openStore(
  dataDir: string | ":memory:",
  migrations: readonly Migration[],
  options: OpenOptions = {},
): OpenedStore {
  const file = databasePath(dataDir);
  let opened: { db: Database; exclusive: boolean };
  try {
    opened = { db: connect(file, false), exclusive: false };
  } catch (error) {
    // A disk too full for the shared-memory index: the heap index of exclusive mode needs no disk.
    if (file === ":memory:" || !/disk I\/O error/.test(String((error as Error).message))) {
      throw openError(file, error);
    }
    try {
      opened = { db: connect(file, true), exclusive: true };
    } catch {
      throw openError(file, error);
    }
  }
  const { db } = opened;
  try {
    if (options.check) quickCheck(db, file);
    migrate(db, migrations);
  } catch (error) {
    db.close();
    throw error instanceof StoreOpenError ? error : openError(file, error);
  }
  return { db, file, exclusive: opened.exclusive };
}

function connect(file: string, exclusive: boolean): Database {
  const db = new DatabaseSync(file);
  try {
    if (exclusive) db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
    );
    // The first read maps the WAL index: a disk too full for it fails here, not later.
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Runs `PRAGMA quick_check`; any finding stops start-up with the first one named. */
function quickCheck(db: Database, file: string): void {
  let rows: Array<{ quick_check: string }>;
  try {
    rows = db.prepare("PRAGMA quick_check").all() as Array<{ quick_check: string }>;
  } catch (error) {
    rows = [{ quick_check: (error as Error).message }];
  }
  if (rows.length === 1 && rows[0].quick_check === "ok") return;
  const first = rows[0]?.quick_check.replace(/\s+/g, " ").trim() ?? "no answer";
  const more = rows.length > 1 ? ` and ${rows.length - 1} more` : "";
  throw new StoreOpenError(
    `Cannot open the store ${file}: quick_check found damage (${first}${more}); ${restoreHint(file)}`,
  );
}

/** The one-line reason `file` cannot be opened, with what to do about it. */
function openError(file: string, error: unknown): StoreOpenError {
  const detail = error instanceof Error ? error.message : String(error);
  const prefix = `Cannot open the store ${file}`;
  if (/file is not a database/i.test(detail)) {
    return new StoreOpenError(`${prefix}: it is not a SQLite database (${detail}); ${restoreHint(file)}`);
  }
  if (/malformed|corrupt/i.test(detail)) {
    return new StoreOpenError(`${prefix}: it is damaged (${detail}); ${restoreHint(file)}`);
  }
  if (isFullMessage(detail)) {
    return new StoreOpenError(`${prefix}: the disk is full (${detail}); free space and start again`);
  }
  if (/unable to open|readonly|read-only|disk I\/O error/i.test(detail)) {
    const why = unwritable(dirname(file));
    if (why !== null) {
      return new StoreOpenError(
        `${prefix}: the data dir ${
          dirname(file)
        } is ${why}; remount it writable or point --data-dir at a writable directory`,
      );
    }
  }
  return new StoreOpenError(
    `${prefix}: ${detail}; check the file and its directory, or ${restoreHint(file)}`,
  );
}

/** Why files cannot be created in `dir` ("read-only (…)", "not writable (…)"), or null if they can. */
function unwritable(dir: string): string | null {
  const probe = `${dir}/.alien3-write-probe-${crypto.randomUUID()}`;
  try {
    Deno.writeFileSync(probe, new Uint8Array(), { createNew: true });
    Deno.removeSync(probe);
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/:.*$/, "") : String(error);
    if (/read-only/i.test(message)) return `read-only (${message})`;
    if (error instanceof Deno.errors.NotFound) return `missing (${message})`;
    if ((error as { code?: string }).code === "ENOSPC") return null;
    return `not writable (${message})`;
  }
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

/**
 * Runs `work` in a transaction, rolling back if it throws, and rethrows the error that caused it. SQLite
 * itself ends the transaction on some errors (a full disk at COMMIT, for one); rolling back again would
 * only replace the real error with "no transaction is active".
 */
export function transaction<T>(db: Database, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) {
      try {
        db.exec("ROLLBACK");
      } catch {
        // The transaction is gone either way; the error worth reporting is the first one.
      }
    }
    throw error;
  }
}
