/**
 * The scheduler core with its durable store, in process and without a network: what scheduling and
 * persistence cost per node, apart from the gateway, the node runner and the event loop's own overhead. The
 * store is a real SQLite file in a temp dir, opened as the server opens it (WAL, `synchronous = NORMAL`);
 * the durable scheduler runs with the service's settings (group commit at the end of each turn, snapshots
 * spaced by the live state). A fake shell answers each `run-attempt` the way devices do over the wire:
 * `attempt-accepted` in one turn, `attempt-ended` in the next, at most `BENCH_CORE_PER_TURN` answers a turn
 * (default 32, about what a busy gateway delivers per turn); a chain therefore commits twice per node.
 *
 * Reported per shape and size: CPU µs per node (this process's user+sys, `process.cpuUsage`), and the
 * inputs per commit that group commit achieved. `BENCH_SCHED_SIZES` (default `1000,3000,10000`).
 */
import process from "node:process";
import { fakeClock } from "../shared/testing/fake_clock.ts";
import { silentLogger } from "../server/log.ts";
import { DurableScheduler, SNAPSHOT_INPUTS_PER_LIVE_NODE } from "../server/orion/durable_scheduler.ts";
import { EVENT_LOG_MIGRATIONS, EventLog } from "../server/orion/event_log.ts";
import { ORION_STORE_MIGRATIONS, OrionStore } from "../server/orion/state_store.ts";
import { caps, nodes as validated } from "../server/scheduler/testing.ts";
import { shape } from "./dag_shapes.ts";
import type { SchedulerCommand } from "../server/scheduler/types.ts";
import { openStore } from "../server/store/db.ts";
import { STORE_HEALTH_MIGRATIONS, StoreHealth } from "../server/store/health.ts";
import { KNOWN_DEVICES_MIGRATIONS, KnownDevices } from "../server/store/known_devices.ts";

const SIZES = (Deno.env.get("BENCH_SCHED_SIZES") ?? "1000,3000,10000").split(",").map(Number);
const PER_TURN = Number(Deno.env.get("BENCH_CORE_PER_TURN") ?? 32);
const DEVICES = 100;

type RunAttempt = Extract<SchedulerCommand, { type: "run-attempt" }>;

async function measure(kind: string, count: number): Promise<{ usPerNode: number; perCommit: number }> {
  const dir = await Deno.makeTempDir({ prefix: "alien3-core-bench-" });
  const { db, file } = openStore(dir, [
    ...EVENT_LOG_MIGRATIONS,
    ...ORION_STORE_MIGRATIONS,
    ...STORE_HEALTH_MIGRATIONS,
    ...KNOWN_DEVICES_MIGRATIONS,
  ]);
  const clock = fakeClock();
  const health = new StoreHealth({ file, logger: silentLogger, clock });
  const started: RunAttempt[] = [];
  let commits = 0;
  let inputs = 0;
  const durable = new DurableScheduler({
    db,
    store: new OrionStore({ db, devices: new KnownDevices(db), file, dataDir: dir }),
    log: new EventLog(db),
    health,
    clock,
    logger: silentLogger,
    file,
    execute: (commands) => {
      inputs++;
      for (const command of commands) if (command.type === "run-attempt") started.push(command);
    },
    busyDags: () => new Set(),
    onOverflow: () => {},
    snapshotInputsPerLiveNode: SNAPSHOT_INPUTS_PER_LIVE_NODE,
    defer: (flush) =>
      queueMicrotask(() => {
        commits++;
        flush();
      }),
  });
  durable.load();
  for (let i = 0; i < DEVICES; i++) {
    durable.submit({
      type: "device-ready",
      device: {
        id: `d${i}`,
        name: `d${i}`,
        capabilities: caps(`d${i}`, { tags: ["sim"], maxTasks: 1024 }),
        rttMs: 1,
      },
    });
  }
  const dag = validated({ name: kind, nodes: shape(kind, count) });
  started.length = 0;
  commits = 0;
  inputs = 0;
  const before = process.cpuUsage();
  durable.submit({ type: "dag-submitted", dagId: "dag", name: kind, nodes: dag });
  const accepting: RunAttempt[] = [];
  while (durable.state.dags.dag.status === "running") {
    // One turn: answers from devices arrive, the turn ends, the batch commits.
    const ending = accepting.splice(0, PER_TURN);
    for (const { dagId, nodeId, attempt } of ending) {
      durable.record({ type: "attempt-ended", dagId, nodeId, attempt, ok: true });
    }
    const accepted = started.splice(0, PER_TURN - ending.length);
    for (const { dagId, nodeId, attempt } of accepted) {
      durable.record({ type: "attempt-accepted", dagId, nodeId, attempt });
    }
    accepting.push(...accepted);
    await null;
  }
  const used = process.cpuUsage(before);
  health.close();
  db.close();
  await Deno.remove(dir, { recursive: true });
  return { usPerNode: (used.user + used.system) / count, perCommit: inputs / Math.max(1, commits) };
}

console.log(
  `\n## Scheduler core and store, in process (no network), ${DEVICES} devices, at most ${PER_TURN} answers a turn, one run`,
);
console.log("| shape | nodes | CPU µs/node | inputs per commit |");
console.log("| --- | ---: | ---: | ---: |");
await measure("wide", 1000); // warm-up, not reported
for (const count of SIZES) {
  for (const kind of ["chain", "wide", "diamond"]) {
    const { usPerNode, perCommit } = await measure(kind, count);
    console.log(`| ${kind} | ${count} | ${usPerNode.toFixed(1)} | ${perCommit.toFixed(1)} |`);
  }
}
