/**
 * Group commit in the durable scheduler: inputs recorded in one turn share one transaction, and nothing of
 * them is applied, published or carried out before it commits. The turn's end is driven by hand here
 * (`defer` keeps the flush until the test runs it), so every window between recording and COMMIT is visible.
 */
import assert from "node:assert/strict";
import { fakeClock } from "../../shared/testing/fake_clock.ts";
import { fillUp, makeRoom } from "../../tests/helpers/full_store.ts";
import { silentLogger } from "../log.ts";
import { accepted, ok, ready, script, submit } from "../scheduler/testing.ts";
import type { SchedulerCommand } from "../scheduler/types.ts";
import { type Database, openDatabase } from "../store/db.ts";
import { StorageError } from "../store/errors.ts";
import { STORE_HEALTH_MIGRATIONS, StoreHealth } from "../store/health.ts";
import { KNOWN_DEVICES_MIGRATIONS, KnownDevices } from "../store/known_devices.ts";
import { TurnCommit } from "../store/turn_commit.ts";
import { DurableScheduler } from "./durable_scheduler.ts";
import { EVENT_LOG_MIGRATIONS, EventLog, type LoggedEvent } from "./event_log.ts";
import { type Input, ORION_STORE_MIGRATIONS, OrionStore } from "./state_store.ts";

const MIGRATIONS = [
  ...EVENT_LOG_MIGRATIONS,
  ...ORION_STORE_MIGRATIONS,
  ...STORE_HEALTH_MIGRATIONS,
  ...KNOWN_DEVICES_MIGRATIONS,
];

/** A durable scheduler whose end-of-turn flushes wait in `turns` until `endTurn()` runs them. */
function harness(
  db: Database,
  options: { snapshotEveryInputs?: number; snapshotInputsPerLiveNode?: number; shared?: boolean } = {},
) {
  const clock = fakeClock();
  const log = new EventLog(db);
  const health = new StoreHealth({ file: "mem.db", logger: silentLogger, clock });
  const executed: Array<{ input: Input; commands: SchedulerCommand[] }> = [];
  const published: LoggedEvent[] = [];
  log.subscribe((event) => published.push(event));
  const turns: Array<() => void> = [];
  const turn = options.shared ? new TurnCommit(db, (flush) => turns.push(flush)) : undefined;
  const durable = new DurableScheduler({
    db,
    store: new OrionStore({ db, devices: new KnownDevices(db), file: "mem.db", dataDir: "mem" }),
    log,
    health,
    clock,
    logger: silentLogger,
    file: "mem.db",
    execute: (commands, input) => executed.push({ input, commands }),
    busyDags: () => new Set(),
    onOverflow: () => {},
    defer: (flush) => turns.push(flush),
    turn,
    ...options,
  });
  durable.load();
  const endTurn = () => {
    for (const flush of turns.splice(0)) flush();
  };
  /** What a restart would rebuild from the store as it is now. */
  const restart = () => new OrionStore({ db, devices: new KnownDevices(db), file: "x", dataDir: "x" }).load();
  const rows = () => (db.prepare("SELECT count(*) AS n FROM orion_inputs").get() as { n: number }).n;
  return {
    clock,
    log,
    health,
    durable,
    executed,
    published,
    turns,
    endTurn,
    restart,
    rows,
    turn,
    /** Ends the test: the health's retry timer and the database. */
    [Symbol.dispose]() {
      health.close();
      db.close();
    },
  };
}

/** Two devices, and a DAG of two independent nodes placed on them. */
function running(h: ReturnType<typeof harness>) {
  h.durable.submit(ready("A"));
  h.durable.submit(ready("B"));
  h.durable.submit(submit("d", {
    name: "d",
    nodes: [
      script("x", { target: { tags: [] } }),
      script("y", { target: { tags: [] } }),
      script("z", { after: ["x", "y"], target: { tags: [] } }),
    ],
  }));
  h.executed.length = 0;
  h.published.length = 0;
}

Deno.test("inputs recorded in one turn commit together at its end; before that nothing is applied, published or carried out", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  using h = harness(db);
  running(h);
  const before = structuredClone(h.durable.state);
  const rowsBefore = h.rows();
  h.durable.record(accepted("d", "x"));
  h.durable.record(accepted("d", "y"));
  h.durable.record(ok("d", "x"));
  h.durable.record(ok("d", "y"));
  assert.equal(h.turns.length, 1, "one flush for the whole turn");
  assert.equal(h.durable.pendingCount, 4);
  assert.deepEqual(h.durable.state, before, "memory is not ahead of the disk");
  assert.equal(h.published.length, 0, "nothing published");
  assert.equal(h.executed.length, 0, "no command carried out");
  assert.equal(h.rows(), rowsBefore, "nothing written");

  h.endTurn();
  assert.equal(h.durable.pendingCount, 0);
  assert.equal(h.rows(), rowsBefore + 4, "one row per input");
  assert.deepEqual(h.executed.map((e) => e.input.type), [
    "attempt-accepted",
    "attempt-accepted",
    "attempt-ended",
    "attempt-ended",
  ], "commands carried out input by input, in order");
  assert.equal(h.durable.state.dags.d.nodes.z.status, "assigned", "the dependent was placed");
  assert.deepEqual(
    h.published.map((e) => `${e.data.nodeId}: ${e.data.from} -> ${e.data.to}`),
    [
      "x: assigned -> running",
      "y: assigned -> running",
      "x: running -> succeeded",
      "y: running -> succeeded",
      "z: pending -> assigned",
    ],
  );
  const ids = h.published.map((e) => e.id);
  assert.deepEqual(ids, ids.map((_, i) => ids[0] + i), "consecutive ids, in order");
  assert.deepEqual(h.restart().state, h.durable.state, "a restart rebuilds the same state");
});

Deno.test("a crash before the turn's commit loses only inputs nothing acted on: a restart rebuilds what was published", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  using h = harness(db);
  running(h);
  h.durable.record(accepted("d", "x"));
  h.endTurn();
  const published = h.published.length;
  const committed = structuredClone(h.durable.state);
  h.durable.record(ok("d", "x"));
  h.durable.record(accepted("d", "y"));
  // The process dies here: the flush never runs.
  const rebuilt = h.restart();
  assert.deepEqual(rebuilt.state, committed, "the store holds exactly the committed state");
  assert.equal(h.published.length, published, "and nothing beyond it was published");
  const lastSeen = h.published.at(-1)!;
  assert.deepEqual(h.log.since(0).at(-1), lastSeen, "the stored history ends where subscribers' did");
  assert.deepEqual(h.log.since(lastSeen.id), [], "nothing stored that was not published");
});

Deno.test("a turn the store refuses stays queued whole and in order, applies nothing, and commits once space returns", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  using h = harness(db);
  running(h);
  const before = structuredClone(h.durable.state);
  fillUp(db);
  const wide = ready("C", 1, { apps: Array.from({ length: 3000 }, (_, i) => `app ${i}`) });
  h.durable.record(ok("d", "x"));
  h.durable.record(wide);
  h.endTurn();
  assert.equal(h.durable.pendingCount, 2, "both wait");
  assert.deepEqual(h.durable.state, before, "memory was rebuilt: not ahead of the disk");
  assert.equal(h.executed.length, 0);
  assert.equal(h.published.length, 0);
  assert.equal(h.health.report().status, "degraded");
  h.durable.record(ok("d", "y"));
  assert.equal(h.durable.pendingCount, 3, "later inputs queue behind them");
  assert.throws(() => h.durable.submit({ type: "cancel-dag", dagId: "d", reason: "r" }), StorageError);

  makeRoom(db);
  h.durable.retry();
  assert.equal(h.durable.pendingCount, 0);
  assert.deepEqual(h.executed.map((e) => e.input.type), ["attempt-ended", "device-ready", "attempt-ended"]);
  assert.equal(h.durable.state.devices.C.online, true);
  assert.equal(h.durable.state.dags.d.nodes.z.status, "assigned");
  assert.deepEqual(h.restart().state, h.durable.state);
});

Deno.test("an input the core cannot apply is dropped alone; the rest of its turn commits", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  using h = harness(db);
  running(h);
  h.durable.record(ok("d", "x"));
  // A broken edit (never validated): its node depends on one that does not exist.
  h.durable.record({
    type: "edit-dag",
    dagId: "d",
    added: [{ ...script("w"), after: ["nope"] } as never],
    removed: [],
  });
  h.durable.record(ok("d", "y"));
  h.endTurn();
  assert.deepEqual(h.executed.map((e) => e.input.type), ["attempt-ended", "attempt-ended"]);
  assert.equal(h.durable.state.dags.d.nodes.w, undefined);
  assert.equal(h.durable.state.dags.d.nodes.z.status, "assigned");
  assert.deepEqual(h.restart().state, h.durable.state);
});

Deno.test("transitions carried in input rows read back the same, per DAG too, before and after a snapshot moves them", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  using h = harness(db, { snapshotEveryInputs: 1_000_000 });
  running(h);
  h.durable.submit(submit("e", { name: "e", nodes: [script("solo", { target: { tags: [] } })] }));
  h.durable.record(ok("d", "x"));
  h.durable.record(ok("d", "y"));
  h.endTurn();
  const all = h.log.since(0);
  const ofD = h.log.since(0, "d");
  assert.ok(ofD.length > 0 && ofD.length < all.length);
  assert.ok(ofD.every((e) => e.dagId === "d"));
  const paged = [...h.log.since(0, undefined, 3), ...h.log.since(all[2].id)];
  assert.deepEqual(paged, all, "pages join up");
  const carried = h.rows();
  assert.ok(h.durable.snapshot());
  assert.ok(h.rows() < carried, "the snapshot deleted the covered inputs");
  assert.deepEqual(h.log.since(0), all, "the history reads the same from the table");
  assert.deepEqual(h.log.since(0, "d"), ofD);
  const next = h.log.append("d", 99, { kind: "approval" });
  assert.equal(next.id, all.at(-1)!.id + 1, "ids go on from the newest");
});

Deno.test("a store written before inputs carried their transitions upgrades: replays, and ids and seqs go on past the old ones", () => {
  const dir = Deno.makeTempDirSync({ prefix: "alien3-upgrade-" });
  try {
    const old = openDatabase(dir, [
      EVENT_LOG_MIGRATIONS.find((m) => m.id === 20)!,
      ...ORION_STORE_MIGRATIONS.filter((m) => m.id < 26),
      ...STORE_HEALTH_MIGRATIONS,
      ...KNOWN_DEVICES_MIGRATIONS,
    ]);
    // As the old server wrote them: AUTOINCREMENT seqs and ids, one transition per row.
    const input = old.prepare("INSERT INTO orion_inputs (at_ms, event) VALUES (?, ?)");
    for (const event of [ready("A"), submit("d", { name: "d", nodes: [script("x")] })]) {
      const { capabilities: _, ...device } = event.type === "device-ready"
        ? event.device
        : { capabilities: 0 };
      const stored = event.type === "device-ready"
        ? {
          type: event.type,
          device: {
            ...device,
            capabilitiesHash: new KnownDevices(old).storeCapabilities(event.device.capabilities),
          },
        }
        : event;
      input.run(1, JSON.stringify(stored));
    }
    const transition = old.prepare("INSERT INTO orion_transitions (dag_id, at_ms, data) VALUES (?, ?, ?)");
    for (let i = 0; i < 3; i++) transition.run("d", 1, JSON.stringify({ kind: "node", to: `t${i}` }));
    old.close();

    const db = openDatabase(dir, MIGRATIONS);
    using h = harness(db);
    assert.equal(h.durable.state.dags.d.nodes.x.status, "assigned", "the old log replays");
    assert.equal(h.log.newestId(), 3);
    h.durable.record(accepted("d", "x"));
    h.endTurn();
    assert.deepEqual(h.published.map((e) => e.id), [4]);
    assert.deepEqual(h.log.since(0).map((e) => e.id), [1, 2, 3, 4]);
    const seqs = db.prepare("SELECT seq FROM orion_inputs ORDER BY seq").all().map((r) => r.seq);
    assert.deepEqual(seqs, [1, 2, 3]);
    assert.deepEqual(h.restart().state, h.durable.state);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("snapshots wait for as many inputs as the live state asks: a large DAG is not rewritten every few inputs", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  using h = harness(db, { snapshotEveryInputs: 3, snapshotInputsPerLiveNode: 2 });
  const snapshots = () =>
    (db.prepare("SELECT covers_seq AS seq FROM orion_snapshot").get() as { seq: number } | undefined)?.seq ??
      0;
  h.durable.submit(ready("A", 1, { maxTasks: 100 }));
  const ids = Array.from({ length: 20 }, (_, i) => `n${i}`);
  h.durable.submit(
    submit("d", { name: "d", nodes: ids.map((id) => script(id, { target: { tags: [] } })) }),
  );
  for (const id of ids) {
    h.durable.record(accepted("d", id));
    h.endTurn();
  }
  // 22 inputs: well past snapshotEveryInputs, short of 2 per live node (20 nodes and a device).
  assert.equal(snapshots(), 0, "no snapshot yet");
  for (const id of ids) {
    h.durable.record(ok("d", id));
    h.endTurn();
  }
  assert.equal(snapshots(), 42, "one snapshot, once 42 inputs were in");
  assert.deepEqual(h.restart().state, h.durable.state);
});

Deno.test("sharing the store's group commit: inputs commit with the turn's other writers, and a turn refused for their rows leaves the inputs queued", () => {
  const db = openDatabase(":memory:", MIGRATIONS);
  db.exec("CREATE TABLE other (v TEXT NOT NULL)");
  using h = harness(db, { shared: true });
  running(h);
  const other = {
    values: [] as string[],
    told: [] as string[],
    write() {
      for (const v of this.values.splice(0)) db.prepare("INSERT INTO other (v) VALUES (?)").run(v);
    },
    committed() {
      this.told.push("committed");
    },
    failed() {
      this.told.push("failed");
    },
  };
  h.durable.record(accepted("d", "x"));
  other.values.push("small");
  h.turn!.request(other);
  assert.equal(h.turns.length, 1, "one flush for both writers");
  h.endTurn();
  assert.deepEqual(other.told, ["committed"]);
  assert.equal(h.durable.state.dags.d.nodes.x.status, "running");

  const before = structuredClone(h.durable.state);
  fillUp(db);
  h.durable.record(ok("d", "x"));
  other.values.push(..."x".repeat(200).split("").map(() => "y".repeat(2000)));
  h.turn!.request(other);
  h.endTurn();
  assert.deepEqual(other.told, ["committed", "failed"]);
  assert.equal(h.durable.pendingCount, 1, "the input waits");
  assert.deepEqual(h.durable.state, before, "memory is not ahead of the disk");
  assert.equal(h.health.report().status, "degraded");
  makeRoom(db);
  h.durable.retry();
  assert.equal(h.durable.pendingCount, 0);
  assert.equal(h.durable.state.dags.d.nodes.x.status, "succeeded");
  assert.deepEqual(h.restart().state, h.durable.state);
});
