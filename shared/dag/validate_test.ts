import assert from "node:assert/strict";
import { validateDag, validateEdit } from "./validate.ts";
import { chooseDevice, matchesTarget } from "./matching.ts";

const script = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: "script",
  target: { device: "A" },
  steps: [],
  ...extra,
});

function errors(input: unknown) {
  const result = validateDag(input);
  assert.ok(!result.ok, "expected the DAG to be refused");
  return result.error;
}

Deno.test("validateDag() names the node and the rule for each malformed DAG", () => {
  assert.deepEqual(
    errors({ name: "d", nodes: [script("a"), script("a")] }).map((e) => [e.code, e.node, e.rule]),
    [["duplicate-node", "a", "unique-ids"]],
  );
  assert.deepEqual(
    errors({ name: "d", nodes: [script("a", { after: ["ghost"] })] }).map((e) => [e.code, e.node]),
    [["unknown-dependency", "a"]],
  );
  assert.deepEqual(errors({ name: "d", nodes: [script("a", { after: ["a"] })] }).map((e) => e.code), [
    "self-dependency",
  ]);
  const missing = errors({ name: "d", nodes: [script("a", { inputs: [{ artifact: "r", file: "r.pdf" }] })] });
  assert.deepEqual(missing.map((e) => [e.code, e.node, e.rule]), [[
    "unknown-artifact",
    "a",
    "inputs-produced-upstream",
  ]]);
  const sideways = errors({
    name: "d",
    nodes: [
      script("p", { outputs: [{ artifact: "r", file: "r" }] }),
      script("a", { inputs: [{ artifact: "r", file: "r" }] }),
    ],
  });
  assert.equal(sideways[0].code, "artifact-not-upstream");
  const agent = errors({
    name: "d",
    nodes: [{ id: "g", kind: "agent", target: { device: "A" }, goal: "open calc" }],
  });
  assert.deepEqual(agent.map((e) => [e.code, e.node]), [["agent-unsupported", "g"]]);
  const shape = errors({
    name: "d",
    nodes: [{ id: "s", kind: "server", target: { device: "A" }, op: { sleepMs: 1 } }],
  });
  assert.equal(shape[0].rule, "schema");
  assert.equal(shape[0].node, "s");
});

Deno.test("validateDag() names the nodes of a cycle", () => {
  const cycle = errors({
    name: "d",
    nodes: [
      script("a", { after: ["c"] }),
      script("b", { after: ["a"] }),
      script("c", { after: ["b"] }),
      script("x"),
    ],
  });
  assert.equal(cycle[0].code, "cycle");
  assert.match(cycle[0].message, /a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c/);
});

Deno.test("validateDag() refuses file paths that escape the files directory", () => {
  for (const file of ["/etc/passwd", "../up.txt", "a/../../b", "c:\\x"]) {
    const found = errors({ name: "d", nodes: [script("a", { outputs: [{ artifact: "r", file }] })] });
    assert.equal(found[0].node, "a", file);
    assert.match(found[0].message, /outputs\.0\.file/, file);
  }
});

Deno.test("validateDag() handles a 10,000-node chain without overflowing the stack", () => {
  const nodes = Array.from({ length: 10_000 }, (_, i) => script(`n${i}`, { after: i ? [`n${i - 1}`] : [] }));
  const result = validateDag({ name: "chain", nodes });
  assert.ok(result.ok);
  assert.equal(result.value.order.at(-1), "n9999");
  const looped = errors({
    name: "loop",
    nodes: nodes.map((n, i) => i === 0 ? { ...n, after: ["n9999"] } : n),
  });
  assert.equal(looped[0].code, "cycle");
});

Deno.test("validateEdit() adds nodes, and refuses cycles, touching running or finished nodes, and orphaning dependents", () => {
  const valid = validateDag({ name: "d", nodes: [script("a"), script("b", { after: ["a"] }), script("c")] });
  assert.ok(valid.ok);
  const current = valid.value.dag.nodes;
  const states = new Map([["a", "succeeded"], ["b", "pending"], ["c", "running"]]);
  const added = validateEdit(current, states, { add: [script("d", { after: ["a", "b"] })] });
  assert.ok(added.ok);
  assert.deepEqual(added.value.added.map((n) => n.id), ["d"]);
  const running = validateEdit(current, states, { remove: ["c"] });
  assert.ok(!running.ok);
  assert.equal(running.error[0].code, "node-not-removable");
  const replaced = validateEdit(current, states, { add: [script("a")] });
  assert.ok(!replaced.ok);
  assert.equal(replaced.error[0].code, "duplicate-node");
  const orphan = validateEdit(current, new Map([["a", "pending"], ["b", "pending"], ["c", "pending"]]), {
    remove: ["a"],
  });
  assert.ok(!orphan.ok);
  assert.equal(orphan.error[0].code, "removed-dependency");
  const cyc = validateEdit(current, states, {
    add: [script("x", { after: ["y"] }), script("y", { after: ["x"] })],
  });
  assert.ok(!cyc.ok);
  assert.equal(cyc.error[0].code, "cycle");
});

Deno.test("matchesTarget() and chooseDevice() follow os, apps, tags and input requirements", () => {
  const base = {
    os: { platform: "windows", version: "", hostname: "" },
    apps: ["Word", "Chrome"],
    tags: ["office"],
    input: { mouse: true, keyboard: true },
  };
  const d = (id: string, rttMs: number | null, activeNodes = 0) => ({
    id,
    name: id,
    capabilities: base,
    state: "ready" as const,
    rttMs,
    busyCount: activeNodes,
  });
  assert.ok(matchesTarget({ os: "Windows", apps: ["word"], tags: ["office"], input: true }, d("x", 1)));
  assert.ok(!matchesTarget({ os: "linux" }, d("x", 1)));
  assert.ok(!matchesTarget({ apps: ["Excel"] }, d("x", 1)));
  assert.ok(matchesTarget({ device: "x" }, d("x", 1)));
  assert.equal(
    chooseDevice({ tags: ["office"] }, false, [d("a", 5, 1), d("b", 9, 0), d("c", 1, 0)])?.id,
    "c",
  );
  assert.equal(chooseDevice({ tags: ["office"] }, false, [d("a", null), d("b", 9)])?.id, "b");
});
