import assert from "node:assert/strict";
import { type ChatServer, startChatServer } from "../helpers/chat_server.ts";
import { submitDag, waitForDag } from "../helpers/dags.ts";
import { until } from "../helpers/gateway_harness.ts";
import { startX11Desk } from "../helpers/x11_desk.ts";
import { eventWindow, pointer } from "../helpers/xvnc.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** The server's flags for the local chat server standing in for the model. */
const modelFlags = (chat: ChatServer) => ["--llm-base-url", chat.baseUrl, "--llm-model", "local-vision"];

Deno.test(
  "an agent node on a real desktop: the goal 'move to 222,111 and click' becomes real pointer events xdotool and xev see",
  live,
  async () => {
    const chat = startChatServer((request, i) => {
      if (i === 0) return { toolCalls: [{ name: "move", arguments: { x: 222, y: 111 } }] };
      if (i === 1) return { toolCalls: [{ name: "click", arguments: { x: 222, y: 111 } }] };
      const last = request.body.messages.at(-2);
      return last?.role === "tool" && String(last.content).startsWith("ok")
        ? { toolCalls: [{ name: "done", arguments: { summary: "moved and clicked" } }] }
        : { toolCalls: [{ name: "fail", arguments: { reason: `unexpected: ${JSON.stringify(last)}` } }] };
    });
    const desk = await startX11Desk("x11-agent", { serverFlags: modelFlags(chat) });
    const { x, server } = desk;
    const xev = await eventWindow(x);
    try {
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
      await desk.stop();
      await chat.close();
    }
  },
);

Deno.test(
  "approval 'risky' on a real desktop: typing while real OCR reads a password label is held; the model saw the label as a hint; a rejection fails the node",
  live,
  async () => {
    const chat = startChatServer((request) => {
      const text = JSON.stringify(request.body.messages);
      if (!text.includes('"tool"')) return { toolCalls: [{ name: "type", arguments: { text: "hunter2" } }] };
      return { toolCalls: [{ name: "done", arguments: { summary: "typed" } }] };
    });
    const desk = await startX11Desk("x11-login", { serverFlags: modelFlags(chat) });
    const { x, server } = desk;
    const dialog = new Deno.Command("xmessage", {
      args: ["-center", "-fn", "12x24", "-buttons", "Sign in", "Password required"],
      env: { DISPLAY: x.display },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      // The agent's first look must find the dialog: wait until the device lists its window.
      let titles: string[] = [];
      await until(() => titles.length > 0, "the dialog on screen", 10_000, async () => {
        const answer = await server.api("/api/devices/x11-login/actions", {
          method: "POST",
          body: JSON.stringify({ type: "windows" }),
        });
        titles = (await answer.json()).output.windows.map((w: { title: string }) => w.title);
      });
      const id = await submitDag(server, {
        name: "type into a login",
        nodes: [{
          id: "a",
          kind: "agent",
          target: { device: "x11-login" },
          goal: "sign in as admin",
          approval: "risky",
          maxSteps: 3,
        }],
      });
      let pending: Array<{ dagId: string; nodeId: string; reason: string }> = [];
      await until(() => pending.length > 0, "a held action", 30_000, async () => {
        pending = (await (await server.api("/api/approvals")).json()).approvals;
      });
      assert.equal(pending[0].dagId, id);
      assert.match(pending[0].reason, /password/);
      assert.match(JSON.stringify(chat.requests[0].body.messages), /Password/, "OCR hints reach the model");
      const reject = await server.api(`/api/dags/${id}/nodes/a/reject`, {
        method: "POST",
        body: JSON.stringify({ reason: "not with that password" }),
      });
      assert.equal(reject.status, 200);
      const view = await waitForDag(server, id, 15_000);
      assert.equal(view.state, "failed");
      assert.match(JSON.stringify(view.nodes[0].error), /rejected-by-operator.*not with that password/);
    } finally {
      dialog.kill();
      await dialog.status;
      await desk.stop();
      await chat.close();
    }
  },
);
