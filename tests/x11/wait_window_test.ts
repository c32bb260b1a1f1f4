import assert from "node:assert/strict";
import { submitDag, waitForDag } from "../helpers/dags.ts";
import { until } from "../helpers/gateway_harness.ts";
import { startX11Desk } from "../helpers/x11_desk.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "waitFor window: a node waits until a window whose title the test sets appears, and times out naming the condition",
  live,
  async (t) => {
    const desk = await startX11Desk("x11-windows");
    const { x, server } = desk;
    let window: Deno.ChildProcess | null = null;
    try {
      await t.step("the windows action lists what is on screen", async () => {
        const response = await server.api("/api/devices/x11-windows/actions", {
          method: "POST",
          body: JSON.stringify({ type: "windows" }),
        });
        assert.equal(response.status, 200);
        assert.deepEqual((await response.json()).output.windows, [], "an empty desktop");
      });

      await t.step("the node succeeds once the window is up", async () => {
        const id = await submitDag(server, {
          name: "wait for the viewer",
          nodes: [{
            id: "w",
            kind: "script",
            target: { device: "x11-windows" },
            steps: [{ type: "waitFor", window: "invoice 42", timeoutMs: 15_000 }],
          }],
        });
        // The node is running (and looking) before the window exists.
        let state = "";
        await until(() => state === "running", "the node running", 10_000, async () => {
          state = (await (await server.api(`/api/dags/${id}`)).json()).nodes[0].state;
        });
        window = new Deno.Command("xmessage", {
          args: ["-title", "Invoice 42 - Viewer", "-geometry", "+200+150", "hello"],
          env: { DISPLAY: x.display },
          stdout: "null",
          stderr: "null",
        }).spawn();
        const view = await waitForDag(server, id, 20_000);
        assert.equal(view.state, "succeeded", JSON.stringify(view.nodes[0].error));
      });

      await t.step(
        "a window that never comes fails with condition-timeout naming it, after its timeout",
        async () => {
          const id = await submitDag(server, {
            name: "wait for nothing",
            nodes: [{
              id: "n",
              kind: "script",
              target: { device: "x11-windows" },
              steps: [{ type: "waitFor", window: "No Such Window", timeoutMs: 1500 }],
            }],
          });
          const view = await waitForDag(server, id, 20_000);
          assert.equal(view.state, "failed");
          const error = view.nodes[0].error as { code: string; message: string };
          assert.match(error.message, /condition-timeout|not met in time/);
          assert.match(error.message, /No Such Window/);
          assert.match(error.message, /Invoice 42 - Viewer/, "the message says what was seen");
          const attempt = view.nodes[0].attempts[0];
          assert.match(error.message, /after 1500 ms/, "the message names the timeout it waited");
          // Its own timeout, not the default, decides when it gives up: server/brain/steps_test.ts on a fake clock.
          const tookMs = attempt.endedAtMs! - attempt.startedAtMs!;
          assert.ok(tookMs >= 1500, `gave up after ${tookMs} ms, before the 1500 ms asked`);
        },
      );
    } finally {
      try {
        (window as Deno.ChildProcess | null)?.kill();
      } catch {
        // Gone.
      }
      await (window as Deno.ChildProcess | null)?.status;
      await desk.stop();
    }
  },
);
