/**
 * A local HTTP server that speaks the chat-completions protocol, for tests of the Brain: the only test
 * double the project accepts (no model is reachable here). Each request is recorded; the reply is whatever
 * the test's script returns for it: a status with a body, or tool calls.
 */

/** What the server was sent. */
export interface ChatRequestSeen {
  authorization: string | null;
  body: {
    model: string;
    messages: Array<{ role: string; content: unknown; tool_calls?: unknown; tool_call_id?: string }>;
    tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
    tool_choice?: unknown;
  };
}

/** One scripted answer. */
export type ChatAnswer =
  | { status: number; body?: string; headers?: Record<string, string> }
  | {
    toolCalls: Array<{ name: string; arguments: unknown }>;
    content?: string | null;
    usage?: { prompt: number; completion: number };
  }
  | { content: string };

/** A running chat server. */
export interface ChatServer {
  /** `http://127.0.0.1:PORT/v1`: the base URL the server takes. */
  baseUrl: string;
  requests: ChatRequestSeen[];
  close(): Promise<void>;
}

/** Starts the server; `script(request, index)` decides each answer. */
export function startChatServer(script: (request: ChatRequestSeen, index: number) => ChatAnswer): ChatServer {
  const requests: ChatRequestSeen[] = [];
  let calls = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/v1/chat/completions") {
      return new Response("not found", { status: 404 });
    }
    const seen: ChatRequestSeen = {
      authorization: request.headers.get("authorization"),
      body: await request.json(),
    };
    requests.push(seen);
    const answer = script(seen, calls++);
    if ("status" in answer) {
      return new Response(answer.body ?? "", { status: answer.status, headers: answer.headers });
    }
    const toolCalls = "toolCalls" in answer
      ? answer.toolCalls.map((call, i) => ({
        id: `call_${calls}_${i}`,
        type: "function",
        function: {
          name: call.name,
          arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
        },
      }))
      : undefined;
    const usage = "toolCalls" in answer
      ? answer.usage ?? { prompt: 100, completion: 10 }
      : { prompt: 50, completion: 5 };
    return Response.json({
      id: `chatcmpl-${calls}`,
      object: "chat.completion",
      model: seen.body.model,
      choices: [{
        index: 0,
        finish_reason: toolCalls ? "tool_calls" : "stop",
        message: {
          role: "assistant",
          content: "content" in answer ? answer.content ?? null : null,
          tool_calls: toolCalls,
        },
      }],
      usage: {
        prompt_tokens: usage.prompt,
        completion_tokens: usage.completion,
        total_tokens: usage.prompt + usage.completion,
      },
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}/v1`,
    requests,
    close: () => server.shutdown(),
  };
}
