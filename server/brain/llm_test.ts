import assert from "node:assert/strict";
import { FailureError } from "../../shared/protocol/mod.ts";
import { startChatServer } from "../../tests/helpers/chat_server.ts";
import { OpenAiCompatible, parseReply, retryAfterMs } from "./llm.ts";

const tools = [{
  name: "done",
  description: "finish",
  parameters: { type: "object", properties: { summary: { type: "string" } } },
}];
const request = { messages: [{ role: "user" as const, content: "hi" }], tools };

Deno.test("OpenAiCompatible posts model, messages and tools to {base}/chat/completions and reads tool calls and usage", async () => {
  const chat = startChatServer(() => ({
    toolCalls: [{ name: "done", arguments: { summary: "ok" } }],
    usage: { prompt: 120, completion: 7 },
  }));
  try {
    const model = new OpenAiCompatible({ baseUrl: chat.baseUrl + "/", model: "llava:7b", apiKey: "sk-test" });
    const reply = await model.complete(request);
    assert.deepEqual(reply.toolCalls.map((c) => [c.name, JSON.parse(c.arguments)]), [["done", {
      summary: "ok",
    }]]);
    assert.deepEqual(reply.usage, { promptTokens: 120, completionTokens: 7, totalTokens: 127 });
    assert.equal(reply.attempts, 1);
    const seen = chat.requests[0];
    assert.equal(seen.authorization, "Bearer sk-test");
    assert.equal(seen.body.model, "llava:7b");
    assert.deepEqual(seen.body.tools?.map((t) => [t.type, t.function.name]), [["function", "done"]]);
  } finally {
    await chat.close();
  }
});

Deno.test("OpenAiCompatible retries a 429 after its Retry-After and a 503, then succeeds", async () => {
  const chat = startChatServer((_, i) =>
    i === 0
      ? { status: 429, body: '{"error":"slow down"}', headers: { "retry-after": "0.05" } }
      : i === 1
      ? { status: 503, body: "busy" }
      : { toolCalls: [{ name: "done", arguments: "{}" }] }
  );
  try {
    const model = new OpenAiCompatible({ baseUrl: chat.baseUrl, model: "m", backoffMs: 5, random: () => 1 });
    const reply = await model.complete(request);
    assert.equal(reply.attempts, 3);
    assert.equal(chat.requests.length, 3);
  } finally {
    await chat.close();
  }
});

Deno.test("OpenAiCompatible gives up after the retry budget with llm-failed naming the last cause; a 400 is not retried", async () => {
  const chat = startChatServer((_, i) =>
    i < 10 ? { status: 500, body: "model crashed" } : { content: "late" }
  );
  try {
    const model = new OpenAiCompatible({ baseUrl: chat.baseUrl, model: "m", backoffMs: 1, maxRetries: 2 });
    await assert.rejects(model.complete(request), (error: unknown) => {
      assert.ok(error instanceof FailureError);
      assert.equal(error.failure.code, "llm-failed");
      assert.match(error.message, /HTTP 500: model crashed \(after 3 attempts\)/);
      return true;
    });
    assert.equal(chat.requests.length, 3);
  } finally {
    await chat.close();
  }
  const refusing = startChatServer(() => ({ status: 400, body: "image content not supported" }));
  try {
    const model = new OpenAiCompatible({ baseUrl: refusing.baseUrl, model: "m", backoffMs: 1 });
    await assert.rejects(model.complete(request), /HTTP 400: image content not supported/);
    assert.equal(refusing.requests.length, 1, "a client error is not retried");
  } finally {
    await refusing.close();
  }
});

Deno.test("OpenAiCompatible runs at most `concurrency` calls at once", async () => {
  let inFlight = 0;
  let peak = 0;
  const release: Array<() => void> = [];
  const fakeFetch = async () => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise<void>((resolve) => release.push(resolve));
    inFlight--;
    return Response.json({ choices: [{ message: { content: "x" } }] });
  };
  const model = new OpenAiCompatible({
    baseUrl: "http://x",
    model: "m",
    concurrency: 2,
    fetch: fakeFetch as typeof fetch,
  });
  const calls = [1, 2, 3, 4].map(() => model.complete(request));
  while (release.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.equal(model.queued, 2);
  while (release.length > 0 || inFlight > 0) {
    release.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(calls);
  assert.equal(peak, 2);
});

Deno.test("parseReply accepts arguments given as an object, and retryAfterMs reads seconds and dates", () => {
  const reply = parseReply(JSON.stringify({
    choices: [{
      message: { content: null, tool_calls: [{ function: { name: "click", arguments: { x: 1, y: 2 } } }] },
    }],
  }));
  assert.deepEqual(reply.toolCalls, [{ id: "call_0", name: "click", arguments: '{"x":1,"y":2}' }]);
  assert.equal(retryAfterMs("2", 0), 2000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(retryAfterMs("soon", 0), null);
});

Deno.test("a server that refuses tool_choice required is asked again with auto, and from then on", async () => {
  const chat = startChatServer((request) =>
    request.body.tool_choice === "required"
      ? { status: 400, body: '{"error":"tool_choice \\"required\\" is not supported"}' }
      : { toolCalls: [{ name: "done", arguments: {} }] }
  );
  try {
    const model = new OpenAiCompatible({ baseUrl: chat.baseUrl, model: "m" });
    await model.complete({ ...request, toolChoice: "required" });
    await model.complete({ ...request, toolChoice: "required" });
    assert.deepEqual(chat.requests.map((r) => r.body.tool_choice), ["required", "auto", "auto"]);
  } finally {
    await chat.close();
  }
});
