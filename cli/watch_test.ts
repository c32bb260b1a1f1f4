import assert from "node:assert/strict";
import { Api } from "./api.ts";
import type { Io } from "./command.ts";
import type { DagView } from "../shared/api_views.ts";
import { watchDag } from "./watch.ts";

/** A node that has not started. */
const pendingNode = (id: string, kind: DagView["nodes"][number]["kind"]): DagView["nodes"][number] => ({
  id,
  kind,
  after: [],
  state: "pending",
  device: null,
  attempts: [],
  startedAt: null,
  endedAt: null,
  error: null,
  reason: null,
});

const DAG: DagView = {
  id: "d1",
  name: "demo",
  state: "running",
  createdAt: 1000,
  endedAt: null,
  nodes: [pendingNode("a", "script"), pendingNode("b", "server")],
  metrics: { totalMs: 0, criticalPath: { nodes: [], ms: 0 }, parallelism: 0, queueWaitMs: {}, attempts: {} },
};

/** Node a's transition on dev_1 in its first attempt. */
const onDevice = (from: string, to: string, atMs: number, extra: Record<string, unknown> = {}) =>
  ["transition", {
    dagId: "d1",
    kind: "node",
    nodeId: "a",
    from,
    to,
    atMs,
    attempt: 1,
    deviceId: "dev_1",
    ...extra,
  }] as const;

const EVENTS = [
  ["transition", { dagId: "d1", kind: "dag", from: null, to: "running", atMs: 1000 }],
  onDevice("pending", "assigned", 1001),
  onDevice("assigned", "running", 1002),
  onDevice("running", "failed", 1003, { reason: "boom" }),
  ["transition", { dagId: "d1", kind: "node", nodeId: "b", from: "pending", to: "skipped", atMs: 1003 }],
  ["transition", { dagId: "d1", kind: "dag", from: "running", to: "failed", atMs: 1004 }],
] as const;

/** A server that answers the watch's requests: devices, the event stream (in one piece), the final view. */
function fakeServer(): typeof fetch {
  return (input) => {
    const url = new URL(String(input));
    if (url.pathname === "/api/devices") {
      return Promise.resolve(Response.json({ devices: [{ id: "dev_1", name: "box-1" }] }));
    }
    if (url.pathname === "/api/events") {
      assert.equal(url.searchParams.get("dag"), "d1");
      const text = EVENTS.map(([event, data], i) =>
        `id: ${i + 1}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`
      )
        .join("");
      return Promise.resolve(
        new Response(`: connected\n\n${text}`, { headers: { "content-type": "text/event-stream" } }),
      );
    }
    return Promise.resolve(Response.json({ ...DAG, state: "failed", endedAt: 1004 }));
  };
}

function fakeIo(isTerminal: boolean) {
  const written: string[] = [];
  const lines: string[] = [];
  const timers: Array<() => void> = [];
  const io: Io = {
    out: (line) => lines.push(line),
    err: () => {},
    write: (text) => written.push(text),
    writeBytes: () => {},
    isTerminal,
    columns: () => 100,
    nowMs: () => 5000,
    readTextFile: () => Promise.reject(new Error("no files")),
    writeFile: () => Promise.reject(new Error("no files")),
    every: () => () => {},
    after: (_ms, callback) => {
      timers.push(callback);
      return () => timers.splice(timers.indexOf(callback), 1);
    },
  };
  return { io, written, lines, timers };
}

const api = () => new Api({ server: "http://brain.test", token: "a3o_t", fetch: fakeServer() });

Deno.test("watchDag() on a terminal draws a burst of events once, keeping the failure above the block", async () => {
  const { io, written, timers } = fakeIo(true);
  const view = await watchDag({ api: api(), io, signal: new AbortController().signal }, DAG, 4000);
  assert.equal(view.state, "failed");
  assert.equal(written.length, 2, "the first block, then one redraw for the whole burst");
  assert.equal(timers.length, 0, "no redraw is left pending");
  const last = written[1];
  assert.ok(last.startsWith("\x1b[3F\x1b[J"), "the redraw moves up over the 3-line block and erases it");
  assert.deepEqual(last.slice("\x1b[3F\x1b[J".length).trimEnd().split("\n"), [
    "+0.00s node a: running → failed: boom",
    "+0.00s DAG demo: running → failed",
    "DAG demo (d1): failed, 4ms",
    "  1 failed · 1 skipped (2 nodes)",
  ]);
});

Deno.test("watchDag() without a terminal prints one plain line per change", async () => {
  const { io, written, lines } = fakeIo(false);
  await watchDag({ api: api(), io, signal: new AbortController().signal }, DAG, 4000);
  assert.deepEqual(written, []);
  assert.deepEqual(lines, [
    "Watching DAG demo (d1): 2 nodes",
    "+0.00s DAG demo: submitted → running",
    "+0.00s node a: pending → assigned on box-1 (attempt 1)",
    "+0.00s node a: assigned → running on box-1 (attempt 1)",
    "+0.00s node a: running → failed: boom",
    "+0.00s node b: pending → skipped",
    "+0.00s DAG demo: running → failed",
  ]);
});
