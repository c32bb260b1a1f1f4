import assert from "node:assert/strict";
import { startClient } from "../helpers/client_process.ts";
import { independentNodes, submitDag, waitForDag } from "../helpers/dags.ts";
import { until } from "../helpers/gateway_harness.ts";
import { startTestServer } from "../helpers/server.ts";
import { pointer, startXServer, type XServer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** Runs 200 independent one-move nodes on one real X client against a server started with `flags`. */
async function runMoves(x: XServer, flags: string[]): Promise<void> {
  const server = await startTestServer(flags);
  const client = await startClient(server.wsUrl, server.deviceKey, "x11-flow", {
    env: { DISPLAY: x.display },
  });
  try {
    await until(
      () => server.gateway.devices().some((d) => d.state === "ready" && d.capabilities.input.mouse),
      "the X client to be ready",
      20_000,
    );
    const target = 100 + Math.floor(Math.random() * 500);
    const id = await submitDag(
      server,
      independentNodes(200, { input: true }, [{ type: "move", x: target, y: 123 }]),
    );
    const view = await waitForDag(server, id, 60_000);
    assert.deepEqual(view.nodes.filter((n) => n.state !== "succeeded").map((n) => `${n.id}=${n.state}`), []);
    assert.equal(view.state, "succeeded");
    assert.ok(view.nodes.every((n) => n.attempts.length === 1), "every node succeeded at its first attempt");
    assert.deepEqual(await pointer(x), { x: target, y: 123 }, "the moves reached the real pointer");
  } finally {
    await client.stop();
    await server.close();
  }
}

Deno.test("200 independent one-move nodes on one X device finish, all succeeded", live, async (t) => {
  const x = await startXServer();
  try {
    await t.step("on the default rate limit", () => runMoves(x, []));
    await t.step(
      "on 200 messages/s, which the DAG's ~1,200 device messages exceed several times over: paced, nothing lost",
      () => runMoves(x, ["--max-messages-per-second", "200"]),
    );
  } finally {
    await x.stop();
  }
});
