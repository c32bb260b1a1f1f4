import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fillUp } from "../../tests/helpers/full_store.ts";
import { openDatabase, openStore, transaction } from "./db.ts";
import { StoreOpenError, toStorageError } from "./errors.ts";

const TABLE = [{ id: 1, name: "t", sql: "CREATE TABLE t (x TEXT)" }];

/** A database whose size limit is reached by the next large write: SQLite says "database or disk is full". */
function nearlyFull(): DatabaseSync {
  const db = openDatabase(":memory:", TABLE);
  fillUp(db, 1);
  return db;
}

Deno.test("transaction() rethrows the disk-full error itself when SQLite already rolled back", () => {
  const db = nearlyFull();
  try {
    assert.throws(
      () => transaction(db, () => db.prepare("INSERT INTO t VALUES (?)").run("x".repeat(100_000))),
      (error: Error) => {
        assert.match(error.message, /database or disk is full/);
        assert.equal(toStorageError(error, "/data/alien3.db")?.code, "storage-full");
        return true;
      },
    );
    assert.equal(db.isTransaction, false);
    assert.equal((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 0);
    transaction(db, () => db.prepare("INSERT INTO t VALUES ('small')").run());
    assert.equal(
      (db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n,
      1,
      "usable afterwards",
    );
  } finally {
    db.close();
  }
});

Deno.test("transaction() rolls back and rethrows an error thrown by the work", () => {
  const db = openDatabase(":memory:", TABLE);
  try {
    assert.throws(() =>
      transaction(db, () => {
        db.prepare("INSERT INTO t VALUES ('gone')").run();
        throw new Error("work failed");
      }), /work failed/);
    assert.equal((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 0);
  } finally {
    db.close();
  }
});

Deno.test("toStorageError() tells a full disk from other store failures and leaves bugs alone", () => {
  const sqlite = (message: string) => Object.assign(new Error(message), { code: "ERR_SQLITE_ERROR" });
  assert.equal(toStorageError(sqlite("database or disk is full"), "f")?.code, "storage-full");
  const failed = toStorageError(sqlite("disk I/O error"), "/d/alien3.db");
  assert.equal(failed?.code, "storage-failed");
  assert.equal(failed?.detail, "disk I/O error");
  assert.match(failed!.message, /^Cannot store the change: writing \/d\/alien3\.db failed/);
  assert.equal(toStorageError(new TypeError("x is undefined"), "f"), null);
});

Deno.test("openStore() names the file and says what to do when it is not a database", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/alien3.db`, "not a database at all, just text ".repeat(200));
    assert.throws(() => openStore(dir, TABLE), (error: Error) => {
      assert.ok(error instanceof StoreOpenError);
      assert.equal(
        error.message,
        `Cannot open the store ${dir}/alien3.db: it is not a SQLite database (file is not a database); ` +
          `restore a backup (deno task store restore BACKUP_FILE --data-dir ${dir}) or move the file aside to start empty`,
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openStore() with check runs quick_check and refuses a store with a damaged page", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = openDatabase(dir, TABLE);
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    for (let i = 0; i < 400; i++) insert.run(`row ${i} `.repeat(40));
    db.close();
    const file = `${dir}/alien3.db`;
    const bytes = await Deno.readFile(file);
    const pageSize = (bytes[16] << 8) | bytes[17];
    const leaves = [];
    for (let page = 2; page < bytes.length / pageSize; page++) {
      if (bytes[page * pageSize] === 0x0d) leaves.push(page);
    }
    bytes.fill(0xff, leaves[leaves.length >> 1] * pageSize, leaves[leaves.length >> 1] * pageSize + 32);
    await Deno.writeFile(file, bytes);
    openStore(dir, TABLE).db.close();
    assert.throws(() => openStore(dir, TABLE, { check: true }), (error: Error) => {
      assert.ok(error instanceof StoreOpenError);
      assert.match(error.message, new RegExp(`^Cannot open the store ${file}: quick_check found damage \\(`));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
