import assert from "node:assert/strict";
import { Scheduler, step } from "./state_machine.ts";
import { accepted, brief, fail, failure, ok, ready, runs, script, submit } from "./testing.ts";
import { emptyState } from "./state_machine.ts";

const SEED = {
  name: "report hand-off",
  nodes: [
    {
      id: "download",
      kind: "script",
      target: { device: "A" },
      steps: [{ type: "wait", ms: 50 }],
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

Deno.test("seed example: download on A, the server waits for the report, upload on B only after both", () => {
  const s = new Scheduler();
  assert.deepEqual(brief(s.step(ready("A"), 0)), []);
  assert.deepEqual(brief(s.step(ready("B"), 0)), []);
  assert.deepEqual(brief(s.step(submit("d", SEED), 10)), [
    "dag d: new -> running",
    "download: pending -> assigned",
    "run download#1 on A until 600010",
    "timer deadline:d:download:1 at 600010",
  ]);
  assert.deepEqual(brief(s.step(accepted("d", "download"), 20)), ["download: assigned -> running"]);
  assert.deepEqual(
    brief(s.step({ type: "artifact-stored", dagId: "d", artifact: "report" }, 30)),
    [],
    "the report arriving does not start anything before download succeeded",
  );
  assert.deepEqual(brief(s.step(ok("d", "download"), 40)), [
    "untimer deadline:d:download:1",
    "download: running -> succeeded",
    "arrived: pending -> running",
    "arrived: running -> succeeded",
    "upload: pending -> assigned",
    "run upload#1 on B until 60040",
    "timer deadline:d:upload:1 at 60040",
  ]);
  assert.deepEqual(brief(s.step(accepted("d", "upload"), 50)), ["upload: assigned -> running"]);
  assert.deepEqual(brief(s.step(ok("d", "upload"), 100)), [
    "untimer deadline:d:upload:1",
    "upload: running -> succeeded",
    "dag d: running -> succeeded",
  ]);
});

Deno.test("seed example: when the report arrives after download succeeded, upload starts on its arrival", () => {
  const s = new Scheduler();
  s.step(ready("A"), 0);
  s.step(ready("B"), 0);
  s.step(submit("d", SEED), 0);
  assert.deepEqual(brief(s.step(ok("d", "download"), 10)), [
    "untimer deadline:d:download:1",
    "download: assigned -> succeeded",
    "arrived: pending -> running",
  ]);
  assert.deepEqual(brief(s.step({ type: "artifact-stored", dagId: "d", artifact: "report" }, 25)), [
    "arrived: running -> succeeded",
    "upload: pending -> assigned",
    "run upload#1 on B until 60025",
    "timer deadline:d:upload:1 at 60025",
  ]);
});

Deno.test("a failed node's dependents end skipped naming it; independent work finishes before the DAG fails", () => {
  const s = new Scheduler();
  s.step(ready("A"), 0);
  s.step(
    submit("d", {
      name: "chain",
      nodes: [
        script("a"),
        script("b", { after: ["a"] }),
        script("c", { after: ["b", "a"] }),
        { id: "free", kind: "server", op: { sleepMs: 50 } },
      ],
    }),
    0,
  );
  assert.deepEqual(brief(s.step(fail("d", "a", 1, failure("action-failed")), 10)), [
    "untimer deadline:d:a:1",
    "a: assigned -> failed",
    "c: pending -> skipped",
    "b: pending -> skipped",
  ]);
  const d = s.state.dags.d;
  assert.deepEqual(d.nodes.a.error, { code: "action-failed", message: "Stopped: action-failed" });
  assert.deepEqual([d.nodes.b.reason, d.nodes.c.reason], ["dependency a failed", "dependency a failed"]);
  assert.equal(d.status, "running", "the server sleep is still going");
  assert.deepEqual(brief(s.step({ type: "timer-fired", timerId: "sleep:d:free" }, 50)), [
    "free: running -> succeeded",
    "dag d: running -> failed",
  ]);
});

Deno.test("retries back off exponentially (backoffMs * 2^(n-1)), each attempt recorded; non-retryable ends it", () => {
  const s = new Scheduler();
  s.step(ready("A"), 0);
  s.step(submit("d", { name: "r", nodes: [script("n", { retry: { attempts: 3, backoffMs: 100 } })] }), 0);
  s.step(accepted("d", "n"), 5);
  assert.deepEqual(brief(s.step(fail("d", "n", 1, failure("action-failed")), 10)), [
    "untimer deadline:d:n:1",
    "n: running -> pending",
    "timer retry:d:n:1 at 110",
  ]);
  assert.equal(s.state.dags.d.nodes.n.reason, "attempt 1 failed (action-failed); retry in 100 ms");
  assert.deepEqual(brief(s.step({ type: "timer-fired", timerId: "retry:d:n:1" }, 110)), [
    "n: pending -> assigned",
    "run n#2 on A until 600110",
    "timer deadline:d:n:2 at 600110",
  ]);
  assert.deepEqual(brief(s.step(fail("d", "n", 2, failure("action-failed")), 200)), [
    "untimer deadline:d:n:2",
    "n: assigned -> pending",
    "timer retry:d:n:2 at 400",
  ]);
  s.step({ type: "timer-fired", timerId: "retry:d:n:2" }, 400);
  assert.deepEqual(brief(s.step(fail("d", "n", 3, failure("action-failed")), 450)), [
    "untimer deadline:d:n:3",
    "n: assigned -> failed",
    "dag d: running -> failed",
  ]);
  assert.deepEqual(
    s.state.dags.d.nodes.n.attempts.map((
      a,
    ) => [a.attempt, a.deviceId, a.startedAtMs, a.endedAtMs, a.outcome, a.code]),
    [[1, "A", 5, 10, "failed", "action-failed"], [2, "A", null, 200, "failed", "action-failed"], [
      3,
      "A",
      null,
      450,
      "failed",
      "action-failed",
    ]],
  );
  const t = new Scheduler();
  t.step(ready("A"), 0);
  t.step(submit("d", { name: "r", nodes: [script("n", { retry: { attempts: 3, backoffMs: 100 } })] }), 0);
  assert.deepEqual(brief(t.step(fail("d", "n", 1, failure("unknown-app", false)), 10)), [
    "untimer deadline:d:n:1",
    "n: assigned -> failed",
    "dag d: running -> failed",
  ]);
});

Deno.test("a device lost mid-node fails the attempt device-lost and the retry runs on another matching device", () => {
  const s = new Scheduler();
  s.step(ready("A", 1, { tags: ["gpu"] }), 0);
  s.step(ready("B", 5, { tags: ["gpu"] }), 0);
  const dag = {
    name: "r",
    nodes: [script("n", { target: { tags: ["gpu"] }, retry: { attempts: 2, backoffMs: 100 } })],
  };
  assert.equal(runs(s.step(submit("d", dag), 0))[0].deviceId, "A", "lowest RTT first");
  s.step(accepted("d", "n"), 2);
  assert.deepEqual(brief(s.step({ type: "device-offline", deviceId: "A" }, 10)), [
    "cancel n#1 (device-lost)",
    "untimer deadline:d:n:1",
    "n: running -> pending",
    "timer retry:d:n:1 at 110",
  ]);
  assert.deepEqual(
    brief(s.step(fail("d", "n", 1, failure("device-lost")), 11)),
    [],
    "the runner's late report",
  );
  assert.deepEqual(
    runs(s.step({ type: "timer-fired", timerId: "retry:d:n:1" }, 110)).map((r) => [r.attempt, r.deviceId]),
    [
      [2, "B"],
    ],
  );
  const attempt = s.state.dags.d.nodes.n.attempts[0];
  assert.deepEqual([attempt.outcome, attempt.code, attempt.endedAtMs], ["failed", "device-lost", 10]);
});

Deno.test("a device lost mid-node is retried on the same device when it is the only match and returns", () => {
  const s = new Scheduler();
  s.step(ready("A"), 0);
  s.step(submit("d", { name: "r", nodes: [script("n", { retry: { attempts: 2 } })] }), 0);
  s.step({ type: "device-offline", deviceId: "A" }, 10);
  assert.deepEqual(brief(s.step({ type: "timer-fired", timerId: "retry:d:n:1" }, 10)), [
    "n: pending -> waiting",
  ]);
  assert.match(s.state.dags.d.nodes.n.reason!, /every matching device is offline/);
  assert.deepEqual(brief(s.step(ready("A"), 30)), [
    "n: waiting -> assigned",
    "run n#2 on A until 600030",
    "timer deadline:d:n:2 at 600030",
  ]);
});

Deno.test("a waiting node shows why, and is assigned the moment a matching device registers", () => {
  const s = new Scheduler();
  s.step(ready("linux-box"), 0);
  const dag = { name: "w", nodes: [script("n", { target: { os: "Windows", apps: ["Word"] } })] };
  assert.deepEqual(brief(s.step(submit("d", dag), 0)), ["dag d: new -> running", "n: pending -> waiting"]);
  assert.match(s.state.dags.d.nodes.n.reason!, /^no known device matches: waiting for a device with/);
  const win = ready("win", 3, { os: { platform: "windows", version: "11", hostname: "w" }, apps: ["word"] });
  assert.deepEqual(brief(s.step(win, 50)), [
    "n: waiting -> assigned",
    "run n#1 on win until 600050",
    "timer deadline:d:n:1 at 600050",
  ]);
  s.step(accepted("d", "n"), 60);
  assert.deepEqual([s.state.dags.d.nodes.n.readyAtMs, s.state.dags.d.nodes.n.startedAtMs], [0, 60]);
});

Deno.test("assignment picks the least busy matching device, then the lowest RTT, then the smallest id", () => {
  const s = new Scheduler();
  s.step(ready("c", 5, { maxTasks: 2 }), 0);
  s.step(ready("b", 5, { maxTasks: 2 }), 0);
  s.step(ready("a", 9, { maxTasks: 2 }), 0);
  const quiet = (id: string) => script(id, { target: { input: true } });
  const placed = runs(s.step(submit("d", { name: "q", nodes: ["n1", "n2", "n3", "n4"].map(quiet) }), 0));
  assert.deepEqual(placed.map((r) => [r.nodeId, r.deviceId]), [["n1", "b"], ["n2", "c"], ["n3", "a"], [
    "n4",
    "b",
  ]]);
  s.step(ok("d", "n2"), 1);
  const next = runs(s.step(submit("e", { name: "q", nodes: [quiet("m")] }), 2));
  assert.deepEqual(next.map((r) => r.deviceId), ["c"], "c now runs nothing");
});

Deno.test("one GUI node per device; wait-only nodes share; an operator-busy device takes no GUI node", () => {
  const s = new Scheduler();
  s.step(ready("slow", 9, { maxTasks: 2 }), 0);
  s.step(ready("fast", 1, { maxTasks: 2 }), 0);
  const gui = (id: string) => script(id, { target: { input: true }, steps: [{ type: "move", x: 1, y: 1 }] });
  const commands = s.step(submit("d", { name: "g", nodes: [gui("g1"), gui("g2"), gui("g3")] }), 0);
  assert.deepEqual(runs(commands).map((r) => [r.nodeId, r.deviceId]), [["g1", "fast"], ["g2", "slow"]]);
  assert.equal(s.state.dags.d.nodes.g3.status, "waiting");
  assert.match(s.state.dags.d.nodes.g3.reason!, /busy with a GUI node/);
  const shared = runs(
    s.step(submit("q", { name: "q", nodes: [script("w", { target: { input: true } })] }), 1),
  );
  assert.deepEqual(shared.map((r) => r.deviceId), ["fast"], "a wait-only node shares a GUI-busy device");
  s.step({ type: "device-updated", deviceId: "slow", busy: true }, 2);
  assert.deepEqual(runs(s.step(ok("d", "g2"), 5)), [], "slow is held by an operator");
  assert.deepEqual(brief(s.step({ type: "device-updated", deviceId: "slow", busy: false }, 6)), [
    "g3: waiting -> assigned",
    "run g3#1 on slow until 600006",
    "timer deadline:d:g3:1 at 600006",
  ]);
});

Deno.test("a device attempt past its timeoutMs is cancelled on the device and fails timeout", () => {
  const s = new Scheduler();
  s.step(ready("A"), 0);
  s.step(
    submit("d", {
      name: "t",
      nodes: [script("n", { timeoutMs: 1000, retry: { attempts: 2, backoffMs: 10 } })],
    }),
    0,
  );
  s.step(accepted("d", "n"), 5);
  assert.deepEqual(brief(s.step({ type: "timer-fired", timerId: "deadline:d:n:1" }, 1000)), [
    "cancel n#1 (timeout)",
    "n: running -> pending",
    "timer retry:d:n:1 at 1010",
  ]);
  assert.equal(s.state.dags.d.nodes.n.attempts[0].code, "timeout");
  assert.equal(s.state.devices.A.nodes.length, 0, "the device is free again");
  assert.deepEqual(
    brief(s.step(ok("d", "n", 1), 1001)),
    [],
    "a result after the deadline counts for nothing",
  );
});

Deno.test("a server waitFor node fails timeout at its timeoutMs", () => {
  const s = new Scheduler();
  s.step(ready("A"), 0);
  const dag = {
    name: "w",
    nodes: [
      script("p", { outputs: [{ artifact: "f", file: "f" }] }),
      { id: "wait", kind: "server", after: ["p"], op: { waitFor: "f" }, timeoutMs: 30 },
    ],
  };
  s.step(submit("d", dag), 0);
  assert.deepEqual(brief(s.step(ok("d", "p"), 10)), [
    "untimer deadline:d:p:1",
    "p: assigned -> succeeded",
    "wait: pending -> running",
    "timer deadline:d:wait at 40",
  ]);
  assert.deepEqual(brief(s.step({ type: "timer-fired", timerId: "deadline:d:wait" }, 40)), [
    "wait: running -> failed",
    "dag d: running -> failed",
  ]);
});

Deno.test("cancel: running attempts are cancelled on their devices, unstarted nodes end cancelled, then the DAG", () => {
  const s = new Scheduler();
  s.step(ready("A"), 0);
  const dag = {
    name: "c",
    nodes: [script("a"), script("b", { after: ["a"] }), { id: "nap", kind: "server", op: { sleepMs: 100 } }],
  };
  s.step(submit("d", dag), 0);
  s.step(accepted("d", "a"), 1);
  assert.deepEqual(brief(s.step({ type: "cancel-dag", dagId: "d", reason: "cancelled by ops" }, 5)), [
    "cancel a#1 (cancelled by ops)",
    "untimer deadline:d:a:1",
    "a: running -> cancelled",
    "b: pending -> cancelled",
    "untimer sleep:d:nap",
    "nap: running -> cancelled",
    "dag d: running -> cancelled",
  ]);
  assert.equal(s.state.devices.A.nodes.length, 0);
  assert.deepEqual(brief(s.step(ok("d", "a"), 6)), [], "the cancelled attempt's answer changes nothing");
  assert.deepEqual(brief(s.step({ type: "cancel-dag", dagId: "d", reason: "again" }, 7)), []);
});

Deno.test("edits: added nodes may follow finished ones, depend on failed ones (skipped), and pending nodes go", () => {
  const s = new Scheduler();
  s.step(ready("A", 1, { maxTasks: 4 }), 0);
  s.step(
    submit("d", {
      name: "e",
      nodes: [
        script("a"),
        script("x"),
        script("b", { after: ["a"] }),
        { id: "hold", kind: "server", op: { sleepMs: 1000 } },
      ],
    }),
    0,
  );
  s.step(ok("d", "a"), 1);
  s.step(fail("d", "x", 1, failure("action-failed")), 1);
  const added = submit("tmp", {
    name: "t",
    nodes: [script("a"), script("x"), script("c", { after: ["a"] }), script("y", { after: ["x"] })],
  });
  assert.ok(added.type === "dag-submitted");
  const edit = {
    type: "edit-dag" as const,
    dagId: "d",
    added: added.nodes.filter((n) => n.id === "c" || n.id === "y"),
    removed: ["b"],
  };
  s.step({ type: "attempt-accepted", dagId: "d", nodeId: "b", attempt: 1 }, 2);
  const beforeRemoval = s.state.dags.d.nodes.b.status;
  assert.equal(beforeRemoval, "running");
  const ignored = brief(s.step(edit, 3));
  assert.ok(!ignored.includes("b: running -> removed"), "a running node is never removed");
  assert.deepEqual(ignored, [
    "y: pending -> skipped",
    "c: pending -> assigned",
    "run c#1 on A until 600003",
    "timer deadline:d:c:1 at 600003",
  ]);
  assert.equal(s.state.dags.d.nodes.y.reason, "dependency x failed");
  const later = submit("tmp2", { name: "t", nodes: [script("z", {}), script("w", { after: ["z"] })] });
  assert.ok(later.type === "dag-submitted");
  s.step({ type: "edit-dag", dagId: "d", added: later.nodes, removed: [] }, 4);
  assert.deepEqual(brief(s.step({ type: "edit-dag", dagId: "d", added: [], removed: ["w"] }, 5)), [
    "w: pending -> removed",
  ]);
  assert.deepEqual(s.state.dags.d.order, ["a", "x", "b", "hold", "c", "y", "z"]);
});

Deno.test("serialize, restore, recover: in-flight attempts fail server-restart, timers are re-armed", () => {
  const s = new Scheduler();
  s.step(ready("A", 1, { maxTasks: 2 }), 0);
  const dag = {
    name: "r",
    nodes: [
      script("n", { retry: { attempts: 2, backoffMs: 10 } }),
      script("once"),
      { id: "nap", kind: "server", op: { sleepMs: 100 } },
    ],
  };
  s.step(submit("d", dag), 0);
  s.step(accepted("d", "n"), 1);
  const again = JSON.parse(JSON.stringify(s.state));
  assert.deepEqual(again, s.state, "the state is plain JSON");
  const recovered = new Scheduler(again);
  assert.deepEqual(brief(recovered.recover(50)), [
    "untimer deadline:d:n:1",
    "n: running -> pending",
    "timer retry:d:n:1 at 60",
    "untimer deadline:d:once:1",
    "once: assigned -> failed",
    "timer sleep:d:nap at 100",
  ]);
  assert.equal(again.dags.d.nodes.n.attempts[0].code, "server-restart");
  assert.equal(again.dags.d.nodes.once.status, "failed", "no retry policy: one attempt");
  assert.deepEqual(brief(recovered.step({ type: "timer-fired", timerId: "retry:d:n:1" }, 60)), [
    "n: pending -> waiting",
  ]);
  assert.equal(again.dags.d.nodes.n.status, "waiting", "the device has not reconnected yet");
  assert.deepEqual(
    runs(recovered.step(ready("A", 1, { maxTasks: 2 }), 70)).map((r) => [r.nodeId, r.attempt, r.deviceId]),
    [[
      "n",
      2,
      "A",
    ]],
  );
  recovered.step({ type: "timer-fired", timerId: "sleep:d:nap" }, 100);
  recovered.step(ok("d", "n", 2), 110);
  assert.equal(again.dags.d.status, "failed");
});

Deno.test("step() updates the state in place and returns it with the commands; unknown ids change nothing", () => {
  const state = emptyState();
  const result = step(state, ready("A"), 0);
  assert.equal(result.state, state);
  for (
    const event of [
      ok("ghost", "n"),
      accepted("ghost", "n"),
      { type: "timer-fired" as const, timerId: "retry:ghost:n:1" },
      { type: "device-offline" as const, deviceId: "ghost" },
      { type: "device-updated" as const, deviceId: "ghost", busy: true },
      { type: "artifact-stored" as const, dagId: "ghost", artifact: "f" },
      { type: "edit-dag" as const, dagId: "ghost", added: [], removed: ["n"] },
    ]
  ) assert.deepEqual(step(state, event, 1).commands, [], event.type);
});

Deno.test("a device is never given more nodes than its maxTasks; a freed slot goes to the oldest waiting node", () => {
  const s = new Scheduler();
  s.step(ready("A", 1, { maxTasks: 2 }), 0);
  const dag = { name: "cap", nodes: ["n1", "n2", "n3", "n4"].map((id) => script(id)) };
  assert.deepEqual(brief(s.step(submit("d", dag), 0)), [
    "dag d: new -> running",
    "n1: pending -> assigned",
    "run n1#1 on A until 600000",
    "timer deadline:d:n1:1 at 600000",
    "n2: pending -> assigned",
    "run n2#1 on A until 600000",
    "timer deadline:d:n2:1 at 600000",
    "n3: pending -> waiting",
    "n4: pending -> waiting",
  ]);
  assert.match(s.state.dags.d.nodes.n3.reason!, /^every matching device runs as many tasks as it announced/);
  assert.deepEqual(brief(s.step(ok("d", "n2"), 10)), [
    "n3: waiting -> assigned",
    "run n3#1 on A until 600010",
    "timer deadline:d:n3:1 at 600010",
    "untimer deadline:d:n2:1",
    "n2: assigned -> succeeded",
  ]);
  assert.deepEqual(s.state.devices.A.nodes, ["d/n1", "d/n3"]);
  assert.deepEqual(
    brief(s.step({ type: "timer-fired", timerId: "deadline:d:n1:1" }, 600000)),
    [
      "cancel n1#1 (timeout)",
      "n1: assigned -> failed",
      "n4: waiting -> assigned",
      "run n4#1 on A until 1200000",
      "timer deadline:d:n4:1 at 1200000",
    ],
    "a cancelled attempt frees its slot at once",
  );
  assert.equal(s.state.devices.A.nodes.length, 2);
});

Deno.test("a device that announced no maxTasks (an older client, an old event log) takes one node at a time", () => {
  const s = new Scheduler();
  const old = ready("A");
  assert.ok(old.type === "device-ready");
  delete (old.device.capabilities as { maxTasks?: number }).maxTasks;
  s.step(old, 0);
  const placed = runs(s.step(submit("d", { name: "old", nodes: [script("a"), script("b")] }), 0));
  assert.deepEqual(placed.map((r) => r.nodeId), ["a"]);
  assert.deepEqual(runs(s.step(ok("d", "a"), 5)).map((r) => r.nodeId), ["b"]);
});

Deno.test("GUI nodes stay one per device with slots free, and count against the device's maxTasks", () => {
  const s = new Scheduler();
  s.step(ready("A", 1, { maxTasks: 3 }), 0);
  const gui = (id: string) => script(id, { target: { input: true }, steps: [{ type: "move", x: 1, y: 1 }] });
  const wait = (id: string) => script(id, { target: { input: true } });
  const placed = runs(
    s.step(
      submit("d", { name: "mix", nodes: [gui("g1"), gui("g2"), wait("w1"), wait("w2"), wait("w3")] }),
      0,
    ),
  );
  assert.deepEqual(placed.map((r) => r.nodeId), ["g1", "w1", "w2"]);
  const nodes = s.state.dags.d.nodes;
  assert.match(nodes.g2.reason!, /busy with a GUI node/);
  assert.match(nodes.w3.reason!, /runs as many tasks as it announced/);
  assert.deepEqual(runs(s.step(ok("d", "w1"), 5)).map((r) => r.nodeId), ["w3"], "g2 still needs the screen");
  assert.deepEqual(runs(s.step(ok("d", "g1"), 6)).map((r) => r.nodeId), ["g2"]);
});

Deno.test("a device-updated RTT reorders placement: among equally busy devices the lowest RTT wins", () => {
  const s = new Scheduler();
  s.step(ready("a", 5), 0);
  s.step(ready("b", 20), 0);
  const one = (id: string) => script(id, { target: { input: true }, steps: [{ type: "move", x: 1, y: 1 }] });
  assert.deepEqual(runs(s.step(submit("d1", { name: "x", nodes: [one("n")] }), 1)).map((r) => r.deviceId), [
    "a",
  ]);
  s.step(ok("d1", "n"), 2);
  s.step({ type: "device-updated", deviceId: "b", rttMs: 2 }, 3);
  assert.equal(s.state.devices.b.rttMs, 2);
  assert.deepEqual(runs(s.step(submit("d2", { name: "y", nodes: [one("m")] }), 4)).map((r) => r.deviceId), [
    "b",
  ]);
});
