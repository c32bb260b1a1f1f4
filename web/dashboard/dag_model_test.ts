import assert from "node:assert/strict";
import { DagModel } from "./dag_model.ts";
import type { DagView } from "./types.ts";

const view = (states: Record<string, string>, state = "running"): DagView => ({
  id: "d",
  name: "x",
  state,
  createdAt: 0,
  endedAt: null,
  nodes: Object.entries(states).map(([id, s]) => ({
    id,
    kind: "script",
    after: [],
    state: s,
    device: null,
    attempts: [],
    startedAt: null,
    endedAt: null,
    error: null,
    reason: null,
  })),
  metrics: { totalMs: 0, criticalPath: { nodes: [], ms: 0 }, parallelism: 0, queueWaitMs: {}, attempts: {} },
});

const node = (nodeId: string, to: string, deviceId?: string) => ({
  id: 1,
  event: "transition",
  data: { kind: "node", dagId: "d", nodeId, from: "x", to, ...(deviceId ? { deviceId, attempt: 1 } : {}) },
});

Deno.test("DagModel applies node and DAG transitions and reports what changed", () => {
  const model = new DagModel();
  model.setView(view({ a: "pending", b: "pending" }));
  assert.deepEqual(model.apply(node("a", "running", "dev")), {
    dag: false,
    nodes: ["a"],
    unknownNode: false,
  });
  assert.equal(model.stateOf("a"), "running");
  assert.equal(model.node("a")?.device, "dev");
  assert.deepEqual(
    model.apply({ id: 2, event: "transition", data: { kind: "dag", dagId: "d", to: "cancelled" } }).dag,
    true,
  );
  assert.equal(model.state, "cancelled");
  assert.deepEqual(model.counts(), { running: 1, pending: 1 });
});

Deno.test("DagModel keeps states events set when an older view arrives after them", () => {
  const model = new DagModel();
  model.setView(view({ a: "pending" }));
  model.apply(node("a", "succeeded"));
  model.apply({ id: 3, event: "transition", data: { kind: "dag", dagId: "d", to: "succeeded" } });
  model.setView(view({ a: "running" }, "running"));
  assert.equal(model.stateOf("a"), "succeeded");
  assert.equal(model.node("a")?.state, "succeeded");
  assert.equal(model.state, "succeeded");
});

Deno.test("DagModel uses events that came before the first view, and asks for a view for an unknown node", () => {
  const model = new DagModel();
  assert.deepEqual(model.apply(node("a", "running")).nodes, [], "no view yet: nothing drawn to change");
  model.setView(view({ a: "pending" }));
  assert.equal(model.stateOf("a"), "running");
  assert.equal(model.apply(node("added", "pending")).unknownNode, true);
});
