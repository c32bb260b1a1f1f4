import assert from "node:assert/strict";
import { startClient } from "./helpers/client_process.ts";
import { independentNodes, peakConcurrency, submitDag, waitForDag } from "./helpers/dags.ts";
import { until } from "./helpers/gateway_harness.ts";
import { startTestServer } from "./helpers/server.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "40 wait-only nodes over 2 headless clients all succeed; each device runs several at once, never more than it announced",
  live,
  async () => {
    const server = await startTestServer();
    const clients = await Promise.all(
      ["w1", "w2"].map((name) =>
        startClient(server.wsUrl, server.deviceKey, name, { extraArgs: ["--tags", "waiters"] })
      ),
    );
    try {
      await until(
        () => server.gateway.devices().filter((d) => d.state === "ready").length === 2,
        "both clients to be ready",
        20_000,
      );
      const announced = new Map(server.gateway.devices().map((d) => [d.id, d.capabilities.maxTasks]));
      const id = await submitDag(
        server,
        independentNodes(40, { tags: ["waiters"] }, [{ type: "wait", ms: 50 }]),
      );
      const view = await waitForDag(server, id, 30_000);
      assert.equal(
        view.state,
        "succeeded",
        JSON.stringify(view.nodes.filter((n) => n.state !== "succeeded")),
      );
      assert.ok(view.nodes.every((n) => n.attempts.length === 1), "no node needed a second attempt");
      const peaks = peakConcurrency(view);
      assert.equal(peaks.size, 2, "both devices took work");
      for (const [deviceId, peak] of peaks) {
        const limit = announced.get(deviceId);
        assert.equal(typeof limit, "number", `device ${deviceId} announced maxTasks`);
        assert.ok(peak > 1, `device ${deviceId} ran more than one node at a time (peak ${peak})`);
        assert.ok(peak <= limit!, `device ${deviceId} ran ${peak} at once, announced ${limit}`);
      }
    } finally {
      await Promise.all(clients.map((c) => c.stop()));
      await server.close();
    }
  },
);

Deno.test(
  "a device announcing --max-tasks 3 is never given more than 3 nodes at once",
  live,
  async () => {
    const server = await startTestServer();
    const client = await startClient(server.wsUrl, server.deviceKey, "three", {
      extraArgs: ["--max-tasks", "3"],
    });
    try {
      await until(() => server.gateway.devices().some((d) => d.state === "ready"), "the client", 20_000);
      assert.equal(server.gateway.devices()[0].capabilities.maxTasks, 3);
      const id = await submitDag(
        server,
        independentNodes(12, { device: "three" }, [{ type: "wait", ms: 30 }]),
      );
      const view = await waitForDag(server, id, 30_000);
      assert.equal(view.state, "succeeded");
      assert.deepEqual([...peakConcurrency(view).values()], [3]);
    } finally {
      await client.stop();
      await server.close();
    }
  },
);
