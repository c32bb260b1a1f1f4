import assert from "node:assert/strict";
import { fakeClock } from "../../shared/testing/fake_clock.ts";
import { fillUp, makeRoom } from "../../tests/helpers/full_store.ts";
import { KNOWN_DEVICES_MIGRATIONS, KnownDevices } from "../store/known_devices.ts";
import { silentLogger } from "../log.ts";
import { caps, ready, script, submit } from "../scheduler/testing.ts";
import type { DeviceInfo, SchedulerCommand } from "../scheduler/types.ts";
import { type Database, openDatabase } from "../store/db.ts";
import { StorageError } from "../store/errors.ts";
import { STORE_HEALTH_MIGRATIONS, StoreHealth } from "../store/health.ts";
import { DurableScheduler } from "./durable_scheduler.ts";
import { EVENT_LOG_MIGRATIONS, EventLog } from "./event_log.ts";
import { type Input, ORION_STORE_MIGRATIONS, OrionStore } from "./state_store.ts";

const MIGRATIONS = [
  ...EVENT_LOG_MIGRATIONS,
  ...ORION_STORE_MIGRATIONS,
  ...STORE_HEALTH_MIGRATIONS,
  ...KNOWN_DEVICES_MIGRATIONS,
];

/** A durable scheduler on an in-memory store, with a shell that answers every attempt and fires timers. */
function harness(db: Database, options: { snapshotEveryInputs?: number; maxPendingInputs?: number } = {}) {
  const clock = fakeClock();
  const devices = new KnownDevices(db);
  const store = new OrionStore({ db, devices, file: "mem.db", dataDir: "mem" });
  const health = new StoreHealth({ file: "mem.db", logger: silentLogger, clock });
  const executed: Array<{ input: Input; commands: SchedulerCommand[] }> = [];
  const overflows: number[] = [];
  const durable = new DurableScheduler({
    db,
    store,
    log: new EventLog(db),
    health,
    clock,
    logger: silentLogger,
    file: "mem.db",
    execute: (commands, input) => executed.push({ input, commands }),
    busyDags: () => new Set(),
    onOverflow: () => overflows.push(durable.pendingCount),
    ...options,
  });
  durable.load();
  /** Answers run-attempts (accepted, then ok) and fires due timers, until nothing is left to do. */
  const drive = () => {
    for (let i = 0; i < executed.length; i++) {
      for (const command of executed[i].commands) {
        clock.tick(1);
        if (command.type === "run-attempt") {
          const { dagId, nodeId, attempt } = command;
          durable.record({ type: "attempt-accepted", dagId, nodeId, attempt });
          durable.record({ type: "attempt-ended", dagId, nodeId, attempt, ok: true });
        } else if (command.type === "start-timer") {
          durable.record({ type: "timer-fired", timerId: command.timerId });
        }
      }
    }
    executed.length = 0;
  };
  const reload = () => new OrionStore({ db, devices: new KnownDevices(db), file: "x", dataDir: "x" }).load();
  return {
    clock,
    durable,
    health,
    executed,
    overflows,
    drive,
    reload,
    devices,
    /** Ends the test: the health's retry timer and the database. */
    [Symbol.dispose]() {
      health.close();
      db.close();
    },
  };
}

const view = (name: string, apps = 50) => ({
  id: `dev-${name}`,
  name,
  state: "ready" as const,
  rttMs: 1,
  lastSeen: 0,
  capabilities: caps(`dev-${name}`, {
    tags: ["pool"],
    apps: Array.from({ length: apps }, (_, i) => `app ${i}`),
  }),
  keyId: "key-1",
});

/** A run of events of every kind: devices come and go, DAGs run, fail over, and finish. */
function script_(h: ReturnType<typeof harness>) {
  const a = view("A");
  const b = view("B");
  h.durable.record(
    { type: "device-ready", device: { id: a.id, name: a.name, capabilities: a.capabilities, rttMs: 1 } },
    a,
  );
  for (let i = 0; i < 6; i++) {
    h.durable.submit(submit(`d${i}`, {
      name: `dag ${i}`,
      nodes: [
        script("one", { target: { tags: ["pool"] } }),
        { id: "pause", kind: "server", after: ["one"], op: { sleepMs: 5 } },
        script("two", { after: ["pause"], target: { tags: ["pool"] }, retry: { attempts: 2 } }),
      ],
    }));
    if (i === 2) {
      h.durable.record(
        { type: "device-ready", device: { id: b.id, name: b.name, capabilities: b.capabilities, rttMs: 2 } },
        b,
      );
    }
    if (i === 4) h.durable.record({ type: "device-offline", deviceId: a.id });
    h.drive();
  }
  h.durable.submit(
    submit("waiting", { name: "never placed", nodes: [script("x", { target: { device: "Z" } })] }),
  );
  h.drive();
}

Deno.test("snapshots every few inputs, archive included, rebuild exactly the state the log alone builds", () => {
  const plainDb = openDatabase(":memory:", MIGRATIONS);
  const snapDb = openDatabase(":memory:", MIGRATIONS);
  using plain = harness(plainDb, { snapshotEveryInputs: 1_000_000 });
  using snapped = harness(snapDb, { snapshotEveryInputs: 3 });
  script_(plain);
  script_(snapped);
  const finished = Object.values(plain.durable.state.dags).filter((d) => d.status !== "running");
  assert.ok(finished.length >= 5, "most DAGs finished");
  const live = structuredClone(plain.durable.state);
  for (const dag of finished) delete live.dags[dag.id];
  assert.deepEqual(
    snapped.durable.state,
    live,
    "memory with snapshots = the log's state minus archived DAGs",
  );
  const rebuilt = snapped.reload();
  assert.deepEqual(rebuilt.state, snapped.durable.state, "a restart rebuilds exactly the live state");
  assert.ok(rebuilt.tailInputs < 3, `a short tail (${rebuilt.tailInputs} inputs)`);
  for (const dag of finished) {
    assert.deepEqual(snapped.durable.dag(dag.id), dag, `archived ${dag.id} reads back the same`);
  }
  assert.deepEqual(snapped.durable.dags(), plain.durable.dags(), "the list is the same, in the same order");
  const inputs = (snapDb.prepare("SELECT count(*) AS n FROM orion_inputs").get() as { n: number }).n;
  assert.ok(inputs < 3, `covered inputs are deleted (${inputs} left)`);
});

Deno.test("a device reconnecting 200 times stores its capabilities once, and the log refers to them by hash", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  using h = harness(db);
  const a = view("A");
  for (let i = 0; i < 200; i++) {
    const copy = { ...a, capabilities: structuredClone(a.capabilities) };
    h.durable.record({
      type: "device-ready",
      device: { id: a.id, name: a.name, capabilities: copy.capabilities, rttMs: 1 },
    }, copy);
    h.durable.record({ type: "device-offline", deviceId: a.id });
  }
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  assert.equal(count("SELECT count(*) AS n FROM device_capabilities"), 1);
  assert.equal(count("SELECT count(*) AS n FROM devices"), 1);
  assert.equal(count("SELECT connects AS n FROM devices"), 200);
  const logged = db.prepare("SELECT event FROM orion_inputs LIMIT 1").get() as { event: string };
  assert.ok(!logged.event.includes("app 1"), "no capabilities in the log");
  assert.match(logged.event, /"capabilitiesHash":"[0-9a-f]{64}"/);
  assert.deepEqual(h.reload().state, h.durable.state);
  assert.deepEqual(h.devices.known().map((d) => [d.id, d.state, d.capabilities]), [
    [a.id, "offline", a.capabilities],
  ]);
});

Deno.test("an operator request refused by a full store throws storage-full and leaves no trace in memory or on disk", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  using h = harness(db);
  fillUp(db);
  const big = {
    name: "big",
    nodes: Array.from({ length: 300 }, (_, i) => ({ ...script(`n${i}`), after: [] })),
  };
  assert.throws(() => h.durable.submit(submit("big", big)), (error: Error) => {
    assert.ok(error instanceof StorageError);
    assert.equal(error.code, "storage-full");
    assert.match(error.detail, /database or disk is full/);
    return true;
  });
  assert.deepEqual(h.durable.state.dags, {});
  assert.deepEqual(h.reload().state.dags, {});
  assert.equal(h.executed.length, 0, "no command ran");
  assert.deepEqual(h.health.report().status, "degraded");
  makeRoom(db);
  h.durable.retry();
  assert.deepEqual(h.health.report(), { status: "ok" }, "a probe write clears the degraded state");
});

Deno.test("server-observed events refused by a full store wait in order and commit once space returns", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  using h = harness(db);
  h.durable.submit(submit("d", { name: "d", nodes: [script("one")] }));
  fillUp(db);
  const a = { ...view("A", 2000), id: "A", name: "A" };
  h.durable.record({
    type: "device-ready",
    device: { id: "A", name: "A", capabilities: a.capabilities, rttMs: 1 },
  }, a);
  h.durable.record({ type: "device-updated", deviceId: "A", rttMs: 7 });
  assert.equal(h.durable.pendingCount, 2, "both wait");
  const deviceA = () => h.durable.state.devices["A"] as DeviceInfo | undefined;
  assert.equal(deviceA(), undefined, "memory is not ahead of the disk");
  assert.equal(h.health.report().status, "degraded");
  makeRoom(db);
  h.durable.retry();
  assert.equal(h.durable.pendingCount, 0);
  assert.equal(h.health.report().status, "ok");
  assert.equal(deviceA()?.rttMs, 7, "applied in order");
  assert.equal(h.durable.state.dags.d.nodes.one.status, "assigned", "the waiting node got the device");
  const types = (db.prepare("SELECT event FROM orion_inputs ORDER BY seq").all() as Array<{ event: string }>)
    .map((row) => JSON.parse(row.event).type);
  assert.deepEqual(types, ["dag-submitted", "device-ready", "device-updated"]);
  assert.deepEqual(h.reload().state, h.durable.state);
});

Deno.test("past the queue bound the queued events give way to one server-restarted marker, applied once space returns", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  using h = harness(db, { maxPendingInputs: 3 });
  h.durable.submit(ready("A"));
  h.durable.submit(submit("d", { name: "d", nodes: [script("one")] }));
  h.executed.length = 0;
  fillUp(db);
  const big = view("B", 2000);
  h.durable.record(
    {
      type: "device-ready",
      device: { id: big.id, name: big.name, capabilities: big.capabilities, rttMs: 1 },
    },
    big,
  );
  h.durable.record({ type: "attempt-accepted", dagId: "d", nodeId: "one", attempt: 1 });
  h.durable.record({ type: "device-updated", deviceId: "A", rttMs: 3 });
  assert.deepEqual(h.overflows, []);
  h.durable.record({ type: "device-updated", deviceId: "A", rttMs: 4 });
  assert.deepEqual(h.overflows, [1], "the shell was told once, with only the marker queued");
  makeRoom(db);
  h.durable.retry();
  assert.deepEqual(h.executed.map((e) => e.input.type), ["server-restarted"]);
  const attempt = h.durable.state.dags.d.nodes.one.attempts[0];
  assert.equal(attempt.code, "server-restart", "the in-flight attempt was resolved as after a restart");
  assert.equal(h.durable.state.devices.A.online, false, "devices count as offline until announced again");
});
