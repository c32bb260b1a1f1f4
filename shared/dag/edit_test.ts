import assert from "node:assert/strict";
import { validateDag } from "./validate.ts";
import { validateEdit } from "./edit.ts";

const script = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: "script",
  target: { device: "A" },
  steps: [],
  ...extra,
});

function current() {
  const valid = validateDag({
    name: "d",
    nodes: [
      script("a", { outputs: [{ artifact: "r", file: "r" }] }),
      script("b", { after: ["a"] }),
      script("c"),
      script("p", { after: ["c"] }),
    ],
  });
  assert.ok(valid.ok);
  return valid.value.dag.nodes;
}
const STATES = new Map([["a", "succeeded"], ["b", "pending"], ["c", "running"], ["p", "waiting"]]);

function refusal(edit: Parameters<typeof validateEdit>[2], states = STATES) {
  const result = validateEdit(current(), states, edit);
  assert.ok(!result.ok, "expected the edit to be refused");
  return result.error.map((e) => [e.code, e.node, e.rule]);
}

Deno.test("validateEdit() adds nodes that depend on existing ones and removes pending or waiting ones", () => {
  const result = validateEdit(current(), STATES, {
    add: [script("d", { after: ["a", "b"], inputs: [{ artifact: "r", file: "in/r" }] })],
    remove: ["p"],
  });
  assert.ok(result.ok);
  assert.deepEqual(result.value.added.map((n) => n.id), ["d"]);
  assert.deepEqual(result.value.removed, ["p"]);
  assert.deepEqual(result.value.nodes.map((n) => n.id), ["a", "b", "c", "d"]);
});

Deno.test("validateEdit() refuses touching running or finished nodes", () => {
  assert.deepEqual(refusal({ remove: ["c"] }), [
    ["node-not-removable", "c", "edit-untouched"],
    ["removed-dependency", "p", "edit-dependencies"],
  ]);
  assert.deepEqual(refusal({ remove: ["a", "b"] }), [["node-not-removable", "a", "edit-untouched"]]);
  assert.deepEqual(refusal({ add: [script("a")] }), [["duplicate-node", "a", "edit-untouched"]]);
  assert.deepEqual(refusal({ remove: ["ghost"] }), [["unknown-node", "ghost", "edit-known-nodes"]]);
});

Deno.test("validateEdit() refuses cycles and removing a node others depend on, unless they go too", () => {
  const cycle = validateEdit(current(), STATES, {
    add: [script("x", { after: ["y"] }), script("y", { after: ["x"] })],
  });
  assert.ok(!cycle.ok);
  assert.deepEqual(cycle.error.map((e) => [e.code, e.rule]), [["cycle", "acyclic"]]);
  assert.match(cycle.error[0].message, /^Nodes form a cycle: (x -> y -> x|y -> x -> y)$/);
  const pending = new Map([["a", "pending"], ["b", "pending"], ["c", "pending"], ["p", "pending"]]);
  assert.deepEqual(refusal({ remove: ["c"] }, pending), [["removed-dependency", "p", "edit-dependencies"]]);
  assert.ok(validateEdit(current(), pending, { remove: ["c", "p"] }).ok);
});

Deno.test("validateEdit() refuses edits that break artifact provenance, malformed nodes and agents", () => {
  const pending = new Map([["a", "pending"], ["b", "pending"], ["c", "pending"], ["p", "pending"]]);
  const consumer = script("u", { after: ["a"], inputs: [{ artifact: "r", file: "r" }] });
  assert.ok(validateEdit(current(), pending, { add: [consumer] }).ok);
  assert.deepEqual(
    refusal({ add: [script("u", { after: ["c"], inputs: [{ artifact: "r", file: "r" }] })] }),
    [
      ["artifact-not-upstream", "u", "inputs-produced-upstream"],
    ],
  );
  assert.deepEqual(refusal({ add: [script("o", { outputs: [{ artifact: "r", file: "r" }] })] }), [
    ["duplicate-artifact", "o", "one-producer"],
  ]);
  assert.deepEqual(refusal({ add: [{ id: "bad", kind: "script", target: {} }] }), [[
    "invalid-dag",
    "bad",
    "schema",
  ]]);
  const escape = validateEdit(current(), STATES, {
    add: [script("e", { outputs: [{ artifact: "z", file: "../z" }] })],
  });
  assert.ok(!escape.ok);
  assert.deepEqual([escape.error[0].code, escape.error[0].node], ["path-escape", "e"]);
  assert.match(escape.error[0].message, /^add\.0\.outputs\.0\.file: /);
  assert.deepEqual(refusal({ add: [{ id: "g", kind: "agent", target: {}, goal: "x" }] }), [
    ["agent-unsupported", "g", "agent-nodes"],
  ]);
});
