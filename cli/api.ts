/**
 * The REST client of the operator CLI. A refusal comes back as an `ApiError` carrying the server's
 * `{"error": {"code", "message", "details"?}}`; a server that cannot be reached is an `ApiError` without a code.
 */

/** A failed request: the server's error code and message, or why the server could not be asked. */
export class ApiError extends Error {
  constructor(
    message: string,
    /** The server's error code; null when no coded answer came (unreachable, not our server). */
    readonly code: string | null,
    /** The HTTP status; null when no answer came. */
    readonly status: number | null,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** What the client needs. */
export interface ApiOptions {
  /** The server's base URL, `http(s)://host:port`. */
  server: string;
  token: string;
  fetch?: typeof fetch;
}

/** Requests against one server with one operator token. */
export class Api {
  readonly server: string;
  readonly #token: string;
  readonly #fetch: typeof fetch;

  constructor(options: ApiOptions) {
    this.server = options.server.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The response to `method path`, which must be a success; throws ApiError otherwise. */
  async request(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${this.#token}`);
    if (init.body !== undefined) headers.set("content-type", "application/json");
    let response: Response;
    try {
      response = await this.#fetch(`${this.server}${path}`, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.signal,
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError(`Cannot reach the server at ${this.server}: ${causeOf(error)}`, null, null);
    }
    if (!response.ok) throw await refusal(response, method, path);
    return response;
  }

  /** The JSON answer to `method path`. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request(method, path, { body });
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(
        `Cannot read the answer to ${method} ${path}: it is not JSON`,
        null,
        response.status,
      );
    }
  }

  /** `GET path`. */
  get<T>(path: string): Promise<T> {
    return this.json<T>("GET", path);
  }
}

/** The coded error of a refused request, or a plain one when the body is not our error shape. */
async function refusal(response: Response, method: string, path: string): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const { code, message, details } = body.error ?? {};
    if (typeof code === "string" && typeof message === "string") {
      return new ApiError(message, code, response.status, details);
    }
  } catch {
    // Not JSON: a proxy's page, or not our server.
  }
  const snippet = text.replace(/\s+/g, " ").trim().slice(0, 200);
  return new ApiError(
    `${method} ${path} answered HTTP ${response.status} ${response.statusText}${
      snippet ? `: ${snippet}` : ""
    }`,
    null,
    response.status,
  );
}

/** The root cause of a fetch failure, without Deno's request preamble. */
function causeOf(error: unknown): string {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  const match = /(Connection refused|connection reset|dns error[^)]*|timed out|certificate[^)]*)/i.exec(
    message,
  );
  return match?.[1] ?? message;
}
