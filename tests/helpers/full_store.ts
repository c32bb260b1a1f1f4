/**
 * A SQLite store that cannot grow, for unit tests of what a full disk does: with `max_page_count` capped,
 * the next write that needs a new page fails with SQLite's own "database or disk is full".
 */
import type { DatabaseSync } from "node:sqlite";

/** Caps the store at its current size plus `sparePages`. */
export function fillUp(db: DatabaseSync, sparePages = 0): void {
  const pages = (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
  db.exec(`PRAGMA max_page_count = ${pages + sparePages}`);
}

/** Lifts the cap: writes succeed again. */
export function makeRoom(db: DatabaseSync): void {
  db.exec("PRAGMA max_page_count = 1073741823");
}
