/**
 * The Brain end to end: a real server, devices speaking the real protocol, and a local chat-completions
 * server in place of the model (the only double: no model is reachable here) answering with scripted tool
 * calls and checking what it was sent.
 */
import assert from "node:assert/strict";
import sharp from "sharp";
import { startAutoDevice } from "./helpers/auto_device.ts";
import { type ChatAnswer, type ChatRequestSeen, startChatServer } from "./helpers/chat_server.ts";
import { submitDag, waitForDag } from "./helpers/dags.ts";
import { until } from "./helpers/gateway_harness.ts";
import { startTestServer } from "./helpers/server.ts";
import { SseStream } from "./helpers/sse.ts";

const live = { sanitizeResources: false, sanitizeOps: false };

/** The image the model was sent in a request's newest user message, decoded. */
async function imageOf(request: ChatRequestSeen): Promise<{ width: number; height: number }> {
  const user = [...request.body.messages].reverse().find((m) =>
    m.role === "user" && Array.isArray(m.content)
  );
  const part = (user!.content as Array<{ type: string; image_url?: { url: string } }>).find((p) =>
    p.type === "image_url"
  );
  const match = /^data:image\/jpeg;base64,(.+)$/.exec(part!.image_url!.url);
  assert.ok(match, "the frame travels as a data: URL");
  const bytes = Uint8Array.from(atob(match[1]), (c) => c.charCodeAt(0));
  const meta = await sharp(bytes).metadata();
  return { width: meta.width!, height: meta.height! };
}

async function withBrain(
  script: (request: ChatRequestSeen, index: number) => ChatAnswer,
  body: (ctx: {
    server: Awaited<ReturnType<typeof startTestServer>>;
    chat: ReturnType<typeof startChatServer>;
  }) => Promise<void>,
) {
  const chat = startChatServer(script);
  const server = await startTestServer([
    "--llm-base-url",
    chat.baseUrl,
    "--llm-model",
    "test-vision",
    "--llm-api-key",
    "sk-local",
  ]);
  try {
    await body({ server, chat });
  } finally {
    await server.close();
    await chat.close();
  }
}

const agentDag = (goal: string, extra: Record<string, unknown> = {}) => ({
  name: "agent",
  nodes: [{ id: "a", kind: "agent", target: { device: "desk" }, goal, ...extra }],
});

Deno.test(
  "an agent node: frame → model → action → RESULT, until done; every step logged; the model saw the screen and the tools",
  live,
  async () => {
    await withBrain(
      (_, i) =>
        i === 0
          ? { toolCalls: [{ name: "click", arguments: { x: 222, y: 111 } }] }
          : { toolCalls: [{ name: "done", arguments: { summary: "clicked at 222,111" } }] },
      async ({ server, chat }) => {
        const desk = await startAutoDevice(server.wsUrl, server.deviceKey, "desk", {
          width: 1600,
          height: 1000,
        });
        try {
          const id = await submitDag(server, agentDag("move to 222,111 and click"));
          const view = await waitForDag(server, id, 20_000);
          assert.equal(view.state, "succeeded", JSON.stringify(view.nodes[0].error));
          const first = chat.requests[0];
          assert.equal(first.authorization, "Bearer sk-local");
          assert.equal(first.body.model, "test-vision");
          assert.deepEqual(await imageOf(first), { width: 1280, height: 800 }, "scaled for the model");
          const tools = first.body.tools!.map((t) => t.function.name).sort();
          assert.deepEqual(tools, [
            "click",
            "clickText",
            "done",
            "drag",
            "fail",
            "key",
            "launch",
            "move",
            "scroll",
            "type",
            "wait",
            "waitFor",
          ]);
          assert.match(JSON.stringify(first.body.messages), /move to 222,111 and click/);
          // The model's 222,111 on a 1280-wide screenshot is 277,139 on the 1600-wide screen.
          const click = desk.actions.find((a) => a.type === "ACTION_CLICK")!;
          assert.deepEqual([click.payload.x, click.payload.y], [
            Math.round(222 * 1.25),
            Math.round(111 * 1.25),
          ]);
          const second = chat.requests[1];
          const toolResult = second.body.messages.find((m) => m.role === "tool");
          assert.match(String(toolResult?.content), /^ok/, "the action's RESULT went back to the model");
          const steps = (await (await server.api(`/api/dags/${id}/nodes/a/steps`)).json()).steps;
          assert.deepEqual(steps.map((s: { type: string; ok: boolean }) => [s.type, s.ok]), [
            ["click", true],
            ["done", true],
          ]);
          assert.ok(steps[0].frame, "the frame the decision used is kept");
          assert.ok(
            steps[0].output.decision.model.usage.totalTokens > 0,
            "the model's reply and tokens are logged",
          );
          assert.ok(typeof steps[0].output.decision.ms.model === "number");
          const frame = await server.api(steps[0].frame);
          assert.equal(frame.status, 200);
          const meta = await sharp(new Uint8Array(await frame.arrayBuffer())).metadata();
          assert.equal(meta.width, 1280);
        } finally {
          await desk.close();
        }
      },
    );
  },
);

Deno.test(
  "the model's API: a 429 then success runs the node; 500s past the retry budget fail it with llm-failed",
  live,
  async (t) => {
    let calls = 0;
    await withBrain((request) => {
      calls++;
      const goal = JSON.stringify(request.body.messages);
      if (goal.includes("always broken")) return { status: 500, body: "the model crashed" };
      if (calls === 1) return { status: 429, body: "slow down", headers: { "retry-after": "0" } };
      return { toolCalls: [{ name: "done", arguments: { summary: "ok" } }] };
    }, async ({ server }) => {
      const desk = await startAutoDevice(server.wsUrl, server.deviceKey, "desk");
      try {
        await t.step("429, then an answer", async () => {
          const view = await waitForDag(server, await submitDag(server, agentDag("just finish")), 20_000);
          assert.equal(view.state, "succeeded");
        });
        await t.step("500 every time", async () => {
          const view = await waitForDag(server, await submitDag(server, agentDag("always broken")), 60_000);
          assert.equal(view.state, "failed");
          assert.match(
            JSON.stringify(view.nodes[0].error),
            /llm-failed.*HTTP 500: the model crashed.*after 4 attempts/,
          );
        });
      } finally {
        await desk.close();
      }
    });
  },
);

Deno.test(
  "malformed model output is answered once with the error, then repaired; a second bad reply fails with bad-model-output",
  live,
  async (t) => {
    await withBrain((request, i) => {
      const text = JSON.stringify(request.body.messages);
      if (text.includes("repair me")) {
        // First a click without y, then a valid done.
        return text.includes("invalid arguments for click")
          ? { toolCalls: [{ name: "done", arguments: { summary: "repaired" } }] }
          : { toolCalls: [{ name: "click", arguments: { x: 5 } }] };
      }
      return i % 2 === 0
        ? { content: "I think I should click somewhere" }
        : { toolCalls: [{ name: "teleport", arguments: {} }] };
    }, async ({ server, chat }) => {
      const desk = await startAutoDevice(server.wsUrl, server.deviceKey, "desk");
      try {
        await t.step("repaired", async () => {
          const view = await waitForDag(server, await submitDag(server, agentDag("repair me")), 20_000);
          assert.equal(view.state, "succeeded");
          const repair = chat.requests.find((r) =>
            JSON.stringify(r.body.messages).includes("invalid arguments for click")
          )!;
          assert.ok(
            repair.body.messages.some((m) => m.role === "tool" && /y: /.test(String(m.content))),
            "the error names the field",
          );
          assert.equal(
            desk.actions.filter((a) => a.type === "ACTION_CLICK").length,
            0,
            "the bad call never ran",
          );
        });
        await t.step("two bad replies", async () => {
          const id = await submitDag(server, agentDag("never useful"));
          const view = await waitForDag(server, id, 20_000);
          assert.equal(view.state, "failed");
          assert.match(JSON.stringify(view.nodes[0].error), /bad-model-output/);
        });
      } finally {
        await desk.close();
      }
    });
  },
);

Deno.test(
  "approval: an action waits until an operator approves it; a rejection fails the node with rejected-by-operator",
  live,
  async (t) => {
    await withBrain((request) => {
      const text = JSON.stringify(request.body.messages);
      if (!text.includes('"tool"')) return { toolCalls: [{ name: "launch", arguments: { app: "XTerm" } }] };
      return { toolCalls: [{ name: "done", arguments: { summary: "launched" } }] };
    }, async ({ server }) => {
      const desk = await startAutoDevice(server.wsUrl, server.deviceKey, "desk");
      const events = new SseStream(await server.api("/api/events"));
      try {
        await t.step("approved", async () => {
          const id = await submitDag(server, agentDag("open a terminal", { approval: "risky" }));
          let pending: Array<{ dagId: string; nodeId: string; reason: string }> = [];
          await until(() => pending.length > 0, "a held action", 15_000, async () => {
            pending = (await (await server.api("/api/approvals")).json()).approvals;
          });
          assert.match(pending[0].reason, /terminal or shell/);
          assert.equal(desk.actions.filter((a) => a.type === "ACTION_LAUNCH").length, 0, "held, not sent");
          const approve = await server.api(`/api/dags/${id}/nodes/a/approve`, { method: "POST" });
          assert.equal(approve.status, 200);
          const view = await waitForDag(server, id, 15_000);
          assert.equal(view.state, "succeeded");
          assert.equal(desk.actions.filter((a) => a.type === "ACTION_LAUNCH").length, 1);
          const held = await events.next((e) => e.event === "approval" && e.data.state === "pending");
          assert.equal(held.data.nodeId, "a");
          await events.next((e) => e.event === "approval" && e.data.state === "approved");
        });
        await t.step("rejected", async () => {
          const id = await submitDag(server, agentDag("open a terminal again", { approval: "risky" }));
          let pending = 0;
          await until(() => pending > 0, "a held action", 15_000, async () => {
            pending = (await (await server.api("/api/approvals")).json()).approvals.length;
          });
          const reject = await server.api(`/api/dags/${id}/nodes/a/reject`, {
            method: "POST",
            body: JSON.stringify({ reason: "no terminals today" }),
          });
          assert.equal(reject.status, 200);
          const view = await waitForDag(server, id, 15_000);
          assert.equal(view.state, "failed");
          assert.match(JSON.stringify(view.nodes[0].error), /rejected-by-operator.*no terminals today/);
          const nothing = await server.api(`/api/dags/${id}/nodes/a/approve`, { method: "POST" });
          assert.equal((await nothing.json()).error.code, "no-pending-approval");
        });
      } finally {
        await events.close();
        await desk.close();
      }
    });
  },
);

Deno.test(
  "planner: a request becomes a DAG placed by capabilities and runs; dryRun plans only; an impossible plan is refused with the reason",
  live,
  async (t) => {
    await withBrain((request) => {
      const text = JSON.stringify(request.body.messages);
      if (text.includes("impossible")) {
        return {
          toolCalls: [{
            name: "submit_plan",
            arguments: {
              dag: {
                name: "x",
                nodes: [{ id: "a", kind: "script", after: ["ghost"], target: { os: "linux" }, steps: [] }],
              },
            },
          }],
        };
      }
      return {
        toolCalls: [{
          name: "submit_plan",
          arguments: {
            dag: {
              name: "write a note on a device that runs programs",
              nodes: [{
                id: "note",
                kind: "script",
                target: { run: true },
                steps: [{ type: "run", command: "sh", args: ["-c", "echo hi > note.txt"] }],
              }],
            },
          },
        }],
      };
    }, async ({ server, chat }) => {
      const runner = await startAutoDevice(server.wsUrl, server.deviceKey, "runner", { run: true });
      const other = await startAutoDevice(server.wsUrl, server.deviceKey, "other");
      try {
        await t.step("dryRun returns the plan, submits nothing", async () => {
          const before = (await (await server.api("/api/dags")).json()).dags.length;
          const response = await server.api("/api/tasks", {
            method: "POST",
            body: JSON.stringify({ request: "write a note", dryRun: true }),
          });
          assert.equal(response.status, 200);
          const body = await response.json();
          assert.equal(body.dag.nodes[0].id, "note");
          assert.match(
            JSON.stringify(chat.requests.at(-1)!.body.messages),
            /runner \(ready\): linux/,
            "the model is told about the devices",
          );
          assert.equal((await (await server.api("/api/dags")).json()).dags.length, before);
        });
        await t.step("the plan runs on the device that can", async () => {
          const response = await server.api("/api/tasks", {
            method: "POST",
            body: JSON.stringify({ request: "write a note" }),
          });
          assert.equal(response.status, 201);
          const body = await response.json();
          assert.equal(body.state, "running");
          const view = await waitForDag(server, body.id, 15_000);
          assert.equal(view.state, "succeeded");
          assert.equal(view.nodes[0].device, runner.deviceId);
          assert.ok(runner.actions.some((a) => a.type === "ACTION_RUN"));
          assert.equal(other.actions.length, 0);
          assert.equal(chat.requests.at(-1)!.body.tools![0].function.name, "submit_plan");
          assert.match(JSON.stringify(chat.requests.at(-1)!.body.messages), /runner \(ready\): linux/);
        });
        await t.step("an impossible plan is re-asked once, then refused with the errors", async () => {
          const asked = chat.requests.length;
          const response = await server.api("/api/tasks", {
            method: "POST",
            body: JSON.stringify({ request: "something impossible" }),
          });
          assert.equal(response.status, 422);
          const body = await response.json();
          assert.equal(body.error.code, "plan-refused");
          assert.match(body.error.message, /ghost/);
          assert.equal(body.error.details.errors[0].code, "unknown-dependency");
          assert.equal(chat.requests.length - asked, 2);
          assert.match(JSON.stringify(chat.requests.at(-1)!.body.messages), /was refused/);
        });
      } finally {
        await runner.close();
        await other.close();
      }
    });
  },
);

Deno.test(
  "without a model: POST /api/tasks and agent nodes fail fast with no-llm-configured; script DAGs still run",
  live,
  async () => {
    const server = await startTestServer();
    const desk = await startAutoDevice(server.wsUrl, server.deviceKey, "desk");
    try {
      const task = await server.api("/api/tasks", {
        method: "POST",
        body: JSON.stringify({ request: "anything" }),
      });
      assert.equal(task.status, 503);
      assert.equal((await task.json()).error.code, "no-llm-configured");
      const agent = await server.api("/api/dags", { method: "POST", body: JSON.stringify(agentDag("x")) });
      assert.equal(agent.status, 503);
      assert.equal((await agent.json()).error.code, "no-llm-configured");
      const id = await submitDag(server, {
        name: "script",
        nodes: [{
          id: "s",
          kind: "script",
          target: { device: "desk" },
          steps: [{ type: "move", x: 1, y: 1 }],
        }],
      });
      assert.equal((await waitForDag(server, id, 15_000)).state, "succeeded");
    } finally {
      await desk.close();
      await server.close();
    }
  },
);

Deno.test(
  "budgets and cancel: a node past its token or step budget fails budget-exceeded; a cancel stops a model call at once",
  live,
  async (t) => {
    let release: (() => void) | null = null;
    const chat = startChatServer((request) => {
      const text = JSON.stringify(request.body.messages);
      if (text.includes("spend tokens")) {
        return {
          toolCalls: [{ name: "move", arguments: { x: 1, y: 1 } }],
          usage: { prompt: 4000, completion: 100 },
        };
      }
      return { toolCalls: [{ name: "move", arguments: { x: 2, y: 2 } }] };
    });
    // A model that takes its time: a proxy in front of the chat server that holds "be slow" requests.
    const slow = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
      const body = await request.text();
      if (body.includes("be slow")) await new Promise<void>((resolve) => (release = resolve));
      return await fetch(chat.baseUrl + "/chat/completions", {
        method: "POST",
        body,
        headers: request.headers,
      });
    });
    const server = await startTestServer([
      "--llm-base-url",
      `http://127.0.0.1:${slow.addr.port}`,
      "--llm-model",
      "m",
    ]);
    const desk = await startAutoDevice(server.wsUrl, server.deviceKey, "desk");
    try {
      await t.step("tokens", async () => {
        const view = await waitForDag(
          server,
          await submitDag(server, agentDag("spend tokens", { maxTokens: 10_000 })),
          20_000,
        );
        assert.equal(view.state, "failed");
        assert.match(
          JSON.stringify(view.nodes[0].error),
          /budget-exceeded.*tokens used, the budget is 10000/,
        );
      });
      await t.step("steps", async () => {
        const view = await waitForDag(
          server,
          await submitDag(server, agentDag("keep moving", { maxSteps: 3 })),
          20_000,
        );
        assert.equal(view.state, "failed");
        assert.match(JSON.stringify(view.nodes[0].error), /budget-exceeded.*3 steps without done/);
        assert.equal(desk.actions.filter((a) => a.type === "ACTION_MOVE" && a.payload.x === 2).length, 3);
      });
      await t.step("cancel during a model call", async () => {
        const id = await submitDag(server, agentDag("be slow"));
        await until(() => release !== null, "the model call in flight", 15_000);
        const cancelled = await server.api(`/api/dags/${id}/cancel`, { method: "POST" });
        assert.equal(cancelled.status, 200);
        const view = await waitForDag(server, id, 5_000);
        assert.equal(view.state, "cancelled");
      });
    } finally {
      (release as (() => void) | null)?.();
      await desk.close();
      await server.close();
      await slow.shutdown();
      await chat.close();
    }
  },
);
