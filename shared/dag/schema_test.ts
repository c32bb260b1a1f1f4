import assert from "node:assert/strict";
import { DAG_LIMITS, DagSchema, ID_PATTERN, isGuiNode, NodeSchema, RelativeFileSchema } from "./schema.ts";

const parse = (node: unknown) => NodeSchema.safeParse(node);

Deno.test("NodeSchema requires and forbids each kind's fields", () => {
  const target = { device: "A" };
  assert.ok(parse({ id: "s", kind: "script", target, steps: [] }).success);
  assert.ok(!parse({ id: "s", kind: "script", steps: [] }).success, "script needs a target");
  assert.ok(!parse({ id: "s", kind: "script", target }).success, "script needs steps");
  assert.ok(
    !parse({ id: "s", kind: "script", target, steps: [], goal: "x" }).success,
    "script takes no goal",
  );
  assert.ok(parse({ id: "g", kind: "agent", target, goal: "open the calculator" }).success);
  assert.ok(!parse({ id: "g", kind: "agent", target }).success, "agent needs a goal");
  assert.ok(!parse({ id: "g", kind: "agent", target, goal: "x", steps: [] }).success, "agent takes no steps");
  assert.ok(parse({ id: "v", kind: "server", op: { waitFor: "report" } }).success);
  assert.ok(parse({ id: "v", kind: "server", op: { sleepMs: 10 } }).success);
  assert.ok(!parse({ id: "v", kind: "server" }).success, "server needs an op");
  assert.ok(
    !parse({ id: "v", kind: "server", target, op: { sleepMs: 1 } }).success,
    "server takes no target",
  );
  assert.ok(
    !parse({ id: "v", kind: "server", op: { sleepMs: 1, waitFor: "x" } }).success,
    "one op at a time",
  );
  assert.ok(!parse({ id: "v", kind: "robot", op: { sleepMs: 1 } }).success, "unknown kind");
});

Deno.test("TargetSchema is a named device or requirements, never both, never unknown keys", () => {
  const node = (target: unknown) => parse({ id: "s", kind: "script", target, steps: [] }).success;
  assert.ok(node({ device: "laptop-a" }));
  assert.ok(node({ os: "linux", apps: ["firefox"], tags: ["office"], input: true }));
  assert.ok(node({}), "no requirement: any device");
  assert.ok(!node({ device: "a", os: "linux" }));
  assert.ok(!node({ gpu: true }));
});

Deno.test("ids, names and counts stay within the documented limits", () => {
  assert.ok(ID_PATTERN.test("download_1.v2-x"));
  for (const bad of ["", "a b", "a/b", "x".repeat(65), "é"]) {
    assert.ok(!parse({ id: bad, kind: "server", op: { sleepMs: 1 } }).success, JSON.stringify(bad));
  }
  const server = (id: string) => ({ id, kind: "server", op: { sleepMs: 1 } });
  assert.ok(
    !DagSchema.safeParse({ name: "x".repeat(DAG_LIMITS.maxNameLength + 1), nodes: [server("a")] }).success,
  );
  assert.ok(!DagSchema.safeParse({ name: "d", nodes: [] }).success, "at least one node");
  const many = Array.from({ length: DAG_LIMITS.maxNodes + 1 }, (_, i) => server(`n${i}`));
  assert.ok(!DagSchema.safeParse({ name: "d", nodes: many }).success);
  const steps = Array.from({ length: DAG_LIMITS.maxStepsPerNode + 1 }, () => ({ type: "wait", ms: 1 }));
  assert.ok(!parse({ id: "s", kind: "script", target: { device: "A" }, steps }).success);
  assert.ok(!parse({ ...server("t"), timeoutMs: DAG_LIMITS.maxTimeoutMs + 1 }).success);
  assert.ok(!parse({ ...server("r"), retry: { attempts: 0 } }).success);
  assert.ok(!parse({ ...server("r"), retry: { attempts: DAG_LIMITS.maxAttempts + 1 } }).success);
});

Deno.test("RelativeFileSchema refuses absolute paths, drive letters, '..', backslashes and NUL", () => {
  for (const good of ["report.pdf", "incoming/report.pdf", "a/b/c.txt", "..hidden", "x..y"]) {
    assert.ok(RelativeFileSchema.safeParse(good).success, good);
  }
  for (
    const bad of [
      "",
      "/etc/passwd",
      "../up",
      "a/../../b",
      "a/..",
      "c:\\x",
      "C:/x",
      "a\\b",
      "a\0b",
      "a//b",
      "./a",
    ]
  ) {
    assert.ok(!RelativeFileSchema.safeParse(bad).success, JSON.stringify(bad));
  }
});

Deno.test("isGuiNode(): agents and scripts with a step acting on the screen take it; waits, looks, runs and server ops do not", () => {
  const node = (raw: unknown) => NodeSchema.parse(raw);
  const target = { device: "A" };
  assert.ok(isGuiNode(node({ id: "g", kind: "agent", target, goal: "x" })));
  assert.ok(
    isGuiNode(
      node({
        id: "s",
        kind: "script",
        target,
        steps: [{ type: "wait", ms: 1 }, { type: "click", x: 1, y: 1 }],
      }),
    ),
  );
  assert.ok(isGuiNode(node({ id: "c", kind: "script", target, steps: [{ type: "clickText", text: "OK" }] })));
  const looking = [{ type: "frame" }, { type: "waitFor", text: "ready" }, { type: "windows" }, {
    type: "run",
    command: "true",
  }, { type: "fileInfo", path: "a" }];
  assert.ok(!isGuiNode(node({ id: "l", kind: "script", target, steps: looking })));
  assert.ok(!isGuiNode(node({ id: "s", kind: "script", target, steps: [{ type: "wait", ms: 1 }] })));
  assert.ok(!isGuiNode(node({ id: "s", kind: "script", target, steps: [] })));
  assert.ok(!isGuiNode(node({ id: "v", kind: "server", op: { sleepMs: 1 } })));
});
