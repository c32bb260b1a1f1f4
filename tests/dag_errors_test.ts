/**
 * Refusals an author can act on, from outside: POST /api/dags and PATCH /api/dags/:id name each wrong field
 * by its path and suggest the right one for common mistakes; a self-dependency added by PATCH is a 409
 * conflict, as a cycle is.
 */
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

interface Detail {
  code: string;
  rule: string;
  node?: string;
  path?: string;
  suggestion?: string;
  message: string;
}

async function refusal(server: TestServer, method: string, path: string, body: unknown) {
  const response = await server.api(path, { method, body: JSON.stringify(body) });
  const json = await response.json();
  assert.ok(json.error, `expected a refusal, got ${response.status} ${JSON.stringify(json)}`);
  return {
    status: response.status,
    error: json.error as { code: string; message: string; details: Detail[] },
  };
}

const script = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: "script",
  target: { device: "device-a" },
  steps: [{ type: "wait", ms: 1 }],
  ...extra,
});

Deno.test(
  "a DAG with common mistakes is refused with each field's path, a suggestion and a message that reads well",
  live,
  async (t) => {
    const server = await startTestServer();
    const post = (body: unknown) => refusal(server, "POST", "/api/dags", body);
    try {
      await t.step('the first guess from the issue: "waitFor" and "dependsOn" on a node', async () => {
        const { status, error } = await post({
          name: "first guess",
          nodes: [
            script("fetch"),
            script("check", { dependsOn: ["fetch"], waitFor: { text: "Done" } }),
          ],
        });
        assert.equal(status, 400);
        assert.equal(error.code, "invalid-dag");
        assert.deepEqual(
          error.details.map((d) => [d.path, d.suggestion, d.node, d.rule]),
          [
            ["nodes.1.dependsOn", "after", "check", "schema"],
            ["nodes.1.waitFor", "steps", "check", "schema"],
          ],
        );
        assert.equal(
          error.details[0].message,
          'nodes.1.dependsOn: unknown field; use "after": dependencies are "after": ["node-id", ...]',
        );
        assert.equal(
          error.details[1].message,
          'nodes.1.waitFor: unknown field; use "steps": waitFor is a step type: put it in "steps": [{"type": "waitFor", ...}]',
        );
        assert.ok(
          error.message.startsWith("Cannot accept DAG: nodes.1.dependsOn: unknown field;"),
          error.message,
        );
        assert.doesNotMatch(error.message, /Unrecognized keys/);
      });

      await t.step("the usual suspects map to the real field names", async () => {
        const cases: Array<[string, unknown, string, string]> = [
          ["depends_on", script("b", { depends_on: [] }), "nodes.0.depends_on", "after"],
          ["deps", script("b", { deps: [] }), "nodes.0.deps", "after"],
          ["needs", script("b", { needs: [] }), "nodes.0.needs", "after"],
          ["device", script("b", { device: "x" }), "nodes.0.device", "target"],
          ["deviceName", script("b", { deviceName: "x" }), "nodes.0.deviceName", "target"],
          ["timeout", script("b", { timeout: 5000 }), "nodes.0.timeout", "timeoutMs"],
          ["retries", script("b", { retries: 3 }), "nodes.0.retries", "retry"],
          [
            "a step's timeout",
            script("b", { steps: [{ type: "waitFor", text: "x", timeout: 1 }] }),
            "nodes.0.steps.0.timeout",
            "timeoutMs",
          ],
          ["a target's name", script("b", { target: { name: "x" } }), "nodes.0.target.name", "device"],
          [
            "a retry's delay",
            script("b", { retry: { attempts: 2, delay: 1 } }),
            "nodes.0.retry.delay",
            "backoffMs",
          ],
          ["type for kind", { id: "b", type: "script", target: {}, steps: [] }, "nodes.0.type", "kind"],
          ["a misspelt kind", { id: "b", kind: "scrpt", target: {}, steps: [] }, "nodes.0.kind", "script"],
          [
            "a misspelt step type",
            script("b", { steps: [{ type: "clik", x: 1, y: 1 }] }),
            "nodes.0.steps.0.type",
            "click",
          ],
          ["a misspelt field", script("b", { timout: 5 }), "nodes.0.timout", "timeoutMs"],
          [
            "a wait step's duration",
            script("b", { steps: [{ type: "wait", duration: 5 }] }),
            "nodes.0.steps.0.duration",
            "ms",
          ],
        ];
        for (const [what, node, path, suggestion] of cases) {
          const { status, error } = await post({ name: what, nodes: [node] });
          assert.equal(status, 400, what);
          const detail = error.details.find((d) => d.path === path);
          assert.ok(detail, `${what}: no detail for ${path} in ${JSON.stringify(error.details)}`);
          assert.equal(detail.suggestion, suggestion, `${what}: ${detail.message}`);
          assert.ok(detail.message.startsWith(`${path}: `), detail.message);
          assert.ok(
            detail.message.includes(`"${suggestion}"`),
            `${what}: the message names it: ${detail.message}`,
          );
        }
      });

      await t.step(
        "a server node's waitFor goes in op; an unknown field lists the fields allowed there",
        async () => {
          const server1 = await post({ name: "s", nodes: [{ id: "w", kind: "server", waitFor: "report" }] });
          const waitFor = server1.error.details.find((d) => d.path === "nodes.0.waitFor")!;
          assert.equal(waitFor.suggestion, "op");
          assert.match(waitFor.message, /"op": \{"waitFor": "artifact-name"\}/);
          const unknown = await post({ name: "u", nodes: [script("b", { colour: "red" })] });
          const detail = unknown.error.details[0];
          assert.equal(detail.suggestion, undefined, "no guess for a field like nothing known");
          assert.match(
            detail.message,
            /^nodes\.0\.colour: unknown field; a script node takes id, after, .*steps$/,
          );
          const both = await post({
            name: "t",
            nodes: [script("b", { target: { device: "x", os: "linux" } })],
          });
          assert.match(both.error.details[0].message, /cannot be used together: a target is \{"device"/);
          const missing = await post({ nodes: [script("b")] });
          assert.equal(missing.error.details[0].message, "name: required but missing (expected string)");
        },
      );
    } finally {
      await server.close();
    }
  },
);

Deno.test(
  "PATCH refusals: a self-dependency is a 409 conflict like a cycle, and added nodes' mistakes carry their add.N path",
  live,
  async () => {
    const server = await startTestServer();
    try {
      const created = await server.api("/api/dags", {
        method: "POST",
        body: JSON.stringify({ name: "edit me", nodes: [script("first")] }),
      });
      assert.equal(created.status, 201);
      const id = (await created.json()).id;
      const patch = (body: unknown) => refusal(server, "PATCH", `/api/dags/${id}`, body);

      const self = await patch({ add: [script("loop", { after: ["loop"] })] });
      assert.deepEqual([self.status, self.error.code], [409, "self-dependency"]);
      assert.equal(self.error.details[0].node, "loop");

      const cycle = await patch({ add: [script("x", { after: ["y"] }), script("y", { after: ["x"] })] });
      assert.deepEqual(
        [cycle.status, cycle.error.code],
        [409, "cycle"],
        "the conflict it is consistent with",
      );

      const unknown = await patch({ add: [script("z", { after: ["ghost"] })] });
      assert.deepEqual(
        [unknown.status, unknown.error.code],
        [400, "unknown-dependency"],
        "plain bad input stays 400",
      );

      const misspelt = await patch({ add: [script("w", { dependsOn: ["first"] })] });
      assert.equal(misspelt.status, 400);
      assert.deepEqual(
        misspelt.error.details.map((d) => [d.path, d.suggestion, d.node]),
        [["add.0.dependsOn", "after", "w"]],
      );
      const view = await (await server.api(`/api/dags/${id}`)).json();
      assert.deepEqual(
        view.nodes.map((n: { id: string }) => n.id),
        ["first"],
        "no refused edit added a node",
      );
    } finally {
      await server.close();
    }
  },
);
