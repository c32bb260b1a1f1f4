/**
 * Finished DAGs leave the live scheduler state at a snapshot and move to the archive; the REST API serves
 * them unchanged (same JSON, same list), before and after a restart.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./helpers/server.ts";
import { until } from "./helpers/gateway_harness.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "a finished DAG moved to the archive at a snapshot reads back the same from GET /api/dags[/:id], also after a restart",
  live,
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "alien3-archive-" });
    let server = await startTestServer([], dataDir);
    try {
      const post = async (dag: unknown) =>
        (await (await server.api("/api/dags", { method: "POST", body: JSON.stringify(dag) })).json())
          .id as string;
      const done = await post({
        name: "done",
        nodes: [
          { id: "a", kind: "server", op: { sleepMs: 1 } },
          { id: "b", kind: "server", after: ["a"], op: { sleepMs: 1 } },
        ],
      });
      const running = await post({
        name: "running",
        nodes: [{ id: "long", kind: "server", op: { sleepMs: 60_000 } }],
      });
      let before: Record<string, unknown> = {};
      await until(() => before.state === "succeeded", "the short DAG to finish", 5000, async () => {
        before = await (await server.api(`/api/dags/${done}`)).json();
      });
      const listBefore = await (await server.api("/api/dags")).json();
      assert.deepEqual(listBefore.dags.map((d: { id: string }) => d.id), [done, running]);

      assert.ok(server.orion.snapshot());
      assert.equal(server.orion.state.dags[done], undefined, "out of the live state");
      assert.ok(server.orion.state.dags[running], "the running DAG stays live");
      assert.deepEqual(await (await server.api(`/api/dags/${done}`)).json(), before);
      assert.deepEqual(await (await server.api("/api/dags")).json(), listBefore);
      const cancel = await server.api(`/api/dags/${done}/cancel`, { method: "POST" });
      assert.equal(cancel.status, 409, "an archived DAG is finished like any other");

      await server.close();
      server = await startTestServer([], dataDir);
      assert.deepEqual(await (await server.api(`/api/dags/${done}`)).json(), before);
      const listAfter = (await (await server.api("/api/dags")).json()).dags;
      assert.deepEqual(listAfter.map((d: { id: string }) => d.id), [done, running]);
      assert.deepEqual(listAfter[0], listBefore.dags[0]);
    } finally {
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);
