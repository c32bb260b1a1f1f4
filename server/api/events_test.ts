import assert from "node:assert/strict";
import { replayAfter } from "./events.ts";

Deno.test("replayAfter() replays everything without an id, from a known id, and from the newest otherwise", () => {
  const newest = 10;
  assert.equal(replayAfter(undefined, newest), 0);
  assert.equal(replayAfter("", newest), 0);
  assert.equal(replayAfter("0", newest), 0);
  assert.equal(replayAfter("7", newest), 7);
  assert.equal(replayAfter("10", newest), 10);
  for (const unknown of ["11", "1e9", "abc", "-1", "1.5", "0x2", "Infinity"]) {
    assert.equal(replayAfter(unknown, newest), newest, unknown);
  }
});
