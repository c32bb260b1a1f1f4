import assert from "node:assert/strict";
import type { DagNode } from "../../shared/dag/schema.ts";
import { validateDag } from "../../shared/dag/validate.ts";
import type { Capabilities } from "../../shared/protocol/mod.ts";
import { emptyState, Scheduler } from "./scheduler.ts";
import { IllegalTransitionError, type SchedulerCommand } from "./types.ts";
import { dagMetrics } from "./metrics.ts";
import { assertTransition } from "./scheduler.ts";

function caps(name: string, extra: Partial<Capabilities> = {}): Capabilities {
  return {
    name,
    os: { platform: "linux", version: "", hostname: name },
    apps: [],
    screens: [{ width: 1280, height: 800 }],
    input: { mouse: true, keyboard: true },
    media: { capture: true, webrtc: false },
    tags: [],
    ...extra,
  };
}

function device(id: string, rttMs: number | null = 1, extra: Partial<Capabilities> = {}) {
  return { type: "device-ready" as const, device: { id, name: id, capabilities: caps(id, extra), rttMs } };
}

function nodes(input: unknown): DagNode[] {
  const valid = validateDag(input);
  if (!valid.ok) throw new Error(JSON.stringify(valid.error));
  return valid.value.dag.nodes;
}

const runs = (commands: SchedulerCommand[]) =>
  commands.filter((c) => c.type === "run-attempt") as Extract<SchedulerCommand, { type: "run-attempt" }>[];

const SEED = {
  name: "report hand-off",
  nodes: [
    {
      id: "download",
      kind: "script",
      target: { device: "A" },
      steps: [{ type: "click", x: 1, y: 1 }],
      outputs: [{ artifact: "report", file: "report.pdf" }],
    },
    { id: "arrived", kind: "server", after: ["download"], op: { waitFor: "report" } },
    {
      id: "upload",
      kind: "script",
      after: ["arrived"],
      target: { device: "B" },
      inputs: [{ artifact: "report", file: "incoming/report.pdf" }],
      steps: [{ type: "wait", ms: 50 }],
      timeoutMs: 60000,
      retry: { attempts: 3, backoffMs: 500 },
    },
  ],
};

Deno.test("seed example: upload on B runs only after download on A succeeded and its file arrived", () => {
  const s = new Scheduler();
  s.step(device("A"), 0);
  s.step(device("B"), 0);
  const submitted = s.step({ type: "dag-submitted", dagId: "d", name: "seed", nodes: nodes(SEED) }, 10);
  assert.deepEqual(runs(submitted).map((r) => [r.nodeId, r.deviceId]), [["download", "A"]]);
  s.step({ type: "attempt-accepted", dagId: "d", nodeId: "download", attempt: 1 }, 20);
  assert.deepEqual(
    runs(s.step({ type: "artifact-stored", dagId: "d", artifact: "report" }, 30)),
    [],
    "not before success",
  );
  const ended = s.step({ type: "attempt-ended", dagId: "d", nodeId: "download", attempt: 1, ok: true }, 40);
  assert.deepEqual(runs(ended).map((r) => [r.nodeId, r.deviceId, r.deadlineMs]), [["upload", "B", 60040]]);
  assert.equal(s.state.dags.d.nodes.arrived.status, "succeeded", "the file had already arrived");
  s.step({ type: "attempt-accepted", dagId: "d", nodeId: "upload", attempt: 1 }, 50);
  s.step({ type: "attempt-ended", dagId: "d", nodeId: "upload", attempt: 1, ok: true }, 100);
  assert.equal(s.state.dags.d.status, "succeeded");
  const metrics = dagMetrics(s.state.dags.d, 100);
  assert.equal(metrics.totalMs, 90);
  assert.deepEqual(metrics.criticalPath.nodes, ["download", "arrived", "upload"]);
  assert.equal(metrics.queueWaitMs.upload, 10);
});

Deno.test("a failed node's dependents are skipped with the reason and the DAG fails", () => {
  const s = new Scheduler();
  s.step(device("A"), 0);
  const dag = {
    name: "chain",
    nodes: [
      { id: "a", kind: "script", target: { device: "A" }, steps: [] },
      { id: "b", kind: "script", after: ["a"], target: { device: "A" }, steps: [] },
      { id: "c", kind: "script", after: ["b"], target: { device: "A" }, steps: [] },
      { id: "free", kind: "server", op: { sleepMs: 5 } },
    ],
  };
  s.step({ type: "dag-submitted", dagId: "d", name: "chain", nodes: nodes(dag) }, 0);
  s.step({ type: "timer-fired", timerId: "sleep:d:free" }, 5);
  const failure = {
    code: "unknown-app" as const,
    message: "Cannot execute action: unknown application",
    retryable: true,
  };
  s.step({ type: "attempt-ended", dagId: "d", nodeId: "a", attempt: 1, ok: false, failure }, 10);
  const d = s.state.dags.d;
  assert.equal(d.nodes.a.status, "failed", "no retry policy means one attempt");
  assert.deepEqual([d.nodes.b.status, d.nodes.b.reason], ["skipped", "dependency a failed"]);
  assert.deepEqual(
    [d.nodes.c.status, d.nodes.c.reason],
    ["skipped", "dependency a failed"],
    "the reason names the node that failed",
  );
  assert.equal(d.status, "failed");
});

Deno.test("retries back off exponentially and a device-lost attempt moves to another matching device", () => {
  const s = new Scheduler();
  s.step(device("A", 1, { tags: ["gpu"] }), 0);
  s.step(device("B", 5, { tags: ["gpu"] }), 0);
  const dag = {
    name: "retry",
    nodes: [{
      id: "n",
      kind: "script",
      target: { tags: ["gpu"] },
      steps: [{ type: "key", keys: "a" }],
      retry: { attempts: 3, backoffMs: 100 },
    }],
  };
  const first = s.step({ type: "dag-submitted", dagId: "d", name: "retry", nodes: nodes(dag) }, 0);
  assert.equal(runs(first)[0].deviceId, "A", "lowest RTT first");
  const afterLoss = s.step({ type: "device-offline", deviceId: "A" }, 10);
  assert.deepEqual(afterLoss.filter((c) => c.type === "start-timer"), [{
    type: "start-timer",
    timerId: "retry:d:n:1",
    atMs: 110,
  }]);
  const second = s.step({ type: "timer-fired", timerId: "retry:d:n:1" }, 110);
  assert.deepEqual(runs(second).map((r) => [r.attempt, r.deviceId]), [[2, "B"]]);
  const failure = { code: "timeout" as const, message: "Stopped: the deadline passed", retryable: true };
  const afterTimeout = s.step({
    type: "attempt-ended",
    dagId: "d",
    nodeId: "n",
    attempt: 2,
    ok: false,
    failure,
  }, 200);
  assert.deepEqual(afterTimeout.filter((c) => c.type === "start-timer"), [{
    type: "start-timer",
    timerId: "retry:d:n:2",
    atMs: 400,
  }]);
  s.step({ type: "timer-fired", timerId: "retry:d:n:2" }, 400);
  s.step({ type: "attempt-ended", dagId: "d", nodeId: "n", attempt: 3, ok: false, failure }, 500);
  const node = s.state.dags.d.nodes.n;
  assert.equal(node.status, "failed", "three attempts and no more");
  assert.deepEqual(node.attempts.map((a) => [a.attempt, a.deviceId, a.code]), [[1, "A", "device-lost"], [
    2,
    "B",
    "timeout",
  ], [3, "B", "timeout"]]);
});

Deno.test("a late or duplicate answer for an old attempt changes nothing", () => {
  const s = new Scheduler();
  s.step(device("A"), 0);
  s.step({
    type: "dag-submitted",
    dagId: "d",
    name: "x",
    nodes: nodes({
      name: "x",
      nodes: [{ id: "n", kind: "script", target: { device: "A" }, steps: [], retry: { attempts: 2 } }],
    }),
  }, 0);
  const failure = { code: "device-lost" as const, message: "lost", retryable: true };
  s.step({ type: "attempt-ended", dagId: "d", nodeId: "n", attempt: 1, ok: false, failure }, 1);
  s.step({ type: "timer-fired", timerId: "retry:d:n:1" }, 1);
  assert.deepEqual(s.step({ type: "attempt-ended", dagId: "d", nodeId: "n", attempt: 1, ok: true }, 2), []);
  assert.equal(s.state.dags.d.nodes.n.status, "assigned");
});

Deno.test("a node waits visibly until a matching device registers, then starts at once", () => {
  const s = new Scheduler();
  s.step(device("linux-box"), 0);
  const dag = {
    name: "w",
    nodes: [{ id: "n", kind: "script", target: { os: "windows", apps: ["Word"] }, steps: [] }],
  };
  const submitted = s.step({ type: "dag-submitted", dagId: "d", name: "w", nodes: nodes(dag) }, 0);
  assert.deepEqual(runs(submitted), []);
  const node = s.state.dags.d.nodes.n;
  assert.equal(node.status, "waiting");
  assert.match(node.reason!, /no known device matches/);
  const ready = s.step(
    device("win", 3, { os: { platform: "windows", version: "11", hostname: "w" }, apps: ["word"] }),
    50,
  );
  assert.deepEqual(runs(ready).map((r) => r.deviceId), ["win"]);
  assert.equal(node.readyAtMs, 0);
});

Deno.test("assignment picks the least busy device, then the lowest RTT, and one GUI node per device", () => {
  const s = new Scheduler();
  s.step(device("slow", 9), 0);
  s.step(device("fast", 1), 0);
  const gui = (id: string) => ({
    id,
    kind: "script",
    target: { input: true },
    steps: [{ type: "move", x: 1, y: 1 }],
  });
  const dag = { name: "g", nodes: [gui("g1"), gui("g2"), gui("g3")] };
  const commands = s.step({ type: "dag-submitted", dagId: "d", name: "g", nodes: nodes(dag) }, 0);
  assert.deepEqual(runs(commands).map((r) => [r.nodeId, r.deviceId]), [["g1", "fast"], ["g2", "slow"]]);
  assert.equal(s.state.dags.d.nodes.g3.status, "waiting", "both devices already run a GUI node");
  assert.match(s.state.dags.d.nodes.g3.reason!, /busy with a GUI node/);
  const freed = s.step({ type: "attempt-ended", dagId: "d", nodeId: "g2", attempt: 1, ok: true }, 5);
  assert.deepEqual(runs(freed).map((r) => [r.nodeId, r.deviceId]), [["g3", "slow"]]);
  const quiet = (id: string) => ({
    id,
    kind: "script",
    target: { input: true },
    steps: [{ type: "wait", ms: 1 }],
  });
  const more = s.step({
    type: "dag-submitted",
    dagId: "e",
    name: "q",
    nodes: nodes({ name: "q", nodes: [quiet("q1")] }),
  }, 6);
  assert.deepEqual(
    runs(more).map((r) => r.deviceId),
    ["fast"],
    "non-GUI work shares devices; tie on load broken by RTT",
  );
});

Deno.test("cancelling a DAG cancels in-flight attempts on their devices and every unstarted node", () => {
  const s = new Scheduler();
  s.step(device("A"), 0);
  const dag = {
    name: "c",
    nodes: [
      { id: "a", kind: "script", target: { device: "A" }, steps: [] },
      { id: "b", kind: "script", after: ["a"], target: { device: "A" }, steps: [] },
    ],
  };
  s.step({ type: "dag-submitted", dagId: "d", name: "c", nodes: nodes(dag) }, 0);
  const commands = s.step({ type: "cancel-dag", dagId: "d", reason: "operator" }, 5);
  assert.deepEqual(commands.filter((c) => c.type === "cancel-attempt"), [
    { type: "cancel-attempt", dagId: "d", nodeId: "a", attempt: 1, reason: "operator" },
  ]);
  assert.deepEqual([s.state.dags.d.status, s.state.dags.d.nodes.a.status, s.state.dags.d.nodes.b.status], [
    "cancelled",
    "cancelled",
    "cancelled",
  ]);
  assert.equal(s.state.devices.A.nodes.length, 0, "the device is free again");
});

Deno.test("server nodes: sleep fires on its timer; waitFor times out with its timeoutMs", () => {
  const s = new Scheduler();
  const dag = {
    name: "srv",
    nodes: [
      { id: "nap", kind: "server", op: { sleepMs: 100 } },
      {
        id: "p",
        kind: "script",
        target: { device: "X" },
        steps: [],
        outputs: [{ artifact: "f", file: "f" }],
      },
      { id: "wait", kind: "server", after: ["p"], op: { waitFor: "f" }, timeoutMs: 30 },
    ],
  };
  s.step(device("X"), 0);
  const started = s.step({ type: "dag-submitted", dagId: "d", name: "srv", nodes: nodes(dag) }, 0);
  assert.ok(started.some((c) => c.type === "start-timer" && c.timerId === "sleep:d:nap" && c.atMs === 100));
  s.step({ type: "timer-fired", timerId: "sleep:d:nap" }, 100);
  assert.equal(s.state.dags.d.nodes.nap.status, "succeeded");
  s.step({ type: "attempt-ended", dagId: "d", nodeId: "p", attempt: 1, ok: true }, 110);
  s.step({ type: "timer-fired", timerId: "deadline:d:wait" }, 140);
  assert.deepEqual([s.state.dags.d.nodes.wait.status, s.state.dags.d.nodes.wait.error?.code], [
    "failed",
    "timeout",
  ]);
});

Deno.test("every illegal node transition is refused", () => {
  assert.throws(() => assertTransition("n", "succeeded", "running"), IllegalTransitionError);
  assert.throws(() => assertTransition("n", "pending", "succeeded"), IllegalTransitionError);
  assert.throws(
    () => assertTransition("n", "waiting", "running"),
    /Cannot move node n from waiting to running/,
  );
  assert.doesNotThrow(() => assertTransition("n", "running", "succeeded"));
});

Deno.test("dynamic edit adds a node after a finished one and removes a pending one", () => {
  const s = new Scheduler();
  s.step(device("A"), 0);
  const dag = {
    name: "e",
    nodes: [
      { id: "a", kind: "script", target: { device: "A" }, steps: [] },
      { id: "b", kind: "script", after: ["a"], target: { device: "A" }, steps: [] },
    ],
  };
  s.step({ type: "dag-submitted", dagId: "d", name: "e", nodes: nodes(dag) }, 0);
  s.step({ type: "attempt-ended", dagId: "d", nodeId: "a", attempt: 1, ok: true }, 1);
  const added = nodes({
    name: "x",
    nodes: [{ id: "a", kind: "server", op: { sleepMs: 0 } }, {
      id: "c",
      kind: "script",
      after: ["a"],
      target: { device: "A" },
      steps: [],
    }],
  })
    .filter((n) => n.id === "c");
  const edited = s.step({ type: "edit-dag", dagId: "d", added, removed: [] }, 2);
  assert.deepEqual(runs(edited).map((r) => r.nodeId), ["c"], "a's success already counts for the new node");
  s.step({ type: "attempt-ended", dagId: "d", nodeId: "b", attempt: 1, ok: true }, 3);
  s.step({ type: "attempt-ended", dagId: "d", nodeId: "c", attempt: 1, ok: true }, 4);
  assert.equal(s.state.dags.d.status, "succeeded");
});

Deno.test("state survives JSON, and recovery fails in-flight attempts as server-restart for the retry policy", () => {
  const s = new Scheduler();
  s.step(device("A"), 0);
  const dag = {
    name: "r",
    nodes: [{
      id: "n",
      kind: "script",
      target: { device: "A" },
      steps: [],
      retry: { attempts: 2, backoffMs: 10 },
    }],
  };
  s.step({ type: "dag-submitted", dagId: "d", name: "r", nodes: nodes(dag) }, 0);
  s.step({ type: "attempt-accepted", dagId: "d", nodeId: "n", attempt: 1 }, 1);
  const restored = new Scheduler(JSON.parse(JSON.stringify(s.state)));
  const commands = restored.recover(50);
  const node = restored.state.dags.d.nodes.n;
  assert.deepEqual([node.status, node.attempts[0].code], ["pending", "server-restart"]);
  assert.deepEqual(commands.filter((c) => c.type === "start-timer"), [{
    type: "start-timer",
    timerId: "retry:d:n:1",
    atMs: 60,
  }]);
  restored.step({ type: "timer-fired", timerId: "retry:d:n:1" }, 60);
  assert.equal(node.status, "waiting", "the device has not reconnected yet");
  const back = restored.step(device("A"), 70);
  assert.deepEqual(runs(back).map((r) => [r.attempt, r.deviceId]), [[2, "A"]]);
});

Deno.test("10,000-node chain, wide and diamond DAGs run through quickly without deep recursion", () => {
  const shapes: Record<string, unknown[]> = {
    chain: Array.from(
      { length: 10_000 },
      (_, i) => ({
        id: `n${i}`,
        kind: "script",
        target: { tags: ["w"] },
        steps: [],
        after: i ? [`n${i - 1}`] : [],
      }),
    ),
    wide: Array.from(
      { length: 10_000 },
      (_, i) => ({ id: `n${i}`, kind: "script", target: { tags: ["w"] }, steps: [] }),
    ),
    diamond: [
      { id: "top", kind: "script", target: { tags: ["w"] }, steps: [] },
      ...Array.from(
        { length: 9_998 },
        (_, i) => ({ id: `m${i}`, kind: "script", target: { tags: ["w"] }, steps: [], after: ["top"] }),
      ),
      {
        id: "bottom",
        kind: "script",
        target: { tags: ["w"] },
        steps: [],
        after: Array.from({ length: 1000 }, (_, i) => `m${i}`),
      },
    ],
  };
  for (const [shape, list] of Object.entries(shapes)) {
    const s = new Scheduler(emptyState());
    for (let d = 0; d < 100; d++) s.step(device(`dev${d}`, d, { tags: ["w"] }), 0);
    const queue = runs(
      s.step(
        { type: "dag-submitted", dagId: shape, name: shape, nodes: nodes({ name: shape, nodes: list }) },
        0,
      ),
    );
    let done = 0;
    while (queue.length > 0) {
      const next = queue.pop()!;
      queue.push(
        ...runs(
          s.step({
            type: "attempt-ended",
            dagId: shape,
            nodeId: next.nodeId,
            attempt: next.attempt,
            ok: true,
          }, 1),
        ),
      );
      done++;
    }
    assert.equal(done, 10_000, shape);
    assert.equal(s.state.dags[shape].status, "succeeded", shape);
  }
});
