import assert from "node:assert/strict";
import { startClient } from "../helpers/client_process.ts";
import { independentNodes, submitDag, waitForDag } from "../helpers/dags.ts";
import { until } from "../helpers/gateway_harness.ts";
import { startTestServer } from "../helpers/server.ts";
import { pointer, startXServer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "200 independent one-move nodes on one X device finish, all succeeded, on the default rate limit",
  live,
  async () => {
    const x = await startXServer();
    const server = await startTestServer();
    const client = await startClient(server.wsUrl, server.deviceKey, "x11-flow", {
      env: { DISPLAY: x.display },
    });
    try {
      await until(
        () => server.gateway.devices().some((d) => d.state === "ready" && d.capabilities.input.mouse),
        "the X client to be ready",
        20_000,
      );
      const id = await submitDag(
        server,
        independentNodes(200, { input: true }, [{ type: "move", x: 321, y: 123 }]),
      );
      const view = await waitForDag(server, id, 60_000);
      const failed = view.nodes.filter((n) => n.state !== "succeeded");
      assert.deepEqual(failed.map((n) => `${n.id}=${n.state}`), []);
      assert.equal(view.state, "succeeded");
      assert.ok(
        view.nodes.every((n) => n.attempts.length === 1),
        "every node succeeded at its first attempt",
      );
      assert.deepEqual(await pointer(x), { x: 321, y: 123 });
    } finally {
      await client.stop();
      await server.close();
      await x.stop();
    }
  },
);
