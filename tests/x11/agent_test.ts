import assert from "node:assert/strict";
import { startChatServer } from "../helpers/chat_server.ts";
import { startClient } from "../helpers/client_process.ts";
import { submitDag, waitForDag } from "../helpers/dags.ts";
import { until } from "../helpers/gateway_harness.ts";
import { startTestServer } from "../helpers/server.ts";
import { eventWindow, pointer, startXServer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "an agent node on a real desktop: the goal 'move to 222,111 and click' becomes real pointer events xdotool and xev see",
  live,
  async () => {
    const x = await startXServer();
    const chat = startChatServer((request, i) => {
      if (i === 0) return { toolCalls: [{ name: "move", arguments: { x: 222, y: 111 } }] };
      if (i === 1) return { toolCalls: [{ name: "click", arguments: { x: 222, y: 111 } }] };
      const last = request.body.messages.at(-2);
      return last?.role === "tool" && String(last.content).startsWith("ok")
        ? { toolCalls: [{ name: "done", arguments: { summary: "moved and clicked" } }] }
        : { toolCalls: [{ name: "fail", arguments: { reason: `unexpected: ${JSON.stringify(last)}` } }] };
    });
    const server = await startTestServer(["--llm-base-url", chat.baseUrl, "--llm-model", "local-vision"]);
    const client = await startClient(server.wsUrl, server.deviceKey, "x11-agent", {
      env: { DISPLAY: x.display },
    });
    const xev = await eventWindow(x);
    try {
      await until(() => server.gateway.device("x11-agent")?.state === "ready", "the X client", 20_000);
      const id = await submitDag(server, {
        name: "agent on X",
        nodes: [{
          id: "a",
          kind: "agent",
          target: { device: "x11-agent" },
          goal: "move to 222,111 and click",
          maxSteps: 5,
        }],
      });
      const view = await waitForDag(server, id, 30_000);
      assert.equal(view.state, "succeeded", JSON.stringify(view.nodes[0].error));
      assert.deepEqual(await pointer(x), { x: 222, y: 111 }, "xdotool sees the pointer where the model said");
      await until(
        () => /ButtonPress event[\s\S]*?root:\(222,111\)[\s\S]*?button 1/.test(xev.events()),
        "xev's button press at 222,111",
      );
      const steps = (await (await server.api(`/api/dags/${id}/nodes/a/steps`)).json()).steps;
      assert.deepEqual(steps.map((s: { type: string; ok: boolean }) => [s.type, s.ok]), [["move", true], [
        "click",
        true,
      ], ["done", true]]);
      assert.ok(
        steps.slice(0, 2).every((s: { frame: string | null }) => s.frame !== null),
        "each action's frame is kept",
      );
      assert.equal(chat.requests.length, 3);
    } finally {
      await xev.close();
      await client.stop();
      await server.close();
      await chat.close();
      await x.stop();
    }
  },
);
