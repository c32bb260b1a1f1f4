import assert from "node:assert/strict";
import { fillUp } from "../../tests/helpers/full_store.ts";
import { type Database, openDatabase } from "./db.ts";
import { TurnCommit, type TurnWriter } from "./turn_commit.ts";

const ROWS = [{ id: 900, name: "turn commit test rows", sql: "CREATE TABLE t (v TEXT NOT NULL)" }];

/** A writer that inserts its queued values, and notes what it was told. */
function writer(db: Database, values: string[], options: { throws?: Error } = {}) {
  const told: string[] = [];
  const self: TurnWriter & { told: string[] } = {
    told,
    write() {
      for (const value of values) db.prepare("INSERT INTO t (v) VALUES (?)").run(value);
      if (options.throws) throw options.throws;
    },
    committed() {
      told.push(`committed, rows visible: ${rows(db).join(",")}`);
    },
    failed(error) {
      told.push(`failed: ${(error as Error).message}`);
    },
  };
  return self;
}

function rows(db: Database): string[] {
  return (db.prepare("SELECT v FROM t ORDER BY rowid").all() as Array<{ v: string }>).map((r) => r.v);
}

function manualTurns() {
  const turns: Array<() => void> = [];
  return {
    defer: (flush: () => void) => turns.push(flush),
    end: () => turns.splice(0).forEach((f) => f()),
    turns,
  };
}

Deno.test("writers asking in one turn write in one transaction at its end, and hear of it after COMMIT", () => {
  const db = openDatabase(":memory:", ROWS);
  const turns = manualTurns();
  const turn = new TurnCommit(db, turns.defer);
  const a = writer(db, ["a1", "a2"]);
  const b = writer(db, ["b1"]);
  turn.request(a);
  turn.request(b);
  turn.request(a);
  assert.equal(turns.turns.length, 1, "one flush per turn");
  assert.deepEqual(rows(db), [], "nothing written before the turn ends");
  turns.end();
  assert.deepEqual(a.told, ["committed, rows visible: a1,a2,b1"]);
  assert.deepEqual(b.told, ["committed, rows visible: a1,a2,b1"]);
  db.close();
});

Deno.test("a writer whose part throws is undone alone; the other writers of the turn commit", () => {
  const db = openDatabase(":memory:", ROWS);
  const turns = manualTurns();
  const turn = new TurnCommit(db, turns.defer);
  const a = writer(db, ["a"]);
  const bad = writer(db, ["bad"], { throws: new Error("a bug") });
  const c = writer(db, ["c"]);
  for (const w of [a, bad, c]) turn.request(w);
  turns.end();
  assert.deepEqual(rows(db), ["a", "c"]);
  assert.deepEqual(bad.told, ["failed: a bug"]);
  assert.deepEqual(a.told, ["committed, rows visible: a,c"]);
  assert.deepEqual(c.told, ["committed, rows visible: a,c"]);
  db.close();
});

Deno.test("a turn the store refuses tells every writer that nothing of its part was stored", () => {
  const db = openDatabase(":memory:", ROWS);
  fillUp(db);
  const turn = new TurnCommit(db, () => {});
  const a = writer(db, ["a"]);
  const big = writer(db, Array.from({ length: 200 }, () => "x".repeat(1000)));
  turn.request(a);
  turn.request(big);
  turn.flush();
  assert.deepEqual(rows(db), []);
  assert.equal(a.told.length, 1);
  assert.match(a.told[0], /^failed: .*full/);
  assert.match(big.told[0], /^failed: .*full/);
  db.close();
});

Deno.test("after COMMIT every writer publishes, in the order they wrote, before any writer acts", () => {
  const db = openDatabase(":memory:", ROWS);
  const turn = new TurnCommit(db, () => {});
  const order: string[] = [];
  const named = (name: string): TurnWriter => ({
    write: () => order.push(`${name} writes`),
    publish: () => order.push(`${name} publishes`),
    committed: () => order.push(`${name} acts`),
    failed: () => order.push(`${name} failed`),
  });
  turn.request(named("a"));
  turn.request(named("b"));
  turn.flush();
  assert.deepEqual(order, ["a writes", "b writes", "a publishes", "b publishes", "a acts", "b acts"]);
  db.close();
});
