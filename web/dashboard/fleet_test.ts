import assert from "node:assert/strict";
import { Fleet } from "./fleet.ts";
import type { DagView, Device } from "./types.ts";

const device = (id: string, name: string, state = "ready"): Device => ({
  id,
  name,
  state,
  rttMs: 1,
  lastSeen: 0,
  capabilities: null,
});

const transition = (data: Record<string, unknown>) => ({
  id: 1,
  event: "transition",
  data: { kind: "node", dagId: "d", ...data },
});

Deno.test("Fleet lists devices online first, then by name, and finds one by id or name", () => {
  const fleet = new Fleet();
  fleet.setDevices([device("3", "zed"), device("1", "bee", "offline"), device("2", "ant")]);
  assert.deepEqual(fleet.sorted().map((d) => d.name), ["ant", "zed", "bee"]);
  assert.equal(fleet.find("2")?.name, "ant");
  assert.equal(fleet.find("bee")?.id, "1");
});

Deno.test("Fleet.apply() takes a device's state from its event and adds a device it did not know", () => {
  const fleet = new Fleet();
  fleet.setDevices([device("1", "a")]);
  assert.equal(
    fleet.apply({ id: 1, event: "device", data: { deviceId: "1", name: "a", from: "ready", to: "offline" } }),
    "1",
  );
  assert.equal(fleet.devices.get("1")?.state, "offline");
  fleet.apply({ id: 2, event: "device", data: { deviceId: "9", name: "new", from: null, to: "ready" } });
  assert.equal(fleet.find("new")?.state, "ready");
  assert.equal(fleet.find("new")?.capabilities, null, "capabilities come with the next list");
});

Deno.test("Fleet tracks the node a device runs from transitions, and forgets it when the node moves on", () => {
  const fleet = new Fleet();
  fleet.apply(transition({ nodeId: "n", from: "waiting", to: "assigned", attempt: 1, deviceId: "dev" }));
  fleet.apply(transition({ nodeId: "n", from: "assigned", to: "running", attempt: 1, deviceId: "dev" }));
  assert.deepEqual(fleet.current.get("dev"), [{ dagId: "d", nodeId: "n", attempt: 1, state: "running" }]);
  assert.equal(fleet.apply(transition({ nodeId: "n", from: "running", to: "succeeded", attempt: 1 })), "dev");
  assert.equal(fleet.current.get("dev"), undefined);
});

Deno.test("Fleet attributes steps to the device that ran their attempt, newest first", () => {
  const fleet = new Fleet();
  fleet.apply(transition({ nodeId: "n", to: "running", attempt: 2, deviceId: "dev" }));
  const step = (index: number, attempt = 2) => ({
    id: index,
    event: "step",
    data: {
      dagId: "d",
      nodeId: "n",
      attempt,
      index,
      type: "move",
      args: {},
      startedAt: index,
      endedAt: index,
      ok: true,
    },
  });
  assert.equal(fleet.apply(step(0)), "dev");
  fleet.apply(step(1));
  assert.equal(fleet.apply(step(0, 1)), null, "an attempt the fleet never saw placed is nobody's");
  assert.deepEqual(fleet.steps.get("dev")?.map((s) => s.index), [1, 0]);
});

Deno.test("Fleet learns running nodes and steps' devices from DAG views fetched at start", () => {
  const fleet = new Fleet();
  const view: DagView = {
    id: "d",
    name: "x",
    state: "running",
    createdAt: 0,
    endedAt: null,
    nodes: [{
      id: "n",
      kind: "script",
      after: [],
      state: "running",
      device: "dev",
      attempts: [
        { attempt: 1, deviceId: "old", assignedAtMs: 0, startedAtMs: 0, endedAtMs: 1, outcome: "failed" },
        {
          attempt: 2,
          deviceId: "dev",
          assignedAtMs: 2,
          startedAtMs: 2,
          endedAtMs: null,
          outcome: "in-flight",
        },
      ],
      startedAt: 0,
      endedAt: null,
      error: null,
      reason: null,
    }],
    metrics: {
      totalMs: 0,
      criticalPath: { nodes: [], ms: 0 },
      parallelism: 0,
      queueWaitMs: {},
      attempts: {},
    },
  };
  fleet.learnDags([view]);
  assert.deepEqual(fleet.current.get("dev")?.map((n) => n.nodeId), ["n"]);
  assert.equal(fleet.current.get("old"), undefined);
  const step = (attempt: number, index: number) => ({
    attempt,
    index,
    type: "frame",
    args: {},
    startedAt: index,
    endedAt: index,
    ok: true,
    error: null,
    output: null,
    frame: null,
  });
  fleet.learnSteps("old", "d", "n", [step(1, 0), step(2, 0), step(2, 1)]);
  assert.deepEqual(fleet.steps.get("old")?.map((s) => `${s.attempt}.${s.index}`), ["1.0"]);
  fleet.learnSteps("old", "d", "n", [step(1, 0)]);
  assert.equal(fleet.steps.get("old")?.length, 1, "a step learnt twice is kept once");
});
