import assert from "node:assert/strict";
import { validateDag, validateEdit } from "./validate.ts";

const script = (extra: Record<string, unknown> = {}) => ({
  id: "s",
  kind: "script",
  target: { device: "A" },
  steps: [],
  ...extra,
});

function details(input: unknown) {
  const result = validateDag(input);
  assert.ok(!result.ok, "expected a refusal");
  return result.error.map(({ path, suggestion, message }) => ({ path, suggestion, message }));
}

Deno.test("an unknown field gets one error each, with its path and the field to use", () => {
  const found = details({ name: "d", nodes: [script({ dependsOn: [], timeout: 5, colour: "red" })] });
  assert.deepEqual(found.map((d) => [d.path, d.suggestion]), [
    ["nodes.0.dependsOn", "after"],
    ["nodes.0.timeout", "timeoutMs"],
    ["nodes.0.colour", undefined],
  ]);
  assert.match(found[2].message, /a script node takes id, after, inputs, outputs, timeoutMs/);
});

Deno.test("a step type written as a node field points to steps, or to op in a server node", () => {
  assert.equal(details({ name: "d", nodes: [script({ clickText: "OK" })] })[0].suggestion, "steps");
  const server = details({ name: "d", nodes: [{ id: "w", kind: "server", waitFor: "r" }] });
  assert.deepEqual(server.map((d) => [d.path, d.suggestion]), [
    ["nodes.0.op", undefined],
    ["nodes.0.waitFor", "op"],
  ]);
  assert.equal(server[0].message, "nodes.0.op: required but missing (expected object)");
});

Deno.test("near spellings are matched ignoring case, '_' and '-', and a missing Ms unit", () => {
  const at = (extra: Record<string, unknown>) => details({ name: "d", nodes: [script(extra)] })[0].suggestion;
  assert.equal(at({ Timeout_MS: 5 }), "timeoutMs");
  assert.equal(at({ timout: 5 }), "timeoutMs");
  assert.equal(at({ aftr: [] }), "after");
  assert.equal(at({ zzzzzz: 1 }), undefined, "nothing near");
});

Deno.test("a union's mixed alternatives are named together; a field unknown to all is explained alone", () => {
  const mixed = details({ name: "d", nodes: [script({ target: { device: "A", tags: ["x"] } })] })[0];
  assert.equal(mixed.path, "nodes.0.target");
  assert.match(mixed.message, /"tags" and "device" cannot be used together|"device" and "tags"/);
  const op = details({ name: "d", nodes: [{ id: "w", kind: "server", op: { sleep: 5 } }] })[0];
  assert.deepEqual([op.path, op.suggestion], ["nodes.0.op.sleep", "sleepMs"]);
});

Deno.test("an edit's added nodes are explained under add.N", () => {
  const result = validateEdit([], new Map(), { add: [script({ needs: [] })] });
  assert.ok(!result.ok);
  assert.deepEqual([result.error[0].path, result.error[0].suggestion], ["add.0.needs", "after"]);
});
