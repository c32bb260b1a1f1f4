import assert from "node:assert/strict";
import { DagProgress } from "./progress.ts";

const names = (id: string) => ({ dev_1: "box-1", dev_2: "box-2" } as Record<string, string>)[id] ?? id;
const node = (
  nodeId: string,
  from: string,
  to: string,
  atMs: number,
  extra: Record<string, unknown> = {},
) => ({
  event: "transition",
  data: { dagId: "d1", kind: "node", nodeId, from, to, atMs, ...extra },
});

Deno.test("DagProgress: a line per change, relative to the DAG's creation", () => {
  const progress = new DagProgress("d1", "demo", 1000, ["a", "b"]);
  const lines = [
    { event: "transition", data: { dagId: "d1", kind: "dag", from: null, to: "running", atMs: 1000 } },
    node("a", "pending", "assigned", 1010, { attempt: 1, deviceId: "dev_1" }),
    node("a", "assigned", "running", 1020, { attempt: 1, deviceId: "dev_1" }),
    {
      event: "step",
      data: {
        dagId: "d1",
        nodeId: "a",
        attempt: 1,
        index: 0,
        type: "move",
        ok: true,
        error: null,
        startedAt: 1020,
        endedAt: 1032,
        atMs: 1032,
      },
    },
    node("b", "pending", "running", 1040),
    node("a", "running", "failed", 1500, { attempt: 1, deviceId: "dev_1", reason: "timeout: too slow" }),
    { event: "transition", data: { dagId: "d1", kind: "dag", from: "running", to: "failed", atMs: 1600 } },
  ].map((event) => progress.apply(event, names));
  assert.deepEqual(lines.map((l) => l.line), [
    "+0.00s DAG demo: submitted → running",
    "+0.01s node a: pending → assigned on box-1 (attempt 1)",
    "+0.02s node a: assigned → running on box-1 (attempt 1)",
    "+0.03s step a#1.0 move: ok (12ms)",
    "+0.04s node b: pending → running on the server",
    "+0.50s node a: running → failed: timeout: too slow",
    "+0.60s DAG demo: running → failed",
  ]);
  assert.deepEqual(lines.map((l) => l.notable), [false, false, false, false, false, true, true]);
  assert.ok(progress.done);
  assert.equal(progress.endedAtMs, 1600);
});

Deno.test("DagProgress.block(): counts by state, the node on each device, elapsed", () => {
  const progress = new DagProgress("d1", "demo", 0, ["a", "b", "c", "d"]);
  progress.apply(node("a", "pending", "assigned", 1, { attempt: 1, deviceId: "dev_1" }), names);
  progress.apply(node("a", "assigned", "running", 2, { attempt: 1, deviceId: "dev_1" }), names);
  progress.apply(node("b", "pending", "assigned", 3, { attempt: 2, deviceId: "dev_2" }), names);
  progress.apply(node("c", "pending", "running", 4), names);
  assert.deepEqual(progress.block(4200, names, 120), [
    "DAG demo (d1): running, 4.2s",
    "  2 running · 1 assigned · 1 pending (4 nodes)",
    "  box-1: a (running)",
    "  box-2: b (assigned, attempt 2)",
    "  server: c (running)",
  ]);
});

Deno.test("DagProgress.block() cuts lines to the terminal's width and ignores other DAGs", () => {
  const progress = new DagProgress("d1", "a-very-long-dag-name-that-goes-on", 0, ["a"]);
  const other = {
    event: "transition",
    data: { dagId: "d2", kind: "dag", from: "running", to: "failed", atMs: 1 },
  };
  assert.deepEqual(progress.apply(other, names), { line: null, notable: false });
  const block = progress.block(0, names, 30);
  assert.ok(block.every((line) => [...line].length <= 29), block.join("\n"));
  assert.ok(block[0].endsWith("…"));
  assert.equal(progress.state, "running");
});
