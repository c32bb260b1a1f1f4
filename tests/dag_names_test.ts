/** Artifact names a DAG may use are exactly those the artifact store accepts; others are refused at submit. */
import assert from "node:assert/strict";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

const producer = (artifact: string) => ({
  id: "make",
  kind: "script",
  target: { device: "any" },
  steps: [],
  outputs: [{ artifact, file: "out.bin" }],
});

Deno.test(
  "a DAG naming an artifact .meta, .., or .partial is refused at submit, naming the node and field",
  live,
  async () => {
    const server = await startTestServer();
    try {
      for (const name of [".meta", "..", ".partial"]) {
        const response = await server.api("/api/dags", {
          method: "POST",
          body: JSON.stringify({ name: "bad names", nodes: [producer(name)] }),
        });
        assert.equal(response.status, 400, name);
        const { error } = await response.json();
        assert.equal(error.code, "invalid-dag");
        assert.deepEqual(
          error.details.map((d: { rule: string; node: string }) => [d.rule, d.node]),
          [["artifact-names", "make"]],
        );
        assert.match(
          error.message,
          new RegExp(`Node make, field outputs\\.0\\.artifact: name "${name.replaceAll(".", "\\.")}"`),
        );
      }
      const dags = await (await server.api("/api/dags")).json();
      assert.deepEqual(dags.dags, [], "nothing was accepted");
    } finally {
      await server.close();
    }
  },
);

Deno.test("an edit adding a node with an artifact name the store refuses is refused", live, async () => {
  const server = await startTestServer();
  try {
    const created = await server.api("/api/dags", {
      method: "POST",
      body: JSON.stringify({ name: "d", nodes: [{ id: "w", kind: "server", op: { sleepMs: 3_600_000 } }] }),
    });
    const { id } = await created.json();
    const edit = await server.api(`/api/dags/${id}`, {
      method: "PATCH",
      body: JSON.stringify({ add: [{ id: "late", kind: "server", op: { waitFor: ".meta" } }] }),
    });
    assert.equal(edit.status, 400);
    const { error } = await edit.json();
    assert.deepEqual(error.details.map((d: { rule: string; node: string }) => [d.rule, d.node]), [[
      "artifact-names",
      "late",
    ]]);
    const view = await (await server.api(`/api/dags/${id}`)).json();
    assert.deepEqual(view.nodes.map((n: { id: string }) => n.id), ["w"], "the refused edit added nothing");
    await (await server.api(`/api/dags/${id}/cancel`, { method: "POST" })).body?.cancel();
  } finally {
    await server.close();
  }
});
