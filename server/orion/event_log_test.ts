import assert from "node:assert/strict";
import { openDatabase } from "../store/db.ts";
import { EVENT_LOG_MIGRATIONS, EventLog, isDeviceEvent } from "./event_log.ts";

Deno.test("device events share the id sequence of transitions and are left out of per-DAG queries", () => {
  const db = openDatabase(":memory:", EVENT_LOG_MIGRATIONS);
  const log = new EventLog(db);
  const transition = log.append("dag-1", 10, { kind: "dag", from: null, to: "running" });
  const device = log.appendDevice(11, { kind: "device", deviceId: "d1", name: "a", from: null, to: "ready" });
  assert.equal(device.id, transition.id + 1);
  assert.equal(isDeviceEvent(device), true);
  assert.equal(isDeviceEvent(transition), false);
  assert.deepEqual(log.since(0).map((e) => e.id), [transition.id, device.id]);
  assert.deepEqual(log.since(0, "dag-1").map((e) => e.id), [transition.id]);
  assert.deepEqual(log.since(0)[1].data, {
    kind: "device",
    deviceId: "d1",
    name: "a",
    from: null,
    to: "ready",
  });
  db.close();
});

Deno.test("newestId() is 0 on an empty log and keeps the newest id after rows are removed", () => {
  const db = openDatabase(":memory:", EVENT_LOG_MIGRATIONS);
  const log = new EventLog(db);
  assert.equal(log.newestId(), 0);
  log.append("d", 1, {});
  const last = log.append("d", 2, {});
  db.exec("DELETE FROM orion_transitions");
  assert.equal(log.newestId(), last.id);
  db.close();
});
