/**
 * The model: one client for the OpenAI-compatible chat-completions API (`POST {base}/chat/completions`),
 * which OpenAI, Ollama, vLLM, llama.cpp's server and LM Studio all speak. A request carries messages (a
 * frame as an `image_url` part with a `data:` URL) and tools; the reply's tool calls come back with their
 * token counts. Each attempt has a timeout; 429, 5xx and connection errors are retried with exponential
 * backoff and full jitter, honouring `Retry-After`; what is still failing after the retry budget is a
 * `llm-failed` failure naming the last cause. At most `concurrency` calls run at once per server.
 */
import { sleep, systemClock, type Timers } from "../../shared/clock.ts";
import { failure, FailureError } from "../../shared/protocol/mod.ts";
import { Slots } from "./slots.ts";

/** A content part of a message: text, or an image by URL (a `data:` URL for frames). */
export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string; detail?: "low" | "high" | "auto" } };

/** A tool call as the model made it. */
export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A chat message. */
export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | ContentPart[] }
  | { role: "assistant"; content: string | null; tool_calls?: ToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

/** The model's reply as the assistant's turn of a conversation, with the tool call it made (if any). */
export function assistantTurn(
  content: string | null,
  call: { id: string; name: string; arguments: string } | undefined,
): ChatMessage {
  if (call === undefined) return { role: "assistant", content };
  const { id, name, arguments: args } = call;
  return {
    role: "assistant",
    content,
    tool_calls: [{ id, type: "function", function: { name, arguments: args } }],
  };
}

/** A tool the model may call: a name, what it does, and its arguments as a JSON schema. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** Token counts of one call, as the API reported them (0 when it did not). */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** The model's reply. */
export interface ChatReply {
  content: string | null;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  usage: Usage;
  /** Wall time of the call, retries included. */
  ms: number;
  /** Attempts it took (1 when the first answered). */
  attempts: number;
}

/** Anything that answers chat requests (the API client; tests point it at a local server). */
export interface ChatModel {
  readonly model: string;
  complete(
    request: { messages: ChatMessage[]; tools: ToolSpec[]; toolChoice?: "auto" | "required" },
    options?: { signal?: AbortSignal },
  ): Promise<ChatReply>;
}

/** Settings of the client. */
export interface OpenAiCompatibleOptions {
  /** e.g. `http://127.0.0.1:11434/v1` (Ollama) or `https://api.openai.com/v1`. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** One attempt's limit (default 120 s: local models on a CPU are slow). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  maxRetries?: number;
  /** First backoff (default 500 ms), doubled per retry, capped at `maxBackoffMs` (default 20 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Calls at once (default 4). */
  concurrency?: number;
  clock?: Timers;
  random?: () => number;
  fetch?: typeof fetch;
}

/** A retryable HTTP status: rate limited, or the server's own trouble. */
function retryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** The OpenAI-compatible chat-completions client. */
export class OpenAiCompatible implements ChatModel {
  readonly model: string;
  readonly #options: OpenAiCompatibleOptions;
  readonly #clock: Timers;
  readonly #slots: Slots;
  /** Set once the server refused `tool_choice: "required"` (some local servers do): "auto" from then on. */
  #autoOnly = false;

  constructor(options: OpenAiCompatibleOptions) {
    this.#options = options;
    this.model = options.model;
    this.#clock = options.clock ?? systemClock;
    this.#slots = new Slots(options.concurrency ?? 4);
  }

  /** Calls waiting for a free slot. */
  get queued(): number {
    return this.#slots.waiting;
  }

  async complete(
    request: { messages: ChatMessage[]; tools: ToolSpec[]; toolChoice?: "auto" | "required" },
    options: { signal?: AbortSignal } = {},
  ): Promise<ChatReply> {
    return await this.#slots.run(() => this.#complete(request, options.signal), options.signal);
  }

  async #complete(
    request: { messages: ChatMessage[]; tools: ToolSpec[]; toolChoice?: "auto" | "required" },
    signal: AbortSignal | undefined,
  ): Promise<ChatReply> {
    const started = this.#clock.now();
    const url = `${this.#options.baseUrl.replace(/\/+$/, "")}/chat/completions`;
    const body = () =>
      JSON.stringify({
        model: this.model,
        messages: request.messages,
        tools: request.tools.map((tool) => ({ type: "function", function: tool })),
        tool_choice: this.#autoOnly ? "auto" : request.toolChoice ?? "auto",
        temperature: 0,
        stream: false,
      });
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#options.apiKey) headers.authorization = `Bearer ${this.#options.apiKey}`;
    const maxRetries = this.#options.maxRetries ?? 3;
    let lastCause = "";
    for (let attempt = 1;; attempt++) {
      if (signal?.aborted) throw new FailureError(failure("cancelled", String(signal.reason ?? "cancelled")));
      const timeout = new AbortController();
      const timer = this.#clock.setTimeout(
        () => timeout.abort("timeout"),
        this.#options.timeoutMs ?? 120_000,
      );
      const onAbort = () => timeout.abort(signal?.reason ?? "cancelled");
      signal?.addEventListener("abort", onAbort, { once: true });
      let waitMs: number | null = null;
      try {
        const response = await (this.#options.fetch ?? fetch)(url, {
          method: "POST",
          headers,
          body: body(),
          signal: timeout.signal,
        });
        const text = await response.text();
        if (response.ok) return { ...parseReply(text), ms: this.#clock.now() - started, attempts: attempt };
        lastCause = `HTTP ${response.status}: ${text.slice(0, 300)}`;
        if (response.status === 400 && !this.#autoOnly && /tool_choice/i.test(text)) {
          this.#autoOnly = true;
          continue;
        }
        if (!retryableStatus(response.status)) {
          throw new FailureError(failure("llm-failed", `${url} answered ${lastCause}`, false));
        }
        waitMs = retryAfterMs(response.headers.get("retry-after"), this.#clock.now());
      } catch (error) {
        if (error instanceof FailureError) throw error;
        if (signal?.aborted) {
          throw new FailureError(failure("cancelled", String(signal.reason ?? "cancelled")));
        }
        lastCause = timeout.signal.aborted
          ? `no answer within ${this.#options.timeoutMs ?? 120_000} ms`
          : String(error);
      } finally {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      }
      if (attempt > maxRetries) {
        throw new FailureError(failure("llm-failed", `${url}: ${lastCause} (after ${attempt} attempts)`));
      }
      await sleep(this.#clock, waitMs ?? this.#backoff(attempt), signal);
    }
  }

  /** Full jitter: a random point between 0 and the capped exponential delay. */
  #backoff(attempt: number): number {
    const cap = Math.min(
      this.#options.maxBackoffMs ?? 20_000,
      (this.#options.backoffMs ?? 500) * 2 ** (attempt - 1),
    );
    return Math.round((this.#options.random ?? Math.random)() * cap);
  }
}

/** `Retry-After` in ms: seconds, or an HTTP date; null when absent or unreadable. Capped at 60 s. */
export function retryAfterMs(header: string | null, nowMs: number): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(60_000, Math.round(seconds * 1000));
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.min(60_000, Math.max(0, date - nowMs));
}

/** Reads a chat-completions reply; arguments given as an object (some servers do) become JSON text. */
export function parseReply(text: string): Omit<ChatReply, "ms" | "attempts"> {
  let json: {
    choices?: Array<{ message?: { content?: unknown; tool_calls?: unknown } }>;
    usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  };
  try {
    json = JSON.parse(text);
  } catch {
    throw new FailureError(failure("llm-failed", `the reply is not JSON: ${text.slice(0, 200)}`));
  }
  const message = json.choices?.[0]?.message;
  if (message === undefined) {
    throw new FailureError(failure("llm-failed", `the reply has no message: ${text.slice(0, 200)}`));
  }
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  const toolCalls = calls.flatMap(
    (call: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }, i) => {
      const name = call.function?.name;
      if (typeof name !== "string") return [];
      const args = call.function?.arguments;
      return [{
        id: typeof call.id === "string" && call.id !== "" ? call.id : `call_${i}`,
        name,
        arguments: typeof args === "string" ? args : JSON.stringify(args ?? {}),
      }];
    },
  );
  const usage = json.usage ?? {};
  const promptTokens = usage.prompt_tokens ?? 0;
  const completionTokens = usage.completion_tokens ?? 0;
  return {
    content: typeof message.content === "string" ? message.content : null,
    toolCalls,
    usage: {
      promptTokens,
      completionTokens,
      totalTokens: usage.total_tokens ?? promptTokens + completionTokens,
    },
  };
}
