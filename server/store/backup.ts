/**
 * Backup and restore of the store file. A backup is SQLite's online backup (all pages in one step): a
 * consistent copy taken from a running server's store without stopping it (WAL readers do not block the
 * writer). `VACUUM INTO` would compact too, but Deno refuses the ATTACH it needs without `--allow-all`. A restore checks the
 * backup, refuses while a server has the store open, keeps the current file aside, and puts the copy in
 * place. Artifacts (files under `<data-dir>/artifacts`) are plain files: copy them with any file tool.
 */
import { backup, DatabaseSync } from "node:sqlite";
import { databasePath } from "./db.ts";

/** A backup or restore that cannot be done, with the reason in one line. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Checks that `file` is a healthy SQLite store of this server (quick_check, schema present). */
export function checkStoreFile(file: string): void {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { readOnly: true });
  } catch (error) {
    throw new BackupError(`Cannot open ${file}: ${(error as Error).message}`);
  }
  try {
    const rows = db.prepare("PRAGMA quick_check").all() as Array<{ quick_check: string }>;
    if (rows.length !== 1 || rows[0].quick_check !== "ok") {
      throw new BackupError(`Cannot use ${file}: quick_check found damage (${rows[0]?.quick_check})`);
    }
    const schema = db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
    )
      .get();
    if (schema === undefined) throw new BackupError(`Cannot use ${file}: it is not an ALIEN3 store`);
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`Cannot use ${file}: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

/** Writes a consistent copy of `<dataDir>/alien3.db` to `target` (which must not exist); returns its size. */
export async function backupStore(dataDir: string, target: string): Promise<number> {
  const source = databasePath(dataDir);
  if (!(await exists(source))) throw new BackupError(`Cannot back up: there is no store at ${source}`);
  if (await exists(target)) throw new BackupError(`Cannot back up: ${target} already exists`);
  const db = new DatabaseSync(source);
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    // All pages in one step: the copy is one consistent read, never restarted by the server's writes.
    await backup(db, target, { rate: -1 });
  } catch (error) {
    await Deno.remove(target).catch(() => {});
    throw new BackupError(`Cannot back up ${source} to ${target}: ${(error as Error).message}`);
  } finally {
    db.close();
  }
  checkStoreFile(target);
  return (await Deno.stat(target)).size;
}

/**
 * Replaces `<dataDir>/alien3.db` with the checked backup `source`. Refuses while a server holds the store
 * open. The replaced file (and its WAL) is kept as `alien3.db.replaced-<time>`; returns that path, or null
 * when there was no store.
 */
export async function restoreStore(
  source: string,
  dataDir: string,
  nowMs = Date.now(),
): Promise<string | null> {
  if (!(await exists(source))) throw new BackupError(`Cannot restore: ${source} does not exist`);
  checkStoreFile(source);
  const target = databasePath(dataDir);
  await Deno.mkdir(dataDir, { recursive: true });
  let kept: string | null = null;
  if (await exists(target)) {
    assertNotInUse(target);
    kept = `${target}.replaced-${new Date(nowMs).toISOString().replace(/[:.]/g, "-")}`;
    await Deno.rename(target, kept);
    for (const suffix of ["-wal", "-shm"]) {
      await Deno.rename(`${target}${suffix}`, `${kept}${suffix}`).catch(() => {});
    }
  }
  const partial = `${target}.restoring`;
  await Deno.copyFile(source, partial);
  await Deno.rename(partial, target);
  return kept;
}

/** Throws when another process (a running server) has the store open. */
function assertNotInUse(file: string): void {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file);
    db.exec("PRAGMA busy_timeout = 0; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT");
  } catch (error) {
    const message = (error as Error).message;
    if (/locked|busy/i.test(message)) {
      throw new BackupError(
        `Cannot restore: ${file} is in use (is the server running?); stop the server first`,
      );
    }
    // A damaged store cannot be opened, which is a reason to restore it: carry on.
  } finally {
    db?.close();
  }
}
